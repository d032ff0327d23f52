#include "edge/admin_handler.hpp"

#include "core/ascii.hpp"

namespace perch::edge {

namespace {

constexpr std::string_view collection = "/invalidations";

AdminResponse error(uint16_t status, std::string code, std::string message) {
    AdminResponse r;
    r.status = status;
    r.body = invalidation_problem_json({std::move(code), std::move(message)});
    return r;
}

// "/invalidations/ID" -> "ID"; "" when the path is not an invalidation's.
std::string_view invalidation_id_of(std::string_view path) {
    if (!path.starts_with(collection) || path.size() <= collection.size() + 1 ||
        path[collection.size()] != '/')
        return {};
    std::string_view id = path.substr(collection.size() + 1);
    return id.find('/') == std::string_view::npos ? id : std::string_view{};
}

} // namespace

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ (b.empty() ? 0 : b[i % b.size()]));
    return diff == 0;
}

bool AdminHandler::authorized(const core::RequestHead &req) const noexcept {
    if (req.headers.count("authorization") != 1) return false;
    std::string_view v = core::trim_ows(*req.headers.get("authorization"));
    constexpr std::string_view scheme = "bearer";
    if (v.size() <= scheme.size() || !core::iequals(v.substr(0, scheme.size()), scheme) ||
        v[scheme.size()] != ' ')
        return false;
    std::string_view given = core::trim_ows(v.substr(scheme.size() + 1));
    return constant_time_equals(given, token_);
}

bool AdminHandler::wants_body(const core::RequestHead &req) const {
    return req.method == core::Method::post && req.path() == collection;
}

bool PendingInvalidation::scans_store() const noexcept {
    for (const InvalidationTarget &t : targets)
        if (t.prefix) return true;
    return false;
}

AdminResponse AdminHandler::handle(const core::RequestHead &req, std::string_view body,
                                   core::UnixMillis now, uint64_t random) {
    PendingInvalidation p;
    if (auto r = begin(req, body, now, random, p)) return std::move(*r);
    p.run(store_);
    return finish(std::move(p));
}

std::optional<AdminResponse> AdminHandler::begin(const core::RequestHead &req,
                                                 std::string_view body, core::UnixMillis now,
                                                 uint64_t random, PendingInvalidation &pending) {
    if (!authorized(req)) {
        AdminResponse r = error(401, "AccessDenied", "missing or wrong bearer token");
        r.auth_challenge = true;
        return r;
    }
    std::string_view path = req.path();
    std::string_view id = invalidation_id_of(path);
    if (path != collection && id.empty())
        return error(404, "NotFound",
                     "no such admin resource (the admin endpoint serves "
                     "POST /invalidations and GET /invalidations/ID)");
    if (path == collection) {
        if (req.method != core::Method::post) {
            AdminResponse r = error(405, "MethodNotAllowed", "use POST");
            r.allow = "POST";
            return r;
        }
        return create(body, now, random, pending);
    }
    if (req.method != core::Method::get && req.method != core::Method::head) {
        AdminResponse r = error(405, "MethodNotAllowed", "use GET");
        r.allow = "GET, HEAD";
        return r;
    }
    const InvalidationRecord *rec = log_.find(id);
    if (!rec)
        return error(404, "NoSuchInvalidation",
                     "no invalidation " + std::string(id) + " (the last 100 are kept)");
    AdminResponse r;
    r.body = invalidation_record_json(*rec);
    return r;
}

std::optional<AdminResponse> AdminHandler::create(std::string_view body, core::UnixMillis now,
                                                  uint64_t random, PendingInvalidation &pending) {
    InvalidationRecord &rec = pending.record;
    if (auto p = parse_invalidation_batch(body, rec.batch, pending.targets))
        return error(400, std::move(p->code), std::move(p->message));
    // CloudFront: a repeated caller reference with the same paths returns the invalidation
    // made the first time; with other paths it is an error.
    if (!rec.batch.caller_reference.empty()) {
        if (const auto *prev = log_.find_by_caller_reference(rec.batch.caller_reference)) {
            if (prev->batch.paths != rec.batch.paths)
                return error(409, "InvalidationBatchAlreadyExists",
                             "caller_reference was used for other paths by " + prev->id);
            AdminResponse r;
            r.status = 201;
            r.body = invalidation_record_json(*prev);
            r.location = std::string(collection) + "/" + prev->id;
            return r;
        }
    }
    rec.id = make_invalidation_id(random);
    if (rec.batch.caller_reference.empty()) rec.batch.caller_reference = rec.id;
    rec.create_time = now;
    return std::nullopt;
}

AdminResponse AdminHandler::finish(PendingInvalidation &&done) {
    const InvalidationRecord &stored = log_.add(std::move(done.record));
    AdminResponse r;
    r.status = 201;
    r.body = invalidation_record_json(stored);
    r.location = std::string(collection) + "/" + stored.id;
    return r;
}

AdminResponse AdminHandler::refused(uint16_t status, std::string_view reason) {
    std::string code = status == 413 ? "BatchTooLarge" : "MalformedInput";
    return error(status, std::move(code), std::string(reason));
}

} // namespace perch::edge
