// The public header compiles as C++20 with -Wall -Wextra -pedantic -Werror.
#include <perch/perch.h>

#include <cstdio>

int main() {
    perch_slice s{nullptr, 0};
    std::printf("%s 1 - perch.h compiles and links as C++20\n1..1\n",
                s.len == 0 && perch_version() == PERCH_VERSION_HEX ? "ok" : "not ok");
    return 0;
}
