// The distribution's origins on one runtime: one connector per origin (with its connection
// pool), built here and nowhere else, and the one decision of how a request reaches an origin
// (scheme and port from origin_protocol_policy and the viewer's scheme). S3 origins and origin
// failover groups are chosen here too.
#pragma once

#include "config/config.hpp"
#include "origin/connector.hpp"
#include "origin/http_origin.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace perch::edge {

class Deployment;

// How one request reaches one origin.
struct OriginRoute {
    origin::OriginConnector *connector = nullptr;
    const config::Origin *origin = nullptr;
    bool https = false; // over TLS
    uint16_t port = 0;  // 0 for origins that are not reached over the network
};

class Origins {
public:
    Origins(const origin::LoopServices &services, const Deployment &d);
    Origins(const Origins &) = delete;
    Origins &operator=(const Origins &) = delete;

    // The route to origin `index` for a viewer request over HTTPS (`viewer_https`) or not.
    OriginRoute route(size_t index, bool viewer_https) const noexcept;
    size_t size() const noexcept { return connectors_.size(); }

    // Replaces origin `index`'s connector (tests: an in-process fake origin).
    void replace(size_t index, std::unique_ptr<origin::OriginConnector> connector);
    // Closes idle pooled connections (they keep the loop alive).
    void close_idle();
    // Drops every connector: in-flight fetches must have been cancelled.
    void clear() noexcept { connectors_.clear(); }

private:
    const Deployment &deployment_;
    std::vector<std::unique_ptr<origin::OriginConnector>> connectors_;
};

} // namespace perch::edge
