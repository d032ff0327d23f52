// Cache-Control, Age and Expires (lib/http/cache_control): the input is a field value, each
// '\n' starting a new field line. Values stay in range; the HeaderMap overload equals adding each
// line in turn; and, for values without quoting, lines are one list ("a" then "b" is "a, b")
// and repeating a whole list changes nothing (a repeat either agrees or already made it stale).
#include "core/header_map.hpp"
#include "fuzz_check.hpp"
#include "http/cache_control.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace {

using perch::http::CacheControl;

auto fields_of(const CacheControl &c) {
    return std::tie(c.max_age, c.s_maxage, c.stale_while_revalidate, c.stale_if_error, c.max_stale,
                    c.min_fresh, c.no_store, c.no_cache, c.private_, c.no_cache_qualified,
                    c.private_qualified, c.public_, c.must_revalidate, c.proxy_revalidate,
                    c.no_transform, c.immutable, c.must_understand, c.only_if_cached, c.any);
}

bool same(const CacheControl &a, const CacheControl &b) {
    return fields_of(a) == fields_of(b);
}

bool delta_ok(const std::optional<int64_t> &v) {
    return !v || (*v >= 0 && *v <= 2147483648);
}

void check_values(const CacheControl &c) {
    for (const auto *v : {&c.max_age, &c.s_maxage, &c.stale_while_revalidate, &c.stale_if_error,
                          &c.max_stale, &c.min_fresh})
        PERCH_FUZZ_CHECK(delta_ok(*v));
    PERCH_FUZZ_CHECK(!c.no_cache_qualified || c.no_cache);
    PERCH_FUZZ_CHECK(!c.private_qualified || c.private_);
    if (!c.any) PERCH_FUZZ_CHECK(same(c, CacheControl{}));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    perch::core::HeaderMap headers;
    CacheControl line_by_line;
    std::string joined;
    for (size_t start = 0; start <= input.size();) {
        size_t nl = input.find('\n', start);
        if (nl == std::string_view::npos) nl = input.size();
        const std::string_view line = input.substr(start, nl - start);
        headers.add("Cache-Control", line);
        headers.add("Expires", line);
        perch::http::add_cache_control(line_by_line, line);
        joined.append(joined.empty() ? "" : ", ").append(line);
        start = nl + 1;

        const auto age = perch::http::parse_age(line);
        PERCH_FUZZ_CHECK(delta_ok(age));
        const auto expires = perch::http::parse_expires(line);
        PERCH_FUZZ_CHECK(expires == perch::http::expires_invalid || expires % 1000 == 0);
    }
    check_values(line_by_line);
    PERCH_FUZZ_CHECK(
        same(perch::http::parse_cache_control(headers, "cache-control"), line_by_line));
    PERCH_FUZZ_CHECK(delta_ok(perch::http::parse_age(headers)));
    perch::http::parse_expires(headers);

    if (input.find_first_of("\"\\") == std::string_view::npos) {
        const CacheControl whole = perch::http::parse_cache_control(joined);
        PERCH_FUZZ_CHECK(same(whole, line_by_line));
        PERCH_FUZZ_CHECK(same(perch::http::parse_cache_control(joined + "," + joined), whole));
    }
    return 0;
}
