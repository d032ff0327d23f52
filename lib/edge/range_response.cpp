#include "edge/range_response.hpp"

#include "core/ascii.hpp"
#include "http/head_writer.hpp"

#include <algorithm>

namespace perch::edge {

namespace {

// The stored head with a new status line and without the fields a partial response must not
// repeat (its length, and for multipart its type).
void rewrite_head(std::string_view stored, uint16_t status, bool drop_type, std::string &out) {
    out.clear();
    http::HeadWriter w(out);
    w.status_line(status, {});
    http::for_each_stored_field(
        stored, [&](std::string_view name, std::string_view, std::string_view line) {
            if (core::iequals(name, "content-length") || core::iequals(name, "content-range") ||
                (drop_type && core::iequals(name, "content-type")))
                return;
            out.append(line);
            out.append("\r\n");
        });
}

} // namespace

bool RangeResponse::prepare(const core::RequestHead &req, std::string_view stored_head,
                            uint64_t length, uint64_t boundary_id) {
    status_ = 0;
    next_ = 0;
    framed_ = false;
    framing_.reset();
    framing_at_.clear();
    if (!req.headers.contains("range")) return false;
    http::StoredValidators v = http::stored_validators(stored_head);
    if (v.status != 200 || !http::if_range_allows_range(req.headers, v)) return false;
    set_ = http::evaluate_range(req.headers, req.method, length);
    length_ = length;
    char value[http::content_range_max_length];
    switch (set_.outcome) {
    case http::RangeOutcome::ignore:
        return false;
    case http::RangeOutcome::unsatisfiable:
        status_ = 416;
        rewrite_head(stored_head, 416, true, head_);
        http::HeadWriter(head_).field("Content-Range",
                                      {value, http::format_unsatisfied_range(length, value)});
        body_length_ = 0;
        set_.count = 0;
        return true;
    case http::RangeOutcome::single:
        status_ = 206;
        rewrite_head(stored_head, 206, false, head_);
        http::HeadWriter(head_).field(
            "Content-Range", {value, http::format_content_range(set_.ranges[0], length, value)});
        body_length_ = set_.ranges[0].length();
        return true;
    case http::RangeOutcome::multiple:
        break;
    }
    status_ = 206;
    std::string_view type = http::stored_head_field(stored_head, "content-type").value_or("");
    char boundary_text[http::multipart_boundary_length];
    std::string_view boundary(boundary_text,
                              http::format_multipart_boundary(boundary_id, boundary_text));
    rewrite_head(stored_head, 206, true, head_);
    std::string content_type;
    http::append_multipart_content_type(content_type, boundary);
    http::HeadWriter(head_).field("Content-Type", content_type);
    body_length_ = http::multipart_body_length(set_, boundary, type, length);
    std::string framing;
    for (size_t i = 0; i < set_.count; ++i) {
        framing_at_.push_back(framing.size());
        http::append_multipart_part_header(framing, i, boundary, type, set_.ranges[i], length);
    }
    framing_at_.push_back(framing.size());
    http::append_multipart_end(framing, boundary);
    framing_at_.push_back(framing.size());
    framing_ = core::Buffer::copy_of(framing);
    return true;
}

void RangeResponse::emit_framing(size_t part, std::vector<core::BufferSlice> &out) {
    if (!framing_) return;
    out.emplace_back(framing_, framing_->data() + framing_at_[part],
                     framing_at_[part + 1] - framing_at_[part]);
}

void RangeResponse::select(uint64_t offset, const core::BufferSlice &bytes,
                           std::vector<core::BufferSlice> &out) {
    const uint64_t end = offset + bytes.len;
    while (next_ < set_.count) {
        const http::ByteRange &r = set_.ranges[next_];
        if (r.first >= end) return; // this range starts in a later piece
        if (!framed_) {
            emit_framing(next_, out);
            framed_ = true;
        }
        uint64_t from = std::max(r.first, offset);
        uint64_t to = std::min(r.last + 1, end);
        if (to > from) out.emplace_back(bytes.buf, bytes.ptr + (from - offset), size_t(to - from));
        if (r.last + 1 > end) return; // continues in the next piece
        ++next_;
        framed_ = false;
        if (next_ == set_.count) emit_framing(set_.count, out); // the closing delimiter
    }
}

} // namespace perch::edge
