#include "io/deadline_list.hpp"

namespace perch::io {

Deadline::~Deadline() {
    disarm();
}

void Deadline::disarm() noexcept {
    if (list_) list_->remove(*this);
}

DeadlineList::DeadlineList(uv_loop_t *loop, uint64_t duration_ms)
    : loop_(loop), timer_(new uv_timer_t), duration_ms_(duration_ms) {
    uv_timer_init(loop_, timer_);
    timer_->data = this;
}

DeadlineList::~DeadlineList() {
    close();
}

void DeadlineList::close() noexcept {
    while (head_)
        remove(*head_);
    if (!timer_) return;
    uv_timer_t *t = timer_;
    timer_ = nullptr;
    uv_close(reinterpret_cast<uv_handle_t *>(t),
             [](uv_handle_t *h) { delete reinterpret_cast<uv_timer_t *>(h); });
}

void DeadlineList::arm(Deadline &d) noexcept {
    if (d.list_) d.list_->remove(d);
    d.expiry_ = uv_now(loop_) + duration_ms_;
    d.list_ = this;
    d.prev_ = tail_;
    d.next_ = nullptr;
    if (tail_)
        tail_->next_ = &d;
    else
        head_ = &d;
    tail_ = &d;
    if (head_ == &d) schedule();
}

void DeadlineList::remove(Deadline &d) noexcept {
    if (d.prev_)
        d.prev_->next_ = d.next_;
    else
        head_ = d.next_;
    if (d.next_)
        d.next_->prev_ = d.prev_;
    else
        tail_ = d.prev_;
    d.prev_ = d.next_ = nullptr;
    d.list_ = nullptr;
    // An armed timer keeps the loop alive, so it runs only while something is due. With
    // deadlines left, it may fire early for a removed head; on_timer then reschedules.
    if (!head_ && timer_) uv_timer_stop(timer_);
}

void DeadlineList::schedule() noexcept {
    if (!timer_ || !head_) return;
    uint64_t now = uv_now(loop_);
    uint64_t due = head_->expiry_ > now ? head_->expiry_ - now : 0;
    if (uv_is_active(reinterpret_cast<uv_handle_t *>(timer_)) && scheduled_for_ <= head_->expiry_)
        return; // it fires early enough; on_timer reschedules
    scheduled_for_ = now + due;
    uv_timer_start(timer_, &DeadlineList::on_timer, due, 0);
}

void DeadlineList::on_timer(uv_timer_t *t) {
    auto *self = static_cast<DeadlineList *>(t->data);
    uint64_t now = uv_now(self->loop_);
    // Fire everything due. A callback may arm or remove other deadlines, so re-read the head.
    while (self->head_ && self->head_->expiry_ <= now) {
        Deadline *d = self->head_;
        self->remove(*d);
        d->fire_(d->owner_);
    }
    if (self->head_) {
        uint64_t due = self->head_->expiry_ - now;
        self->scheduled_for_ = now + due;
        uv_timer_start(self->timer_, &DeadlineList::on_timer, due, 0);
    }
}

DeadlineList &Deadlines::list(uint64_t duration_ms) {
    for (auto &l : lists_)
        if (l->duration_ms() == duration_ms) return *l;
    lists_.push_back(std::make_unique<DeadlineList>(loop_, duration_ms));
    return *lists_.back();
}

void Deadlines::close() noexcept {
    for (auto &l : lists_)
        l->close();
    lists_.clear();
}

} // namespace perch::io
