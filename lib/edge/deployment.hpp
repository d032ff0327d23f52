// A distribution ready to serve (deployed): the parsed Config plus what is derived from it once
// (TLS contexts, origin lookups). Immutable and refcounted: one instance is shared by every runtime
// (thread) of a process; a new config means a new Deployment.
#pragma once

#include "config/config.hpp"
#include "core/ref.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace perch::io {
class TlsServerContext;
class TlsClientContext;
} // namespace perch::io

namespace perch::edge {

class Deployment final : public core::RefCounted<Deployment> {
public:
    // Builds TLS contexts (loading certificate files); fails with Code::config or Code::tls.
    static core::Result<core::Ref<Deployment>> create(config::Config config);

    const config::Config &config() const noexcept { return config_; }
    const config::Origin &origin(size_t i) const noexcept {
        return config_.distribution.origins[i];
    }
    size_t origin_count() const noexcept { return config_.distribution.origins.size(); }

    // The first ordered cache behavior whose path_pattern matches `path`, else the default.
    const config::CacheBehavior &behavior_for(std::string_view path) const noexcept;
    // The custom_error_response for `status`, if any.
    const config::CustomErrorResponse *custom_error(uint16_t status) const noexcept;

    // A human-readable summary, one item per line (listeners, origins, behaviors, cache).
    const std::string &describe() const noexcept { return description_; }

    // Where redirect-to-https sends a viewer: the first https:// listener's port, or 443 when
    // there is none (TLS then ends in front of perch, on the standard port).
    uint16_t https_port() const noexcept { return https_port_; }

    io::TlsServerContext *tls_server() const noexcept { return tls_server_.get(); }
    // The client TLS context for origin i (null for origins that never use HTTPS).
    io::TlsClientContext *origin_tls(size_t i) const noexcept { return origin_tls_[i].get(); }

private:
    explicit Deployment(config::Config c) : config_(std::move(c)) {
        for (const config::ListenAddress &l : config_.perch.listen)
            if (l.tls) {
                https_port_ = l.port;
                break;
            }
    }
    config::Config config_;
    uint16_t https_port_ = 443;
    std::string description_;
    std::shared_ptr<io::TlsServerContext> tls_server_;
    std::vector<std::shared_ptr<io::TlsClientContext>> origin_tls_;
};

} // namespace perch::edge
