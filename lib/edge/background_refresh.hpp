// stale-while-revalidate (RFC 5861 §3): the viewer got the stale response; this refreshes it
// from the origin meanwhile, through an ordinary Transaction without a sink (nobody reads the
// response). At most one runs per key (it leads the key's fill, or gives up if a fetch is
// already in flight).
#pragma once

#include "core/http_message.hpp"
#include "edge/background_work.hpp"
#include "edge/response_sink.hpp"
#include "edge/transaction.hpp"

#include <string>

namespace perch::edge {

class Runtime;

class BackgroundRefresh final : public BackgroundWork, private TransactionDone {
public:
    // Refreshes what `viewer` asked for (as a GET, with the same viewer facts); frees itself
    // when done.
    static void start(Runtime &rt, const ViewerRequest &viewer);
    void cancel() noexcept override;

private:
    BackgroundRefresh(Runtime &rt, const ViewerRequest &viewer);
    ~BackgroundRefresh() = default;
    void transaction_done() override;

    Runtime &rt_;
    core::RequestHead req_;
    std::string client_;
    char id_[24];
    ViewerRequest viewer_;
    Transaction txn_;
    bool finished_ = false;
};

} // namespace perch::edge
