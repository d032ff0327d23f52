#include "io/mailbox.hpp"

namespace perch::io {

namespace {
struct CloseContext {
    void (*closed)(void *);
    void *ctx;
};
} // namespace

core::Ref<Mailbox> Mailbox::open(uv_loop_t *loop) {
    core::Ref<Mailbox> m = core::Ref<Mailbox>::adopt(new Mailbox);
    m->async_ = new uv_async_t;
    uv_async_init(loop, m->async_, &Mailbox::on_wakeup);
    uv_unref(reinterpret_cast<uv_handle_t *>(m->async_)); // waiting work keeps its own handles
    m->async_->data = m.get(); // the loop's reference: released in close()
    m->add_ref();
    return m;
}

bool Mailbox::post(core::Ref<MailboxTask> task) {
    {
        std::lock_guard lock(mu_);
        if (closed_) return false;
        queue_.push_back(std::move(task));
        uv_async_send(async_); // thread-safe; coalesces wakeups
    }
    return true;
}

void Mailbox::on_wakeup(uv_async_t *a) {
    static_cast<Mailbox *>(a->data)->drain();
}

void Mailbox::drain() noexcept {
    std::vector<core::Ref<MailboxTask>> tasks;
    {
        std::lock_guard lock(mu_);
        tasks.swap(queue_);
    }
    for (auto &t : tasks)
        t->run();
}

void Mailbox::close(void (*closed)(void *), void *ctx) {
    std::vector<core::Ref<MailboxTask>> dropped;
    {
        std::lock_guard lock(mu_);
        closed_ = true;
        dropped.swap(queue_);
    }
    async_->data = new CloseContext{closed, ctx};
    uv_close(reinterpret_cast<uv_handle_t *>(async_), [](uv_handle_t *h) {
        auto *c = static_cast<CloseContext *>(h->data);
        delete reinterpret_cast<uv_async_t *>(h);
        if (c->closed) c->closed(c->ctx);
        delete c;
    });
    async_ = nullptr;
    release(); // the loop's reference
}

} // namespace perch::io
