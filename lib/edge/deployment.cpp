#include "edge/deployment.hpp"

#include "config/path_pattern.hpp"
#include "config/policies.hpp"
#include "io/tls_context.hpp"

namespace perch::edge {

using core::Code;
using core::Error;
using core::Source;

namespace {

uint16_t tls_version(std::string_view name) {
    if (name == "TLSv1.2") return 0x0303;
    if (name == "TLSv1.1") return 0x0302;
    if (name == "TLSv1") return 0x0301;
    return 0; // SSLv3: BoringSSL has no SSLv3
}

// What an origin request policy forwards without keying, on a behavior that caches ("" when
// nothing): the origin may vary its answer on such a header, and the one answer stored would
// then reach every viewer. The user's explicit choice, so a note, not an error.
std::string unkeyed_forwarded_headers(const config::CacheBehavior &b) {
    const config::RequestShape &s = b.shape;
    if (!b.cached_methods.contains(core::Method::get) || b.ttl.max_ttl <= 0) return {};
    if (s.key.headers.mode == config::SelectMode::all) return {};
    switch (s.forward.headers.mode) {
    case config::SelectMode::none:
        return {};
    case config::SelectMode::all:
        return "every viewer header";
    case config::SelectMode::all_except:
        return "every viewer header but those listed";
    case config::SelectMode::listed:
        break;
    }
    std::string names;
    for (const std::string &n : s.forward.headers.names) {
        if (s.key.headers.selects(n, true)) continue;
        if (!names.empty()) names += ", ";
        names += n;
    }
    return names;
}

std::string summarize(const config::Config &c) {
    std::string out;
    auto line = [&](const std::string &l) { out += l + "\n"; };
    for (const config::ListenAddress &a : c.perch.listen)
        line("listen " + a.text);
    if (c.perch.admin) line("admin " + c.perch.admin->listen.text);
    for (const config::Origin &o : c.distribution.origins) {
        std::string what;
        if (!o.directory.empty()) {
            what = "directory " + o.directory;
        } else {
            const config::CustomOriginConfig &cc = *o.custom_origin_config;
            bool https = cc.origin_protocol_policy == config::OriginProtocolPolicy::https_only;
            what = std::string(https ? "https://" : "http://") + o.domain_name + ":" +
                   std::to_string(https ? cc.https_port : cc.http_port) + o.origin_path;
            if (cc.origin_protocol_policy == config::OriginProtocolPolicy::match_viewer)
                what += " (match-viewer)";
        }
        line("origin " + o.origin_id + ": " + what);
    }
    auto behavior = [&](const config::CacheBehavior &b, const std::string &pattern) {
        std::string policies;
        if (const config::CachePolicy *p = config::find_cache_policy(c, b.cache_policy_id))
            policies = ", cache policy " + p->name;
        if (const config::OriginRequestPolicy *p =
                config::find_origin_request_policy(c, b.origin_request_policy_id))
            policies += ", origin request policy " + p->name;
        line("behavior " + pattern + " -> " + b.target_origin_id + " (ttl " +
             std::to_string(b.ttl.min_ttl) + "/" + std::to_string(b.ttl.default_ttl) + "/" +
             std::to_string(b.ttl.max_ttl) + " s" + policies + ")");
        std::string unkeyed = unkeyed_forwarded_headers(b);
        if (!unkeyed.empty())
            line("note: behavior " + pattern + " forwards headers its cache key leaves out (" +
                 unkeyed +
                 "): an origin that varies its answer on them serves every viewer the "
                 "answer made for one");
    };
    for (const config::CacheBehavior &b : c.distribution.ordered_cache_behaviors)
        behavior(b, b.path_pattern);
    behavior(c.distribution.default_cache_behavior, "default");
    for (const config::CustomErrorResponse &e : c.distribution.custom_error_responses)
        line("error " + std::to_string(e.error_code) + " -> " +
             (e.response_page_path.empty() ? "origin body" : e.response_page_path) +
             (e.response_code ? " as " + std::to_string(e.response_code) : "") + ", cached " +
             std::to_string(e.error_caching_min_ttl) + " s");
    line("cache memory " + std::to_string(c.perch.cache_memory_bytes >> 20) + " MiB");
    return out;
}

} // namespace

core::Result<core::Ref<Deployment>> Deployment::create(config::Config config) {
    auto d = core::Ref<Deployment>::adopt(new Deployment(std::move(config)));
    const config::Config &c = d->config_;
    d->description_ = summarize(c);
    if (c.perch.tls) {
        auto ctx = io::TlsServerContext::create(c.perch.tls->certificate_chain_file,
                                                c.perch.tls->private_key_file,
                                                c.distribution.minimum_tls_version);
        if (!ctx)
            return Error::make(Code::config, Source::config, "perch.tls: " + ctx.error().context);
        d->tls_server_ = std::move(ctx.value());
    }
    d->origin_tls_.resize(c.distribution.origins.size());
    for (size_t i = 0; i < c.distribution.origins.size(); ++i) {
        const config::Origin &o = c.distribution.origins[i];
        if (!o.custom_origin_config || o.custom_origin_config->origin_protocol_policy ==
                                           config::OriginProtocolPolicy::http_only)
            continue;
        io::TlsClientOptions opts;
        // origin_ssl_protocols lists what the origin accepts; TLS 1.3 is always allowed on
        // top (CloudFront negotiates it too).
        uint16_t lo = 0x0304;
        for (const auto &p : o.custom_origin_config->origin_ssl_protocols) {
            uint16_t v = tls_version(p);
            if (v && v < lo) lo = v;
        }
        opts.min_version = lo;
        opts.max_version = 0x0304;
        if (!o.tls_ca_file.empty()) opts.ca_file = o.tls_ca_file;
        auto ctx = io::TlsClientContext::create(opts);
        if (!ctx)
            return Error::make(Code::config, Source::config,
                               "distribution.origin[" + std::to_string(i) +
                                   "]: " + ctx.error().context);
        d->origin_tls_[i] = std::move(ctx.value());
    }
    return d;
}

const config::CacheBehavior &Deployment::behavior_for(std::string_view path) const noexcept {
    for (const config::CacheBehavior &b : config_.distribution.ordered_cache_behaviors)
        if (config::path_pattern_matches(b.path_pattern, path)) return b;
    return config_.distribution.default_cache_behavior;
}

const config::CustomErrorResponse *Deployment::custom_error(uint16_t status) const noexcept {
    for (const config::CustomErrorResponse &r : config_.distribution.custom_error_responses)
        if (r.error_code == status) return &r;
    return nullptr;
}

} // namespace perch::edge
