#include "origin/directory_origin.hpp"

#include "core/ascii.hpp"
#include "http/conditional.hpp"
#include "http/http_date.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>

namespace perch::origin {

using core::Buffer;
using core::Ref;

std::string_view media_type_for(std::string_view name) noexcept {
    static constexpr struct {
        std::string_view ext, type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"txt", "text/plain; charset=utf-8"},
        {"xml", "application/xml"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"ico", "image/x-icon"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"pdf", "application/pdf"},
        {"wasm", "application/wasm"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"mp3", "audio/mpeg"},
        {"m3u8", "application/vnd.apple.mpegurl"},
        {"ts", "video/mp2t"},
        {"mpd", "application/dash+xml"},
        {"m4s", "video/iso.segment"},
    };
    auto slash = name.rfind('/');
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
        return "application/octet-stream";
    std::string_view ext = name.substr(dot + 1);
    for (auto &t : types)
        if (core::iequals(t.ext, ext)) return t.type;
    return "application/octet-stream";
}

std::optional<std::string> safe_relative_path(std::string_view url_path) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        c = core::ascii_lower(c);
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    out.reserve(url_path.size());
    for (size_t i = 0; i < url_path.size(); ++i) {
        char c = url_path[i];
        if (c == '%') {
            if (i + 2 >= url_path.size()) return std::nullopt;
            int h = hex(url_path[i + 1]), l = hex(url_path[i + 2]);
            if (h < 0 || l < 0) return std::nullopt;
            c = char(h * 16 + l);
            i += 2;
        }
        if (c == '\0' || c == '\\') return std::nullopt;
        out += c;
    }
    if (out.empty() || out[0] != '/') return std::nullopt;
    // Reject any "." or ".." segment.
    size_t start = 1;
    while (start <= out.size()) {
        size_t end = out.find('/', start);
        if (end == std::string::npos) end = out.size();
        std::string_view seg(out.data() + start, end - start);
        if (seg == ".." || seg == ".") return std::nullopt;
        start = end + 1;
    }
    return out;
}

// One file being served. It lives until its last file-system request completes, even after
// cancel(), because libuv cannot abort a read already running on the thread pool.
class DirectoryOrigin::FileFetch final : public Fetch {
public:
    FileFetch(DirectoryOrigin &origin, const OriginRequest &req, FetchHandler &handler)
        : origin_(origin), live_(origin.svc_.live), handler_(&handler),
          defer_(&FileFetch::on_deferred, this) {
        if (live_) live_->add();
        head_only_ = req.head->method == core::Method::head;
        method_ok_ = req.head->method == core::Method::get || head_only_;
        path_ = safe_relative_path(req.head->path());
        // The preconditions, kept: the request head does not outlive this call.
        for (std::string_view name :
             {"if-match", "if-none-match", "if-modified-since", "if-unmodified-since"})
            req.head->headers.for_each(name, [&](std::string_view v) { conditions_.add(name, v); });
        req_.data = this;
    }

    void start() { origin_.svc_.deadlines->arm(defer_, 0); }

    void write_body(const core::BufferSlice &) override {}
    void end_body() override {}
    size_t body_queue_bytes() const noexcept override { return 0; }
    void pause_response() override { paused_ = true; }
    void resume_response() override {
        if (!paused_) return;
        paused_ = false;
        if (reading_ && !busy_) read_next();
    }
    void cancel() override {
        handler_ = nullptr;
        defer_.disarm();
        if (!busy_ && !in_callback_) close_file();
    }
    void rebind(FetchHandler &handler) noexcept override {
        if (handler_) handler_ = &handler;
    }

private:
    static void on_deferred(void *p) { static_cast<FileFetch *>(p)->begin(); }

    void begin() {
        if (!method_ok_) return respond_simple(405, "Method Not Allowed\n", "GET, HEAD");
        if (!path_ || path_->back() == '/') return respond_simple(404, "Not Found\n", {});
        file_path_ = origin_.root_ + *path_;
        // Resolve symlinks first (on the thread pool): a link may not lead out of the root.
        busy_ = true;
        int rc =
            uv_fs_realpath(origin_.svc_.loop, &req_, file_path_.c_str(), &FileFetch::on_realpath);
        if (rc != 0) {
            busy_ = false;
            open_failed(rc);
        }
    }

    static void on_realpath(uv_fs_t *req) {
        auto *f = static_cast<FileFetch *>(req->data);
        f->busy_ = false;
        std::string real = req->result == 0 ? static_cast<const char *>(req->ptr) : "";
        auto result = req->result;
        uv_fs_req_cleanup(req);
        if (!f->handler_) return f->close_file();
        if (result < 0) return f->open_failed(int(result));
        const std::string &root = f->origin_.real_root_;
        if (real.compare(0, root.size(), root) != 0 ||
            (real.size() > root.size() && real[root.size()] != '/'))
            return f->respond_simple(404, "Not Found\n", {});
        f->file_path_ = std::move(real);
        f->busy_ = true;
        int rc = uv_fs_open(f->origin_.svc_.loop, &f->req_, f->file_path_.c_str(),
                            // O_NONBLOCK: a FIFO would block a thread-pool thread in open()
                            // until a writer came; on_stat serves regular files only.
                            O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0, &FileFetch::on_open);
        if (rc != 0) {
            f->busy_ = false;
            f->open_failed(rc);
        }
    }

    static void on_open(uv_fs_t *req) {
        auto *f = static_cast<FileFetch *>(req->data);
        auto result = req->result;
        uv_fs_req_cleanup(req);
        f->busy_ = false;
        if (result < 0) return f->open_failed(int(result));
        f->fd_ = uv_file(result);
        if (!f->handler_) return f->close_file();
        f->busy_ = true;
        uv_fs_fstat(f->origin_.svc_.loop, &f->req_, f->fd_, &FileFetch::on_stat);
    }

    void open_failed(int status) {
        if (!handler_) return close_file();
        if (status == UV_EACCES || status == UV_EPERM)
            return respond_simple(403, "Forbidden\n", {});
        if (status == UV_ENOENT || status == UV_ENOTDIR || status == UV_ENAMETOOLONG ||
            status == UV_ELOOP)
            return respond_simple(404, "Not Found\n", {});
        fail(std::string("cannot open file: ") + uv_strerror(status));
    }

    static void on_stat(uv_fs_t *req) {
        auto *f = static_cast<FileFetch *>(req->data);
        f->busy_ = false;
        uv_stat_t st = req->statbuf;
        auto result = req->result;
        uv_fs_req_cleanup(req);
        if (!f->handler_) return f->close_file();
        if (result < 0) return f->fail(std::string("stat: ") + uv_strerror(int(result)));
        if ((st.st_mode & S_IFMT) != S_IFREG) return f->respond_simple(404, "Not Found\n", {});
        f->size_ = st.st_size;
        f->send_head(st);
    }

    void send_head(const uv_stat_t &st) {
        core::ResponseHead head;
        head.status = 200;
        head.reason = "OK";
        head.headers.add("Content-Type", media_type_for(*path_));
        char len[24];
        snprintf(len, sizeof len, "%llu", static_cast<unsigned long long>(size_));
        head.headers.add("Content-Length", len);
        char date[http::http_date_length];
        core::UnixMillis mtime_ms =
            int64_t(st.st_mtim.tv_sec) * 1000 + int64_t(st.st_mtim.tv_nsec) / 1000000;
        head.headers.add("Last-Modified",
                         std::string_view(date, http::format_http_date(mtime_ms, date)));
        head.headers.add(
            "Date", std::string_view(date, http::format_http_date(core::wall_clock_ms(), date)));
        // Inode, modification time to the nanosecond and size: a file rewritten with the same
        // size within the same second must not match its old validator (a 304 would keep it).
        char etag[80];
        int n = snprintf(
            etag, sizeof etag, "\"%llx-%llx.%lx-%llx\"", static_cast<unsigned long long>(st.st_ino),
            static_cast<unsigned long long>(st.st_mtim.tv_sec),
            static_cast<unsigned long>(st.st_mtim.tv_nsec), static_cast<unsigned long long>(size_));
        head.headers.add("ETag", std::string_view(etag, size_t(n)));
        // Conditional requests (RFC 9110 §13), so that a revalidating cache gets a 304.
        http::StoredValidators v;
        v.etag = std::string_view(etag, size_t(n));
        v.last_modified = *head.headers.get("last-modified");
        v.date = *head.headers.get("date");
        switch (http::evaluate_preconditions(
            conditions_, head_only_ ? core::Method::head : core::Method::get, v)) {
        case http::Precondition::proceed:
            break;
        case http::Precondition::not_modified:
            return respond_not_modified(head);
        case http::Precondition::precondition_failed:
            return respond_simple(412, "Precondition Failed\n", {});
        }
        ResponseInfo info;
        info.content_length = size_;
        info.no_body = head_only_;
        in_callback_ = true;
        handler_->on_origin_head(head, info);
        in_callback_ = false;
        if (!handler_) return close_file(); // cancelled from the callback
        if (head_only_ || size_ == 0) return complete();
        reading_ = true;
        if (!paused_) read_next();
    }

    void read_next() {
        buf_ = origin_.svc_.buffers->take();
        uint64_t left = size_ - offset_;
        size_t want = left < buf_->capacity() ? size_t(left) : buf_->capacity();
        uv_buf_t b = uv_buf_init(reinterpret_cast<char *>(buf_->data()), unsigned(want));
        busy_ = true;
        uv_fs_read(origin_.svc_.loop, &req_, fd_, &b, 1, int64_t(offset_), &FileFetch::on_read);
    }

    static void on_read(uv_fs_t *req) {
        auto *f = static_cast<FileFetch *>(req->data);
        auto result = req->result;
        uv_fs_req_cleanup(req);
        f->busy_ = false;
        Ref<Buffer> buf = std::move(f->buf_);
        if (!f->handler_) return f->close_file();
        if (result <= 0) {
            // The file shrank or failed under us: the response is cut short, never completed.
            return f->fail(result == 0 ? "file truncated while reading"
                                       : std::string("read: ") + uv_strerror(int(result)));
        }
        buf->grow(size_t(result));
        f->offset_ += uint64_t(result);
        f->in_callback_ = true;
        f->handler_->on_origin_body(core::BufferSlice(buf, buf->data(), size_t(result)));
        f->in_callback_ = false;
        f->origin_.svc_.buffers->give_back(std::move(buf));
        if (!f->handler_) return f->close_file();
        if (f->offset_ >= f->size_) return f->complete();
        if (!f->paused_) f->read_next();
    }

    // 304 with the validators and Date of the 200 it stands for, and no body.
    void respond_not_modified(const core::ResponseHead &full) {
        core::ResponseHead head;
        head.status = 304;
        head.reason = "Not Modified";
        for (std::string_view name : {"ETag", "Last-Modified", "Date"})
            head.headers.add(name, *full.headers.get(name));
        ResponseInfo info;
        info.no_body = true;
        in_callback_ = true;
        handler_->on_origin_head(head, info);
        in_callback_ = false;
        if (!handler_) return close_file();
        complete();
    }

    void respond_simple(uint16_t status, std::string_view body, std::string_view allow) {
        core::ResponseHead head;
        head.status = status;
        head.reason = std::string(core::reason_phrase(status));
        head.headers.add("Content-Type", "text/plain; charset=utf-8");
        head.headers.add("Content-Length", std::to_string(body.size()));
        if (!allow.empty()) head.headers.add("Allow", allow);
        ResponseInfo info;
        info.content_length = body.size();
        info.no_body = head_only_;
        in_callback_ = true;
        handler_->on_origin_head(head, info);
        if (handler_ && !head_only_) {
            Ref<Buffer> b = Buffer::create(body.size());
            b->append(body.data(), body.size());
            handler_->on_origin_body(core::BufferSlice(b, b->data(), b->size()));
        }
        in_callback_ = false;
        if (!handler_) return close_file();
        complete();
    }

    void complete() {
        FetchHandler *h = std::exchange(handler_, nullptr);
        h->on_origin_complete();
        close_file();
    }

    void fail(std::string why) {
        FetchHandler *h = std::exchange(handler_, nullptr);
        if (h)
            h->on_origin_error(core::Error::make(core::Code::origin_protocol, core::Source::origin,
                                                 std::move(why)));
        close_file();
    }

    // Closes the file (synchronously: close(2) of a regular file does not block) and frees.
    void close_file() {
        if (fd_ >= 0) {
            uv_fs_t close_req;
            uv_fs_close(nullptr, &close_req, fd_, nullptr);
            uv_fs_req_cleanup(&close_req);
            fd_ = -1;
        }
        io::LiveCount *live = live_;
        delete this;
        if (live) live->drop(); // last: the runtime (and origin) may go away now
    }

    DirectoryOrigin &origin_;
    io::LiveCount *live_;
    FetchHandler *handler_;
    io::Deadline defer_;
    uv_fs_t req_{};
    std::optional<std::string> path_;
    core::HeaderMap conditions_; // the request's If-* fields
    std::string file_path_;
    Ref<Buffer> buf_;
    uv_file fd_ = -1;
    uint64_t size_ = 0, offset_ = 0;
    bool head_only_ = false, method_ok_ = false;
    bool busy_ = false, paused_ = false, reading_ = false;
    bool in_callback_ = false; // a handler call is on the stack: cancel() must not free us
};

DirectoryOrigin::DirectoryOrigin(const LoopServices &services, std::string root)
    : svc_(services), root_(std::move(root)) {
    while (!root_.empty() && root_.back() == '/')
        root_.pop_back();
    // Once, when the runtime is built: the root's own symlinks resolved.
    if (char *real = ::realpath(root_.c_str(), nullptr)) {
        real_root_ = real;
        free(real);
    } else {
        real_root_ = root_;
    }
}

DirectoryOrigin::~DirectoryOrigin() = default;

Fetch *DirectoryOrigin::fetch(const OriginRequest &request, FetchHandler &handler) {
    auto *f = new FileFetch(*this, request, handler);
    f->start();
    return f;
}

} // namespace perch::origin
