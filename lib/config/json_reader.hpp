// Typed, path-tracking reads of a parsed JSON config document, for the block parsers in
// config.cpp and policies.cpp. Every read checks the value's type (and range) and records each
// problem as "<json path>: <reason>" ("distribution.origin[1].domain_name: missing"), then
// carries on: a read that fails leaves its output as it was, so a block parser runs straight
// through and one load reports every independent problem, as a compiler does. A check that
// relates two values runs only when both were read (ObjectReader::failed() and
// ConfigErrors::failed_since() tell), so one mistake is reported once, not again as the
// checks that depend on it.
#pragma once

#include "core/status.hpp"

#include <nlohmann/json.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace perch::config {

using Json = nlohmann::json;

// Where each value of a parsed document is, to report errors in document order: a JSON path
// ("distribution.origin[1]", "" for the root) -> the ranks of its first and last token.
class DocumentOrder {
public:
    void add_start(std::string path, uint32_t rank) { spans_[std::move(path)] = {rank, rank}; }
    void add_end(const std::string &path, uint32_t rank);
    // The rank of the value at `path`; for a path that is not in the document (a missing key),
    // the rank of the end of the nearest enclosing value that is, so that "missing" sorts
    // where the key would have been closed.
    uint32_t rank(std::string_view path) const;

private:
    struct Span {
        uint32_t start, end;
    };
    std::unordered_map<std::string, Span> spans_;
};

struct JsonDocument {
    Json root;
    DocumentOrder order;
};

// Parses a JSON document. Syntax errors ("document: line 3, column 7: syntax error ...") are
// one config error, since nothing after one can be read; duplicate object keys
// ("distribution.enabled: duplicate key") are one error each, and nothing else is checked
// then (which of the values was meant is unknown).
core::Result<JsonDocument> parse_json_document(std::string_view text);

// Collects the errors of a parse.
class ConfigErrors {
public:
    // At most this many messages go into the Error; a last line counts the others.
    static constexpr size_t max_messages = 100;

    // `order` (which must outlive this) sorts the messages by their path's place in the
    // document; without it they stay in the order they were recorded.
    explicit ConfigErrors(const DocumentOrder *order = nullptr) : order_(order) {}

    bool failed() const noexcept { return !errors_.empty(); }
    // The number of errors so far: a mark for failed_since().
    size_t count() const noexcept { return errors_.size(); }
    // Whether an error was recorded after count() returned `mark`.
    bool failed_since(size_t mark) const noexcept { return errors_.size() > mark; }
    // Records "<path>: <reason>".
    void fail(std::string_view path, std::string_view reason);
    // Call only when failed(): one Error (Code::config) whose context has every message, one
    // per line, in document order (ties in the order recorded); past max_messages, a last line
    // "... and N more errors".
    core::Error take();

private:
    struct Entry {
        uint32_t rank;
        std::string message;
    };
    const DocumentOrder *order_;
    std::vector<Entry> errors_;
};

// JSON paths as they appear in messages: "distribution" + "origin" -> "distribution.origin";
// "distribution.origin" + 1 -> "distribution.origin[1]".
std::string json_key_path(std::string_view parent, std::string_view key);
std::string json_index_path(std::string_view parent, size_t index);

enum class Need { optional, required };
enum class Case { sensitive, insensitive };
enum class PathKind { directory, readable_file };

// A name in a table of accepted strings ("http-only") and what it stands for.
template <class T> struct Named {
    std::string_view name;
    T value;
};

// "\"text\"", for messages.
std::string in_quotes(std::string_view text);

// Reads the members of one JSON object. The object and the ConfigErrors must outlive it.
class ObjectReader {
public:
    // `object` must be a JSON object (the factory functions below check that).
    ObjectReader(ConfigErrors &errors, const Json &object, std::string path)
        : errors_(&errors), object_(&object), path_(std::move(path)), mark_(errors.count()) {}

    const std::string &path() const noexcept { return path_; }
    std::string path(std::string_view key) const { return json_key_path(path_, key); }
    // Whether an error was recorded since this reader was made: one of this object's reads
    // (or a nested object's) failed.
    bool failed() const noexcept { return errors_->failed_since(mark_); }
    ConfigErrors &errors() const noexcept { return *errors_; }

    // Records "<path>.<key>: <reason>" (or "<path>: <reason>" for fail_here).
    void fail(std::string_view key, std::string_view reason) { errors_->fail(path(key), reason); }
    void fail_here(std::string_view reason) { errors_->fail(path_, reason); }

    // Rejects each key that is in neither list: "<key>: unknown key" for keys in no list,
    // "<key>: not supported yet" for keys in `unsupported`.
    void check_keys(std::initializer_list<std::string_view> known,
                    std::initializer_list<std::string_view> unsupported = {});

    bool has(std::string_view key) const { return find(key) != nullptr; }
    // Calls fn(key, value) for each member.
    template <class Fn> void for_each_member(Fn &&fn) const {
        for (const auto &[key, value] : object_->items())
            fn(key, value);
    }
    // The member's value, or nullptr when absent.
    const Json *find(std::string_view key) const;
    // Records "<key>: missing" when the key is absent and needed; returns the value or nullptr.
    const Json *require(std::string_view key, Need need);

    // Typed reads. Each returns true when the key is present and its value valid (then `out`
    // holds it); false when absent (an error if Need::required) or invalid (`out` unchanged).
    bool read_bool(std::string_view key, bool &out, Need need = Need::optional);
    bool read_string(std::string_view key, std::string &out, Need need = Need::optional);
    bool read_int64(std::string_view key, int64_t &out, int64_t min, int64_t max,
                    Need need = Need::optional);
    // Any integer that fits in int64_t, for callers that check the value themselves.
    bool read_integer(std::string_view key, int64_t &out, Need need = Need::optional);
    template <std::integral T>
    bool read_int(std::string_view key, T &out, int64_t min, int64_t max,
                  Need need = Need::optional) {
        int64_t v = 0;
        if (!read_int64(key, v, min, max, need)) return false;
        out = static_cast<T>(v);
        return true;
    }
    // An array of strings; the error names the first bad element ("aliases[2]: expected a
    // string"). An array is one value: it gets one error, as every other value does.
    bool read_strings(std::string_view key, std::vector<std::string> &out,
                      Need need = Need::optional);

    // A string that must be one of the table's names; `out` gets the matching value.
    // Otherwise: "<key>: must be one of \"a\", \"b\"".
    template <class T, size_t N>
    bool read_named(std::string_view key, const Named<T> (&table)[N], T &out,
                    Need need = Need::optional) {
        std::string text;
        if (!read_string(key, text, need)) return false;
        for (const auto &entry : table) {
            if (entry.name == text) {
                out = entry.value;
                return true;
            }
        }
        std::string message = "must be one of ";
        for (size_t i = 0; i < N; ++i)
            message.append(i ? ", " : "").append(in_quotes(table[i].name));
        fail(key, message);
        return false;
    }
    // An array of distinct, non-empty strings; `what` names an element in messages
    // ("headers[1]: duplicate header \"Accept\"").
    bool read_distinct_strings(std::string_view key, std::vector<std::string> &out,
                               std::string_view what, Case compare);
    // A path (resolved against base_dir when relative, then made absolute) that must name an
    // existing directory or a readable regular file; `out` gets the absolute path.
    bool read_existing_path(std::string_view key, std::string_view base_dir, PathKind kind,
                            std::string &out);

    // A nested object; nullopt when absent (an error if required) or not an object.
    std::optional<ObjectReader> object(std::string_view key, Need need = Need::optional);

    // Calls fn(ObjectReader &element, size_t index) for each element of an array of objects
    // (an element that is not an object is an error, and skipped). Returns false when the
    // array is missing though required, is not an array, or has an element that is not an
    // object; true otherwise (absent and optional included), whatever fn found inside.
    template <class Fn> bool for_each_object(std::string_view key, Need need, Fn &&fn) {
        const Json *array = require_array(key, need);
        if (!array) return need == Need::optional && !has(key);
        bool all_objects = true;
        for (size_t i = 0; i < array->size(); ++i) {
            auto element = element_object(*array, key, i);
            if (element)
                fn(*element, i);
            else
                all_objects = false;
        }
        return all_objects;
    }

private:
    const Json *require_array(std::string_view key, Need need);
    std::optional<ObjectReader> element_object(const Json &array, std::string_view key,
                                               size_t index);

    ConfigErrors *errors_;
    const Json *object_;
    std::string path_;
    size_t mark_; // errors_->count() when this reader was made
};

// Checks `value` is an integer in [min, max]; records "<path>: ..." otherwise.
std::optional<int64_t> json_int_in_range(ConfigErrors &errors, const Json &value,
                                         std::string_view path, int64_t min, int64_t max);

} // namespace perch::config
