// HTTP/1.1 origin connector with a keep-alive connection pool, DNS through libuv, connection
// attempts and timeouts as CloudFront defines them (connection_attempts, connection_timeout,
// origin_read_timeout, origin_keepalive_timeout).
#pragma once

#include "io/buffer_pool.hpp"
#include "io/deadline_list.hpp"
#include "io/live_count.hpp"
#include "io/resolver.hpp"
#include "origin/connector.hpp"

#include <string>
#include <vector>

namespace perch::io {
class Stream;
class TlsClientContext;
} // namespace perch::io

namespace perch::origin {

struct HttpOriginOptions {
    std::string host; // domain_name
    uint16_t http_port = 80;
    uint16_t https_port = 443;
    io::TlsClientContext *tls = nullptr; // required for requests with OriginRequest::https
    uint32_t connection_attempts = 3;
    uint32_t connect_timeout_ms = 10000;
    uint32_t read_timeout_ms = 30000;
    uint32_t keepalive_timeout_ms = 5000;
    size_t max_idle_connections = 64;
};

struct LoopServices {
    uv_loop_t *loop = nullptr;
    io::BufferPool *buffers = nullptr;
    io::Deadlines *deadlines = nullptr;
    io::Resolver *resolver = nullptr;
    io::LiveCount *live = nullptr; // connections and file reads in progress
};

class HttpOrigin final : public OriginConnector {
public:
    HttpOrigin(const LoopServices &services, HttpOriginOptions options);
    ~HttpOrigin() override;

    Fetch *fetch(const OriginRequest &request, FetchHandler &handler) override;
    void close_idle() override;

    class Connection;
    class HttpFetch;

private:
    friend class Connection;
    friend class HttpFetch;
    Connection *take_idle(bool tls);
    void give_back(Connection *c);
    void forget(Connection *c);

    LoopServices svc_;
    HttpOriginOptions opts_;
    std::vector<Connection *> idle_; // most recently used last
    std::vector<Connection *> all_;
};

} // namespace perch::origin
