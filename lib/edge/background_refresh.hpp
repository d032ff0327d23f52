// stale-while-revalidate (RFC 5861 §3): the viewer got the stale response; this refreshes it
// from the origin meanwhile, through an ordinary Transaction whose viewer is nobody. At most
// one runs per key (it leads the key's fill, or gives up if a fetch is already in flight).
#pragma once

#include "core/http_message.hpp"
#include "edge/background_work.hpp"
#include "edge/transaction.hpp"
#include "edge/viewer_sink.hpp"

#include <string>

namespace perch::edge {

class Runtime;

class BackgroundRefresh final : public BackgroundWork, private ViewerSink {
public:
    // Refreshes what `viewer_request` asked for (as a GET); frees itself when done.
    static void start(Runtime &rt, const core::RequestHead &viewer_request, bool viewer_https,
                      std::string_view client_address);
    void cancel() noexcept override;

private:
    BackgroundRefresh(Runtime &rt, const core::RequestHead &req, bool https,
                      std::string_view client);
    ~BackgroundRefresh() = default;

    // ViewerSink: the response goes nowhere.
    void write_response(const ResponseWrite &) override {}
    void abort_response() override {}
    size_t pending_write_bytes() const noexcept override { return 0; }
    void pause_request_body() override {}
    void resume_request_body() override {}
    void transaction_finished() override;
    bool viewer_is_https() const noexcept override { return https_; }
    std::string_view client_address() const noexcept override { return client_; }

    Runtime &rt_;
    core::RequestHead req_;
    bool https_;
    std::string client_;
    Transaction txn_;
    bool finished_ = false;
};

} // namespace perch::edge
