"""Serving stale content through the real proxy: stale-while-revalidate (served at once, one
background refresh), stale-if-error and CloudFront's stale-on-error rule, and the directives
that forbid serving stale. The scripted fault origin counts requests and fails on cue."""
import threading
import time

from perchtest import behavior, http_origin

FORWARD_QUERY = {"query_string": True, "cookies": {"forward": "none"}}


def start(tmp, port, proxies, **extra):
    return proxies(tmp, {"distribution": dict({
        "origin": [http_origin("o", port)],
        "default_cache_behavior": behavior("o", default_ttl=60, forwarded_values=FORWARD_QUERY)},
        **extra)})


def timed_get(proxy, path):
    t0 = time.monotonic()
    status, h, body = proxy.get(path)
    return status, h, body, time.monotonic() - t0


def test_stale_while_revalidate_serves_at_once_and_refreshes_once(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin.port, proxies)
    path = "/slow/700?h=Cache-Control:max-age=1,stale-while-revalidate=30"
    assert proxy.get(path)[1]["x-cache"] == "Miss from perch"
    time.sleep(1.3)
    results = []
    threads = [threading.Thread(target=lambda: results.append(timed_get(proxy, path)))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # All five served the stale copy without waiting for the 700 ms origin.
    assert all(r[0] == 200 and r[1]["x-cache"] == "Hit from perch" for r in results)
    assert max(r[3] for r in results) < 0.5
    assert int(results[0][1]["age"]) >= 1
    time.sleep(1.0)  # the one background refresh has landed
    assert fault_origin.requests("/slow/700") == 2
    status, h, _ = proxy.get(path)
    assert h["x-cache"] == "Hit from perch" and int(h.get("age", "0")) < 2


def test_past_the_stale_while_revalidate_window_the_viewer_waits(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin.port, proxies)
    path = "/slow/300?h=Cache-Control:max-age=1,stale-while-revalidate=1"
    proxy.get(path)
    time.sleep(2.3)  # past max-age + stale-while-revalidate
    status, h, _, took = timed_get(proxy, path)
    assert h["x-cache"] == "Miss from perch" and took >= 0.3


def test_an_origin_5xx_serves_the_stale_copy_for_the_error_caching_ttl(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin.port, proxies)
    path = "/flip/1?h=Cache-Control:max-age=1"
    assert proxy.get(path)[2] == b"fresh 1\n"
    time.sleep(1.3)
    status, h, body = proxy.get(path)  # the origin now answers 500
    assert (status, body, h["x-cache"]) == (200, b"fresh 1\n", "Hit from perch")
    assert fault_origin.requests("/flip/1") == 2
    # Kept for CloudFront's default error caching TTL (10 s): no new origin request.
    assert proxy.get(path)[2] == b"fresh 1\n"
    assert fault_origin.requests("/flip/1") == 2


def test_an_unreachable_origin_serves_the_stale_copy(tmp, proxies):
    from perchtest import FaultOrigin
    origin = FaultOrigin()
    proxy = start(tmp, origin.port, proxies)
    path = "/x?h=Cache-Control:max-age=1"
    assert proxy.get(path)[0] == 200
    origin.stop()
    time.sleep(1.3)
    status, h, body = proxy.get(path)
    assert (status, body, h["x-cache"]) == (200, b"hello /x\n", "Hit from perch")


def test_stale_if_error_zero_or_must_revalidate_let_the_error_through(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin.port, proxies)
    ccs = ("max-age=1,stale-if-error=0", "max-age=1,must-revalidate", "s-maxage=1")
    for i, cc in enumerate(ccs):
        assert proxy.get(f"/flip/1/{i}?h=Cache-Control:{cc}")[0] == 200
    time.sleep(1.3)
    for i, cc in enumerate(ccs):
        assert proxy.get(f"/flip/1/{i}?h=Cache-Control:{cc}")[0] == 500, cc


def test_stale_if_error_bounds_how_stale_a_copy_may_be(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin.port, proxies)
    inside = "/flip/1/in?h=Cache-Control:max-age=1,stale-if-error=30"
    outside = "/flip/1/out?h=Cache-Control:max-age=1,stale-if-error=1"
    proxy.get(inside)
    proxy.get(outside)
    time.sleep(2.3)  # 1.3 s past expiry: inside the first window, outside the second
    assert proxy.get(inside)[:3:2] == (200, b"fresh 1\n")
    assert proxy.get(outside)[0] == 500


def test_any_5xx_serves_the_stale_copy(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin.port, proxies)
    for code in (501, 505):
        path = f"/flip/1/{code}?fail={code}&h=Cache-Control:max-age=1"
        assert proxy.get(path)[2] == b"fresh 1\n"
    time.sleep(1.3)
    for code in (501, 505):
        path = f"/flip/1/{code}?fail={code}&h=Cache-Control:max-age=1"
        status, h, body = proxy.get(path)
        assert (status, body, h["x-cache"]) == (200, b"fresh 1\n", "Hit from perch"), code


def test_s_maxage_with_stale_while_revalidate_is_served_stale(tmp, fault_origin, proxies):
    # The common s-maxage=1, stale-while-revalidate=N: the explicit directive permits it.
    proxy = start(tmp, fault_origin.port, proxies)
    path = "/slow/400?h=Cache-Control:s-maxage=1,stale-while-revalidate=30"
    proxy.get(path)
    time.sleep(1.3)
    status, h, _, took = timed_get(proxy, path)
    assert (status, h["x-cache"]) == (200, "Hit from perch") and took < 0.3
    time.sleep(0.8)
    assert fault_origin.requests("/slow/400") == 2
