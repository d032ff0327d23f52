// What a policy decides about a request: go on, or answer it now. Every policy (viewer protocol,
// allowed methods, custom error responses; geo restriction and WAF rules later) returns one,
// and the transaction acts on it; no policy writes a response itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace perch::policy {

struct Decision {
    enum class Action : uint8_t {
        proceed,  // the request goes on to the next phase
        respond,  // answer with `status` and a generated page saying `message`
        redirect, // answer with `status` (301, 307) and `location`, no page
    };
    Action action = Action::proceed;
    uint16_t status = 0;
    std::string_view message; // respond: static text for the generated page
    std::string location;     // redirect: the Location field

    static Decision proceed() noexcept { return {}; }
    static Decision respond(uint16_t status, std::string_view message) noexcept {
        return {Action::respond, status, message, {}};
    }
    static Decision redirect(uint16_t status, std::string location) {
        return {Action::redirect, status, {}, std::move(location)};
    }
    bool proceeds() const noexcept { return action == Action::proceed; }
};

} // namespace perch::policy
