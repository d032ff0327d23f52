#include "io/tls_records.hpp"

#include <algorithm>
#include <cstring>

namespace perch::io {

void CipherBatch::append(const void *data, size_t len) {
    const auto *p = static_cast<const uint8_t *>(data);
    while (len > 0) {
        if (bufs_.empty() || bufs_.back()->room() == 0) bufs_.push_back(pool_->take());
        size_t n = bufs_.back()->append(p, len);
        p += n;
        len -= n;
    }
}

unsigned CipherBatch::to_uv(uv_buf_t *out) const noexcept {
    unsigned n = 0;
    for (const auto &b : bufs_)
        out[n++] = uv_buf_init(reinterpret_cast<char *>(b->data()), unsigned(b->size()));
    return n;
}

void CipherBatch::release() noexcept {
    for (auto &b : bufs_)
        pool_->give_back(std::move(b));
    bufs_.clear();
}

} // namespace perch::io
