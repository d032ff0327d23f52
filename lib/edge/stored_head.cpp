#include "edge/stored_head.hpp"
#include "edge/vary.hpp"

#include "core/ascii.hpp"
#include "http/head_writer.hpp"

namespace perch::edge {

namespace {

template <class Fn> void for_each_line(std::string_view text, Fn &&fn) {
    while (!text.empty()) {
        size_t end = text.find("\r\n");
        std::string_view line = text.substr(0, end);
        fn(line);
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 2);
    }
}

bool taken_from_304(const core::HeaderMap &nm, std::string_view name) {
    return !http::is_hop_by_hop(name) && !http::listed_in_connection(nm, name) &&
           !core::iequals(name, "age") && !core::iequals(name, "via") &&
           !core::iequals(name, "content-range");
}

} // namespace

void replace_status_line(std::string &head, uint16_t status) {
    size_t end = head.find("\r\n");
    std::string line;
    http::HeadWriter(line).status_line(status, {});
    head.replace(0, end == std::string::npos ? head.size() : end + 2, line);
}

void parse_stored_head(std::string_view text, core::ResponseHead &out) {
    out.clear();
    bool first = true;
    for_each_line(text, [&](std::string_view line) {
        if (first) {
            first = false;
            // "HTTP/1.1 200 OK"
            if (line.size() >= 12) {
                out.status =
                    uint16_t((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
                out.reason.assign(line.size() > 13 ? line.substr(13) : std::string_view{});
            }
            return;
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) return;
        out.headers.add(line.substr(0, colon), core::trim_ows(line.substr(colon + 1)));
    });
}

std::string merge_stored_head(std::string_view stored, const core::HeaderMap &nm) {
    std::string out;
    bool first = true;
    for_each_line(stored, [&](std::string_view line) {
        if (first) {
            first = false;
            out.append(line);
            out += "\r\n";
            return;
        }
        size_t colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        if (colon != std::string_view::npos && taken_from_304(nm, name) && nm.contains(name))
            return;
        out.append(line);
        out += "\r\n";
    });
    http::HeadWriter w(out);
    for (size_t i = 0; i < nm.size(); ++i)
        if (taken_from_304(nm, nm.name(i))) w.field(nm.name(i), nm.value(i));
    return out;
}

core::Ref<cache::CachedObject> commit_stored(cache::CacheWriter &writer, std::string &head_text,
                                             uint16_t status, uint64_t body_size,
                                             const cache::StoredTimes &times, std::string etag,
                                             std::string last_modified) {
    if (status != 204) http::HeadWriter(head_text).field("Content-Length", body_size);
    core::Ref<core::Buffer> head = core::Buffer::create(head_text.size());
    head->append(head_text.data(), head_text.size());
    return writer.commit(std::move(head),
                         {status, times, std::move(etag), std::move(last_modified), {}});
}

void commit_vary_marker(cache::CacheWriter &writer, std::string_view vary,
                        const cache::StoredTimes &times) {
    core::Ref<core::Buffer> head = core::Buffer::create(vary.size());
    head->append(vary.data(), vary.size());
    writer.commit(std::move(head), {vary_marker_status, times, {}, {}, std::string(vary)});
}

core::Ref<cache::CachedObject> restamped(const cache::CachedObject &stored,
                                         core::Ref<core::Buffer> head,
                                         const cache::StoredTimes &times, std::string etag,
                                         std::string last_modified) {
    return cache::CachedObject::refreshed(
        stored, std::move(head),
        {stored.status, times, std::move(etag), std::move(last_modified), std::string(stored.vary())});
}

} // namespace perch::edge
