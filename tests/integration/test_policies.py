"""Cache policies and origin request policies through the real perch-proxy against the fault
origin's /echo (which answers with the request it received, without Cache-Control, so the
policy's default_ttl applies)."""
import json

from perchtest import behavior, http_origin

SITE_POLICY = {
    "id": "site", "name": "Site",
    "min_ttl": 0, "default_ttl": 60, "max_ttl": 600,
    "parameters_in_cache_key_and_forwarded_to_origin": {
        "cookies_config": {"cookie_behavior": "whitelist", "cookies": {"items": ["session"]}},
        "headers_config": {"header_behavior": "whitelist", "headers": {"items": ["X-Device"]}},
        "query_strings_config": {"query_string_behavior": "whitelist",
                                 "query_strings": {"items": ["v"]}},
        "enable_accept_encoding_gzip": True, "enable_accept_encoding_brotli": True,
    },
}
TRACE_POLICY = {
    "id": "trace", "name": "Trace",
    "cookies_config": {"cookie_behavior": "none"},
    "headers_config": {"header_behavior": "whitelist", "headers": {"items": ["X-Trace"]}},
    "query_strings_config": {"query_string_behavior": "whitelist",
                             "query_strings": {"items": ["debug"]}},
}


def start(tmp, fault_origin, proxies, default_behavior, ordered=()):
    config = {
        "cache_policy": [SITE_POLICY],
        "origin_request_policy": [TRACE_POLICY],
        "distribution": {
            "origin": [http_origin("o", fault_origin.port)],
            "default_cache_behavior": default_behavior,
            "ordered_cache_behavior": list(ordered),
        },
    }
    return proxies(tmp, config)


def echo(proxy, path, headers=None):
    """(X-Cache, the request the origin saw: target and lower-cased headers)."""
    status, h, body = proxy.get(path, headers)
    assert status == 200, body
    seen = json.loads(body)
    return h["x-cache"], seen["target"], {k.lower(): v for k, v in seen["headers"]}


def site(tmp, fault_origin, proxies):
    return start(tmp, fault_origin, proxies,
                 behavior("o", cache_policy_id="site", origin_request_policy_id="trace"))


def test_a_query_string_in_the_key_splits_entries(tmp, fault_origin, proxies):
    proxy = site(tmp, fault_origin, proxies)
    cache, target, _ = echo(proxy, "/echo/q?v=1&utm=a")
    assert (cache, target) == ("Miss from perch", "/echo/q?v=1")  # utm is neither keyed nor sent
    assert echo(proxy, "/echo/q?utm=b&v=1")[0] == "Hit from perch"
    assert echo(proxy, "/echo/q?v=2")[0] == "Miss from perch"
    assert echo(proxy, "/echo/q?V=1")[0] == "Miss from perch"  # names are case-sensitive
    assert fault_origin.requests("/echo/q") == 3


def test_a_header_in_the_key_splits_entries(tmp, fault_origin, proxies):
    proxy = site(tmp, fault_origin, proxies)
    cache, _, seen = echo(proxy, "/echo/h", {"X-Device": "tv", "X-Other": "1"})
    assert cache == "Miss from perch"
    assert seen["x-device"] == "tv"
    assert "x-other" not in seen  # in neither policy: stays at the edge
    assert echo(proxy, "/echo/h", {"x-device": "tv"})[0] == "Hit from perch"
    assert echo(proxy, "/echo/h", {"X-Device": "phone"})[0] == "Miss from perch"
    assert echo(proxy, "/echo/h")[0] == "Miss from perch"


def test_a_cookie_in_the_key_splits_entries(tmp, fault_origin, proxies):
    proxy = site(tmp, fault_origin, proxies)
    cache, _, seen = echo(proxy, "/echo/c", {"Cookie": "session=1; theme=dark"})
    assert cache == "Miss from perch"
    assert seen["cookie"] == "session=1"
    assert echo(proxy, "/echo/c", {"Cookie": "theme=light; session=1"})[0] == "Hit from perch"
    assert echo(proxy, "/echo/c", {"Cookie": "session=2"})[0] == "Miss from perch"


def test_a_forwarded_header_that_is_not_keyed_reaches_the_origin_but_shares_the_entry(
        tmp, fault_origin, proxies):
    proxy = site(tmp, fault_origin, proxies)
    cache, target, seen = echo(proxy, "/echo/t?debug=1", {"X-Trace": "first"})
    assert cache == "Miss from perch"
    assert seen["x-trace"] == "first"
    assert target == "/echo/t?debug=1"  # forwarded by the origin request policy
    cache, _, seen = echo(proxy, "/echo/t?debug=2", {"X-Trace": "second"})
    assert cache == "Hit from perch"
    assert seen["x-trace"] == "first"  # the stored answer to the first request
    assert fault_origin.requests("/echo/t") == 1


def test_accept_encoding_is_keyed_and_forwarded_normalised(tmp, fault_origin, proxies):
    proxy = site(tmp, fault_origin, proxies)
    cache, _, seen = echo(proxy, "/echo/ae", {"Accept-Encoding": "gzip, deflate, br"})
    assert (cache, seen["accept-encoding"]) == ("Miss from perch", "br,gzip")
    assert echo(proxy, "/echo/ae", {"Accept-Encoding": "br;q=0.5, gzip"})[0] == "Hit from perch"
    cache, _, seen = echo(proxy, "/echo/ae", {"Accept-Encoding": "gzip"})
    assert (cache, seen["accept-encoding"]) == ("Miss from perch", "gzip")
    cache, _, seen = echo(proxy, "/echo/ae", {"Accept-Encoding": "deflate"})
    assert (cache, seen["accept-encoding"]) == ("Miss from perch", "identity")


# From a Terraform file (aws_cloudfront_distribution), written as JSON as docs/config.md says:
#
#   default_cache_behavior {
#     allowed_methods        = ["GET", "HEAD", "OPTIONS"]
#     cached_methods         = ["GET", "HEAD"]
#     target_origin_id       = "o"
#     compress               = true
#     viewer_protocol_policy = "allow-all"
#     cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6" # Managed-CachingOptimized
#   }
#   ordered_cache_behavior {
#     path_pattern             = "/echo/api/*"
#     allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
#     cached_methods           = ["GET", "HEAD"]
#     target_origin_id         = "o"
#     viewer_protocol_policy   = "allow-all"
#     cache_policy_id          = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" # Managed-CachingDisabled
#     origin_request_policy_id = "b689b0a8-53d0-40ab-baf2-68738e2966ac" # AllViewerExceptHostHeader
#   }
TERRAFORM_DEFAULT = {
    "allowed_methods": ["GET", "HEAD", "OPTIONS"],
    "cached_methods": ["GET", "HEAD"],
    "target_origin_id": "o",
    "compress": True,
    "viewer_protocol_policy": "allow-all",
    "cache_policy_id": "658327ea-f89d-4fab-a63d-7e88639e58f6",
}
TERRAFORM_API = {
    "path_pattern": "/echo/api/*",
    "allowed_methods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
    "cached_methods": ["GET", "HEAD"],
    "target_origin_id": "o",
    "viewer_protocol_policy": "allow-all",
    "cache_policy_id": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    "origin_request_policy_id": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
}


def test_behaviors_from_a_terraform_file_with_managed_policy_ids_work_unchanged(
        tmp, fault_origin, proxies):
    proxy = proxies(tmp, {"distribution": {
        "origin": [http_origin("o", fault_origin.port)],
        "default_cache_behavior": TERRAFORM_DEFAULT,
        "ordered_cache_behavior": [TERRAFORM_API],
    }})
    # CachingOptimized: no query string, header or cookie in the key or sent to the origin.
    cache, target, seen = echo(proxy, "/echo/page?x=1", {"Cookie": "a=1", "X-Other": "1",
                                                        "Accept-Encoding": "gzip"})
    assert (cache, target) == ("Miss from perch", "/echo/page")
    assert "cookie" not in seen and "x-other" not in seen
    assert seen["accept-encoding"] == "gzip"
    cache, _, _ = echo(proxy, "/echo/page?x=2", {"Cookie": "a=2", "Accept-Encoding": "gzip"})
    assert cache == "Hit from perch"

    # CachingDisabled + AllViewerExceptHostHeader: everything but Host reaches the origin, and
    # every request does.
    for i in range(2):
        cache, target, seen = echo(proxy, "/echo/api/x?q=1", {"Cookie": "a=1", "X-Other": "1",
                                                              "Host": "www.example"})
        assert (cache, target) == ("Miss from perch", "/echo/api/x?q=1")  # never stored
        assert seen["cookie"] == "a=1" and seen["x-other"] == "1"
        assert seen["host"] == f"127.0.0.1:{fault_origin.port}"
    assert fault_origin.requests("/echo/api/x") == 2


HOSTILE = {"X-Forwarded-Host": "evil.example", "X-Host": "evil.example",
           "X-Original-URL": "/admin", "X-Forwarded-Scheme": "http",
           "X-Forwarded-Proto": "http", "X-HTTP-Method-Override": "PUT"}


def test_legacy_forwarded_values_cannot_be_poisoned_through_unkeyed_headers(tmp, fault_origin, proxies):
    # headers none, as in most copied configs: nothing the attacker sends beyond the key
    # reaches the origin of a cached request, so the entry others get cannot reflect it.
    proxy = start(tmp, fault_origin, proxies, behavior(
        "o", methods=("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"), default_ttl=60,
        forwarded_values={"query_string": False, "cookies": {"forward": "none"}}))
    cache, _, seen = echo(proxy, "/echo/p", HOSTILE)
    assert cache == "Miss from perch"
    assert not {k.lower() for k in HOSTILE} & set(seen)
    cache, _, seen = echo(proxy, "/echo/p")
    assert cache == "Hit from perch" and "evil.example" not in json.dumps(seen)
    # A POST (never stored) still carries them, as forwarded_values always did.
    status, _, body = proxy.request("POST", "/echo/p", HOSTILE, body=b"x")
    assert status == 200 and "evil.example" in body.decode()


def test_check_config_notes_forwarded_headers_a_caching_behavior_does_not_key(tmp, fault_origin):
    import os
    import subprocess
    from perchtest import PROXY_BIN
    config = {"cache_policy": [SITE_POLICY], "origin_request_policy": [TRACE_POLICY],
              "distribution": {"origin": [http_origin("o", fault_origin.port)],
                               "default_cache_behavior": behavior(
                                   "o", cache_policy_id="site", origin_request_policy_id="trace")}}
    path = os.path.join(tmp, "c.json")
    with open(path, "w") as f:
        json.dump(config, f)
    r = subprocess.run([PROXY_BIN, "--check-config", path], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr  # a note, not an error
    assert "note: behavior default forwards headers its cache key leaves out (X-Trace)" in r.stdout
    # Keyed, or not caching: no note.
    config["distribution"]["default_cache_behavior"] = behavior("o", cache_policy_id="site")
    with open(path, "w") as f:
        json.dump(config, f)
    r = subprocess.run([PROXY_BIN, "--check-config", path], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "note:" not in r.stdout
