// Parsing of what decides a behavior's cache key and origin request: the root cache_policy and
// origin_request_policy arrays (Terraform's aws_cloudfront_cache_policy and
// aws_cloudfront_origin_request_policy), and in a cache behavior either cache_policy_id /
// origin_request_policy_id or the legacy forwarded_values with min_ttl / default_ttl / max_ttl.
// Used by config.cpp; errors as in json_reader.hpp.
#pragma once

#include "config/config.hpp"
#include "config/json_reader.hpp"

#include <vector>

namespace perch::config {

// perch's cap on TTLs (seconds): 100 years. CloudFront documents no maximum.
inline constexpr int64_t max_ttl_seconds = 3'153'600'000;

// Which lists of ids a behavior refers to were read whole. An id that names nothing in a list is
// an error only then: otherwise it may name the entry whose id failed, already reported.
struct KnownIds {
    bool origins = true;
    bool cache_policies = true;
    bool origin_request_policies = true;
};

// Reads the root arrays `cache_policy` and `origin_request_policy` (call before the
// distribution, whose behaviors refer to them). Returns whether every element's id was read.
bool read_cache_policies(ObjectReader &root, std::vector<CachePolicy> &out);
bool read_origin_request_policies(ObjectReader &root, std::vector<OriginRequestPolicy> &out);

// Reads a behavior's cache_policy_id / origin_request_policy_id, or its forwarded_values and
// TTLs, into cb.ttl, cb.shape and the ids. The ids resolve against `config`'s policies, then
// the AWS managed ones.
void read_behavior_request_shape(ObjectReader &b, const Config &config, const KnownIds &known,
                                 CacheBehavior &cb);

// Reads `perch.store_set_cookie` of a behavior or a cache policy (the only key its perch
// object has) into `out`.
void read_store_set_cookie(ObjectReader &parent, bool &out);

// A defined or managed policy by id; nullptr when none has it.
const CachePolicy *find_cache_policy(const Config &config, std::string_view id);
const OriginRequestPolicy *find_origin_request_policy(const Config &config, std::string_view id);

} // namespace perch::config
