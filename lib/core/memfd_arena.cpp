#include "core/memfd_arena.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace perch::core {

Ref<MemfdArena> MemfdArena::create(uint64_t size) {
    size = round_to_pages(size);
    int fd = memfd_create("perch-cache", MFD_CLOEXEC);
    if (fd < 0) return nullptr;
    if (ftruncate(fd, off_t(size)) != 0) {
        close(fd);
        return nullptr;
    }
    void *base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (base == MAP_FAILED) {
        close(fd);
        return nullptr;
    }
    return Ref<MemfdArena>::adopt(new MemfdArena(fd, static_cast<uint8_t *>(base), size));
}

MemfdArena::~MemfdArena() {
    munmap(base_, size_);
    close(fd_);
}

std::optional<uint64_t> MemfdArena::allocate(uint64_t len) noexcept {
    uint64_t need = round_to_pages(len ? len : 1);
    uint64_t off = next_.load(std::memory_order_relaxed);
    do {
        if (off + need > size_) return std::nullopt;
    } while (!next_.compare_exchange_weak(off, off + need, std::memory_order_relaxed));
    return off;
}

void MemfdArena::free_range(uint64_t offset, uint64_t len) noexcept {
    fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(offset),
              off_t(round_to_pages(len ? len : 1)));
}

} // namespace perch::core
