// TLS over another Stream (TCP), with BoringSSL driven through memory BIOs, so that all I/O
// stays on the loop. Writes are queued as plaintext and encrypted a piece at a time as the
// ciphertext before them drains, so a large response never exists whole as ciphertext and a
// viewer that stops reading holds at most a bounded amount of it.
#pragma once

#include "io/buffer_pool.hpp"
#include "io/deadline_list.hpp"
#include "io/stream.hpp"
#include "io/tls_context.hpp"
#include "io/tls_records.hpp"

#include <deque>
#include <string>
#include <vector>

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace perch::io {

class TlsStream final : public Stream, private Stream::Handler {
public:
    // Takes ownership of `inner` (already connected or accepted).
    static TlsStream *wrap_server(Stream *inner, const TlsServerContext &ctx, BufferPool &pool,
                                  Deadlines &deadlines);
    static TlsStream *wrap_client(Stream *inner, const TlsClientContext &ctx,
                                  const std::string &server_name, BufferPool &pool,
                                  Deadlines &deadlines);

    void set_handler(Stream::Handler *h) noexcept override { handler_ = h; }
    int start_read() override;
    void stop_read() override;
    int write(const uv_buf_t *bufs, unsigned count, WriteOp *op) override;
    size_t write_queue_bytes() const noexcept override {
        return inner_->write_queue_bytes() + queued_bytes_;
    }
    void close() override;
    // close_notify, then the transport's FIN; reading goes on (a lingering close).
    void shutdown_write() override;
    bool is_tls() const noexcept override { return true; }
    int peer_address(char *out, size_t out_len) const noexcept override {
        return inner_->peer_address(out, out_len);
    }
    TlsFacts tls_facts() const noexcept override;

private:
    class CipherWrite;
    struct Queued {
        std::vector<uv_buf_t> bufs;
        WriteOp *op;
        size_t index = 0;  // first buffer not fully encrypted
        size_t offset = 0; // bytes of bufs[index] already encrypted
    };

    TlsStream(Stream *inner, SSL *ssl, BufferPool &pool, Deadlines &deadlines);
    ~TlsStream() override;

    void on_stream_data(const core::Ref<core::Buffer> &buf, const uint8_t *data,
                        size_t len) override;
    void on_stream_end(int status) override;
    void on_stream_closed() override;

    static void on_drain_deadline(void *self);
    // Runs the handshake and/or decrypts what is buffered; delivers plaintext while reading.
    void pump();
    void fail(int status);
    // Sends what BoringSSL wrote to the network BIO; `op` (may be null) completes with it.
    int flush_cipher(WriteOp *op);
    // Encrypts queued plaintext while little ciphertext waits for the network.
    void pump_writes();
    // Seals up to encrypt_piece bytes of the oldest queued write into out_ (records sized by
    // sizing_); false on a TLS error.
    bool seal_piece();
    // Takes up to `len` bytes of `q`'s plaintext: in place when they are contiguous (or the
    // buffer is long enough for a record of its own), else copied into `stage`.
    size_t take_plain(Queued &q, size_t len, uint8_t *stage, const uint8_t **out);
    void fail_queued_writes(int status);

    Stream *inner_;
    SSL *ssl_;
    BIO *net_in_ = nullptr;  // ciphertext from the network, read by BoringSSL
    BIO *net_out_ = nullptr; // appends what BoringSSL writes to out_
    BufferPool &pool_;
    Deadlines &deadlines_;
    Deadline drain_;
    Stream::Handler *handler_ = nullptr;
    std::deque<Queued> queued_;
    size_t queued_bytes_ = 0;
    RecordSizing sizing_;
    CipherBatch out_; // ciphertext not yet handed to the transport
    std::vector<WriteOp *> failed_ops_; // completed with write_error_ on the next turn
    int write_error_ = 0;
    bool handshake_done_ = false;
    bool reading_ = false;
    bool ended_ = false;
    bool closing_ = false;
    bool write_shut_ = false; // shutdown_write(): close_notify sent, no more writes
};

} // namespace perch::io
