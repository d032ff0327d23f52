// The viewer's preconditions (RFC 9110 §13) and Range (§14) answered by the edge from a 200 it
// has (a hit) or is receiving (a miss, or a collapsed waiter): 304 / 412, or 206 / 416 with
// the selected bytes. Only when the request carries such fields (checked once per request).
#include "core/ascii.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"

#include <xxhash.h>

namespace perch::edge {

using core::BufferSlice;

bool has_conditional_or_range(const core::HeaderMap &h) noexcept {
    for (size_t i = 0; i < h.size(); ++i) {
        std::string_view n = h.name(i);
        if (core::istarts_with(n, "if-") || core::iequals(n, "range")) return true;
    }
    return false;
}

bool Transaction::answer_preconditions(std::string_view stored_head, core::UnixMillis received_at) {
    if (!conditional_ || override_status_ != 0) return false;
    http::StoredValidators v = http::stored_validators(stored_head);
    v.received_at = received_at;
    switch (http::evaluate_preconditions(req_->headers, req_->method, v)) {
    case http::Precondition::proceed:
        return false;
    case http::Precondition::precondition_failed:
        body_ = Body::none;
        respond_generated(412, "A precondition of the request did not hold.");
        return true;
    case http::Precondition::not_modified:
        break;
    }
    status_ = 304;
    body_ = Body::none;
    std::string head; // stored_head may be head_text_ itself
    http::build_not_modified_head(stored_head, head);
    head_buf_ = core::Buffer::copy_of(head);
    send_head(BufferSlice(head_buf_, head_buf_->data(), head_buf_->size()), std::nullopt, false,
              true);
    return true;
}

bool Transaction::start_range(std::string_view stored_head, std::optional<uint64_t> length) {
    ranged_ = false;
    if (!conditional_ || override_status_ != 0 || !length) return false;
    uint64_t boundary_id = XXH3_64bits(id_, id_len_);
    if (!range_.prepare(*req_, stored_head, *length, boundary_id)) return false;
    status_ = range_.status();
    head_buf_ = core::Buffer::copy_of(range_.head());
    bool no_body = status_ == 416 || head_only_;
    ranged_ = !no_body;
    send_head(BufferSlice(head_buf_, head_buf_->data(), head_buf_->size()), range_.body_length(),
              false, no_body);
    return true;
}

void Transaction::send_range_bytes(uint64_t offset, const BufferSlice *pieces, size_t count) {
    range_pieces_.clear();
    for (size_t i = 0; i < count; ++i) {
        range_.select(offset, pieces[i], range_pieces_);
        offset += pieces[i].len;
    }
    bool complete = range_.done();
    if (range_pieces_.empty() && !complete) return;
    send(nullptr, range_pieces_.data(), range_pieces_.size(), complete);
}

void Transaction::select_stored_range(const cache::CachedObject &obj) {
    uint64_t offset = 0;
    range_pieces_.clear();
    for (size_t i = 0; i < obj.body_count(); ++i) {
        BufferSlice piece = obj.body_slice(i);
        range_.select(offset, piece, range_pieces_);
        offset += piece.len;
        if (range_.done()) break;
    }
    obj_next_ = 0;
}

} // namespace perch::edge
