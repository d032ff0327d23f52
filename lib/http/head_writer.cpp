#include "http/head_writer.hpp"

#include "core/ascii.hpp"

namespace perch::http {

bool is_hop_by_hop(std::string_view name) noexcept {
    static constexpr std::string_view fields[] = {"connection",
                                                  "keep-alive",
                                                  "proxy-connection",
                                                  "te",
                                                  "trailer",
                                                  "upgrade",
                                                  "transfer-encoding",
                                                  "content-length",
                                                  "proxy-authenticate",
                                                  "proxy-authorization"};
    for (auto f : fields)
        if (core::iequals(name, f)) return true;
    return false;
}

ConnectionOptions::ConnectionOptions(const core::HeaderMap &headers) noexcept {
    headers.for_each("connection", [&](std::string_view v) {
        core::for_each_list_element(v, [&](std::string_view token) {
            if (count_ < inline_count)
                names_[count_++] = token;
            else
                more_ = &headers;
        });
    });
}

bool ConnectionOptions::lists(std::string_view name) const noexcept {
    for (size_t i = 0; i < count_; ++i)
        if (core::iequals(names_[i], name)) return true;
    if (!more_) return false;
    bool listed = false;
    more_->for_each("connection", [&](std::string_view v) {
        core::for_each_list_element(v, [&](std::string_view token) {
            if (core::iequals(token, name)) listed = true;
        });
    });
    return listed;
}

} // namespace perch::http
