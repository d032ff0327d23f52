"""Request collapsing through the real proxy: concurrent misses for one key make one origin
request, waiters are fed as the bytes arrive, uncacheable responses release them at once,
and a waiter that leaves harms nobody. The scripted fault origin counts requests."""
import os
import socket
import struct
import threading
import time

import pytest

from perchtest import behavior, http_origin, parse_responses, recv_until_close, rss_kib

FORWARD_QUERY = {"query_string": True, "cookies": {"forward": "none"}}


def start(tmp, fault_origin, proxies, workers=1):
    return proxies(tmp, {"distribution": {
        "origin": [http_origin("o", fault_origin.port)],
        "default_cache_behavior": behavior("o", default_ttl=60, forwarded_values=FORWARD_QUERY)}},
        workers=workers)


def get_all(port, path, n, method="GET", fields=lambda i: ""):
    """n concurrent requests on n connections (request i gets the header lines fields(i));
    returns [(status, headers, body, elapsed)]."""
    results = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        barrier.wait()
        t0 = time.monotonic()
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: a\r\n{fields(i)}"
                  "Connection: close\r\n\r\n".encode())
        data = recv_until_close(s)
        s.close()
        (status, headers, body), = parse_responses(data) if method == "GET" else [
            (int(data.split(b" ")[1]), {}, b"")]
        results[i] = (status, headers, body, time.monotonic() - t0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("workers", [1, 2])
def test_concurrent_misses_make_one_origin_request(tmp, fault_origin, proxies, workers):
    proxy = start(tmp, fault_origin, proxies, workers)
    results = get_all(proxy.port, "/slow/500?h=Cache-Control:max-age=60", 40)
    assert all(r[0] == 200 and r[2] == b"slow\n" for r in results)
    assert fault_origin.requests("/slow/500") == 1
    kinds = sorted(r[1]["x-cache"] for r in results)
    assert kinds.count("Miss from perch") == 1 and kinds.count("Hit from perch") == 39
    # Request ids start with 8 hex digits of the runtime (worker) that served them.
    assert len({r[1]["x-request-id"][:8] for r in results}) == workers


def test_waiters_get_the_bytes_as_they_arrive(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    path = "/drip/400000/400?h=Cache-Control:max-age=60"
    leader = threading.Thread(target=get_all, args=(proxy.port, path, 1))
    leader.start()
    time.sleep(0.2)  # the leader's fetch is under way: its first piece has arrived
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    t0 = time.monotonic()
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode())
    first = s.recv(65536)
    first_at = time.monotonic() - t0
    data = first
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    done_at = time.monotonic() - t0
    s.close()
    leader.join()
    (status, headers, body), = parse_responses(data)
    assert status == 200 and len(body) == 400000 and headers["x-cache"] == "Hit from perch"
    assert body[:26] == b"abcdefghijklmnopqrstuvwxyz"
    assert first_at < 0.3 and done_at > 0.8  # the head and first bytes came long before the end
    assert fault_origin.requests("/drip/400000/400") == 1


def test_an_uncacheable_response_releases_the_waiters_all_at_once(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    results = get_all(proxy.port, "/slow/600?h=Cache-Control:no-store", 6)
    assert all(r[0] == 200 and r[1]["x-cache"] == "Miss from perch" for r in results)
    assert fault_origin.requests("/slow/600") == 6
    # Released waiters fetch in parallel: about two origin round trips, never six.
    assert max(r[3] for r in results) < 2.5


def test_viewers_that_leave_harm_nobody_not_even_the_leader(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    path = "/drip/200000/300?h=Cache-Control:max-age=60"
    leaving = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", proxy.port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        leaving.append(s)
    time.sleep(0.1)
    results = []
    t = threading.Thread(target=lambda: results.extend(get_all(proxy.port, path, 4)))
    t.start()
    time.sleep(0.35)
    for s in leaving:  # the leader (first) and two waiters leave mid-body
        s.close()
    t.join()
    assert [len(r[2]) for r in results] == [200000] * 4
    assert fault_origin.requests("/drip/200000/300") == 1
    # The leader's fetch was finished for the waiters and stored.
    assert get_all(proxy.port, path, 1)[0][1]["x-cache"] == "Hit from perch"


def test_a_failing_origin_lets_waiters_fetch_for_themselves(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    results = get_all(proxy.port, "/truncate/100000?x=1", 5)
    # Each request sees the cut (a truncated body is never completed), none hangs.
    assert all(len(r[2]) < 200000 for r in results)
    before = fault_origin.requests("/truncate/100000")
    assert 1 <= before <= 5
    get_all(proxy.port, "/truncate/100000?x=1", 1)  # nothing was stored: back to the origin
    assert fault_origin.requests("/truncate/100000") == before + 1


def test_a_leader_that_leaves_before_the_head_hands_the_fetch_to_a_waiter(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    path = "/slow/600?h=Cache-Control:max-age=60"
    leader = socket.create_connection(("127.0.0.1", proxy.port))
    leader.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    time.sleep(0.1)  # the leader's fetch is under way
    results = []
    t = threading.Thread(target=lambda: results.extend(get_all(proxy.port, path, 5)))
    t.start()
    time.sleep(0.2)
    # A reset before the origin's head (a half-close would still be answered): the waiters
    # elect one of them to fetch.
    leader.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    leader.close()
    t.join()
    assert all(r[0] == 200 and r[2] == b"slow\n" for r in results)
    assert sorted(r[1]["x-cache"] for r in results).count("Miss from perch") == 1
    assert fault_origin.requests("/slow/600") == 2  # the abandoned fetch and the new leader's


def test_concurrent_misses_for_a_varying_object_make_one_request_per_variant(tmp, fault_origin, proxies):
    # X-Trace reaches the origin (origin request policy) but is not in the cache key: the
    # origin's Vary: X-Trace splits one key into variants, and each variant collapses.
    config = {
        "cache_policy": [{"id": "keyed", "name": "Keyed", "default_ttl": 60,
                          "parameters_in_cache_key_and_forwarded_to_origin": {
                              "cookies_config": {"cookie_behavior": "none"},
                              "headers_config": {"header_behavior": "none"},
                              "query_strings_config": {"query_string_behavior": "all"}}}],
        "origin_request_policy": [{"id": "trace", "name": "Trace",
                                   "cookies_config": {"cookie_behavior": "none"},
                                   "headers_config": {"header_behavior": "whitelist",
                                                      "headers": {"items": ["X-Trace"]}},
                                   "query_strings_config": {"query_string_behavior": "all"}}],
        "distribution": {
            "origin": [http_origin("o", fault_origin.port)],
            "default_cache_behavior": behavior("o", cache_policy_id="keyed",
                                               origin_request_policy_id="trace")}}
    proxy = proxies(tmp, config)
    path = "/slow/600?h=Cache-Control:max-age=60&h=Vary:X-Trace&echo=X-Trace"
    results = get_all(proxy.port, path, 20, fields=lambda i: f"X-Trace: {'ab'[i % 2]}\r\n")
    for i, r in enumerate(results):
        assert (r[0], r[2]) == (200, f"slow {'ab'[i % 2]}\n".encode()), i
    assert fault_origin.requests("/slow/600") == 2
    assert sorted(r[1]["x-cache"] for r in results).count("Miss from perch") == 2


def test_a_slow_waiter_of_a_response_too_large_to_store_paces_the_origin(tmp, fault_origin, proxies):
    # The object outgrows max_object mid-body (chunked, no length): it is streamed, not
    # stored, and the fill keeps only what its slowest waiter has not read yet; the origin
    # waits for that waiter instead of the proxy buffering the difference.
    proxy = proxies(tmp, {"distribution": {
        "origin": [http_origin("o", fault_origin.port)],
        "default_cache_behavior": behavior("o", default_ttl=60, forwarded_values=FORWARD_QUERY)},
        "perch": {"cache": {"memory": "64MiB", "max_object": "1MiB"}}})
    size = 48_000_000
    path = f"/chunked/{size}?h=Cache-Control:max-age=60&wait=500"  # the head, then a pause
    request = f"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode()
    slow = socket.create_connection(("127.0.0.1", proxy.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    fast = socket.create_connection(("127.0.0.1", proxy.port))
    fast.sendall(request)
    time.sleep(0.2)  # the fast one leads; the slow one joins before the body comes
    slow.sendall(request)
    fast_data = []
    reader = threading.Thread(target=lambda: fast_data.append(recv_until_close(fast)))
    reader.start()
    before = rss_kib(proxy.proc.pid)
    time.sleep(0.8)  # the slow waiter reads nothing meanwhile
    held = rss_kib(proxy.proc.pid)
    time.sleep(1.5)
    grown, growing = rss_kib(proxy.proc.pid) - before, rss_kib(proxy.proc.pid) - held
    assert reader.is_alive()  # the leader's viewer waits with the origin
    slow_data = recv_until_close(slow)
    reader.join()
    for data in (fast_data[0], slow_data):
        (status, headers, body), = parse_responses(data)
        assert status == 200 and len(body) == size and body.count(b"c") == size
    # Socket buffers and a few MiB of lag are held, then nothing more (without the pacing the
    # proxy grows by the origin's rate, about 5 MiB/s here).
    assert growing < 2 * 1024, f"the proxy kept growing ({growing} KiB in 1.5 s)"
    bound = 48 * 1024 if os.environ.get("PERCH_SANITIZED") else 24 * 1024  # ASan's quarantine
    assert grown < bound, f"the proxy grew by {grown} KiB while the waiter did not read"
    assert fault_origin.requests(f"/chunked/{size}") == 1


def collapsed_pair(proxy, path, slow_first):
    """A viewer that reads nothing and one that reads everything, collapsed on `path`; returns
    (the reading one's thread, its result list, the idle socket)."""
    request = f"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode()
    slow = socket.create_connection(("127.0.0.1", proxy.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    fast = socket.create_connection(("127.0.0.1", proxy.port))
    first, second = (slow, fast) if slow_first else (fast, slow)
    first.sendall(request)
    time.sleep(0.2)  # the first one leads; the second joins before the body comes
    second.sendall(request)
    fast_data = []
    reader = threading.Thread(target=lambda: fast_data.append(recv_until_close(fast)))
    reader.start()
    return reader, fast_data, slow


@pytest.mark.parametrize("slow_leads", [False, True], ids=["slow-waiter", "slow-leader"])
def test_a_viewer_that_does_not_read_never_holds_the_others_of_a_stored_object(
        tmp, fault_origin, proxies, slow_leads):
    # The object is stored anyway: the fill runs at the origin's pace and each viewer reads the
    # bytes at its own (before, every viewer stopped at about 5 MB until idle_timeout).
    proxy = proxies(tmp, {"distribution": {
        "origin": [http_origin("o", fault_origin.port)],
        "default_cache_behavior": behavior("o", default_ttl=60, forwarded_values=FORWARD_QUERY)},
        "perch": {"cache": {"memory": "1GiB", "max_object": "64MiB"}}})
    size = 20_000_000
    path = f"/drip/{size}/300?h=Cache-Control:max-age=60"
    reader, fast_data, slow = collapsed_pair(proxy, path, slow_leads)
    reader.join(timeout=15)
    assert not reader.is_alive(), "the reading viewer was held by the one that does not read"
    slow_data = recv_until_close(slow)
    for data in (fast_data[0], slow_data):
        (status, _, body), = parse_responses(data)
        assert status == 200 and len(body) == size
    assert fault_origin.requests(f"/drip/{size}/300") == 1
    assert proxy.get(path, {"Host": "a"})[1]["x-cache"] == "Hit from perch"


@pytest.mark.parametrize("slow_leads", [False, True], ids=["slow-waiter", "slow-leader"])
def test_a_viewer_that_lags_a_stream_that_is_not_stored_is_cut_loose(tmp, fault_origin, proxies,
                                                                    slow_leads):
    # Too large to store: the stream is paced to its slowest waiter, for at most
    # collapsed_lag_timeout; then that waiter's response is cut short and the other goes on.
    proxy = proxies(tmp, {"distribution": {
        "origin": [http_origin("o", fault_origin.port)],
        "default_cache_behavior": behavior("o", default_ttl=60, forwarded_values=FORWARD_QUERY)},
        "perch": {"cache": {"memory": "64MiB", "max_object": "1MiB"},
                  "limits": {"collapsed_lag_timeout": 1}}})
    size = 48_000_000
    path = f"/chunked/{size}?h=Cache-Control:max-age=60&wait=500"
    reader, fast_data, slow = collapsed_pair(proxy, path, slow_first=slow_leads)
    reader.join(timeout=20)
    assert not reader.is_alive()
    (status, _, body), = parse_responses(fast_data[0])
    assert status == 200 and len(body) == size
    slow_data = recv_until_close(slow)
    head, _, rest = slow_data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and not rest.endswith(b"0\r\n\r\n")  # cut short
    assert "cut loose" in proxy.output()
    assert fault_origin.requests(f"/chunked/{size}") == 1
