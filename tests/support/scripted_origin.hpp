// An in-process origin connector for transaction tests: every fetch the edge makes is kept
// (request head, request body, flow control, cancellation) and answered by the test, step by
// step (respond, body, complete, fail) or at once (reply). Callbacks run from the test's own
// calls, never from inside fetch(), as the connector contract requires.
#pragma once

#include "core/ascii.hpp"
#include "core/clock.hpp"
#include "core/http_message.hpp"
#include "core/status.hpp"
#include "http/http_date.hpp"
#include "origin/connector.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace perch::test {

using Fields = std::vector<std::pair<std::string, std::string>>;

class ScriptedOrigin final : public origin::OriginConnector {
public:
    class Fetch final : public origin::Fetch {
    public:
        Fetch(ScriptedOrigin &o, const origin::OriginRequest &r, origin::FetchHandler &h)
            : request(*r.head), https(r.https), has_body(r.has_body), origin_(o), handler_(&h) {}

        // What the edge sent.
        core::RequestHead request;
        bool https = false;
        bool has_body = false;
        std::string body_received;
        bool body_ended = false;
        // What happened to it.
        bool paused = false;
        bool cancelled = false;
        bool finished = false; // complete or failed
        uint64_t sent = 0;     // body bytes sent to the edge

        std::string_view path() const { return request.path(); }
        std::optional<std::string_view> field(std::string_view name) const {
            return request.headers.get(name);
        }
        bool live() const { return !cancelled && !finished; }

        // The response head. A Date (the origin's clock) is added unless `fields` has one;
        // Content-Length when `length` is given.
        void respond(uint16_t status, const Fields &fields, std::optional<uint64_t> length,
                     bool no_body = false) {
            REQUIRE(live());
            core::ResponseHead h;
            h.status = status;
            h.reason = std::string(core::reason_phrase(status));
            bool dated = false;
            for (const auto &[n, v] : fields) {
                h.headers.add(n, v);
                dated = dated || n == "Date";
            }
            if (!dated) {
                char date[http::http_date_length];
                h.headers.add("Date", std::string_view(date, http::format_http_date(
                                                                 origin_.clock_.now(), date)));
            }
            if (length) h.headers.add("Content-Length", std::to_string(*length));
            origin::ResponseInfo info{length, no_body || request.method == core::Method::head};
            handler_->on_origin_head(h, info);
        }
        void body(std::string_view bytes) {
            REQUIRE(live());
            auto buf = core::Buffer::copy_of(bytes);
            sent += bytes.size();
            handler_->on_origin_body(core::BufferSlice(buf, buf->data(), buf->size()));
        }
        void complete() {
            REQUIRE(live());
            finished = true;
            handler_->on_origin_complete();
        }
        void fail(core::Code code = core::Code::origin_connect, std::string why = "refused") {
            REQUIRE(live());
            finished = true;
            handler_->on_origin_error(core::Error::make(code, core::Source::origin, why));
        }
        // A whole response: head (with Content-Length), body, completion.
        void reply(uint16_t status, const Fields &fields, std::string_view bytes) {
            respond(status, fields, bytes.size());
            if (!live()) return; // the edge cancelled it at the head
            if (!bytes.empty() && request.method != core::Method::head) body(bytes);
            if (live()) complete();
        }

        // origin::Fetch
        void write_body(const core::BufferSlice &chunk) override {
            body_received.append(chunk.view());
        }
        void end_body() override { body_ended = true; }
        size_t body_queue_bytes() const noexcept override { return 0; }
        void pause_response() override { paused = true; }
        void resume_response() override { paused = false; }
        void cancel() override { cancelled = true; }
        void rebind(origin::FetchHandler &h) noexcept override { handler_ = &h; }

    private:
        ScriptedOrigin &origin_;
        origin::FetchHandler *handler_;
    };

    explicit ScriptedOrigin(const core::Clock &clock) : clock_(clock) {}

    origin::Fetch *fetch(const origin::OriginRequest &r, origin::FetchHandler &h) override {
        fetches.push_back(std::make_unique<Fetch>(*this, r, h));
        return fetches.back().get();
    }
    void close_idle() override {}

    // Every fetch made, in order (kept after they end, for inspection).
    std::vector<std::unique_ptr<Fetch>> fetches;
    size_t count() const { return fetches.size(); }
    Fetch &last() {
        REQUIRE(!fetches.empty());
        return *fetches.back();
    }
    size_t live_count() const {
        size_t n = 0;
        for (const auto &f : fetches)
            n += f->live();
        return n;
    }

private:
    const core::Clock &clock_;
};

} // namespace perch::test
