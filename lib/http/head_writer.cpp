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

bool listed_in_connection(const core::HeaderMap &headers, std::string_view name) noexcept {
    bool listed = false;
    headers.for_each("connection", [&](std::string_view v) {
        core::for_each_list_element(v, [&](std::string_view token) {
            if (core::iequals(token, name)) listed = true;
        });
    });
    return listed;
}

} // namespace perch::http
