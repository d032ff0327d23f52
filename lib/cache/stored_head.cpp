#include "cache/stored_head.hpp"
#include "cache/vary.hpp"

#include "core/ascii.hpp"
#include "http/conditional.hpp"
#include "http/head_writer.hpp"

namespace perch::cache {

namespace {

bool taken_from_304(const http::HopByHopFields &hop_by_hop, std::string_view name,
                    bool keep_set_cookie) {
    return !hop_by_hop.covers(name) && !core::iequals(name, "age") && !core::iequals(name, "via") &&
           !core::iequals(name, "content-range") &&
           (keep_set_cookie || !core::iequals(name, "set-cookie"));
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
    std::string_view line = text.substr(0, text.find("\r\n")); // "HTTP/1.1 200 OK"
    if (line.size() >= 12) {
        out.status = uint16_t((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
        out.reason.assign(line.size() > 13 ? line.substr(13) : std::string_view{});
    }
    http::for_each_stored_field(text, [&](std::string_view name, std::string_view value,
                                          std::string_view) { out.headers.add(name, value); });
}

std::string merge_stored_head(std::string_view stored, const core::HeaderMap &nm,
                              bool keep_set_cookie) {
    const http::HopByHopFields hop_by_hop(nm);
    std::string out(stored.substr(0, stored.find("\r\n")));
    out += "\r\n";
    http::for_each_stored_field(
        stored, [&](std::string_view name, std::string_view, std::string_view line) {
            if (taken_from_304(hop_by_hop, name, keep_set_cookie) && nm.contains(name)) return;
            out.append(line);
            out += "\r\n";
        });
    http::HeadWriter w(out);
    for (size_t i = 0; i < nm.size(); ++i)
        if (taken_from_304(hop_by_hop, nm.name(i), keep_set_cookie))
            w.field(nm.name(i), nm.value(i));
    return out;
}

core::Ref<CachedObject> commit_stored(CacheWriter &writer, std::string &head_text, uint16_t status,
                                      uint64_t body_size, const StoredTimes &times,
                                      std::string etag, std::string last_modified) {
    if (status != 204) http::HeadWriter(head_text).field("Content-Length", body_size);
    return writer.commit(core::Buffer::copy_of(head_text),
                         {status, times, std::move(etag), std::move(last_modified), {}});
}

void commit_vary_marker(CacheWriter &writer, std::string_view vary, const StoredTimes &times) {
    writer.commit(core::Buffer::copy_of(vary),
                  {vary_marker_status, times, {}, {}, std::string(vary)});
}

core::Ref<CachedObject> restamped(const CachedObject &stored, core::Ref<core::Buffer> head,
                                  const StoredTimes &times, std::string etag,
                                  std::string last_modified) {
    return CachedObject::refreshed(stored, std::move(head),
                                   {stored.status, times, std::move(etag), std::move(last_modified),
                                    std::string(stored.vary())});
}

} // namespace perch::cache
