"""Range requests and viewer preconditions answered by the edge from a full object, on a hit,
on a miss (as the bytes arrive) and for collapsed waiters; against the scripted fault origin."""
import socket
import threading
import time

from perchtest import behavior, http_origin, parse_responses, raw_exchange

FORWARD_QUERY = {"query_string": True, "cookies": {"forward": "none"}}
N = 100000
BODY = bytes(b"abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(N))
PATH = f"/drip/{N}/0?h=Cache-Control:max-age=60&h=Content-Type:text/plain"


def start(tmp, fault_origin, proxies):
    return proxies(tmp, {"distribution": {
        "origin": [http_origin("o", fault_origin.port)],
        "default_cache_behavior": behavior("o", default_ttl=60, forwarded_values=FORWARD_QUERY)}})


def get(proxy, path, **headers):
    fields = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    data = raw_exchange(proxy.port, f"GET {path} HTTP/1.1\r\nHost: a\r\n{fields}"
                                    "Connection: close\r\n\r\n".encode(), timeout=10)
    (status, h, body), = parse_responses(data)
    return status, h, body


def test_a_single_range_of_a_stored_object(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    assert get(proxy, PATH)[0] == 200
    status, h, body = get(proxy, PATH, Range="bytes=10-19")
    assert (status, body) == (206, BODY[10:20])
    assert h["content-range"] == f"bytes 10-19/{N}" and h["content-length"] == "10"
    assert h["x-cache"] == "Hit from perch" and h["content-type"] == "text/plain"
    status, h, body = get(proxy, PATH, Range="bytes=-5")
    assert (status, body, h["content-range"]) == (206, BODY[-5:], f"bytes {N - 5}-{N - 1}/{N}")
    status, h, body = get(proxy, PATH, Range=f"bytes={N - 3}-{N * 5}")  # clipped to the end
    assert (status, body) == (206, BODY[-3:])
    assert fault_origin.requests(f"/drip/{N}/0") == 1


def test_several_ranges_come_as_multipart_byteranges(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    get(proxy, PATH)
    status, h, body = get(proxy, PATH, Range="bytes=0-2, 50000-50003")
    assert status == 206 and h["content-type"].startswith("multipart/byteranges; boundary=")
    boundary = h["content-type"].split("boundary=")[1].encode()
    assert int(h["content-length"]) == len(body)
    parts = [p for p in body.split(b"--" + boundary) if p.strip() not in (b"", b"--")]
    assert len(parts) == 2
    head0, _, data0 = parts[0].partition(b"\r\n\r\n")
    head1, _, data1 = parts[1].partition(b"\r\n\r\n")
    assert f"Content-Range: bytes 0-2/{N}".encode() in head0 and data0.rstrip(b"\r\n") == BODY[0:3]
    assert b"Content-Type: text/plain" in head1
    assert data1.rstrip(b"\r\n") == BODY[50000:50004]
    assert body.endswith(b"--" + boundary + b"--\r\n")


def multipart_parts(h, body):
    boundary = h["content-type"].split("boundary=")[1].encode()
    assert int(h["content-length"]) == len(body)
    assert body.endswith(b"--" + boundary + b"--\r\n")
    parts = [p for p in body.split(b"\r\n--" + boundary) if p.strip(b"\r\n-")]
    out = []
    for p in parts:
        head, _, data = p.partition(b"\r\n\r\n")
        first, last = head.split(b"Content-Range: bytes ")[1].split(b"/")[0].split(b"-")
        out.append((int(first), int(last), data))
    return out


def test_ranges_of_a_large_object_span_its_many_stored_pieces(tmp, fault_origin, proxies):
    # 3 MiB is stored as 48 blocks: a whole-object range is one piece per block, and 16 ranges
    # across them make a multipart body of far more pieces than one socket write holds. Each is
    # asked for on the miss (answered as the bytes arrive) and on hits.
    proxy = start(tmp, fault_origin, proxies)
    n = 3 << 20
    big = bytes(b"abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(n))
    ranges = [(i * 196608 + 7, i * 196608 + 7 + 65536 + i) for i in range(16)]  # the most taken
    spec = "bytes=" + ", ".join(f"{a}-{b}" for a, b in ranges)
    path = f"/drip/{n}/0?h=Cache-Control:max-age=60&h=Content-Type:text/plain"
    status, h, body = get(proxy, path, Range=spec)  # the miss
    assert (status, h["x-cache"]) == (206, "Miss from perch")
    assert multipart_parts(h, body) == [(a, b, big[a:b + 1]) for a, b in ranges]
    for _ in range(2):
        status, h, body = get(proxy, path, Range=spec)
        assert (status, h["x-cache"]) == (206, "Hit from perch")
        assert multipart_parts(h, body) == [(a, b, big[a:b + 1]) for a, b in ranges]
        status, h, body = get(proxy, path, Range="bytes=0-")
        assert (status, h["content-range"], body == big) == (206, f"bytes 0-{n - 1}/{n}", True)
        status, h, body = get(proxy, path, Range=f"bytes=65530-{n - 65530}")
        assert (status, body == big[65530:n - 65529]) == (206, True)
    assert fault_origin.requests(f"/drip/{n}/0") == 1


def test_unsatisfiable_and_invalid_ranges(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    get(proxy, PATH)
    status, h, body = get(proxy, PATH, Range=f"bytes={N}-")
    assert (status, h["content-range"], body) == (416, f"bytes */{N}", b"")
    for bad in ("bytes=abc", "items=0-5", "bytes=5-1", "bytes=10-20,0-5"):  # CloudFront: the full 200
        status, h, body = get(proxy, PATH, Range=bad)
        assert (status, len(body)) == (200, N), bad


def test_a_range_on_a_miss_is_answered_as_the_bytes_arrive_and_the_whole_object_stored(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    slow = f"/drip/{N}/500?h=Cache-Control:max-age=60"
    t0 = time.monotonic()
    status, h, body = get(proxy, slow, Range="bytes=0-99")
    assert (status, body, h["x-cache"]) == (206, BODY[:100], "Miss from perch")
    assert time.monotonic() - t0 < 1.0  # the first of four pieces, 500 ms apart, was enough
    time.sleep(1.7)
    status, h, body = get(proxy, slow)
    assert (status, body, h["x-cache"]) == (200, BODY, "Hit from perch")
    assert fault_origin.requests(f"/drip/{N}/500") == 1


def test_a_range_on_a_miss_without_a_length_gets_the_whole_object_then_hits_get_206(tmp, fault_origin, proxies):
    # A chunked answer has no length to put in Content-Range until it ends: the first viewer
    # gets the whole 200 as it streams (RFC 9110 §14.2 lets a server ignore Range; nginx does
    # the same), the object is stored, and ranges are answered from it afterwards.
    proxy = start(tmp, fault_origin, proxies)
    path = "/chunked/5000?h=Cache-Control:max-age=60"
    status, h, body = get(proxy, path, Range="bytes=0-99")
    assert (status, len(body), h["x-cache"]) == (200, 5000, "Miss from perch")
    status, h, body = get(proxy, path, Range="bytes=0-99")
    assert (status, body, h["content-range"]) == (206, b"c" * 100, "bytes 0-99/5000")
    assert fault_origin.requests("/chunked/5000") == 1


def test_collapsed_waiters_get_their_own_ranges(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    slow = f"/drip/{N}/300?h=Cache-Control:max-age=60"
    ranges = ["bytes=0-9", "bytes=60000-60009", "bytes=-10", None]
    results = [None] * len(ranges)

    def one(i):
        results[i] = get(proxy, slow, Range=ranges[i]) if ranges[i] else get(proxy, slow)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(ranges))]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert [r[0] for r in results] == [206, 206, 206, 200]
    assert [r[2] for r in results] == [BODY[:10], BODY[60000:60010], BODY[-10:], BODY]
    assert fault_origin.requests(f"/drip/{N}/300") == 1


def test_if_none_match_gets_304_from_the_cache_on_hits_and_misses(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    path = "/etag/x?cc=max-age=60"
    status, h, body = get(proxy, path, If_None_Match='"v1"')  # a miss: the edge asks for all
    assert (status, body, h["etag"]) == (304, b"", '"v1"')
    assert "content-length" not in h
    status, h, body = get(proxy, path, If_None_Match='W/"other", "v1"')
    assert (status, h["x-cache"]) == (304, "Hit from perch")
    assert get(proxy, path, If_None_Match='"v2"')[0:3:2] == (200, b"etag body\n")
    assert fault_origin.stats()["conditional"] == 0  # the viewer's validators never went on
    assert fault_origin.requests("/etag/x") == 1


def test_failed_preconditions_and_if_range(tmp, fault_origin, proxies):
    proxy = start(tmp, fault_origin, proxies)
    path = "/etag/y?cc=max-age=60"
    get(proxy, path)
    assert get(proxy, path, If_Match='"nope"')[0] == 412
    assert get(proxy, path, If_Match='"v1"')[0] == 200
    status, _, body = get(proxy, path, Range="bytes=0-3", If_Range='"v1"')
    assert (status, body) == (206, b"etag")
    status, _, body = get(proxy, path, Range="bytes=0-3", If_Range='"v0"')
    assert (status, body) == (200, b"etag body\n")
