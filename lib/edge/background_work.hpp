// Work a runtime runs for no viewer (a refresh in the background, a collapsed fetch finished
// for its waiters). The runtime cancels what is still running when it closes.
#pragma once

namespace perch::edge {

class BackgroundWork {
public:
    // Stops at once and frees the work.
    virtual void cancel() noexcept = 0;

protected:
    ~BackgroundWork() = default;
};

} // namespace perch::edge
