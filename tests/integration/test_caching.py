"""Caching through perch-proxy in front of Debian's nginx: Hit/Miss, Age, TTL rules,
behaviors, query strings, HEAD, error caching, revalidation."""
import os
import time

from perchtest import behavior, http_origin, parse_responses, raw_exchange

NGINX_LOCATIONS = r"""
location /max60/ { add_header Cache-Control "public, max-age=60"; }
location /smaxage/ { add_header Cache-Control "max-age=1, s-maxage=60"; }
location /nostore/ { add_header Cache-Control "no-store"; }
location /private/ { add_header Cache-Control "private, max-age=60"; }
location /short/ { add_header Cache-Control "max-age=1"; etag on; }
location /plain/ { }
location /api/ { add_header Cache-Control "max-age=60"; }
"""

FILES = {
    "/index.html": "home page\n",
    "/max60/a.txt": "a\n",
    "/max60/b.txt": "b\n",
    "/max60/big.bin": bytes(range(256)) * 8192,  # 2 MiB
    "/smaxage/s.txt": "s\n",
    "/nostore/n.txt": "n\n",
    "/private/p.txt": "p\n",
    "/short/e.txt": "e\n",
    "/plain/x.txt": "x\n",
    "/api/v.txt": "v\n",
}


def distribution(origin_port, **extra):
    d = {
        "default_root_object": "index.html",
        "origin": [http_origin("web", origin_port)],
        "default_cache_behavior": behavior("web"),
    }
    d.update(extra)
    return {"distribution": d}


def start(tmp, nginx_origins, proxies, **extra):
    origin = nginx_origins(tmp, NGINX_LOCATIONS, FILES)
    proxy = proxies(tmp, distribution(origin.port, **extra))
    return origin, proxy


def test_second_request_is_a_hit_with_age_and_the_origin_is_asked_once(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    s1, h1, b1 = proxy.get("/max60/a.txt")
    s2, h2, b2 = proxy.get("/max60/a.txt")
    assert (s1, b1) == (200, b"a\n") and (s2, b2) == (200, b"a\n")
    assert h1["x-cache"] == "Miss from perch"
    assert h2["x-cache"] == "Hit from perch"
    assert "age" in h2 and int(h2["age"]) >= 0
    assert h2["via"].endswith("1.1 perch")
    assert h1["x-request-id"] != h2["x-request-id"]
    assert h2["content-length"] == "2"
    assert origin.requests("/max60/a.txt") == 1


def test_default_root_object_answers_the_root(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    status, headers, body = proxy.get("/")
    assert (status, body) == (200, b"home page\n")
    assert origin.requests("/index.html") == 1


def test_a_large_object_streams_whole_and_is_then_served_from_the_cache(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    expected = FILES["/max60/big.bin"]
    s1, h1, b1 = proxy.get("/max60/big.bin")
    s2, h2, b2 = proxy.get("/max60/big.bin")
    assert b1 == expected and b2 == expected
    assert h2["x-cache"] == "Hit from perch"
    assert origin.requests("/max60/big.bin") == 1


def test_pipelined_large_and_small_hits_come_back_whole_and_in_order(tmp, nginx_origins, proxies):
    # A large body goes out in paced pieces (at most 64 KiB per loop turn); what a pipelined
    # request answers meanwhile must wait behind it, whole.
    origin, proxy = start(tmp, nginx_origins, proxies)
    big, small = FILES["/max60/big.bin"], FILES["/max60/a.txt"].encode()
    for path in ("/max60/big.bin", "/max60/a.txt"):
        proxy.get(path)
        assert proxy.get(path)[1]["x-cache"] == "Hit from perch"
    req = lambda path, extra="": (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{proxy.port}\r\n{extra}\r\n").encode()
    data = (req("/max60/big.bin") + req("/max60/a.txt") + req("/max60/big.bin") +
            req("/max60/a.txt", extra="Connection: close\r\n"))
    responses = parse_responses(raw_exchange(proxy.port, data, timeout=10))
    assert [r[0] for r in responses] == [200] * 4
    assert [r[2] for r in responses] == [big, small, big, small]
    assert [r[1]["x-cache"] for r in responses] == ["Hit from perch"] * 4
    assert origin.requests("/max60/big.bin") == 1


def test_no_store_and_private_responses_are_not_cached_with_min_ttl_zero(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    for path in ("/nostore/n.txt", "/private/p.txt"):
        assert proxy.get(path)[1]["x-cache"] == "Miss from perch"
        assert proxy.get(path)[1]["x-cache"] == "Miss from perch"
        assert origin.requests(path) == 2


def test_min_ttl_above_zero_stores_a_no_store_response(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies,
                          default_cache_behavior=behavior("web", min_ttl=30, default_ttl=60))
    proxy.get("/nostore/n.txt")
    assert proxy.get("/nostore/n.txt")[1]["x-cache"] == "Hit from perch"
    assert origin.requests("/nostore/n.txt") == 1


def conditional_requests(origin, path):
    return sum(1 for l in origin.settled_log_lines() if f'"GET {path} HTTP/1.1" 304' in l)


def test_without_cache_control_the_default_ttl_applies_and_zero_means_revalidate(tmp, nginx_origins, proxies):
    # As CloudFront does, a TTL of 0 still stores the object but revalidates it every time.
    origin, proxy = start(tmp, nginx_origins, proxies,
                          default_cache_behavior=behavior("web", default_ttl=0, max_ttl=60),
                          ordered_cache_behavior=[dict(behavior("web", default_ttl=60),
                                                       path_pattern="/plain/*")])
    proxy.get("/plain/x.txt")
    assert proxy.get("/plain/x.txt")[1]["x-cache"] == "Hit from perch"
    proxy.get("/index.html")
    assert proxy.get("/index.html")[1]["x-cache"] == "RefreshHit from perch"
    assert conditional_requests(origin, "/index.html") == 1


def test_head_is_answered_from_a_stored_get_without_a_body(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    proxy.get("/max60/b.txt")
    status, headers, body = proxy.request("HEAD", "/max60/b.txt")
    assert (status, body) == (200, b"")
    assert headers["x-cache"] == "Hit from perch"
    assert headers["content-length"] == "2"
    assert origin.requests("/max60/b.txt") == 1


def test_a_head_miss_fetches_the_object_so_a_later_get_is_a_hit(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    status, headers, body = proxy.request("HEAD", "/max60/a.txt")
    assert (status, body, headers["content-length"]) == (200, b"", "2")
    s, h, b = proxy.get("/max60/a.txt")
    assert (b, h["x-cache"]) == (b"a\n", "Hit from perch")


def test_query_strings_are_ignored_unless_forwarded(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    proxy.get("/max60/a.txt?v=1")
    assert proxy.get("/max60/a.txt?v=2")[1]["x-cache"] == "Hit from perch"
    assert "?v=" not in "".join(origin.settled_log_lines())  # not forwarded either


def test_query_string_cache_keys_put_only_the_listed_parameters_in_the_key(tmp, nginx_origins, proxies):
    fv = {"query_string": True, "query_string_cache_keys": ["v"], "cookies": {"forward": "none"}}
    origin, proxy = start(tmp, nginx_origins, proxies,
                          default_cache_behavior=behavior("web", forwarded_values=fv))
    assert proxy.get("/max60/a.txt?v=1&x=1")[1]["x-cache"] == "Miss from perch"
    assert proxy.get("/max60/a.txt?v=1&x=2")[1]["x-cache"] == "Hit from perch"
    assert proxy.get("/max60/a.txt?v=2&x=1")[1]["x-cache"] == "Miss from perch"
    assert "/max60/a.txt?v=1&x=1" in "".join(origin.settled_log_lines())  # all forwarded


def test_ordered_behaviors_match_path_patterns_first_match_wins(tmp, nginx_origins, proxies):
    ordered = [
        dict(behavior("web", min_ttl=0, default_ttl=0, max_ttl=0), path_pattern="/api/*"),
        dict(behavior("web", default_ttl=60), path_pattern="/api/v*"),  # shadowed by the first
        dict(behavior("web", default_ttl=60), path_pattern="*.txt"),
    ]
    origin, proxy = start(tmp, nginx_origins, proxies, ordered_cache_behavior=ordered)
    proxy.get("/api/v.txt")
    # max_ttl 0 (the first match) beats the origin's max-age=60: revalidated every time.
    assert proxy.get("/api/v.txt")[1]["x-cache"] == "RefreshHit from perch"
    assert conditional_requests(origin, "/api/v.txt") == 1
    proxy.get("/plain/x.txt")
    assert proxy.get("/plain/x.txt")[1]["x-cache"] == "Hit from perch"  # "*.txt", ttl 60


def test_methods_outside_allowed_methods_get_403(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    status, headers, body = proxy.request("POST", "/max60/a.txt", body=b"x")
    assert status == 403
    assert headers["x-cache"] == "Error from perch"
    assert origin.requests() == 0


def test_404_is_cached_for_ten_seconds_by_default(tmp, nginx_origins, proxies):
    origin, proxy = start(tmp, nginx_origins, proxies)
    s1, h1, _ = proxy.get("/missing.txt")
    s2, h2, _ = proxy.get("/missing.txt")
    assert (s1, s2) == (404, 404)
    assert h1["x-cache"] == h2["x-cache"] == "Error from perch"
    assert origin.requests("/missing.txt") == 1


def test_custom_error_response_serves_the_page_with_the_response_code(tmp, nginx_origins, proxies):
    files = dict(FILES)
    origin = nginx_origins(tmp, NGINX_LOCATIONS, dict(files, **{"/errors/404.html": "custom 404\n"}))
    cer = [{"error_code": 404, "response_code": 200, "response_page_path": "/errors/404.html",
            "error_caching_min_ttl": 60}]
    proxy = proxies(tmp, distribution(origin.port, custom_error_response=cer))
    status, headers, body = proxy.get("/nothing-here")
    assert (status, body) == (200, b"custom 404\n")
    status, headers, body = proxy.get("/nothing-here")
    assert (status, body) == (200, b"custom 404\n")
    assert origin.requests("/nothing-here") == 1      # the 404 was cached
    assert origin.requests("/errors/404.html") == 1   # and so was the page


def test_custom_error_response_code_without_a_page_replaces_the_status(tmp, nginx_origins, proxies):
    origin = nginx_origins(tmp, NGINX_LOCATIONS, FILES)
    cer = [{"error_code": 404, "error_caching_min_ttl": 0}]
    proxy = proxies(tmp, distribution(origin.port, custom_error_response=cer))
    assert proxy.get("/nope")[0] == 404
    proxy.get("/nope")
    assert origin.requests("/nope") == 2  # error_caching_min_ttl 0: not cached


def test_workers_share_one_cache(tmp, nginx_origins, proxies):
    origin = nginx_origins(tmp, NGINX_LOCATIONS, FILES)
    proxy = proxies(tmp, distribution(origin.port), workers=2)
    results = [proxy.get("/max60/a.txt")[1]["x-cache"] for _ in range(20)]  # new connection each
    assert results.count("Miss from perch") == 1
    assert origin.requests("/max60/a.txt") == 1


def test_the_directory_origin_answers_conditional_requests_and_refuses_fifos(tmp, proxies):
    # A TTL of 0 revalidates on every request: with the directory origin that is a 304 and a
    # RefreshHit, not a Miss. A FIFO in the directory is not served and blocks nothing.
    site = os.path.join(tmp, "site")
    os.makedirs(site)
    with open(os.path.join(site, "page.html"), "w") as f:
        f.write("<p>page</p>\n")
    for i in range(6):  # more FIFOs than libuv's four thread-pool threads
        os.mkfifo(os.path.join(site, f"pipe{i}"))
    proxy = proxies(tmp, {"distribution": {
        "origin": [{"origin_id": "site", "domain_name": "localhost", "perch": {"directory": site}}],
        "default_cache_behavior": behavior("site", min_ttl=0, default_ttl=0, max_ttl=0)}})
    status, h, body = proxy.get("/page.html")
    assert (status, h["x-cache"], body) == (200, "Miss from perch", b"<p>page</p>\n")
    status, h, body = proxy.get("/page.html")
    assert (status, h["x-cache"], body) == (200, "RefreshHit from perch", b"<p>page</p>\n")
    # The viewer's own conditional gets a 304 from the edge, with the origin's validators.
    status, h2, _ = proxy.get("/page.html", headers={"If-None-Match": h["etag"]})
    assert status == 304 and h2["etag"] == h["etag"]
    for i in range(6):
        assert proxy.get(f"/pipe{i}")[0] == 404
    assert proxy.get("/page.html")[0] == 200  # the thread pool is still free
    assert proxy.stop() == 0
