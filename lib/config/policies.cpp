// Cache policies, origin request policies and legacy forwarded_values: parsing, validation and
// the conversion of all three into a behavior's RequestShape. Limits marked "AWS" are
// CloudFront's.
#include "config/policies.hpp"

#include "config/path_pattern.hpp"
#include "core/ascii.hpp"

#include <algorithm>

namespace perch::config {

namespace {

bool is_policy_name(std::string_view s) { // AWS: letters, digits, '-' and '_'
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '-' || c == '_';
    });
}

// A policy's *_behavior value, before it becomes a SelectMode.
enum class Behavior { none, whitelist, all_except, all, all_viewer_and_cloudfront };

SelectMode select_mode(Behavior b) {
    switch (b) {
    case Behavior::none:
        return SelectMode::none;
    case Behavior::whitelist:
        return SelectMode::listed;
    case Behavior::all_except:
        return SelectMode::all_except;
    case Behavior::all:
    case Behavior::all_viewer_and_cloudfront:
        return SelectMode::all;
    }
    return SelectMode::none;
}

// One of cookies_config / headers_config / query_strings_config:
// {"<kind>_behavior": "...", "<items_key>": {"items": [...]}}.
struct SelectionSyntax {
    std::string_view behavior_key; // "cookie_behavior"
    std::string_view items_key;    // "cookies"
    std::string_view what;         // "cookie", for messages
    bool header_names;             // names are header names (compared without case)
    bool origin_request = false;   // an origin request policy's list (what is forwarded)
};

template <size_t N>
void read_selection(ObjectReader &c, const SelectionSyntax &syntax,
                    const Named<Behavior> (&behaviors)[N], ValueSelection &out) {
    c.check_keys({syntax.behavior_key, syntax.items_key});
    Behavior behavior = Behavior::none;
    if (!c.read_named(syntax.behavior_key, behaviors, behavior, Need::required)) return;
    std::vector<std::string> names;
    bool has_items = false;
    size_t mark = c.errors().count();
    if (auto items = c.object(syntax.items_key)) {
        items->check_keys({"items"});
        has_items = items->read_distinct_strings(
            "items", names, syntax.what, syntax.header_names ? Case::insensitive : Case::sensitive);
        for (size_t i = 0; i < names.size() && !c.errors().failed_since(mark); ++i) {
            std::string element = json_index_path(items->path("items"), i);
            if (syntax.header_names && !core::is_token(names[i]))
                c.errors().fail(element, "must be a valid header name");
            else if (syntax.origin_request && behavior == Behavior::whitelist &&
                     core::iequals(names[i], "authorization"))
                // CloudFront answers 400 too: a forwarded credential must be in the cache key,
                // or one viewer's answer could be served to another.
                c.errors().fail(element, "Authorization cannot be forwarded by an origin request "
                                         "policy (as in CloudFront): list it in the cache "
                                         "policy's headers_config, which keys and forwards it");
            else if (behavior == Behavior::all_viewer_and_cloudfront &&
                     !core::istarts_with(names[i], "CloudFront-"))
                c.errors().fail(element, "must be a CloudFront header (CloudFront-...) with "
                                         "allViewerAndWhitelistCloudFront");
        }
    }
    if (c.errors().failed_since(mark)) return;
    std::string behavior_text =
        in_quotes(std::find_if(std::begin(behaviors), std::end(behaviors), [&](const auto &n) {
                      return n.value == behavior;
                  })->name);
    bool needs_names = behavior == Behavior::whitelist || behavior == Behavior::all_except ||
                       behavior == Behavior::all_viewer_and_cloudfront;
    if (needs_names && names.empty())
        return c.fail(syntax.items_key,
                      has_items ? "items must not be empty when " +
                                      std::string(syntax.behavior_key) + " is " + behavior_text
                                : "required when " + std::string(syntax.behavior_key) + " is " +
                                      behavior_text);
    if (!needs_names && !names.empty())
        return c.fail(syntax.items_key, "not allowed when " + std::string(syntax.behavior_key) +
                                            " is " + behavior_text);
    out.mode = select_mode(behavior);
    if (out.mode != SelectMode::all) out.names = std::move(names);
}

const SelectionSyntax cookies_syntax{"cookie_behavior", "cookies", "cookie", false};
const SelectionSyntax headers_syntax{"header_behavior", "headers", "header", true};
const SelectionSyntax origin_headers_syntax{"header_behavior", "headers", "header", true, true};
const SelectionSyntax query_strings_syntax{"query_string_behavior", "query_strings", "query string",
                                           false};

constexpr Named<Behavior> cookie_behaviors[] = {{"none", Behavior::none},
                                                {"whitelist", Behavior::whitelist},
                                                {"allExcept", Behavior::all_except},
                                                {"all", Behavior::all}};
constexpr Named<Behavior> cache_header_behaviors[] = {{"none", Behavior::none},
                                                      {"whitelist", Behavior::whitelist}};
constexpr Named<Behavior> origin_header_behaviors[] = {
    {"none", Behavior::none},
    {"whitelist", Behavior::whitelist},
    {"allViewer", Behavior::all},
    {"allViewerAndWhitelistCloudFront", Behavior::all_viewer_and_cloudfront},
    {"allExcept", Behavior::all_except}};

// The three *_config blocks of a policy, each required (as in Terraform).
template <size_t H>
void read_three_configs(ObjectReader &p, const Named<Behavior> (&header_behaviors)[H],
                        const SelectionSyntax &header_syntax, ValueSelection &cookies,
                        ValueSelection &headers, ValueSelection &query_strings) {
    if (auto c = p.object("cookies_config", Need::required))
        read_selection(*c, cookies_syntax, cookie_behaviors, cookies);
    if (auto h = p.object("headers_config", Need::required))
        read_selection(*h, header_syntax, header_behaviors, headers);
    if (auto q = p.object("query_strings_config", Need::required))
        read_selection(*q, query_strings_syntax, cookie_behaviors, query_strings);
}

// A policy's id, distinct from earlier and managed ones; returns whether it is.
template <class Policy>
bool read_policy_id(ObjectReader &p, const std::vector<Policy> &earlier,
                    const std::vector<Policy> &managed, std::string_view kind, Policy &policy) {
    if (!p.read_string("id", policy.id, Need::required)) return false;
    std::string problem;
    if (policy.id.empty()) problem = "must not be empty";
    for (const Policy &m : managed)
        if (problem.empty() && m.id == policy.id)
            problem = "is the id of the AWS managed " + std::string(kind) + " " +
                      in_quotes(m.name) + " (refer to it without defining it)";
    for (const Policy &e : earlier)
        if (problem.empty() && e.id == policy.id) problem = "duplicate id " + in_quotes(policy.id);
    if (!problem.empty()) p.fail("id", problem);
    return problem.empty();
}

// id, name and comment of a policy; ids and names distinct from earlier and managed ones.
// Returns whether the id is valid.
template <class Policy>
bool read_policy_identity(ObjectReader &p, const std::vector<Policy> &earlier,
                          const std::vector<Policy> &managed, std::string_view kind,
                          Policy &policy) {
    bool id_valid = read_policy_id(p, earlier, managed, kind, policy);
    if (p.read_string("name", policy.name, Need::required)) {
        auto same = [&](const Policy &o) { return o.name == policy.name; };
        if (policy.name.empty() || policy.name.size() > 128 || !is_policy_name(policy.name))
            p.fail("name", "must be 1 to 128 letters, digits, '-' or '_'");
        else if (std::any_of(earlier.begin(), earlier.end(), same) ||
                 std::any_of(managed.begin(), managed.end(), same))
            p.fail("name", "duplicate name " + in_quotes(policy.name));
    }
    if (p.read_string("comment", policy.comment) && policy.comment.size() > 128) // AWS
        p.fail("comment", "must be at most 128 characters");
    return id_valid;
}

// AWS defaults: default_ttl 86400 (or min_ttl when larger), max_ttl 31536000 (or default_ttl
// when larger); min_ttl <= default_ttl <= max_ttl. Returns whether the TTLs are valid.
bool read_ttl_settings(ObjectReader &b, TtlSettings &t) {
    size_t mark = b.errors().count();
    b.read_int64("min_ttl", t.min_ttl, 0, max_ttl_seconds);
    bool has_default = b.read_int64("default_ttl", t.default_ttl, 0, max_ttl_seconds);
    bool has_max = b.read_int64("max_ttl", t.max_ttl, 0, max_ttl_seconds);
    if (b.errors().failed_since(mark)) return false;
    if (!has_default) t.default_ttl = std::max<int64_t>(86400, t.min_ttl);
    if (!has_max) t.max_ttl = std::max<int64_t>(31536000, t.default_ttl);
    if (t.default_ttl < t.min_ttl) {
        b.fail("default_ttl", "must not be less than min_ttl (" + std::to_string(t.min_ttl) + ")");
        return false;
    }
    if (t.max_ttl < t.default_ttl) {
        b.fail("max_ttl",
               "must not be less than default_ttl (" + std::to_string(t.default_ttl) + ")");
        return false;
    }
    return true;
}

// Returns whether the policy's id is valid.
bool parse_cache_policy(ObjectReader &p, const std::vector<CachePolicy> &earlier,
                        CachePolicy &policy) {
    p.check_keys({"id", "name", "comment", "min_ttl", "default_ttl", "max_ttl",
                  "parameters_in_cache_key_and_forwarded_to_origin", "perch"});
    bool id_valid =
        read_policy_identity(p, earlier, managed_cache_policies(), "cache policy", policy);
    read_store_set_cookie(p, policy.store_set_cookie);
    read_ttl_settings(p, policy.ttl);
    auto k = p.object("parameters_in_cache_key_and_forwarded_to_origin", Need::required);
    if (!k) return id_valid;
    k->check_keys({"cookies_config", "headers_config", "query_strings_config",
                   "enable_accept_encoding_gzip", "enable_accept_encoding_brotli"});
    read_three_configs(*k, cache_header_behaviors, headers_syntax, policy.key.cookies,
                       policy.key.headers, policy.key.query_strings);
    k->read_bool("enable_accept_encoding_gzip", policy.key.accept_encoding_gzip);
    k->read_bool("enable_accept_encoding_brotli", policy.key.accept_encoding_brotli);
    // CloudFront refuses it too: the flags key the normalised field, a listed one would not be.
    if ((policy.key.accept_encoding_gzip || policy.key.accept_encoding_brotli) &&
        policy.key.headers.selects("accept-encoding", true))
        k->fail("headers_config",
                "must not list Accept-Encoding while enable_accept_encoding_gzip or "
                "enable_accept_encoding_brotli is true (those key it, normalised)");
    return id_valid;
}

// Returns whether the policy's id is valid.
bool parse_origin_request_policy(ObjectReader &p, const std::vector<OriginRequestPolicy> &earlier,
                                 OriginRequestPolicy &policy) {
    p.check_keys(
        {"id", "name", "comment", "cookies_config", "headers_config", "query_strings_config"});
    bool id_valid = read_policy_identity(p, earlier, managed_origin_request_policies(),
                                         "origin request policy", policy);
    read_three_configs(p, origin_header_behaviors, origin_headers_syntax, policy.forward.cookies,
                       policy.forward.headers, policy.forward.query_strings);
    return id_valid;
}

// ---- legacy forwarded_values ---------------------------------------------------------------

void check_forwarded_headers(ObjectReader &f, const std::vector<std::string> &headers) {
    for (size_t i = 0; i < headers.size(); ++i) {
        if (headers[i] == "*") {
            if (headers.size() > 1) return f.fail("headers", "\"*\" must be the only entry");
        } else if (!core::is_token(headers[i])) {
            return f.errors().fail(json_index_path(f.path("headers"), i),
                                   "must be a valid header name");
        }
    }
}

void parse_cookies(ObjectReader &c, ForwardedValues &fv) {
    static constexpr Named<CookieForward> forwards[] = {{"none", CookieForward::none},
                                                        {"all", CookieForward::all},
                                                        {"whitelist", CookieForward::whitelist}};
    c.check_keys({"forward", "whitelisted_names"});
    if (!c.read_named("forward", forwards, fv.cookies, Need::required)) return;
    bool has_names =
        c.read_distinct_strings("whitelisted_names", fv.cookie_names, "cookie", Case::sensitive);
    if (c.failed()) return;
    if (fv.cookies == CookieForward::whitelist) {
        if (!has_names)
            c.fail("whitelisted_names", "missing");
        else if (fv.cookie_names.empty())
            c.fail("whitelisted_names", "must not be empty when forward is \"whitelist\"");
    } else if (!fv.cookie_names.empty()) {
        c.fail("whitelisted_names", "only allowed when forward is \"whitelist\"");
    }
}

void parse_forwarded_values(ObjectReader &f, ForwardedValues &fv) {
    f.check_keys({"query_string", "query_string_cache_keys", "headers", "cookies"});
    bool has_query_string = f.read_bool("query_string", fv.query_string, Need::required);
    if (f.read_distinct_strings("query_string_cache_keys", fv.query_string_cache_keys,
                                "query string key", Case::sensitive) &&
        has_query_string && !fv.query_string && !fv.query_string_cache_keys.empty())
        f.fail("query_string_cache_keys", "only allowed when query_string is true");
    if (f.read_distinct_strings("headers", fv.headers, "header", Case::insensitive))
        check_forwarded_headers(f, fv.headers);
    if (auto c = f.object("cookies", Need::required)) parse_cookies(*c, fv);
}

bool forwards_all_headers(const ForwardedValues &fv) {
    return fv.headers.size() == 1 && fv.headers[0] == "*";
}

void read_legacy_shape(ObjectReader &b, CacheBehavior &cb) {
    if (b.has("origin_request_policy_id"))
        b.fail("origin_request_policy_id", "requires cache_policy_id"); // AWS
    ForwardedValues fv;
    size_t mark = b.errors().count();
    if (auto f = b.object("forwarded_values")) parse_forwarded_values(*f, fv);
    bool forwarded_values_read = !b.errors().failed_since(mark);
    if (!read_ttl_settings(b, cb.ttl) || !forwarded_values_read) return;
    if (cb.ttl.min_ttl != 0 && forwards_all_headers(fv)) // AWS
        return b.fail("min_ttl", "must be 0 when forwarded_values.headers is [\"*\"]");
    cb.shape = legacy_request_shape(fv);
}

} // namespace

bool read_cache_policies(ObjectReader &root, std::vector<CachePolicy> &out) {
    bool ids_read = true;
    bool read = root.for_each_object("cache_policy", Need::optional, [&](ObjectReader &p, size_t) {
        CachePolicy policy;
        if (!parse_cache_policy(p, out, policy)) ids_read = false;
        out.push_back(std::move(policy));
    });
    return read && ids_read;
}

bool read_origin_request_policies(ObjectReader &root, std::vector<OriginRequestPolicy> &out) {
    bool ids_read = true;
    bool read =
        root.for_each_object("origin_request_policy", Need::optional, [&](ObjectReader &p, size_t) {
            OriginRequestPolicy policy;
            if (!parse_origin_request_policy(p, out, policy)) ids_read = false;
            out.push_back(std::move(policy));
        });
    return read && ids_read;
}

namespace {

template <class Policy>
const Policy *find_policy(const std::vector<Policy> &defined, const std::vector<Policy> &managed,
                          std::string_view id) {
    for (const auto *list : {&defined, &managed})
        for (const Policy &p : *list)
            if (p.id == id) return &p;
    return nullptr;
}

} // namespace

const CachePolicy *find_cache_policy(const Config &config, std::string_view id) {
    return find_policy(config.cache_policies, managed_cache_policies(), id);
}

const OriginRequestPolicy *find_origin_request_policy(const Config &config, std::string_view id) {
    return find_policy(config.origin_request_policies, managed_origin_request_policies(), id);
}

void read_store_set_cookie(ObjectReader &parent, bool &out) {
    auto p = parent.object("perch");
    if (!p) return;
    p->check_keys({"store_set_cookie"});
    p->read_bool("store_set_cookie", out);
}

void read_behavior_request_shape(ObjectReader &b, const Config &config, const KnownIds &known,
                                 CacheBehavior &cb) {
    if (!b.has("cache_policy_id")) return read_legacy_shape(b, cb);
    for (std::string_view key : {"forwarded_values", "min_ttl", "default_ttl", "max_ttl"})
        if (b.has(key)) b.fail(key, "not allowed with cache_policy_id"); // AWS
    if (b.read_string("cache_policy_id", cb.cache_policy_id)) {
        if (const CachePolicy *cp = find_cache_policy(config, cb.cache_policy_id)) {
            cb.ttl = cp->ttl;
            cb.shape = RequestShape{cp->key, OriginForwardSpec{}};
            cb.store_set_cookie = cb.store_set_cookie || cp->store_set_cookie;
        } else if (known.cache_policies) {
            b.fail("cache_policy_id", "no cache_policy or AWS managed cache policy has id " +
                                          in_quotes(cb.cache_policy_id));
        }
    }
    if (!b.read_string("origin_request_policy_id", cb.origin_request_policy_id)) return;
    if (const OriginRequestPolicy *orp =
            find_origin_request_policy(config, cb.origin_request_policy_id))
        cb.shape.forward = orp->forward;
    else if (known.origin_request_policies)
        b.fail("origin_request_policy_id",
               "no origin_request_policy or AWS managed origin request policy has id " +
                   in_quotes(cb.origin_request_policy_id));
}

// ---- the legacy shape, and selections --------------------------------------------------

RequestShape legacy_request_shape(const ForwardedValues &fv) {
    RequestShape s;
    if (fv.query_string) {
        if (fv.query_string_cache_keys.empty()) {
            s.key.query_strings.mode = SelectMode::all;
        } else { // only these are keyed; every parameter still travels
            s.key.query_strings = {SelectMode::listed, fv.query_string_cache_keys, false};
            s.forward.query_strings.mode = SelectMode::all;
        }
    }
    if (forwards_all_headers(fv))
        s.key.headers.mode = SelectMode::all;
    else if (!fv.headers.empty())
        s.key.headers = {SelectMode::listed, fv.headers, false};
    switch (fv.cookies) {
    case CookieForward::none:
        break;
    case CookieForward::all:
        s.key.cookies.mode = SelectMode::all;
        break;
    case CookieForward::whitelist:
        s.key.cookies = {SelectMode::listed, fv.cookie_names, true};
    }
    s.key.accept_encoding_gzip = true;
    s.key.legacy_accept_encoding = true;
    s.forward.other_headers = true;
    return s;
}

bool ValueSelection::selects(std::string_view name, bool ignore_case) const noexcept {
    if (mode == SelectMode::none) return false;
    if (mode == SelectMode::all) return true;
    bool found = std::any_of(names.begin(), names.end(), [&](const std::string &n) {
        if (wildcards && n.find_first_of("*?") != std::string::npos) { // legacy cookie names
            // Built piecewise: GCC 12 -O3 misreports '"/" + string' (PR 105651).
            std::string path(1, '/');
            path += name; // (the '/' the path pattern implies)
            return path_pattern_matches(n, path);
        }
        return ignore_case ? core::iequals(n, name) : n == name;
    });
    return mode == SelectMode::listed ? found : !found;
}

} // namespace perch::config
