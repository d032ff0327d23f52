#include "core/status.hpp"

namespace perch::core {

const char *code_name(Code c) {
    switch (c) {
    case Code::ok:
        return "PERCH_OK";
    case Code::invalid_argument:
        return "PERCH_E_INVALID_ARGUMENT";
    case Code::nomem:
        return "PERCH_E_NOMEM";
    case Code::internal:
        return "PERCH_E_INTERNAL";
    case Code::invalid_handle:
        return "PERCH_E_INVALID_HANDLE";
    case Code::reentrant:
        return "PERCH_E_REENTRANT";
    case Code::config:
        return "PERCH_E_CONFIG";
    case Code::io:
        return "PERCH_E_IO";
    case Code::state:
        return "PERCH_E_STATE";
    case Code::origin_connect:
        return "PERCH_E_ORIGIN_CONNECT";
    case Code::origin_timeout:
        return "PERCH_E_ORIGIN_TIMEOUT";
    case Code::origin_protocol:
        return "PERCH_E_ORIGIN_PROTOCOL";
    case Code::viewer_protocol:
        return "PERCH_E_VIEWER_PROTOCOL";
    case Code::unsupported:
        return "PERCH_E_UNSUPPORTED";
    case Code::not_found:
        return "PERCH_E_NOT_FOUND";
    case Code::cancelled:
        return "PERCH_E_CANCELLED";
    case Code::tls:
        return "PERCH_E_TLS";
    case Code::too_large:
        return "PERCH_E_TOO_LARGE";
    }
    return "PERCH_E_UNKNOWN";
}

const char *code_message(Code c) {
    switch (c) {
    case Code::ok:
        return "success";
    case Code::invalid_argument:
        return "invalid argument";
    case Code::nomem:
        return "out of memory";
    case Code::internal:
        return "internal error";
    case Code::invalid_handle:
        return "invalid handle";
    case Code::reentrant:
        return "call not allowed from inside a callback";
    case Code::config:
        return "invalid configuration";
    case Code::io:
        return "I/O error";
    case Code::state:
        return "operation not allowed in the current state";
    case Code::origin_connect:
        return "could not connect to the origin";
    case Code::origin_timeout:
        return "the origin timed out";
    case Code::origin_protocol:
        return "the origin sent an invalid response";
    case Code::viewer_protocol:
        return "the viewer sent an invalid request";
    case Code::unsupported:
        return "not supported";
    case Code::not_found:
        return "not found";
    case Code::cancelled:
        return "cancelled";
    case Code::tls:
        return "TLS error";
    case Code::too_large:
        return "too large";
    }
    return "unknown status";
}

} // namespace perch::core
