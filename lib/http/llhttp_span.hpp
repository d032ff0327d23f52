// llhttp hands a span (method, target, status reason, field name or value) to its callback when
// the span ends or when the read ends; a syntax error inside a span drops the span's bytes
// before the error. The request and response parsers then deliver those bytes themselves, as
// the end of a read would have, so their size limits and byte checks see every byte before the
// error and the answer (414 or 431 before 400) does not depend on how the bytes were read.
//
// Call order: right after llhttp_execute() returned an error that no callback of ours raised,
// before the next call on the parser. Reads llhttp's span fields (_span_pos0, _span_cb0), as its
// own llhttp__internal_execute does at the end of a read (llhttp 8, Debian node-llhttp).
#pragma once

#include <cstring>
#include <llhttp.h>

namespace perch::http {

// Calls the pending span's callback with its bytes before error_pos; returns what the callback
// returned (0 when no bytes were pending).
inline int deliver_span_before_error(llhttp_t &p) {
    const char *start = static_cast<const char *>(p._span_pos0);
    const char *end = p.error_pos;
    if (!start || !p._span_cb0 || !end || end <= start) return 0;
    using SpanCallback = int (*)(llhttp_t *, const char *, const char *);
    SpanCallback callback;
    static_assert(sizeof callback == sizeof p._span_cb0);
    std::memcpy(&callback, &p._span_cb0, sizeof callback);
    p._span_pos0 = nullptr;
    return callback(&p, start, end);
}

} // namespace perch::http
