// Responses the edge makes itself (errors, redirects, the admin endpoint's answers): the one
// place their head is begun, for the transaction (whose sink adds the framing) and for answers
// an HTTP/1.1 connection gives on its own (which close the connection).
#pragma once

#include "core/clock.hpp"
#include "http/head_writer.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace perch::edge {

inline constexpr std::string_view html_type = "text/html; charset=utf-8";
inline constexpr std::string_view text_type = "text/plain; charset=utf-8";
inline constexpr std::string_view json_type = "application/json";

// The small HTML page of a generated answer: its status, `message` and the request id. "" when
// `message` is empty (a redirect has no page).
std::string generated_page(uint16_t status, std::string_view message, std::string_view request_id);

// Status line, Date (`now`), Content-Type (unless empty) and Via.
void generated_head(http::HeadWriter &w, uint16_t status, core::UnixMillis now,
                    std::string_view content_type);

// Ends the head of an answer a connection sends on its own and then closes after: its
// Content-Length, X-Request-Id and "Connection: close", then the blank line.
void end_closing_head(http::HeadWriter &w, uint64_t content_length, std::string_view request_id);

} // namespace perch::edge
