// perch_version*, perch_strerror, perch_status_name.
#include "capi/handles.hpp"

extern "C" {

PERCH_API uint32_t perch_version(void) {
    return PERCH_VERSION_HEX;
}

PERCH_API const char *perch_version_string(void) {
    return "0.1.0";
}

PERCH_API const char *perch_strerror(perch_status status) {
    return perch::core::code_message(static_cast<perch::core::Code>(status));
}

PERCH_API const char *perch_status_name(perch_status status) {
    return perch::core::code_name(static_cast<perch::core::Code>(status));
}

} // extern "C"
