"""The viewer's Authorization through the real perch-proxy, as CloudFront and RFC 9111 §3.5 have
it: on GET, HEAD and OPTIONS it reaches the origin only when the cache key holds it; when it
does, the answer is stored only with public, s-maxage or must-revalidate. Two viewers with
different credentials (and one with none) ask for the same objects; the origin echoes the
Authorization it received into the body, so a body made for one viewer and served to another
shows."""
import json
import os
import subprocess
import threading
import time

import pytest

from perchtest import PROXY_BIN, http_origin
from recording_origin import RecordingOrigin

ALICE = "Basic YWxpY2U6czNjcmV0"  # alice:s3cret
BOB = "Basic Ym9iOmh1bnRlcjI="    # bob:hunter2
METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
MANAGED_ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
MANAGED_CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

# The first path segment chooses the origin's Cache-Control.
CACHE_CONTROL = {
    "public": "public",
    "s-maxage": "s-maxage=60",
    "must-revalidate": "must-revalidate, max-age=60",
    "max-age": "max-age=60",
    "bare": None,
}


def credential_echo():
    """The origin's answer: the Authorization values it received and how many requests for
    this path it has seen; `/slow/` in the path waits 0.4 s first."""
    counts, lock = {}, threading.Lock()

    def respond(req):
        path = req.target.split("?")[0]
        with lock:
            counts[path] = counts.get(path, 0) + 1
            n = counts[path]
        if "/slow/" in path:
            time.sleep(0.4)
        headers = [("Content-Type", "application/json")]
        cc = CACHE_CONTROL[path.split("/")[1]]
        if cc:
            headers.append(("Cache-Control", cc))
        body = {"authorization": req.values("authorization"), "n": n, "method": req.method}
        return 200, headers, json.dumps(body).encode()
    return respond


@pytest.fixture
def origin():
    o = RecordingOrigin(credential_echo())
    yield o
    o.stop()


def cache_policy(pid, header_items):
    return {"id": pid, "name": pid, "min_ttl": 0, "default_ttl": 60, "max_ttl": 600,
            "parameters_in_cache_key_and_forwarded_to_origin": {
                "cookies_config": {"cookie_behavior": "none"},
                "headers_config": {"header_behavior": "whitelist",
                                   "headers": {"items": header_items}},
                "query_strings_config": {"query_string_behavior": "none"},
                "enable_accept_encoding_gzip": False, "enable_accept_encoding_brotli": False}}


def origin_request_policy(pid, headers_config):
    return {"id": pid, "name": pid, "cookies_config": {"cookie_behavior": "all"},
            "headers_config": headers_config,
            "query_strings_config": {"query_string_behavior": "all"}}


CACHE_POLICIES = [cache_policy("keyed", ["X-Device", "Authorization"]),
                  cache_policy("keyed-lower", ["authorization"]),
                  cache_policy("unkeyed", ["X-Device"])]
ORIGIN_REQUEST_POLICIES = [
    origin_request_policy("all-viewer", {"header_behavior": "allViewer"}),
    origin_request_policy("all-except", {"header_behavior": "allExcept",
                                         "headers": {"items": ["X-Device"]}}),
]


def with_policies(cache_policy_id, origin_request_policy_id=None, cached=("GET", "HEAD")):
    b = {"target_origin_id": "o", "allowed_methods": METHODS, "cached_methods": list(cached),
         "viewer_protocol_policy": "allow-all", "cache_policy_id": cache_policy_id}
    if origin_request_policy_id:
        b["origin_request_policy_id"] = origin_request_policy_id
    return b


def legacy(headers=None, cached=("GET", "HEAD")):
    fv = {"query_string": False, "cookies": {"forward": "none"}}
    if headers is not None:
        fv["headers"] = headers
    return {"target_origin_id": "o", "allowed_methods": METHODS, "cached_methods": list(cached),
            "viewer_protocol_policy": "allow-all", "forwarded_values": fv,
            "min_ttl": 0, "default_ttl": 60, "max_ttl": 600}


# Behaviors whose cache key holds Authorization: it is forwarded.
KEYED = {
    "cache-policy": lambda **kw: with_policies("keyed", **kw),
    "cache-policy-lowercase-name": lambda **kw: with_policies("keyed-lower", **kw),
    "cache-policy-with-all-viewer-orp": lambda **kw: with_policies("keyed", "all-viewer", **kw),
    "forwarded-values": lambda **kw: legacy(["X-Device", "Authorization"], **kw),
    "forwarded-values-star": lambda **kw: legacy(["*"], **kw),
}
# Behaviors whose cache key does not hold it: it must never reach the origin on GET/HEAD/OPTIONS.
UNKEYED = {
    "cache-policy": lambda **kw: with_policies("unkeyed", **kw),
    "cache-policy-with-all-viewer-orp": lambda **kw: with_policies("unkeyed", "all-viewer", **kw),
    "cache-policy-with-all-except-orp": lambda **kw: with_policies("unkeyed", "all-except", **kw),
    "cache-policy-with-managed-all-viewer":
        lambda **kw: with_policies("unkeyed", MANAGED_ALL_VIEWER, **kw),
    "forwarded-values-other-header": lambda **kw: legacy(["X-Device"], **kw),
    "forwarded-values-no-headers": lambda **kw: legacy(None, **kw),
}


def start(tmp, proxies, origin, default_behavior):
    return proxies(tmp, {
        "cache_policy": CACHE_POLICIES,
        "origin_request_policy": ORIGIN_REQUEST_POLICIES,
        "distribution": {
            "origin": [http_origin("o", origin.port)],
            "default_cache_behavior": default_behavior,
        },
    })


def ask(proxy, path, auth=None, method="GET", headers=None, body=None):
    """(X-Cache, the origin's answer as JSON: its Authorization values and its count n)."""
    h = dict(headers or {})
    if auth is not None:
        h["Authorization"] = auth
    status, rh, data = proxy.request(method, path, headers=h, body=body)
    assert status == 200, (status, rh, data)
    return rh["x-cache"], (json.loads(data) if data else None)


def authorizations_seen(origin):
    return [r.values("authorization") for r in origin.settled()]


@pytest.mark.parametrize("directive", ["public", "s-maxage", "must-revalidate"])
@pytest.mark.parametrize("shape", list(KEYED))
def test_a_keyed_authorization_answer_allowed_for_sharing_is_stored_per_credential(
        tmp, proxies, origin, shape, directive):
    proxy = start(tmp, proxies, origin, KEYED[shape]())
    path = f"/{directive}/doc"
    assert ask(proxy, path, ALICE) == ("Miss from perch", {"authorization": [ALICE], "n": 1,
                                                           "method": "GET"})
    assert ask(proxy, path, BOB) == ("Miss from perch", {"authorization": [BOB], "n": 2,
                                                         "method": "GET"})
    assert ask(proxy, path, ALICE) == ("Hit from perch", {"authorization": [ALICE], "n": 1,
                                                          "method": "GET"})
    assert ask(proxy, path, BOB) == ("Hit from perch", {"authorization": [BOB], "n": 2,
                                                        "method": "GET"})
    # A viewer without credentials has a key of its own, and gets neither body.
    assert ask(proxy, path) == ("Miss from perch", {"authorization": [], "n": 3, "method": "GET"})
    assert ask(proxy, path) == ("Hit from perch", {"authorization": [], "n": 3, "method": "GET"})
    assert authorizations_seen(origin) == [[ALICE], [BOB], []]


@pytest.mark.parametrize("directive", ["max-age", "bare"])
@pytest.mark.parametrize("shape", list(KEYED))
def test_a_keyed_authorization_answer_without_public_s_maxage_or_must_revalidate_is_not_stored(
        tmp, proxies, origin, shape, directive):
    proxy = start(tmp, proxies, origin, KEYED[shape]())
    path = f"/{directive}/doc"
    for n, auth in enumerate([ALICE, BOB, ALICE, BOB], start=1):
        assert ask(proxy, path, auth) == ("Miss from perch", {"authorization": [auth], "n": n,
                                                              "method": "GET"})
    # The same object without credentials is stored as any other (default_ttl or max-age).
    assert ask(proxy, path) == ("Miss from perch", {"authorization": [], "n": 5, "method": "GET"})
    assert ask(proxy, path) == ("Hit from perch", {"authorization": [], "n": 5, "method": "GET"})
    # ... and never answers a viewer with credentials.
    assert ask(proxy, path, ALICE) == ("Miss from perch", {"authorization": [ALICE], "n": 6,
                                                           "method": "GET"})
    assert authorizations_seen(origin) == [[ALICE], [BOB], [ALICE], [BOB], [], [ALICE]]


@pytest.mark.parametrize("shape", list(KEYED))
def test_credentials_that_differ_only_in_case_do_not_share_an_entry(tmp, proxies, origin, shape):
    proxy = start(tmp, proxies, origin, KEYED[shape]())
    upper, lower = "Bearer TOKEN-abc", "Bearer token-abc"
    assert ask(proxy, "/public/case", upper)[1]["authorization"] == [upper]
    assert ask(proxy, "/public/case", lower) == ("Miss from perch", {
        "authorization": [lower], "n": 2, "method": "GET"})
    assert ask(proxy, "/public/case", upper) == ("Hit from perch", {
        "authorization": [upper], "n": 1, "method": "GET"})


@pytest.mark.parametrize("shape", list(KEYED))
def test_a_head_miss_stores_the_object_under_its_own_credential_only(tmp, proxies, origin, shape):
    # A HEAD miss fetches the whole object with GET and stores it: under Alice's key.
    proxy = start(tmp, proxies, origin, KEYED[shape]())
    assert ask(proxy, "/public/head", ALICE, method="HEAD") == ("Miss from perch", None)
    assert ask(proxy, "/public/head", BOB) == ("Miss from perch", {
        "authorization": [BOB], "n": 2, "method": "GET"})
    assert ask(proxy, "/public/head", ALICE) == ("Hit from perch", {
        "authorization": [ALICE], "n": 1, "method": "GET"})
    assert authorizations_seen(origin) == [[ALICE], [BOB]]


@pytest.mark.parametrize("directive", ["public", "max-age"])
@pytest.mark.parametrize("shape", ["cache-policy", "forwarded-values"])
def test_concurrent_viewers_with_different_credentials_each_get_their_own_answer(
        tmp, proxies, origin, shape, directive):
    # Collapsing waits for one fill per key; two credentials are two keys, never one fill.
    proxy = start(tmp, proxies, origin, KEYED[shape]())
    viewers = [ALICE, BOB, ALICE, BOB, None, None]
    results = [None] * len(viewers)

    def one(i):
        results[i] = ask(proxy, f"/{directive}/slow/doc", viewers[i])[1]["authorization"]
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(viewers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [[ALICE], [BOB], [ALICE], [BOB], [], []]
    # How many fills collapsing saves is not the point; that each credential had its own is.
    seen = authorizations_seen(origin)
    assert {tuple(s) for s in seen} == {(ALICE,), (BOB,), ()}
    assert 3 <= len(seen) <= 6


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("directive", ["public", "max-age", "bare"])
@pytest.mark.parametrize("shape", list(UNKEYED))
def test_an_unkeyed_authorization_never_reaches_the_origin_and_the_shared_answer_holds_none(
        tmp, proxies, origin, shape, directive, method):
    proxy = start(tmp, proxies, origin, UNKEYED[shape]())
    path = f"/{directive}/shared"
    x_cache, answer = ask(proxy, path, ALICE, method=method, headers={"X-Other": "1"})
    assert x_cache == "Miss from perch"
    if method == "GET":
        assert answer == {"authorization": [], "n": 1, "method": "GET"}
    # Stored, since what the origin answered was made for no one: Bob gets the same body.
    assert ask(proxy, path, BOB) == ("Hit from perch", {"authorization": [], "n": 1,
                                                        "method": "GET"})
    assert ask(proxy, path) == ("Hit from perch", {"authorization": [], "n": 1, "method": "GET"})
    requests = origin.settled()
    assert len(requests) == 1
    assert "authorization" not in requests[0].names()
    if "orp" in shape:  # the origin request policy forwards every other viewer header
        assert requests[0].values("x-other") == ["1"]


@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "unkeyed"])
def test_authorization_on_options_is_forwarded_only_when_keyed(tmp, proxies, origin, keyed):
    behavior = with_policies("keyed" if keyed else "unkeyed", "all-viewer",
                             cached=("GET", "HEAD", "OPTIONS"))
    proxy = start(tmp, proxies, origin, behavior)
    first = [ALICE] if keyed else []
    assert ask(proxy, "/public/opt", ALICE, method="OPTIONS") == ("Miss from perch", {
        "authorization": first, "n": 1, "method": "OPTIONS"})
    expected = (("Miss from perch", {"authorization": [BOB], "n": 2, "method": "OPTIONS"})
                if keyed else ("Hit from perch", {"authorization": [], "n": 1, "method": "OPTIONS"}))
    assert ask(proxy, "/public/opt", BOB, method="OPTIONS") == expected
    assert ask(proxy, "/public/opt", ALICE, method="OPTIONS") == ("Hit from perch", {
        "authorization": first, "n": 1, "method": "OPTIONS"})


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("shape", ["cache-policy", "cache-policy-with-all-viewer-orp",
                                   "forwarded-values-no-headers"])
def test_authorization_on_other_methods_always_reaches_the_origin_and_is_never_stored(
        tmp, proxies, origin, shape, method):
    proxy = start(tmp, proxies, origin, UNKEYED[shape]())
    for n, auth in enumerate([ALICE, BOB, ALICE], start=1):
        x_cache, answer = ask(proxy, "/public/write", auth, method=method, body=b"x")
        assert (x_cache, answer) == ("Miss from perch", {"authorization": [auth], "n": n,
                                                         "method": method})
    # Nothing a write answered is served to a GET.
    assert ask(proxy, "/public/write", BOB) == ("Miss from perch", {
        "authorization": [], "n": 4, "method": "GET"})


def test_caching_disabled_with_the_managed_all_viewer_policy_never_sends_authorization_on_get(
        tmp, proxies, origin):
    proxy = start(tmp, proxies, origin, with_policies(MANAGED_CACHING_DISABLED, MANAGED_ALL_VIEWER))
    for n, auth in enumerate([ALICE, BOB], start=1):
        assert ask(proxy, "/public/off", auth, headers={"X-Other": "1"}) == (
            "Miss from perch", {"authorization": [], "n": n, "method": "GET"})
    assert ask(proxy, "/public/off", ALICE, method="POST", body=b"x") == (
        "Miss from perch", {"authorization": [ALICE], "n": 3, "method": "POST"})
    assert [r.values("x-other") for r in origin.settled()][:2] == [["1"], ["1"]]


def write_config(tmp, orp_headers_config):
    cfg = {
        "origin_request_policy": [
            origin_request_policy("fine", {"header_behavior": "allViewer"}),
            origin_request_policy("creds", orp_headers_config)],
        "distribution": {
            "origin": [http_origin("o", 9)],
            "default_cache_behavior": with_policies("658327ea-f89d-4fab-a63d-7e88639e58f6", "creds"),
        },
    }
    path = os.path.join(tmp, "creds.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


@pytest.mark.parametrize("headers_config, message", [
    ({"header_behavior": "whitelist", "headers": {"items": ["X-Trace", "authorization"]}},
     "origin_request_policy[1].headers_config.headers.items[1]: Authorization cannot be "
     "forwarded by an origin request policy"),
    ({"header_behavior": "whitelist", "headers": {"items": ["AUTHORIZATION"]}},
     "origin_request_policy[1].headers_config.headers.items[0]: Authorization cannot be "
     "forwarded by an origin request policy"),
    ({"header_behavior": "allViewerAndWhitelistCloudFront", "headers": {"items": ["Authorization"]}},
     "origin_request_policy[1].headers_config.headers.items[0]: must be a CloudFront header"),
], ids=["whitelist", "whitelist-uppercase", "all-viewer-and-cloudfront"])
def test_an_origin_request_policy_naming_authorization_is_a_config_error_with_its_path(
        tmp, headers_config, message):
    path = write_config(tmp, headers_config)
    for mode in ("--check-config", "--config"):
        r = subprocess.run([PROXY_BIN, mode, path], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (r.stdout, r.stderr)
        assert r.stderr.startswith(f"perch-proxy: error: {path}: {message}"), r.stderr
        assert r.stdout == ""
