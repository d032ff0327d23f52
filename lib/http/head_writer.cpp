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

HopByHopFields::HopByHopFields(const core::HeaderMap &headers) noexcept {
    for_each_option(headers, [&](std::string_view token) {
        if (count_ < inline_count)
            names_[count_++] = token;
        else
            more_ = &headers;
    });
}

bool HopByHopFields::covers(std::string_view name) const noexcept {
    if (is_hop_by_hop(name)) return true;
    for (size_t i = 0; i < count_; ++i)
        if (core::iequals(names_[i], name)) return true;
    if (!more_) return false;
    bool listed = false;
    for_each_option(*more_, [&](std::string_view token) { listed |= core::iequals(token, name); });
    return listed;
}

} // namespace perch::http
