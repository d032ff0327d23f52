#include "policy/error_response.hpp"

#include "config/caching_rules.hpp"

namespace perch::policy {

namespace {

const config::CustomErrorResponse *find(const config::Distribution &d, uint16_t status) noexcept {
    for (const config::CustomErrorResponse &r : d.custom_error_responses)
        if (r.error_code == status) return &r;
    return nullptr;
}

} // namespace

std::optional<ErrorResponse> error_response(const config::Distribution &d,
                                            uint16_t status) noexcept {
    if (status < 400) return std::nullopt;
    const config::CustomErrorResponse *r = find(d, status);
    if (!r) return std::nullopt;
    return ErrorResponse{r->response_code, r->response_page_path, r->error_caching_min_ttl};
}

std::optional<int64_t> error_caching_ttl(const config::Distribution &d, uint16_t status) noexcept {
    if (const config::CustomErrorResponse *r = find(d, status)) return r->error_caching_min_ttl;
    if (config::error_caching_of(status) != config::ErrorCaching::none)
        return config::default_error_caching_min_ttl;
    return std::nullopt;
}

} // namespace perch::policy
