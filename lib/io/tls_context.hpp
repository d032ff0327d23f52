// TLS configuration (BoringSSL): one server context per listener set, one client context per
// origin. Contexts are immutable after creation and may be shared by the loops of a process.
#pragma once

#include "core/status.hpp"

#include <cstdint>
#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace perch::io {

class TlsServerContext {
public:
    // Loads a PEM certificate chain and private key. min_version: 0x0301 (TLS 1.0) .. 0x0304.
    static core::Result<std::shared_ptr<TlsServerContext>>
    create(const std::string &certificate_chain_file, const std::string &private_key_file,
           uint16_t min_version);
    ~TlsServerContext();
    SSL_CTX *ctx() const noexcept { return ctx_; }

private:
    TlsServerContext() = default;
    SSL_CTX *ctx_ = nullptr;
};

struct TlsClientOptions {
    uint16_t min_version = 0x0303;
    uint16_t max_version = 0x0304;
    // PEM bundle of trusted CAs; BoringSSL's compiled-in default (/etc/ssl/cert.pem) does not
    // exist on Debian, so the Debian bundle is loaded explicitly.
    std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
    bool verify_peer = true;
};

class TlsClientContext {
public:
    static core::Result<std::shared_ptr<TlsClientContext>> create(const TlsClientOptions &opts);
    ~TlsClientContext();
    SSL_CTX *ctx() const noexcept { return ctx_; }
    bool verify_peer() const noexcept { return verify_; }

private:
    TlsClientContext() = default;
    SSL_CTX *ctx_ = nullptr;
    bool verify_ = true;
};

// The last BoringSSL error as text (and clears the error queue).
std::string tls_error_string();

} // namespace perch::io
