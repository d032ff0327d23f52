#include "http/cdn_cache_control.hpp"

#include "http/structured_fields.hpp"

#include <algorithm>

namespace perch::http {

namespace {

constexpr int64_t delta_seconds_max = 2147483648; // 2^31 (RFC 9111 §1.2.2)

enum class Kind : uint8_t { seconds, flag, flag_or_fields };

struct Directive {
    std::string_view name;
    Kind kind;
};

constexpr Directive known[] = {
    {"max-age", Kind::seconds},          {"s-maxage", Kind::seconds},
    {"stale-while-revalidate", Kind::seconds}, {"stale-if-error", Kind::seconds},
    {"no-store", Kind::flag},            {"no-cache", Kind::flag_or_fields},
    {"private", Kind::flag_or_fields},   {"public", Kind::flag},
    {"must-revalidate", Kind::flag},     {"proxy-revalidate", Kind::flag},
    {"no-transform", Kind::flag},        {"immutable", Kind::flag},
    {"must-understand", Kind::flag},
};

std::optional<int64_t> *seconds_slot(CacheControl &cc, std::string_view name) noexcept {
    if (name == "max-age") return &cc.max_age;
    if (name == "s-maxage") return &cc.s_maxage;
    if (name == "stale-while-revalidate") return &cc.stale_while_revalidate;
    return &cc.stale_if_error;
}

bool *flag_slot(CacheControl &cc, std::string_view name) noexcept {
    if (name == "no-store") return &cc.no_store;
    if (name == "no-cache") return &cc.no_cache;
    if (name == "private") return &cc.private_;
    if (name == "public") return &cc.public_;
    if (name == "must-revalidate") return &cc.must_revalidate;
    if (name == "proxy-revalidate") return &cc.proxy_revalidate;
    if (name == "no-transform") return &cc.no_transform;
    if (name == "immutable") return &cc.immutable;
    return &cc.must_understand;
}

// Applies one member; false when its value has the wrong type for the directive.
bool apply(CacheControl &cc, const Directive &d, const sf::Member &m) {
    if (m.inner_list) return false;
    const sf::BareItem &v = m.item.value;
    switch (d.kind) {
    case Kind::seconds:
        if (!v.is_integer() || v.integer < 0) return false;
        *seconds_slot(cc, d.name) = std::min(v.integer, delta_seconds_max);
        return true;
    case Kind::flag_or_fields:
        if (v.type == sf::BareItem::Type::string) {
            *flag_slot(cc, d.name) = true;
            (d.name == "private" ? cc.private_qualified : cc.no_cache_qualified) = true;
            return true;
        }
        [[fallthrough]];
    case Kind::flag:
        if (v.type != sf::BareItem::Type::boolean) return false;
        if (v.is_true()) *flag_slot(cc, d.name) = true;
        return true;
    }
    return false;
}

} // namespace

std::optional<CacheControl> parse_cdn_cache_control(const core::HeaderMap &headers) {
    std::optional<sf::Dictionary> dict = sf::parse_dictionary(headers, "cdn-cache-control");
    if (!dict || dict->empty()) return std::nullopt;
    CacheControl cc;
    cc.any = true;
    for (const auto &[name, member] : *dict) {
        // A named copy: clang before 16 cannot capture a structured binding.
        const std::string_view key = name;
        auto d = std::find_if(std::begin(known), std::end(known),
                              [&](const Directive &k) { return k.name == key; });
        if (d != std::end(known) && !apply(cc, *d, member)) return std::nullopt;
    }
    return cc;
}

} // namespace perch::http
