#include "edge/invalidation_batch.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

namespace perch::edge {

using Json = nlohmann::json;

namespace {

InvalidationProblem problem(std::string code, std::string message) {
    return InvalidationProblem{std::move(code), std::move(message)};
}

} // namespace

std::optional<InvalidationProblem>
parse_invalidation_batch(std::string_view body, InvalidationBatch &batch,
                         std::vector<InvalidationTarget> &targets) {
    Json doc = Json::parse(body.begin(), body.end(), nullptr, false);
    if (doc.is_discarded()) return problem("MalformedInput", "the body is not valid JSON");
    if (!doc.is_object())
        return problem("MalformedInput", "the body must be a JSON object with \"paths\"");
    for (const auto &[key, value] : doc.items()) {
        if (key != "paths" && key != "caller_reference")
            return problem("MalformedInput", key + ": unknown key");
    }
    auto paths = doc.find("paths");
    if (paths == doc.end()) return problem("MalformedInput", "paths: missing");
    if (!paths->is_array()) return problem("MalformedInput", "paths: expected an array of strings");
    if (paths->empty()) return problem("InvalidArgument", "paths: must not be empty");
    if (paths->size() > cache::max_invalidation_paths)
        return problem("BatchTooLarge", "paths: at most 3000 paths per invalidation");
    if (auto ref = doc.find("caller_reference"); ref != doc.end()) {
        if (!ref->is_string() || ref->get_ref<const std::string &>().empty())
            return problem("MalformedInput", "caller_reference: expected a non-empty string");
        batch.caller_reference = ref->get<std::string>();
    }
    size_t wildcards = 0;
    for (size_t i = 0; i < paths->size(); ++i) {
        const Json &p = (*paths)[i];
        std::string where = "paths[" + std::to_string(i) + "]";
        if (!p.is_string()) return problem("MalformedInput", where + ": expected a string");
        const std::string &text = p.get_ref<const std::string &>();
        InvalidationTarget t;
        if (const char *why = cache::parse_invalidation_path(text, t))
            return problem("InvalidArgument", where + ": " + why);
        if (t.prefix && ++wildcards > cache::max_invalidation_wildcard_paths)
            return problem("BatchTooLarge", "paths: at most 15 paths with '*' per invalidation");
        batch.paths.push_back(text);
        targets.push_back(std::move(t));
    }
    return std::nullopt;
}

std::string make_invalidation_id(uint64_t random) {
    static constexpr char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string id(14, 'I');
    for (size_t i = 13; i >= 1; --i, random /= 36) // 36^13 > 2^64: every value fits
        id[i] = digits[random % 36];
    return id;
}

std::string iso8601_utc(core::UnixMillis t) {
    time_t secs = time_t(t / 1000);
    tm parts{};
    gmtime_r(&secs, &parts);
    char text[40];
    size_t n = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
    snprintf(text + n, sizeof text - n, ".%03dZ", int(t % 1000));
    return text;
}

std::string invalidation_record_json(const InvalidationRecord &r) {
    Json items = Json::array();
    for (const std::string &p : r.batch.paths)
        items.push_back(p);
    Json j = {
        {"id", r.id},
        {"status", "Completed"},
        {"create_time", iso8601_utc(r.create_time)},
        {"invalidation_batch",
         {{"paths", {{"quantity", r.batch.paths.size()}, {"items", std::move(items)}}},
          {"caller_reference", r.batch.caller_reference}}},
        {"perch", {{"objects_removed", r.objects_removed}}},
    };
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string invalidation_problem_json(const InvalidationProblem &p) {
    Json j = {{"error", {{"code", p.code}, {"message", p.message}}}};
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const InvalidationRecord &InvalidationLog::add(InvalidationRecord r) {
    if (capacity_ && records_.size() >= capacity_) records_.pop_front();
    records_.push_back(std::move(r));
    return records_.back();
}

const InvalidationRecord *InvalidationLog::find(std::string_view id) const noexcept {
    for (const InvalidationRecord &r : records_)
        if (r.id == id) return &r;
    return nullptr;
}

const InvalidationRecord *
InvalidationLog::find_by_caller_reference(std::string_view ref) const noexcept {
    for (const InvalidationRecord &r : records_)
        if (r.batch.caller_reference == ref) return &r;
    return nullptr;
}

} // namespace perch::edge
