#include "config/json_reader.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>

namespace perch::config {

namespace {

namespace fs = std::filesystem;

core::Error config_error(std::string context) {
    return core::Error::make(core::Code::config, core::Source::config, std::move(context));
}

// Follows the parser's events to know the JSON path of each value: records where each value
// starts and ends (a DocumentOrder), and every key that appears twice in one object
// (nlohmann::json would silently keep the last value).
class DocumentWalker {
public:
    bool on_event(Json::parse_event_t event, const Json &parsed) {
        using E = Json::parse_event_t;
        switch (event) {
        case E::object_start:
        case E::array_start:
            order_.add_start(current_path(), ++rank_);
            frames_.push_back(Frame{event == E::object_start, {}, {}, 0});
            break;
        case E::key:
            on_key(parsed);
            break;
        case E::value:
            order_.add_start(current_path(), ++rank_);
            element_done();
            break;
        case E::object_end:
        case E::array_end:
            if (!frames_.empty()) frames_.pop_back();
            order_.add_end(current_path(), ++rank_);
            element_done();
            break;
        }
        return true;
    }

    const std::vector<std::string> &duplicate_paths() const noexcept { return duplicates_; }
    DocumentOrder take_order() { return std::move(order_); }

private:
    struct Frame {
        bool is_object;
        std::vector<std::string> keys; // keys seen in this object
        std::string key;               // the member being read
        size_t index;                  // the element being read
    };

    void on_key(const Json &parsed) {
        if (frames_.empty() || !parsed.is_string()) return;
        Frame &f = frames_.back();
        f.key = parsed.get_ref<const std::string &>();
        if (std::find(f.keys.begin(), f.keys.end(), f.key) != f.keys.end()) {
            duplicates_.push_back(current_path());
            return;
        }
        f.keys.push_back(f.key);
    }

    void element_done() {
        if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
    }

    std::string current_path() const {
        std::string path;
        for (const Frame &f : frames_)
            path = f.is_object ? json_key_path(path, f.key) : json_index_path(path, f.index);
        return path;
    }

    std::vector<Frame> frames_;
    std::vector<std::string> duplicates_;
    DocumentOrder order_;
    uint32_t rank_ = 0;
};

// Collects nothing but the parser's error. nlohmann's message is "[json.exception.parse_error.101]
// parse error at line 3, column 7: syntax error ..."; keep what follows "parse error at ".
class SyntaxErrorCatcher final : public nlohmann::json_sax<Json> {
public:
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t &) override { return true; }
    bool string(string_t &) override { return true; }
    bool binary(binary_t &) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t &) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string &,
                     const nlohmann::detail::exception &e) override {
        std::string_view what = e.what();
        constexpr std::string_view marker = "parse error at ";
        auto at = what.find(marker);
        if (at != std::string_view::npos) what.remove_prefix(at + marker.size());
        message = std::string(what);
        return false;
    }

    std::string message = "invalid JSON";
};

std::string syntax_error_context(std::string_view text) {
    SyntaxErrorCatcher catcher;
    Json::sax_parse(text, &catcher);
    return "document: " + catcher.message;
}

fs::path resolve_path(std::string_view base_dir, std::string_view value) {
    fs::path p(value);
    if (p.is_relative()) p = fs::path(base_dir) / p;
    std::error_code ec;
    fs::path absolute = fs::absolute(p, ec);
    return (ec ? p : absolute).lexically_normal();
}

// Why `path` is not what `kind` wants, or "" when it is.
std::string path_problem(const fs::path &path, PathKind kind) {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) return "does not exist";
    if (kind == PathKind::directory) return fs::is_directory(status) ? "" : "is not a directory";
    if (!fs::is_regular_file(status)) return "is not a regular file";
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) return "is not readable";
    std::fclose(f);
    return "";
}

} // namespace

std::string in_quotes(std::string_view text) {
    std::string quoted;
    quoted.reserve(text.size() + 2);
    quoted.append("\"").append(text).append("\"");
    return quoted;
}

void DocumentOrder::add_end(const std::string &path, uint32_t rank) {
    auto it = spans_.find(path);
    if (it != spans_.end()) it->second.end = rank;
}

uint32_t DocumentOrder::rank(std::string_view path) const {
    if (auto it = spans_.find(std::string(path)); it != spans_.end()) return it->second.start;
    // The enclosing values: cut "a.b[2].c" at its last '.' or '[' until a prefix is found.
    while (!path.empty()) {
        size_t cut = path.find_last_of(".[");
        path = cut == std::string_view::npos ? std::string_view() : path.substr(0, cut);
        if (auto it = spans_.find(std::string(path)); it != spans_.end()) return it->second.end;
    }
    return 0;
}

core::Result<JsonDocument> parse_json_document(std::string_view text) {
    DocumentWalker walker;
    Json::parser_callback_t callback = [&walker](int, Json::parse_event_t event, Json &parsed) {
        return walker.on_event(event, parsed);
    };
    Json doc = Json::parse(text, callback, false);
    if (doc.is_discarded()) return config_error(syntax_error_context(text));
    if (!walker.duplicate_paths().empty()) {
        ConfigErrors errors;
        for (const std::string &path : walker.duplicate_paths())
            errors.fail(path, "duplicate key");
        return errors.take();
    }
    return JsonDocument{std::move(doc), walker.take_order()};
}

void ConfigErrors::fail(std::string_view path, std::string_view reason) {
    std::string message;
    message.reserve(path.size() + 2 + reason.size());
    message.append(path).append(": ").append(reason);
    errors_.push_back(Entry{order_ ? order_->rank(path) : 0, std::move(message)});
}

core::Error ConfigErrors::take() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const Entry &a, const Entry &b) { return a.rank < b.rank; });
    std::string context;
    size_t shown = std::min(errors_.size(), max_messages);
    for (size_t i = 0; i < shown; ++i)
        context.append(i ? "\n" : "").append(errors_[i].message);
    if (errors_.size() > shown)
        context.append("\n... and ")
            .append(std::to_string(errors_.size() - shown))
            .append(" more errors");
    errors_.clear();
    return config_error(std::move(context));
}

std::string json_key_path(std::string_view parent, std::string_view key) {
    std::string path(parent);
    if (!path.empty()) path += '.';
    path += key;
    return path;
}

std::string json_index_path(std::string_view parent, size_t index) {
    std::string path(parent);
    path += '[';
    path += std::to_string(index);
    path += ']';
    return path;
}

std::optional<int64_t> json_int_in_range(ConfigErrors &errors, const Json &value,
                                         std::string_view path, int64_t min, int64_t max) {
    if (!value.is_number_integer()) {
        errors.fail(path, "expected an integer");
        return std::nullopt;
    }
    bool in_range = false;
    int64_t v = 0;
    if (value.is_number_unsigned()) {
        uint64_t u = value.get<uint64_t>();
        in_range = u <= uint64_t(std::numeric_limits<int64_t>::max()) && int64_t(u) >= min &&
                   int64_t(u) <= max;
        v = in_range ? int64_t(u) : 0;
    } else {
        v = value.get<int64_t>();
        in_range = v >= min && v <= max;
    }
    if (!in_range) {
        errors.fail(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
        return std::nullopt;
    }
    return v;
}

void ObjectReader::check_keys(std::initializer_list<std::string_view> known,
                              std::initializer_list<std::string_view> unsupported) {
    auto contains = [](std::initializer_list<std::string_view> list, std::string_view k) {
        return std::find(list.begin(), list.end(), k) != list.end();
    };
    for (const auto &[key, value] : object_->items()) {
        if (contains(known, key)) continue;
        fail(key, contains(unsupported, key) ? "not supported yet" : "unknown key");
    }
}

const Json *ObjectReader::find(std::string_view key) const {
    auto it = object_->find(key);
    return it == object_->end() ? nullptr : &*it;
}

const Json *ObjectReader::require(std::string_view key, Need need) {
    const Json *value = find(key);
    if (!value && need == Need::required) fail(key, "missing");
    return value;
}

bool ObjectReader::read_bool(std::string_view key, bool &out, Need need) {
    const Json *value = require(key, need);
    if (!value) return false;
    if (!value->is_boolean()) {
        fail(key, "expected a boolean");
        return false;
    }
    out = value->get<bool>();
    return true;
}

bool ObjectReader::read_string(std::string_view key, std::string &out, Need need) {
    const Json *value = require(key, need);
    if (!value) return false;
    if (!value->is_string()) {
        fail(key, "expected a string");
        return false;
    }
    out = value->get_ref<const std::string &>();
    return true;
}

bool ObjectReader::read_int64(std::string_view key, int64_t &out, int64_t min, int64_t max,
                              Need need) {
    const Json *value = require(key, need);
    if (!value) return false;
    auto v = json_int_in_range(*errors_, *value, path(key), min, max);
    if (!v) return false;
    out = *v;
    return true;
}

bool ObjectReader::read_integer(std::string_view key, int64_t &out, Need need) {
    const Json *value = require(key, need);
    if (!value) return false;
    if (!value->is_number_integer()) {
        fail(key, "expected an integer");
        return false;
    }
    if (value->is_number_unsigned() &&
        value->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
        fail(key, "is too large");
        return false;
    }
    out = value->get<int64_t>();
    return true;
}

bool ObjectReader::read_strings(std::string_view key, std::vector<std::string> &out, Need need) {
    const Json *array = require_array(key, need);
    if (!array) return false;
    std::vector<std::string> strings;
    strings.reserve(array->size());
    for (size_t i = 0; i < array->size(); ++i) {
        const Json &element = (*array)[i];
        if (!element.is_string()) {
            errors_->fail(json_index_path(path(key), i), "expected a string");
            return false;
        }
        strings.push_back(element.get_ref<const std::string &>());
    }
    out = std::move(strings);
    return true;
}

bool ObjectReader::read_distinct_strings(std::string_view key, std::vector<std::string> &out,
                                         std::string_view what, Case compare) {
    std::vector<std::string> values;
    if (!read_strings(key, values)) return false;
    for (size_t i = 0; i < values.size(); ++i) {
        std::string element = json_index_path(path(key), i);
        if (values[i].empty()) {
            errors_->fail(element, "must not be empty");
            return false;
        }
        for (size_t j = 0; j < i; ++j) {
            bool same = compare == Case::insensitive ? core::iequals(values[i], values[j])
                                                     : values[i] == values[j];
            if (same) {
                errors_->fail(element,
                              "duplicate " + std::string(what) + " " + in_quotes(values[i]));
                return false;
            }
        }
    }
    out = std::move(values);
    return true;
}

bool ObjectReader::read_existing_path(std::string_view key, std::string_view base_dir,
                                      PathKind kind, std::string &out) {
    std::string value;
    if (!read_string(key, value, Need::required)) return false;
    if (value.empty()) {
        fail(key, "must not be empty");
        return false;
    }
    fs::path resolved = resolve_path(base_dir, value);
    std::string problem = path_problem(resolved, kind);
    if (!problem.empty()) {
        fail(key, in_quotes(resolved.string()) + " " + problem);
        return false;
    }
    out = resolved.string();
    return true;
}

std::optional<ObjectReader> ObjectReader::object(std::string_view key, Need need) {
    const Json *value = require(key, need);
    if (!value) return std::nullopt;
    if (!value->is_object()) {
        fail(key, "expected an object");
        return std::nullopt;
    }
    return ObjectReader(*errors_, *value, path(key));
}

const Json *ObjectReader::require_array(std::string_view key, Need need) {
    const Json *value = require(key, need);
    if (!value) return nullptr;
    if (!value->is_array()) {
        fail(key, "expected an array");
        return nullptr;
    }
    return value;
}

std::optional<ObjectReader> ObjectReader::element_object(const Json &array, std::string_view key,
                                                         size_t index) {
    const Json &element = array[index];
    std::string element_path = json_index_path(path(key), index);
    if (!element.is_object()) {
        errors_->fail(element_path, "expected an object");
        return std::nullopt;
    }
    return ObjectReader(*errors_, element, std::move(element_path));
}

} // namespace perch::config
