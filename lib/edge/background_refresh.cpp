#include "edge/background_refresh.hpp"

#include "edge/runtime.hpp"

namespace perch::edge {

BackgroundRefresh::BackgroundRefresh(Runtime &rt, const ViewerRequest &viewer)
    : rt_(rt), req_(*viewer.head), client_(viewer.client_address), txn_(rt, nullptr, *this) {
    req_.method = core::Method::get;
    req_.method_text = "GET";
    viewer_.head = &req_;
    viewer_.https = viewer.https;
    viewer_.tls = viewer.tls; // static strings
    viewer_.client_address = client_;
    viewer_.request_id = std::string_view(id_, rt.next_request_id(id_));
}

void BackgroundRefresh::start(Runtime &rt, const ViewerRequest &viewer) {
    auto *r = new BackgroundRefresh(rt, viewer);
    rt.background_started(r);
    r->txn_.start(r->viewer_);
}

void BackgroundRefresh::transaction_done() {
    // Called from inside the transaction: free this on a later loop turn.
    if (finished_) return;
    finished_ = true;
    rt_.background_finished(this);
    struct Free final : io::MailboxTask {
        explicit Free(BackgroundRefresh *r) : r(r) {}
        void run() noexcept override { delete r; }
        BackgroundRefresh *r;
    };
    // A closed mailbox only happens once Runtime::close has cancelled (and freed) every
    // registered work, so a refresh finishing after it cannot be.
    rt_.mailbox()->post(core::Ref<io::MailboxTask>::adopt(new Free(this)));
}

void BackgroundRefresh::cancel() noexcept {
    txn_.cancel();
    if (!finished_) rt_.background_finished(this);
    delete this;
}

} // namespace perch::edge
