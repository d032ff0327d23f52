#include "io/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace perch::io {

using core::Code;
using core::Error;
using core::Source;

std::string tls_error_string() {
    uint32_t e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "unknown TLS error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

namespace {

int select_http11(SSL *, const uint8_t **out, uint8_t *out_len, const uint8_t *in, unsigned in_len,
                  void *) {
    // Only HTTP/1.1 is served; agree to it if offered, otherwise continue without ALPN.
    for (unsigned i = 0; i < in_len;) {
        unsigned n = in[i];
        if (i + 1 + n > in_len) break;
        if (n == 8 &&
            std::string_view(reinterpret_cast<const char *>(in + i + 1), 8) == "http/1.1") {
            *out = in + i + 1;
            *out_len = 8;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

} // namespace

core::Result<std::shared_ptr<TlsServerContext>>
TlsServerContext::create(const std::string &chain_file, const std::string &key_file,
                         uint16_t min_version) {
    std::shared_ptr<TlsServerContext> c(new TlsServerContext);
    c->ctx_ = SSL_CTX_new(TLS_server_method());
    if (!c->ctx_) return Error::make(Code::nomem, Source::internal, "SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(c->ctx_, min_version);
    SSL_CTX_set_max_proto_version(c->ctx_, TLS1_3_VERSION);
    if (SSL_CTX_use_certificate_chain_file(c->ctx_, chain_file.c_str()) != 1)
        return Error::make(Code::tls, Source::config,
                           chain_file + ": cannot load certificate chain: " + tls_error_string());
    if (SSL_CTX_use_PrivateKey_file(c->ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        return Error::make(Code::tls, Source::config,
                           key_file + ": cannot load private key: " + tls_error_string());
    if (SSL_CTX_check_private_key(c->ctx_) != 1)
        return Error::make(Code::tls, Source::config,
                           key_file + ": private key does not match the certificate");
    SSL_CTX_set_alpn_select_cb(c->ctx_, &select_http11, nullptr);
    SSL_CTX_set_session_cache_mode(c->ctx_, SSL_SESS_CACHE_SERVER);
    return c;
}

TlsServerContext::~TlsServerContext() {
    SSL_CTX_free(ctx_);
}

core::Result<std::shared_ptr<TlsClientContext>>
TlsClientContext::create(const TlsClientOptions &opts) {
    std::shared_ptr<TlsClientContext> c(new TlsClientContext);
    c->ctx_ = SSL_CTX_new(TLS_client_method());
    if (!c->ctx_) return Error::make(Code::nomem, Source::internal, "SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(c->ctx_, opts.min_version);
    SSL_CTX_set_max_proto_version(c->ctx_, opts.max_version);
    c->verify_ = opts.verify_peer;
    if (opts.verify_peer) {
        if (SSL_CTX_load_verify_locations(c->ctx_, opts.ca_file.c_str(), nullptr) != 1)
            return Error::make(Code::tls, Source::config,
                               opts.ca_file +
                                   ": cannot load CA certificates: " + tls_error_string());
        SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
    } else {
        SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
    }
    SSL_CTX_set_session_cache_mode(c->ctx_, SSL_SESS_CACHE_CLIENT);
    return c;
}

TlsClientContext::~TlsClientContext() {
    SSL_CTX_free(ctx_);
}

} // namespace perch::io
