// Conditional requests answered from a stored response.
//
// Decisions where the RFCs leave room:
// - If-Match and If-Unmodified-Since are evaluated against the stored response (RFC 9110
//   §13.1.1/§13.1.4 let a cache ignore them; evaluating them answers a client that guards a
//   resumed download with the 412 the origin would send, without a trip to the origin).
// - If-Modified-Since without a stored Last-Modified uses the stored Date, else the time the
//   response was received (RFC 9111 §4.3.2 "SHOULD"). The comparison is RFC 9110's "earlier or
//   equal" (not nginx's default exact match).
// - Entity-tags that do not parse in an If-Match / If-None-Match list match nothing; a stored
//   ETag that does not parse matches nothing either.
// - The 304 keeps what RFC 9110 §15.4.5 requires (Cache-Control, Content-Location, Date, ETag,
//   Expires, Vary), Last-Modified (it guides cache updates) and other non-representation fields
//   (CORS and application fields, as nginx does); it drops representation metadata about the
//   body (Content-Type, -Encoding, -Language, -Length, -Range, -MD5), Accept-Ranges, Age (written
//   per response) and hop-by-hop fields, as nginx's not_modified filter drops Content-Type,
//   Content-Length, Accept-Ranges and Content-Encoding.
#include "http/conditional.hpp"

#include "core/ascii.hpp"
#include "http/head_writer.hpp"
#include "http/http_date.hpp"

namespace perch::http {

namespace {

using core::iequals;

uint16_t stored_status(std::string_view head) noexcept {
    // "HTTP/1.1 200 OK"
    size_t sp = head.find(' ');
    if (sp == std::string_view::npos || head.size() < sp + 4) return 0;
    uint16_t status = 0;
    for (size_t i = sp + 1; i < sp + 4; ++i) {
        if (head[i] < '0' || head[i] > '9') return 0;
        status = uint16_t(status * 10 + (head[i] - '0'));
    }
    return status;
}

enum class TagListMatch : uint8_t { absent, star, matched, unmatched };

// Evaluates an If-Match / If-None-Match field (all its lines) against the stored ETag.
template <class Compare>
TagListMatch match_tag_list(const core::HeaderMap &h, std::string_view field,
                            std::optional<EntityTag> current, Compare compare) noexcept {
    TagListMatch result = TagListMatch::absent;
    h.for_each(field, [&](std::string_view value) {
        if (result == TagListMatch::absent) result = TagListMatch::unmatched;
        core::for_each_list_element(value, [&](std::string_view el) {
            if (el == "*") {
                result = TagListMatch::star;
                return;
            }
            auto tag = parse_entity_tag(el);
            if (tag && current && compare(*tag, *current) && result != TagListMatch::star)
                result = TagListMatch::matched;
        });
    });
    return result;
}

// The single HTTP-date of a date precondition; nullopt when absent, repeated or invalid.
std::optional<core::UnixMillis> single_date(const core::HeaderMap &h,
                                            std::string_view field) noexcept {
    if (h.count(field) != 1) return std::nullopt;
    return parse_http_date(*h.get(field));
}

std::optional<core::UnixMillis> date_of(std::string_view v) noexcept {
    if (v.empty()) return std::nullopt;
    return parse_http_date(v);
}

bool dropped_from_304(std::string_view name) noexcept {
    static constexpr std::string_view fields[] = {"content-type",
                                                  "content-encoding",
                                                  "content-language",
                                                  "content-range",
                                                  "content-md5",
                                                  "accept-ranges",
                                                  "age"};
    if (is_hop_by_hop(name)) return true;
    for (auto f : fields)
        if (iequals(name, f)) return true;
    return false;
}

} // namespace

std::optional<std::string_view> stored_head_field(std::string_view stored_head,
                                                  std::string_view name) noexcept {
    std::optional<std::string_view> found;
    for_each_stored_field(stored_head,
                          [&](std::string_view n, std::string_view v, std::string_view) {
                              if (!found && iequals(n, name)) found = v;
                          });
    return found;
}

StoredValidators stored_validators(std::string_view stored_head) noexcept {
    StoredValidators s;
    s.status = stored_status(stored_head);
    bool etag = false, lm = false, date = false;
    for_each_stored_field(stored_head,
                          [&](std::string_view n, std::string_view v, std::string_view) {
                              if (!etag && iequals(n, "etag")) {
                                  s.etag = v;
                                  etag = true;
                              } else if (!lm && iequals(n, "last-modified")) {
                                  s.last_modified = v;
                                  lm = true;
                              } else if (!date && iequals(n, "date")) {
                                  s.date = v;
                                  date = true;
                              }
                          });
    return s;
}

std::optional<EntityTag> parse_entity_tag(std::string_view s) noexcept {
    s = core::trim_ows(s);
    EntityTag t;
    if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
        t.weak = true;
        s.remove_prefix(2);
    }
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
    s = s.substr(1, s.size() - 2);
    // etagc = %x21 / %x23-7E / obs-text
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u == 0x22 || u == 0x7f) return std::nullopt;
    }
    t.opaque = s;
    return t;
}

bool not_modified_selects(std::string_view stored_etag, std::string_view stored_last_modified,
                          const core::HeaderMap &nm) noexcept {
    if (auto etag = nm.get("etag")) {
        auto fresh = parse_entity_tag(*etag), stored = parse_entity_tag(stored_etag);
        if (!fresh || !stored) return false;
        return fresh->weak ? weak_match(*fresh, *stored) : strong_match(*fresh, *stored);
    }
    if (auto lm = nm.get("last-modified")) {
        auto fresh = parse_http_date(*lm), stored = parse_http_date(stored_last_modified);
        return fresh && stored && *fresh == *stored;
    }
    return true;
}

Precondition evaluate_preconditions(const core::HeaderMap &h, core::Method method,
                                    const StoredValidators &stored) noexcept {
    if (stored.status < 200 || stored.status > 299) return Precondition::proceed;
    const bool get_or_head = method == core::Method::get || method == core::Method::head;
    const auto current = stored.etag.empty() ? std::nullopt : parse_entity_tag(stored.etag);
    const auto last_modified = date_of(stored.last_modified);

    // 1 and 2: If-Match, else If-Unmodified-Since.
    auto if_match = match_tag_list(h, "if-match", current, strong_match);
    if (if_match == TagListMatch::unmatched) return Precondition::precondition_failed;
    if (if_match == TagListMatch::absent && last_modified)
        if (auto ius = single_date(h, "if-unmodified-since"); ius && *last_modified > *ius)
            return Precondition::precondition_failed;

    // 3: If-None-Match, else 4: If-Modified-Since.
    auto if_none_match = match_tag_list(h, "if-none-match", current, weak_match);
    if (if_none_match == TagListMatch::star || if_none_match == TagListMatch::matched)
        return get_or_head ? Precondition::not_modified : Precondition::precondition_failed;
    if (if_none_match == TagListMatch::absent && get_or_head) {
        auto ims = single_date(h, "if-modified-since");
        auto modified = last_modified ? last_modified : date_of(stored.date);
        if (!modified) modified = stored.received_at;
        if (ims && modified && *modified <= *ims) return Precondition::not_modified;
    }
    return Precondition::proceed;
}

void build_not_modified_head(std::string_view stored_head, std::string &out) {
    out.clear();
    HeadWriter(out).status_line(304, {});
    for_each_stored_field(stored_head,
                          [&](std::string_view name, std::string_view, std::string_view line) {
                              if (dropped_from_304(name)) return;
                              out.append(line);
                              out += "\r\n";
                          });
}

} // namespace perch::http
