#include "io/resolver.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>

namespace perch::io {

class Resolver::Lookup {
public:
    uv_getaddrinfo_t req{};
    Resolver *resolver = nullptr;
    std::string host;
    uint16_t port = 0;
    Done done = nullptr;
    void *user = nullptr;
    LiveCount *live = nullptr;
};

namespace {

void set_port(sockaddr_storage &ss, uint16_t port) {
    if (ss.ss_family == AF_INET)
        reinterpret_cast<sockaddr_in &>(ss).sin_port = htons(port);
    else
        reinterpret_cast<sockaddr_in6 &>(ss).sin6_port = htons(port);
}

bool numeric(const std::string &host, uint16_t port, std::vector<sockaddr_storage> &out) {
    sockaddr_storage ss{};
    auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    std::string h = host;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else
        return false;
    set_port(ss, port);
    out.assign(1, ss);
    return true;
}

} // namespace

Resolver::~Resolver() {
    // cancel() erases from pending_, which must not change under the loop that walks it.
    std::vector<Lookup *> pending = std::move(pending_);
    pending_.clear();
    for (Lookup *l : pending)
        cancel(l);
}

Resolver::Lookup *Resolver::resolve(const std::string &host, uint16_t port, Done done, void *user) {
    std::vector<sockaddr_storage> addrs;
    if (numeric(host, port, addrs)) {
        done(user, 0, addrs);
        return nullptr;
    }
    auto it = cache_.find(host);
    if (it != cache_.end() && it->second.expires > uv_now(loop_)) {
        addrs = it->second.addrs;
        for (auto &a : addrs)
            set_port(a, port);
        done(user, 0, addrs);
        return nullptr;
    }
    auto *l = new Lookup;
    l->resolver = this;
    l->host = host;
    l->port = port;
    l->done = done;
    l->user = user;
    l->req.data = l;
    l->live = live_;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = uv_getaddrinfo(loop_, &l->req, &Resolver::on_resolved, host.c_str(), nullptr, &hints);
    if (rc != 0) {
        delete l;
        done(user, rc, addrs);
        return nullptr;
    }
    pending_.push_back(l);
    if (l->live) l->live->add();
    return l;
}

void Resolver::cancel(Lookup *l) noexcept {
    if (!l) return;
    l->done = nullptr;
    if (l->resolver) {
        auto &p = l->resolver->pending_;
        p.erase(std::remove(p.begin(), p.end(), l), p.end());
        l->resolver = nullptr;
    }
    uv_cancel(reinterpret_cast<uv_req_t *>(&l->req)); // the callback still runs and frees it
}

void Resolver::on_resolved(uv_getaddrinfo_t *req, int status, addrinfo *res) {
    auto *l = static_cast<Lookup *>(req->data);
    std::vector<sockaddr_storage> addrs;
    for (addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        sockaddr_storage ss{};
        std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        addrs.push_back(ss);
    }
    uv_freeaddrinfo(res);
    std::stable_sort(addrs.begin(), addrs.end(), [](const auto &a, const auto &b) {
        return a.ss_family == AF_INET && b.ss_family != AF_INET;
    });
    if (status == 0 && addrs.empty()) status = UV_EAI_NODATA;
    if (Resolver *r = l->resolver) {
        auto &p = r->pending_;
        p.erase(std::remove(p.begin(), p.end(), l), p.end());
        if (status == 0) r->cache_[l->host] = Cached{addrs, uv_now(r->loop_) + r->cache_ms_};
    }
    for (auto &a : addrs)
        set_port(a, l->port);
    if (l->done) l->done(l->user, status, addrs);
    LiveCount *live = l->live;
    delete l;
    if (live) live->drop(); // last: the runtime may go away now
}

} // namespace perch::io
