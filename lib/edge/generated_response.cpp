#include "edge/generated_response.hpp"

#include "core/http_message.hpp"
#include "edge/request_shaping.hpp"
#include "http/http_date.hpp"

namespace perch::edge {

std::string generated_page(uint16_t status, std::string_view message, std::string_view request_id) {
    if (message.empty()) return {};
    std::string title = std::to_string(status) + " " + std::string(core::reason_phrase(status));
    return "<!DOCTYPE html>\n<html><head><title>" + title + "</title></head><body><h1>" + title +
           "</h1><p>" + std::string(message) + "</p><p>Request ID: " + std::string(request_id) +
           "</p></body></html>\n";
}

void generated_head(http::HeadWriter &w, uint16_t status, core::UnixMillis now,
                    std::string_view content_type) {
    w.status_line(status, {});
    char date[http::http_date_length];
    w.field("Date", std::string_view(date, http::format_http_date(now, date)));
    if (!content_type.empty()) w.field("Content-Type", content_type);
    w.field("Via", via_value);
}

void end_closing_head(http::HeadWriter &w, uint64_t content_length, std::string_view request_id) {
    w.field("Content-Length", content_length);
    w.field("X-Request-Id", request_id);
    w.field("Connection", "close");
    w.end();
}

} // namespace perch::edge
