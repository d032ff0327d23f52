// The JSON config loader (lib/config/config): the input is a whole config document. A document
// either fails with a config error that names a JSON path and a reason, the same on a second
// parse, or yields a distribution whose references hold: every behavior's origin is the one it
// names, cached methods are allowed methods, TTLs are ordered, error codes and origin ids are
// unique, and there is somewhere to listen. Relative paths resolve against a directory that
// does not exist, so only absolute ones can name files.
#include "config/config.hpp"
#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

namespace {

using namespace perch::config;

void check_ttl(const TtlSettings &t) {
    PERCH_FUZZ_CHECK(0 <= t.min_ttl && t.min_ttl <= t.default_ttl && t.default_ttl <= t.max_ttl);
}

void check_behavior(const CacheBehavior &b, const Distribution &d, bool is_default) {
    PERCH_FUZZ_CHECK(b.origin_index < d.origins.size());
    PERCH_FUZZ_CHECK(d.origins[b.origin_index].origin_id == b.target_origin_id);
    PERCH_FUZZ_CHECK((b.cached_methods.bits & ~b.allowed_methods.bits) == 0);
    PERCH_FUZZ_CHECK(is_default == b.path_pattern.empty());
    PERCH_FUZZ_CHECK(b.path_pattern.size() <= 255);
    check_ttl(b.ttl);
}

void check_config(const Config &c) {
    const Distribution &d = c.distribution;
    PERCH_FUZZ_CHECK(!d.origins.empty());
    for (size_t i = 0; i < d.origins.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            PERCH_FUZZ_CHECK(d.origins[i].origin_id != d.origins[j].origin_id);
    check_behavior(d.default_cache_behavior, d, true);
    for (const CacheBehavior &b : d.ordered_cache_behaviors)
        check_behavior(b, d, false);
    for (size_t i = 0; i < d.custom_error_responses.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            PERCH_FUZZ_CHECK(d.custom_error_responses[i].error_code !=
                             d.custom_error_responses[j].error_code);
    for (const CachePolicy &p : c.cache_policies)
        check_ttl(p.ttl);
    PERCH_FUZZ_CHECK(!c.perch.listen.empty());
    for (const ListenAddress &a : c.perch.listen)
        PERCH_FUZZ_CHECK(!a.host.empty() && a.port != 0 && (!a.tls || c.perch.tls));
    PERCH_FUZZ_CHECK(d.minimum_tls_version >= 0x0301 && d.minimum_tls_version <= 0x0304);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    constexpr std::string_view base_dir = "/nonexistent/perch-fuzz";
    auto config = parse_config(text, base_dir);
    if (config) {
        check_config(*config);
        return 0;
    }
    const perch::core::Error &e = config.error();
    PERCH_FUZZ_CHECK(e.code == perch::core::Code::config);
    PERCH_FUZZ_CHECK(e.context.find(": ") != std::string::npos);
    const auto again = parse_config(text, base_dir);
    PERCH_FUZZ_CHECK(!again && again.error().context == e.context);
    return 0;
}
