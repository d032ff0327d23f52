// An origin that serves files from a local directory (origin perch.directory): for the demo,
// for development, and for tests. Files are read with libuv's asynchronous file operations
// (its thread pool), so the loop never blocks on disk. Answers like a plain static origin:
// 200 with Content-Type, Content-Length, Last-Modified and ETag; 404 for missing files and
// paths that try to leave the directory (by "..", or through a symlink pointing outside); 405 for
// methods other than GET and HEAD.
#pragma once

#include "origin/http_origin.hpp"

#include <string>

namespace perch::origin {

class DirectoryOrigin final : public OriginConnector {
public:
    DirectoryOrigin(const LoopServices &services, std::string root);
    ~DirectoryOrigin() override;

    Fetch *fetch(const OriginRequest &request, FetchHandler &handler) override;
    void close_idle() override {}

    class FileFetch;

private:
    friend class FileFetch;
    LoopServices svc_;
    std::string root_;
    std::string real_root_; // root_ with its symlinks resolved: files must resolve inside it
};

// Maps a file name's extension to a media type ("text/html; charset=utf-8").
std::string_view media_type_for(std::string_view file_name) noexcept;

// Decodes a URL path and checks it stays inside the root: no "..", no NUL, no backslash.
// Returns the decoded relative path (starting with '/') or nullopt.
std::optional<std::string> safe_relative_path(std::string_view url_path);

} // namespace perch::origin
