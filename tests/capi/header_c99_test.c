/* The public header compiles as strict C99 (this file is built with -std=c99 -pedantic). */
#include <perch/perch.h>

#include "tap.h"

int main(void) {
    perch_slice s = {0, 0};
    perch_runtime_options o;
    perch_runtime_options_init(&o, sizeof o);
    CHECK(s.len == 0 && o.struct_size == sizeof o, "perch.h compiles and links as C99");
    return tap_done();
}
