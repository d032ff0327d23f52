#include "edge/http1/admin_connection.hpp"

#include "edge/generated_response.hpp"
#include "edge/http1/admin_listener.hpp"
#include "edge/runtime.hpp"
#include "http/head_writer.hpp"

namespace perch::edge {

namespace {

uint64_t random_u64() {
    uint64_t v = 0;
    if (uv_random(nullptr, nullptr, &v, sizeof v, 0, nullptr) != 0)
        v = uint64_t(uv_hrtime()) * 0x9e3779b97f4a7c15ull;
    return v;
}

} // namespace

AdminConnection::AdminConnection(AdminListener &l, io::Stream *stream)
    : ServerConnection(l.runtime(), stream,
                       request_limits(l.runtime(), AdminHandler::max_body_bytes),
                       /*bytes_out=*/nullptr), // admin clients are not viewers
      listener_(l) {}

void AdminConnection::on_closed() {
    // The listener may free itself here; this connection's live count keeps the runtime.
    listener_.connection_closed(this);
}

void AdminConnection::on_data(const core::Ref<core::Buffer> &buf, const uint8_t *data, size_t len) {
    if (answered()) return;
    parser().execute(buf, data, len);
    if (const auto &f = parser().failure(); f && !answered())
        answer(AdminHandler::refused(f->status, f->reason));
}

void AdminConnection::on_head(core::RequestHead &head) {
    wants_body_ = listener_.handler().wants_body(head);
}

void AdminConnection::on_request_body(const core::BufferSlice &chunk) {
    if (wants_body_) body_.append(reinterpret_cast<const char *>(chunk.ptr), chunk.len);
}

void AdminConnection::on_request_complete() {
    complete_ = true;
    PendingInvalidation p;
    Runtime &rt = runtime();
    if (auto r = listener_.handler().begin(parser().head(), body_, rt.now(), random_u64(), p))
        return answer(*r);
    stream().stop_read(); // busy(): the answer waits for the store, not for the client
    listener_.run_invalidation(this, std::move(p));
}

void AdminConnection::answer(const AdminResponse &r) {
    if (closing()) return;
    // A request refused before its body was read (413) leaves bytes the client is still
    // sending: closing at once could turn the close into a reset that destroys the answer.
    set_linger(!complete_);
    stream().stop_read();
    std::string fields;
    http::HeadWriter hw(fields);
    hw.field("Cache-Control", "no-store");
    if (!r.location.empty()) hw.field("Location", r.location);
    if (!r.allow.empty()) hw.field("Allow", r.allow);
    if (r.auth_challenge) hw.field("WWW-Authenticate", "Bearer realm=\"perch admin\"");
    char id[24];
    bool head_only = parser().head().method == core::Method::head && r.status == 200;
    send_closing_answer({r.status, json_type, fields, r.body, !head_only,
                         std::string_view(id, runtime().next_request_id(id))});
}

} // namespace perch::edge
