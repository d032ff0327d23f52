#include "edge/background_refresh.hpp"

#include "edge/runtime.hpp"

namespace perch::edge {

BackgroundRefresh::BackgroundRefresh(Runtime &rt, const core::RequestHead &req, bool https,
                                     std::string_view client)
    : rt_(rt), req_(req), https_(https), client_(client), txn_(rt, *this, true) {
    req_.method = core::Method::get;
    req_.method_text = "GET";
}

void BackgroundRefresh::start(Runtime &rt, const core::RequestHead &viewer_request,
                              bool viewer_https, std::string_view client_address) {
    auto *r = new BackgroundRefresh(rt, viewer_request, viewer_https, client_address);
    rt.background_started(r);
    r->txn_.start(r->req_, false, std::nullopt);
}

void BackgroundRefresh::transaction_finished() {
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
