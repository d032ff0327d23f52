// Typed, path-tracking reads of a parsed JSON config document, for the block parsers in
// config.cpp. Every read checks the value's type (and range) and reports the first problem
// found as "<json path>: <reason>" ("distribution.origin[1].domain_name: missing"); once an
// error is recorded, every later read is a no-op that reports "not read", so a block parser
// can run straight through and the caller looks at the error once at the end.
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
#include <vector>

namespace perch::config {

using Json = nlohmann::json;

// Parses a JSON document. Syntax errors ("document: line 3, column 7: syntax error ...") and
// duplicate object keys ("distribution.enabled: duplicate key") are config errors.
core::Result<Json> parse_json_document(std::string_view text);

// Keeps the first error of a parse.
class ConfigErrors {
public:
    bool failed() const noexcept { return error_.has_value(); }
    // Records "<path>: <reason>" unless an error is already recorded.
    void fail(std::string_view path, std::string_view reason);
    // The recorded error; call only when failed().
    core::Error take() { return std::move(*error_); }

private:
    std::optional<core::Error> error_;
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
        : errors_(&errors), object_(&object), path_(std::move(path)) {}

    const std::string &path() const noexcept { return path_; }
    std::string path(std::string_view key) const { return json_key_path(path_, key); }
    bool failed() const noexcept { return errors_->failed(); }
    ConfigErrors &errors() const noexcept { return *errors_; }

    // Records "<path>.<key>: <reason>" (or "<path>: <reason>" for fail_here).
    void fail(std::string_view key, std::string_view reason) { errors_->fail(path(key), reason); }
    void fail_here(std::string_view reason) { errors_->fail(path_, reason); }

    // Rejects every key that is in neither list: "<key>: unknown key" for keys in no list,
    // "<key>: not supported yet" for keys in `unsupported`. Call before reading members.
    void check_keys(std::initializer_list<std::string_view> known,
                    std::initializer_list<std::string_view> unsupported = {});

    bool has(std::string_view key) const { return find(key) != nullptr; }
    // Calls fn(key, value) for each member, stopping at the first error.
    template <class Fn> void for_each_member(Fn &&fn) const {
        for (const auto &[key, value] : object_->items()) {
            if (failed()) return;
            fn(key, value);
        }
    }
    // The member's value, or nullptr when absent.
    const Json *find(std::string_view key) const;
    // Records "<key>: missing" when the key is absent and needed; returns the value or nullptr.
    const Json *require(std::string_view key, Need need);

    // Typed reads. Each returns true when the key is present and its value valid (then `out`
    // holds it); false when absent (an error if Need::required), invalid, or after an error.
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
    // An array of strings; errors name the element ("aliases[2]: expected a string").
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

    // A nested object; nullopt when absent (an error if required), not an object, or after
    // an error.
    std::optional<ObjectReader> object(std::string_view key, Need need = Need::optional);

    // Calls fn(ObjectReader &element, size_t index) for each element of an array of objects,
    // stopping at the first error. Returns true when the array was present and read fully.
    template <class Fn> bool for_each_object(std::string_view key, Need need, Fn &&fn) {
        const Json *array = require_array(key, need);
        if (!array) return false;
        for (size_t i = 0; i < array->size() && !failed(); ++i) {
            auto element = element_object(*array, key, i);
            if (element) fn(*element, i);
        }
        return !failed();
    }

private:
    const Json *require_array(std::string_view key, Need need);
    std::optional<ObjectReader> element_object(const Json &array, std::string_view key,
                                               size_t index);

    ConfigErrors *errors_;
    const Json *object_;
    std::string path_;
};

// Checks `value` is an integer in [min, max]; records "<path>: ..." otherwise.
std::optional<int64_t> json_int_in_range(ConfigErrors &errors, const Json &value,
                                         std::string_view path, int64_t min, int64_t max);

} // namespace perch::config
