// How TlsStream turns plaintext into TLS records: record sizes, and the buffers the records are
// sealed into, laid end to end so that one writev sends many of them.
//
// Record sizes grow with the response (dynamic record sizing, as Google's and Traffic Server's
// edges do): after the connection was idle, the first records each fit one TCP segment, so the
// viewer can decrypt and parse the first bytes (a head, the start of a page) as each segment
// arrives, without waiting for a 16 KiB record spread over 12 segments; once an initial
// congestion window's worth has gone out, records are the full 16 KiB, the fewest AEAD calls
// and header bytes per MiB.
//
// SSL_write seals each record straight from the caller's buffer (a cached body's own memory)
// into BoringSSL's write buffer, and the stream's BIO copies the record once into pooled
// buffers that one writev sends (CipherBatch). BoringSSL's SealRecord, which would seal into
// those buffers directly, supports TLS 1.2 only. Kernel TLS would take over here where a
// kernel offers the `tls` ULP (not on the machines perch is measured on): the traffic secret
// (the keylog callback) and sequence number (SSL_get_write_sequence) would go to
// setsockopt(TLS_TX), and the caller's buffers would be written as plaintext.
#pragma once

#include "core/buffer.hpp"
#include "io/buffer_pool.hpp"

#include <cstddef>
#include <cstdint>
#include <uv.h>
#include <vector>

namespace perch::io {

struct RecordSizing {
    // A TLS 1.3 record with this payload (5 bytes of header, 17 of tag and content type) fits a
    // 1,428-byte segment (IPv6 with timestamps) and so any common path MTU.
    static constexpr size_t small_payload = 1360;
    static constexpr size_t full_payload = 16384;
    // Small records until this much has gone out since the connection was idle: about an
    // initial congestion window (RFC 6928: 10 segments).
    static constexpr uint64_t boost_after = 16 * 1024;
    // Idle this long and the congestion window may have closed again (RFC 7661 does it after an
    // RTO; one second covers most paths): start small again.
    static constexpr uint64_t idle_ms = 1000;

    uint64_t sent_since_idle = 0;
    uint64_t last_send_ms = 0;

    // The payload of the next record, sent at loop time `now_ms`.
    size_t next_payload(uint64_t now_ms) noexcept {
        if (now_ms - last_send_ms >= idle_ms) sent_since_idle = 0;
        last_send_ms = now_ms;
        return sent_since_idle < boost_after ? small_payload : full_payload;
    }
    void sent(size_t payload) noexcept { sent_since_idle += payload; }
};

// Ciphertext as BoringSSL writes it, appended end to end into buffers taken from a BufferPool
// (no growing buffer to reallocate, no second copy to read it back out), sent with one writev.
class CipherBatch {
public:
    explicit CipherBatch(BufferPool &pool) : pool_(&pool) {}
    ~CipherBatch() { release(); }
    CipherBatch(const CipherBatch &) = delete;
    CipherBatch &operator=(const CipherBatch &) = delete;

    void append(const void *data, size_t len);
    bool empty() const noexcept { return bufs_.empty(); }
    size_t buffers() const noexcept { return bufs_.size(); }
    // The buffers as uv_buf_t (out must hold buffers()); returns how many.
    unsigned to_uv(uv_buf_t *out) const noexcept;
    // Takes `other`'s buffers, leaving it empty.
    void take(CipherBatch &other) noexcept { bufs_.swap(other.bufs_); }
    // Gives the buffers back to the pool.
    void release() noexcept;

private:
    BufferPool *pool_;
    std::vector<core::Ref<core::Buffer>> bufs_;
};

} // namespace perch::io
