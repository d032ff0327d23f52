"""Cache semantics at their edges, against perch's scripted fault origin: path normalization
before behaviors, OPTIONS keys, error TTLs across revalidation, Age per response, 204."""
import email.utils
import urllib.parse
import json
import socket
import time

from perchtest import behavior, http_origin, parse_responses, raw_exchange


# Query strings are forwarded: the fault origin is scripted through them.
FORWARD_QUERY = {"query_string": True, "cookies": {"forward": "none"}}


def distribution(port, **extra):
    d = {"origin": [http_origin("o", port)],
         "default_cache_behavior": behavior("o", default_ttl=60, forwarded_values=FORWARD_QUERY)}
    d.update(extra)
    return {"distribution": d}


def test_dot_segments_escapes_and_double_slashes_cannot_dodge_a_behavior(tmp, fault_origin, proxies):
    secret = dict(behavior("o"), path_pattern="/secret/*", viewer_protocol_policy="https-only")
    proxy = proxies(tmp, distribution(fault_origin.port, ordered_cache_behavior=[secret]))
    for path in ("/secret/a.txt", "/pub/../secret/a.txt", "/%73ecret/a.txt", "//secret/a.txt",
                 "/pub/%2e%2e/secret/a.txt"):
        assert proxy.get(path)[0] == 403, path
    assert fault_origin.requests("/secret/a.txt") == 0
    status, _, body = proxy.get("/pub/./x/../y")
    assert (status, body) == (200, b"hello /pub/y\n")  # the origin sees the normalized path


def test_options_gets_its_own_cache_entry_when_cached_methods_include_it(tmp, fault_origin, proxies):
    b = behavior("o", methods=("GET", "HEAD", "OPTIONS"), forwarded_values=FORWARD_QUERY)
    b["cached_methods"] = ["GET", "HEAD", "OPTIONS"]
    proxy = proxies(tmp, distribution(fault_origin.port, default_cache_behavior=b))
    assert json.loads(proxy.get("/echo-cors?h=Cache-Control:max-age=60")[2])["method"] == "GET"
    status, headers, body = proxy.request("OPTIONS", "/echo-cors?h=Cache-Control:max-age=60")
    assert json.loads(body)["method"] == "OPTIONS"
    status, headers, body = proxy.request("OPTIONS", "/echo-cors?h=Cache-Control:max-age=60")
    assert headers["x-cache"] == "Hit from perch" and json.loads(body)["method"] == "OPTIONS"


def test_age_comes_from_each_response_not_from_the_previous_one_on_the_connection(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port))
    data = raw_exchange(proxy.port,
                        b"GET /aged?h=Cache-Control:max-age=1000&h=Age:500 HTTP/1.1\r\nHost: a\r\n\r\n"
                        b"GET /fresh?h=Cache-Control:no-store&h=Age:3 HTTP/1.1\r\nHost: a\r\n"
                        b"Connection: close\r\n\r\n")
    (_, h1, _), (_, h2, _) = parse_responses(data)
    assert int(h1["age"]) >= 500
    assert h2["age"] == "3"


def test_a_cached_204_is_served_without_content_length(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port))
    request = b"GET /status/204?h=Cache-Control:max-age=60 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    assert b"Miss from perch" in raw_exchange(proxy.port, request)
    head = raw_exchange(proxy.port, request).split(b"\r\n\r\n")[0]
    assert b"204" in head.split(b"\r\n")[0] and b"Hit from perch" in head
    assert b"content-length" not in head.lower()


def test_a_viewer_leaving_while_a_refreshed_error_fetches_its_page_is_harmless(tmp, fault_origin, proxies):
    page = dict(behavior("o", forwarded_values=FORWARD_QUERY), path_pattern="/slow/*")
    cer = [{"error_code": 404, "response_code": 404, "response_page_path": "/slow/600",
            "error_caching_min_ttl": 1}]
    proxy = proxies(tmp, distribution(fault_origin.port, ordered_cache_behavior=[page],
                                      custom_error_response=cer))
    path = b"/etag-page?status=404&cc=no-cache"
    proxy.get(path.decode())
    time.sleep(1.3)  # the error is stale: revalidated (304), then its page is fetched (600 ms)
    s = socket.create_connection(("127.0.0.1", proxy.port))
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    time.sleep(0.2)
    s.close()  # leaves while the page is on its way
    time.sleep(0.8)
    assert proxy.proc.poll() is None
    assert proxy.get("/still-alive")[0] == 200


def test_a_successful_unsafe_request_invalidates_its_url_and_same_host_locations(tmp, fault_origin, proxies):
    methods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    proxy = proxies(tmp, {"distribution": {
        "origin": [http_origin("o", fault_origin.port)],
        "default_cache_behavior": behavior("o", methods=methods, default_ttl=60,
                                           forwarded_values=FORWARD_QUERY)}})
    headers = {"Host": "site.example"}
    for p in ("/items/1", "/items/2", "/items/3"):
        proxy.get(p, headers)
        assert proxy.get(p, headers)[1]["x-cache"] == "Hit from perch"
    # An error answer invalidates nothing.
    assert proxy.request("POST", "/status/500", headers, body=b"x")[0] == 500
    # POST /items/1 answered 201 with Location on this host, Content-Location elsewhere.
    status, _, _ = proxy.request(
        "POST", "/items/1?h=Location:http://site.example/items/2&h=Content-Location:"
        "http://elsewhere.example/items/3", headers, body=b"new")
    assert status == 200
    assert proxy.get("/items/1", headers)[1]["x-cache"] == "Miss from perch"
    assert proxy.get("/items/2", headers)[1]["x-cache"] == "Miss from perch"
    assert proxy.get("/items/3", headers)[1]["x-cache"] == "Hit from perch"
    # DELETE with a 204 and a relative Location.
    proxy.request("DELETE", "/items/3?h=Location:/items/1", headers)
    assert proxy.get("/items/3", headers)[1]["x-cache"] == "Miss from perch"
    assert proxy.get("/items/1", headers)[1]["x-cache"] == "Miss from perch"
    # A path-relative Location is resolved against the request's path.
    proxy.request("PUT", "/items/9?h=Location:2", headers, body=b"x")
    assert proxy.get("/items/2", headers)[1]["x-cache"] == "Miss from perch"
    # Another host's copy of the path is left alone.
    other = {"Host": "other.example"}
    for h in (headers, other):
        proxy.get("/items/5", h)
    proxy.request("POST", "/items/5", headers, body=b"x")
    assert proxy.get("/items/5", other)[1]["x-cache"] == "Hit from perch"
    assert proxy.get("/items/5", headers)[1]["x-cache"] == "Miss from perch"


def test_vary_keeps_one_variant_per_value_of_the_fields_the_origin_sees(tmp, fault_origin, proxies):
    # Accept-Language reaches the origin (origin request policy) but is not in the cache key:
    # the origin's Vary splits the entry.
    config = distribution(fault_origin.port, default_cache_behavior=behavior(
        "o", cache_policy_id="keyed", origin_request_policy_id="lang"))
    config["cache_policy"] = [{"id": "keyed", "name": "Keyed", "default_ttl": 60,
                               "parameters_in_cache_key_and_forwarded_to_origin": {
                                   "cookies_config": {"cookie_behavior": "none"},
                                   "headers_config": {"header_behavior": "none"},
                                   "query_strings_config": {"query_string_behavior": "all"}}}]
    config["origin_request_policy"] = [{"id": "lang", "name": "Lang",
                                        "cookies_config": {"cookie_behavior": "none"},
                                        "headers_config": {"header_behavior": "whitelist",
                                                           "headers": {"items": ["Accept-Language"]}},
                                        "query_strings_config": {"query_string_behavior": "all"}}]
    proxy = proxies(tmp, config)
    path = "/echo/v?h=Vary:Accept-Language&h=Cache-Control:max-age=60"

    def get(lang):
        status, h, body = proxy.get(path, {"Accept-Language": lang, "Host": "a"})
        assert status == 200 and json.loads(body)["headers"] and lang in body.decode()
        return h["x-cache"]

    assert [get("en"), get("en"), get("fr"), get("fr"), get("en")] == [
        "Miss from perch", "Hit from perch", "Miss from perch", "Hit from perch", "Hit from perch"]
    assert fault_origin.requests("/echo/v") == 2


def test_vary_on_a_field_the_origin_never_sees_does_not_split_the_cache(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port))  # cookies are not forwarded
    path = "/echo/c?h=Vary:Cookie&h=Cache-Control:max-age=60"
    assert proxy.get(path, {"Cookie": "a=1"})[1]["x-cache"] == "Miss from perch"
    assert proxy.get(path, {"Cookie": "a=2"})[1]["x-cache"] == "Hit from perch"


def test_vary_star_is_never_stored(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port))
    path = "/echo/s?h=Vary:*&h=Cache-Control:max-age=60"
    assert proxy.get(path)[1]["x-cache"] == "Miss from perch"
    assert proxy.get(path)[1]["x-cache"] == "Miss from perch"


def test_objects_above_max_object_are_streamed_and_not_stored(tmp, fault_origin, proxies):
    config = distribution(fault_origin.port)
    config["perch"] = {"cache": {"memory": "8MiB", "max_object": "100KiB"}}
    proxy = proxies(tmp, config)
    for path in ("/chunked/200000?h=Cache-Control:max-age=60",  # length unknown up front
                 "/drip/200000/0?h=Cache-Control:max-age=60"):  # announced length
        for _ in range(2):
            status, h, body = proxy.get(path)
            assert (status, len(body), h["x-cache"]) == (200, 200000, "Miss from perch")
    assert proxy.get("/drip/90000/0?h=Cache-Control:max-age=60")[1]["x-cache"] == "Miss from perch"
    assert proxy.get("/drip/90000/0?h=Cache-Control:max-age=60")[1]["x-cache"] == "Hit from perch"


def test_request_no_store_and_only_if_cached(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port))
    path = "/r?h=Cache-Control:max-age=60"
    assert proxy.get(path, {"Cache-Control": "no-store"})[1]["x-cache"] == "Miss from perch"
    assert proxy.get(path, {"Cache-Control": "only-if-cached"})[0] == 504  # nothing was stored
    assert proxy.get(path)[1]["x-cache"] == "Miss from perch"
    # Viewer no-cache / max-age=0 are preferences the edge ignores (no forced origin traffic).
    assert proxy.get(path, {"Cache-Control": "no-cache"})[1]["x-cache"] == "Hit from perch"
    assert proxy.get(path, {"Cache-Control": "only-if-cached"})[1]["x-cache"] == "Hit from perch"
    assert fault_origin.requests("/r") == 2


def test_errors_are_cached_as_cloudfront_lists_them(tmp, fault_origin, proxies):
    # 404/414/5xx always (10 s by default); 400/403/405/412/415 only with max-age or s-maxage;
    # no-store/no-cache/private keep a 404, 414 or 501 out but not the other errors.
    proxy = proxies(tmp, distribution(fault_origin.port))
    cases = [  # (path, origin requests after two viewer requests)
        ("/status/404", 1),
        ("/status/503/a", 1),
        ("/status/503/b?h=Cache-Control:no-store", 1),
        ("/status/403", 2),
        ("/status/405", 2),
        ("/status/403/e?h=Expires:Thu,%2001%20Dec%202094%2016:00:00%20GMT", 2),
        ("/status/403/m?h=Cache-Control:max-age=60", 1),
        ("/status/405/s?h=Cache-Control:s-maxage=60", 1),
        ("/status/404/p?h=Cache-Control:private", 2),
        ("/status/501?h=Cache-Control:no-store", 2),
        ("/status/416?h=Cache-Control:max-age=60", 2),
    ]
    for path, _ in cases:
        for _ in range(2):
            assert proxy.get(path)[0] >= 400
    for path, expected in cases:
        assert fault_origin.requests(path.split("?")[0]) == expected, path


def http_date(seconds_from_now):
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True).replace(" ", "%20")


def test_cdn_cache_control_is_obeyed_ahead_of_cache_control(tmp, fault_origin, proxies):
    # RFC 9213: the CDN's own field wins for this cache; the viewer still gets both.
    proxy = proxies(tmp, distribution(fault_origin.port))
    stored = "/cdn-a?h=Cache-Control:no-store&h=CDN-Cache-Control:max-age=60"
    passed = "/cdn-b?h=Cache-Control:max-age=60&h=CDN-Cache-Control:no-store"
    for path in (stored, passed):
        proxy.get(path)
    status, h, _ = proxy.get(stored)
    assert h["x-cache"] == "Hit from perch" and h["cache-control"] == "no-store"
    assert proxy.get(passed)[1]["x-cache"] == "Miss from perch"
    assert fault_origin.requests("/cdn-a") == 1 and fault_origin.requests("/cdn-b") == 2


def test_a_cdn_cache_control_that_is_not_a_valid_dictionary_is_ignored_whole(tmp, fault_origin, proxies):
    # RFC 9213 with RFC 9651: a wrong value type or a parse failure makes the cache act as if
    # the field were absent, so Cache-Control decides (here: no-store, so every request misses).
    proxy = proxies(tmp, distribution(fault_origin.port))
    values = {"/sf-str": 'max-age="60"', "/sf-tok": "max-age=a", "/sf-upper": "Max-Age=60",
              "/sf-comma": "max-age=60,"}
    for path, value in values.items():
        query = "?h=Cache-Control:no-store&h=CDN-Cache-Control:" + urllib.parse.quote(value)
        for _ in range(2):
            assert proxy.get(path + query)[1]["x-cache"] == "Miss from perch", value
        assert fault_origin.requests(path) == 2, value
    valid = "/sf-ok?h=Cache-Control:no-store&h=CDN-Cache-Control:" + urllib.parse.quote("max-age=60;x=1, public")
    proxy.get(valid)
    assert proxy.get(valid)[1]["x-cache"] == "Hit from perch"
    assert fault_origin.requests("/sf-ok") == 1


def test_an_origin_status_outside_100_599_becomes_502_and_is_not_passed_on(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port))
    for path in ("/status/999", "/status/600", "/status/099"):
        status, h, body = proxy.get(path + "?h=Cache-Control:max-age=60")
        assert status == 502, path
        assert b"status " not in body  # the origin's body does not reach the viewer
    assert proxy.get("/status/999?h=Cache-Control:max-age=60")[0] == 502  # nothing stored
    assert fault_origin.requests("/status/999") == 2


def test_a_get_or_head_with_a_body_is_refused_with_403_and_never_reaches_the_origin(tmp, fault_origin, proxies):
    # CloudFront answers 403; forwarding it would let one viewer's body shape a shared answer.
    proxy = proxies(tmp, distribution(fault_origin.port))
    request = (b"GET /status/200?h=Cache-Control:max-age=60 HTTP/1.1\r\nHost: a\r\n"
               b"Content-Length: 5\r\n\r\nhello"
               b"GET /status/200?h=Cache-Control:max-age=60 HTTP/1.1\r\nHost: a\r\n"
               b"Connection: close\r\n\r\n")
    answers = parse_responses(raw_exchange(proxy.port, request))
    # Refused, then closed (the body is not taken as the next request), like any refused upload.
    assert [a[0] for a in answers] == [403]
    assert answers[0][1].get("connection") == "close"
    head = (b"HEAD /status/200?h=Cache-Control:max-age=60 HTTP/1.1\r\nHost: a\r\n"
            b"Content-Length: 5\r\nConnection: close\r\n\r\nhello")
    assert raw_exchange(proxy.port, head).startswith(b"HTTP/1.1 403 ")
    chunked = (b"GET /status/200 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
               b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert raw_exchange(proxy.port, chunked).startswith(b"HTTP/1.1 403 ")
    assert fault_origin.requests("/status/200") == 0


def test_expires_gives_the_freshness_when_cache_control_does_not(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port))
    future, past = f"/exp-f?h=Expires:{http_date(60)}", f"/exp-p?h=Expires:{http_date(-60)}"
    invalid, overridden = "/exp-i?h=Expires:0", f"/exp-o?h=Expires:{http_date(60)}&h=Cache-Control:max-age=0"
    for path in (future, past, invalid, overridden):
        proxy.get(path)
        proxy.get(path)
    assert fault_origin.requests("/exp-f") == 1  # fresh for a minute
    assert fault_origin.requests("/exp-p") == 2  # already expired: asked again
    assert fault_origin.requests("/exp-i") == 2  # an invalid date is in the past (§5.3)
    assert fault_origin.requests("/exp-o") == 2  # max-age beats Expires


def test_no_transform_and_other_fields_reach_the_viewer_unchanged(tmp, fault_origin, proxies):
    # perch never transforms a body; the stored head keeps the origin's fields as they were.
    proxy = proxies(tmp, distribution(fault_origin.port))
    path = "/nt?h=Cache-Control:no-transform,max-age=60&h=Content-Type:text/x-raw&h=X-Extra:1"
    for expected in ("Miss from perch", "Hit from perch"):
        status, h, body = proxy.get(path)
        assert (status, body, h["x-cache"]) == (200, b"hello /nt\n", expected)
        assert h["cache-control"] == "no-transform,max-age=60"
        assert h["content-type"] == "text/x-raw" and h["x-extra"] == "1"


def test_a_response_with_set_cookie_is_not_stored_for_other_viewers_by_default(tmp, fault_origin, proxies):
    # Cookies forwarded (keyed): two viewers without cookies share a key. A response that sets
    # a session must not be replayed to the second one unless it says it may be shared.
    fv = {"query_string": True, "cookies": {"forward": "all"}}
    path = "/sc?h=Set-Cookie:session=SECRET6&h=Cache-Control:max-age=60"
    shared = "/sc2?h=Set-Cookie:theme=dark&h=Cache-Control:public,max-age=60"
    proxy = proxies(tmp, distribution(fault_origin.port, default_cache_behavior=behavior(
        "o", default_ttl=60, forwarded_values=fv)))
    for _ in range(2):
        _, h, _ = proxy.get(path)
        assert h["x-cache"] == "Miss from perch" and h["set-cookie"] == "session=SECRET6"
    assert fault_origin.requests("/sc") == 2
    # public (or s-maxage) makes it shareable: stored, as before.
    assert [proxy.get(shared)[1]["x-cache"] for _ in range(2)] == [
        "Miss from perch", "Hit from perch"]


def test_perch_store_set_cookie_restores_cloudfronts_behaviour(tmp, fault_origin, proxies):
    fv = {"query_string": True, "cookies": {"forward": "all"}}
    path = "/sc?h=Set-Cookie:session=SECRET6&h=Cache-Control:max-age=60"
    b = dict(behavior("o", default_ttl=60, forwarded_values=fv), perch={"store_set_cookie": True})
    proxy = proxies(tmp, distribution(fault_origin.port, default_cache_behavior=b))
    proxy.get(path)
    _, h, _ = proxy.get(path)
    assert h["x-cache"] == "Hit from perch" and h["set-cookie"] == "session=SECRET6"
    assert fault_origin.requests("/sc") == 1
