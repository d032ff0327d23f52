#include "io/tls_stream.hpp"

#include <algorithm>
#include <cstring>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace perch::io {

using core::Buffer;
using core::Ref;

// Ciphertext on its way to the network; completes the caller's op (if any) when written.
class TlsStream::CipherWrite final : public Stream::WriteOp {
public:
    CipherWrite(TlsStream *owner, WriteOp *outer)
        : owner_(owner), outer_(outer), batch(owner->pool_) {}
    void on_write_done(int status) override {
        TlsStream *owner = owner_; // alive: the inner stream reports writes before closing
        if (outer_) outer_->on_write_done(status);
        delete this;
        if (status == 0 && !owner->closing_) owner->pump_writes();
    }
    TlsStream *owner_;
    WriteOp *outer_;
    CipherBatch batch;
};

namespace {
// Plaintext sealed per step at most, sent with one writev (the HTTP/1 connection hands over
// 64 KiB a turn: its write quantum).
constexpr size_t encrypt_piece = 256 * 1024;
constexpr size_t cipher_low_water = 256 * 1024; // encrypt more while less than this waits
// A buffer shorter than this before the next one is copied into the record with what follows
// (a head, a chunk header); a longer one is sealed in place as a record of its own.
constexpr size_t min_direct = 4096;

// The network BIO: what BoringSSL writes is appended to the stream's pending ciphertext.
int cipher_bio_write(BIO *bio, const char *data, int len) {
    static_cast<CipherBatch *>(BIO_get_data(bio))->append(data, size_t(len));
    return len;
}
long cipher_bio_ctrl(BIO *, int cmd, long, void *) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }
const BIO_METHOD *cipher_bio_method() {
    static const BIO_METHOD *m = [] {
        BIO_METHOD *mm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "perch-cipher");
        BIO_meth_set_write(mm, cipher_bio_write);
        BIO_meth_set_ctrl(mm, cipher_bio_ctrl);
        return mm;
    }();
    return m;
}
} // namespace

TlsStream::TlsStream(Stream *inner, SSL *ssl, BufferPool &pool, Deadlines &deadlines)
    : inner_(inner), ssl_(ssl), pool_(pool), deadlines_(deadlines),
      drain_(&TlsStream::on_drain_deadline, this), out_(pool) {
    net_in_ = BIO_new(BIO_s_mem());
    net_out_ = BIO_new(cipher_bio_method());
    BIO_set_data(net_out_, &out_);
    BIO_set_init(net_out_, 1);
    SSL_set_bio(ssl_, net_in_, net_out_); // ssl_ owns both BIOs
    inner_->set_handler(this);
}

TlsStream::~TlsStream() {
    SSL_free(ssl_);
}

TlsStream *TlsStream::wrap_server(Stream *inner, const TlsServerContext &ctx, BufferPool &pool,
                                  Deadlines &deadlines) {
    SSL *ssl = SSL_new(ctx.ctx());
    SSL_set_accept_state(ssl);
    return new TlsStream(inner, ssl, pool, deadlines);
}

TlsStream *TlsStream::wrap_client(Stream *inner, const TlsClientContext &ctx,
                                  const std::string &server_name, BufferPool &pool,
                                  Deadlines &deadlines) {
    SSL *ssl = SSL_new(ctx.ctx());
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, server_name.c_str());
    if (ctx.verify_peer()) SSL_set1_host(ssl, server_name.c_str());
    static const uint8_t alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(ssl, alpn, sizeof alpn);
    auto *t = new TlsStream(inner, ssl, pool, deadlines);
    // The client speaks first: start the handshake now (the ClientHello is queued on TCP).
    t->inner_->start_read();
    t->pump();
    return t;
}

int TlsStream::start_read() {
    if (closing_) return UV_EINVAL;
    reading_ = true;
    int rc = inner_->start_read();
    // Plaintext may already be decrypted and waiting: deliver it on the next loop turn.
    if (handshake_done_ && (SSL_pending(ssl_) > 0 || BIO_pending(net_in_) > 0))
        deadlines_.arm(drain_, 0);
    return rc;
}

void TlsStream::stop_read() {
    reading_ = false;
    if (!write_error_) drain_.disarm();
    // During the handshake the inner stream keeps reading: the handshake needs the bytes.
    if (handshake_done_) inner_->stop_read();
}

void TlsStream::on_drain_deadline(void *self) {
    auto *t = static_cast<TlsStream *>(self);
    if (t->write_error_) {
        int status = std::exchange(t->write_error_, 0);
        for (WriteOp *op : std::exchange(t->failed_ops_, {}))
            op->on_write_done(status);
        if (!t->closing_) t->fail(status);
        return;
    }
    t->pump();
}

void TlsStream::on_stream_data(const Ref<Buffer> &, const uint8_t *data, size_t len) {
    if (closing_) return;
    BIO_write(net_in_, data, int(len));
    pump();
}

void TlsStream::pump() {
    if (closing_ || ended_) return;
    if (!handshake_done_) {
        int r = SSL_do_handshake(ssl_);
        if (r != 1) {
            int err = SSL_get_error(ssl_, r);
            flush_cipher(nullptr);
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) fail(UV_EPROTO);
            return;
        }
        handshake_done_ = true;
        flush_cipher(nullptr);
        if (!reading_) inner_->stop_read();
        pump_writes();
        if (closing_) return;
    }
    while (reading_ && !closing_) {
        Ref<Buffer> buf = pool_.take();
        int n = SSL_read(ssl_, buf->data(), int(buf->capacity()));
        if (n > 0) {
            buf->grow(size_t(n));
            if (handler_) handler_->on_stream_data(buf, buf->data(), size_t(n));
            pool_.give_back(std::move(buf));
            continue;
        }
        pool_.give_back(std::move(buf));
        int err = SSL_get_error(ssl_, n);
        flush_cipher(nullptr); // post-handshake messages (tickets, key updates, alerts)
        if (err == SSL_ERROR_WANT_READ) return;
        if (err == SSL_ERROR_ZERO_RETURN) {
            ended_ = true;
            inner_->stop_read();
            if (handler_) handler_->on_stream_end(UV_EOF);
            return;
        }
        fail(UV_EPROTO);
        return;
    }
}

void TlsStream::fail(int status) {
    ERR_clear_error();
    if (ended_) return;
    ended_ = true;
    inner_->stop_read();
    if (handler_) handler_->on_stream_end(status);
}

int TlsStream::flush_cipher(WriteOp *op) {
    if (out_.empty() && !op) return 0;
    auto *w = new CipherWrite(this, op);
    w->batch.take(out_);
    constexpr size_t on_stack = 16; // 1 MiB of ciphertext: more only after a stall
    uv_buf_t stack_bufs[on_stack];
    std::vector<uv_buf_t> heap_bufs;
    uv_buf_t *bufs = stack_bufs;
    if (w->batch.buffers() > on_stack) {
        heap_bufs.resize(w->batch.buffers());
        bufs = heap_bufs.data();
    }
    unsigned n = w->batch.to_uv(bufs);
    // Nothing to send (an empty write) still completes through the transport, later.
    if (n == 0) bufs[n++] = uv_buf_init(nullptr, 0);
    int rc = inner_->write(bufs, n, w);
    if (rc != 0) {
        w->outer_ = nullptr;
        delete w;
    }
    return rc;
}

void TlsStream::pump_writes() {
    while (handshake_done_ && !closing_ && !ended_ && !queued_.empty() &&
           inner_->write_queue_bytes() < cipher_low_water) {
        if (!seal_piece()) {
            ERR_clear_error();
            fail_queued_writes(UV_EPROTO);
            return;
        }
        // The caller's op completes with the ciphertext that carries its last byte.
        WriteOp *done = nullptr;
        Queued &q = queued_.front();
        if (q.index == q.bufs.size()) {
            done = q.op;
            queued_.pop_front();
        }
        if (flush_cipher(done) != 0) {
            if (done) failed_ops_.push_back(done);
            fail_queued_writes(UV_EPIPE);
            return;
        }
    }
}

size_t TlsStream::take_plain(Queued &q, size_t len, uint8_t *stage, const uint8_t **out) {
    while (q.index < q.bufs.size() && q.bufs[q.index].len == q.offset) {
        ++q.index;
        q.offset = 0;
    }
    size_t n = 0;
    while (n < len && q.index < q.bufs.size()) {
        const uv_buf_t &b = q.bufs[q.index];
        size_t avail = b.len - q.offset;
        const uint8_t *at = reinterpret_cast<const uint8_t *>(b.base) + q.offset;
        size_t take = std::min(len - n, avail);
        bool direct = n == 0 && (take == len || avail >= min_direct);
        if (direct) {
            *out = at; // sealed from the caller's own buffer
        } else {
            std::memcpy(stage + n, at, take);
            *out = stage;
        }
        n += take;
        q.offset += take;
        if (q.offset == b.len) {
            ++q.index;
            q.offset = 0;
        }
        if (direct) break;
    }
    queued_bytes_ -= n;
    return n;
}

bool TlsStream::seal_piece() {
    Queued &q = queued_.front();
    uint8_t stage[RecordSizing::full_payload];
    uint64_t now = deadlines_.now_ms();
    size_t budget = encrypt_piece;
    while (budget > 0) {
        size_t payload = std::min(sizing_.next_payload(now), budget);
        const uint8_t *in = nullptr;
        size_t n = take_plain(q, payload, stage, &in);
        if (n == 0) break;
        // One record per call (n is at most a record's payload).
        if (SSL_write(ssl_, in, int(n)) <= 0) return false;
        sizing_.sent(n);
        budget -= n;
    }
    return true;
}

void TlsStream::fail_queued_writes(int status) {
    // Writes not handed to the transport complete with the error, and the stream ends, on
    // the next loop turn: this may run inside write(), whose caller expects no callback yet.
    for (auto &q : queued_)
        failed_ops_.push_back(q.op);
    queued_.clear();
    queued_bytes_ = 0;
    write_error_ = status;
    deadlines_.arm(drain_, 0);
}

int TlsStream::write(const uv_buf_t *bufs, unsigned count, WriteOp *op) {
    if (closing_ || ended_ || write_shut_) return UV_EPIPE;
    Queued q{std::vector<uv_buf_t>(bufs, bufs + count), op};
    for (auto &b : q.bufs)
        queued_bytes_ += b.len;
    queued_.push_back(std::move(q));
    pump_writes();
    return 0;
}

void TlsStream::shutdown_write() {
    if (closing_ || write_shut_) return;
    write_shut_ = true;
    if (handshake_done_ && !ended_) {
        SSL_shutdown(ssl_); // sends close_notify; SSL_read still reads what the peer sends
        flush_cipher(nullptr);
    }
    inner_->shutdown_write(); // after the ciphertext queued before it
}

void TlsStream::close() {
    if (closing_) return;
    closing_ = true;
    drain_.disarm();
    // close_notify, unless the peer is not reading (it would only sit in the queue).
    if (handshake_done_ && !ended_ && !write_shut_ && inner_->write_queue_bytes() == 0) {
        SSL_shutdown(ssl_);
        flush_cipher(nullptr);
    }
    inner_->close();
}

void TlsStream::on_stream_end(int status) {
    if (closing_) return;
    // A clean TLS end is close_notify (reported as UV_EOF by pump()); the transport ending
    // without it may be a truncation attack, so it is reported as a reset.
    fail(status == UV_EOF ? UV_ECONNRESET : status);
}

void TlsStream::on_stream_closed() {
    for (WriteOp *op : std::exchange(failed_ops_, {}))
        op->on_write_done(UV_ECANCELED);
    // Writes queued before the handshake never reached the inner stream.
    for (auto &q : queued_)
        q.op->on_write_done(UV_ECANCELED);
    queued_.clear();
    if (handler_) handler_->on_stream_closed();
    delete this;
}

TlsFacts TlsStream::tls_facts() const noexcept {
    if (!handshake_done_) return {};
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl_);
    return TlsFacts{SSL_get_version(ssl_), c ? SSL_CIPHER_get_name(c) : ""};
}

} // namespace perch::io
