#include "cache/vary.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <vector>

namespace perch::cache {

std::string vary_field_list(const core::HeaderMap &response_fields) {
    std::vector<std::string> names;
    response_fields.for_each("vary", [&](std::string_view v) {
        core::for_each_list_element(v, [&](std::string_view el) {
            std::string n(el);
            for (char &c : n)
                c = core::ascii_lower(c);
            names.push_back(std::move(n));
        });
    });
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::string out;
    for (const std::string &n : names) {
        if (!out.empty()) out += ',';
        out += n;
    }
    return out;
}

void append_variant_suffix(std::string_view list, const core::HeaderMap &origin_request,
                           std::string &key_text) {
    key_text += "\x1evary";
    core::for_each_list_element(list, [&](std::string_view name) {
        key_text += '\x1f';
        key_text += name;
        key_text += '=';
        bool first = true;
        origin_request.for_each(name, [&](std::string_view v) {
            core::for_each_list_element(v, [&](std::string_view el) {
                if (!first) key_text += ',';
                key_text += el;
                first = false;
            });
        });
    });
}

} // namespace perch::cache
