// Answering a Range request from a full 200 (stored, or arriving from the origin): the 206 or
// 416 head, and the bytes to send picked from the representation as it is read in order.
// One RangeResponse per transaction, reused (prepare() resets it).
#pragma once

#include "core/buffer.hpp"
#include "core/http_message.hpp"
#include "http/conditional.hpp"
#include "http/range.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perch::edge {

class RangeResponse {
public:
    // Decides how `req` is answered from a 200 of `length` bytes whose head is `stored_head`
    // (a stored head; its Content-Length, if any, is replaced). False: send the full 200
    // (no Range, an ignored one, or If-Range does not match).
    bool prepare(const core::RequestHead &req, std::string_view stored_head, uint64_t length,
                 uint64_t boundary_id);

    uint16_t status() const noexcept { return status_; } // 206 or 416
    // The response head: status line and fields (Content-Range or the multipart type), CRLF
    // lines, no Content-Length and no blank line.
    const std::string &head() const noexcept { return head_; }
    uint64_t body_length() const noexcept { return body_length_; }

    // Appends to `out` what to send of `bytes`, which hold the representation from `offset`
    // on (pieces are fed in order, without gaps). Part delimiters are added as they fall due.
    void select(uint64_t offset, const core::BufferSlice &bytes,
                std::vector<core::BufferSlice> &out);
    // Whether every byte to send has been selected (the multipart end included).
    bool done() const noexcept { return next_ >= set_.count; }

private:
    void emit_framing(size_t part, std::vector<core::BufferSlice> &out);

    http::RangeSet set_;
    uint16_t status_ = 0;
    uint64_t length_ = 0;
    uint64_t body_length_ = 0;
    std::string head_;
    core::Ref<core::Buffer> framing_; // multipart: each part's header, then the end
    std::vector<size_t> framing_at_;  // where part i's header starts in framing_ (+ the end)
    size_t next_ = 0;                 // the range being sent
    bool framed_ = false;             // next_'s part header was sent
};

} // namespace perch::edge
