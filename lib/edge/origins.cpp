#include "edge/origins.hpp"

#include "edge/deployment.hpp"
#include "origin/directory_origin.hpp"

namespace perch::edge {

namespace {

std::unique_ptr<origin::OriginConnector> make_connector(const origin::LoopServices &svc,
                                                        const Deployment &d, size_t i) {
    const config::Origin &o = d.origin(i);
    if (!o.directory.empty()) return std::make_unique<origin::DirectoryOrigin>(svc, o.directory);
    origin::HttpOriginOptions opts;
    opts.host = o.domain_name;
    opts.connection_attempts = o.connection_attempts;
    opts.connect_timeout_ms = o.connection_timeout_s * 1000;
    if (o.custom_origin_config) {
        const config::CustomOriginConfig &c = *o.custom_origin_config;
        opts.http_port = c.http_port;
        opts.https_port = c.https_port;
        opts.read_timeout_ms = c.origin_read_timeout_s * 1000;
        opts.keepalive_timeout_ms = c.origin_keepalive_timeout_s * 1000;
    }
    opts.tls = d.origin_tls(i);
    return std::make_unique<origin::HttpOrigin>(svc, std::move(opts));
}

} // namespace

Origins::Origins(const origin::LoopServices &services, const Deployment &d) : deployment_(d) {
    for (size_t i = 0; i < d.origin_count(); ++i)
        connectors_.push_back(make_connector(services, d, i));
}

OriginRoute Origins::route(size_t index, bool viewer_https) const noexcept {
    OriginRoute r;
    r.connector = connectors_[index].get();
    r.origin = &deployment_.origin(index);
    if (const auto &c = r.origin->custom_origin_config) {
        r.https = c->origin_protocol_policy == config::OriginProtocolPolicy::https_only ||
                  (c->origin_protocol_policy == config::OriginProtocolPolicy::match_viewer &&
                   viewer_https);
        r.port = r.https ? c->https_port : c->http_port;
    }
    return r;
}

void Origins::replace(size_t index, std::unique_ptr<origin::OriginConnector> connector) {
    connectors_[index] = std::move(connector);
}

void Origins::close_idle() {
    for (auto &c : connectors_)
        c->close_idle();
}

} // namespace perch::edge
