"""What RFC 9112 and request-smuggling research say a front end must refuse or normalise, as a
table of raw requests sent to the real perch-proxy over a socket. The origin records every byte
it receives. A refused request gets its status, then perch closes the connection in order (a
FIN after the whole response; a reset fails the test), and nothing reaches the origin: not the
request, nor the one pipelined after it. A normalised one is served, and the test checks what
the origin received."""
import json
import socket
import time

import pytest

from perchtest import http_origin, parse_responses
from recording_origin import RecordingOrigin

ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
MANAGED_ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"  # every viewer header, Host too
CACHE_POLICY = {
    "id": "c", "name": "C", "min_ttl": 0, "default_ttl": 60, "max_ttl": 600,
    "parameters_in_cache_key_and_forwarded_to_origin": {
        "cookies_config": {"cookie_behavior": "none"},
        "headers_config": {"header_behavior": "none"},
        "query_strings_config": {"query_string_behavior": "none"},
        "enable_accept_encoding_gzip": False, "enable_accept_encoding_brotli": False},
}
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"


@pytest.fixture
def origin():
    o = RecordingOrigin()
    yield o
    o.stop()


@pytest.fixture
def proxy(tmp, proxies, origin):
    return proxies(tmp, {
        "cache_policy": [CACHE_POLICY],
        "distribution": {
            "origin": [http_origin("o", origin.port)],
            "default_cache_behavior": {
                "target_origin_id": "o", "allowed_methods": ALL_METHODS,
                "cached_methods": ["GET", "HEAD"], "viewer_protocol_policy": "allow-all",
                "cache_policy_id": "c", "origin_request_policy_id": MANAGED_ALL_VIEWER},
        },
        "perch": {"limits": {"max_body": "64KiB", "header_timeout": 2, "idle_timeout": 30}},
    })


def until_orderly_close(port, data, pause_after=None, timeout=5.0):
    """Sends `data` (the first `pause_after` bytes, a pause, then the rest) and returns all that
    perch sends until it closes the connection. A reset or no close within `timeout` fails."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if pause_after is None:
            s.sendall(data)
        else:
            s.sendall(data[:pause_after])
            time.sleep(0.3)
            s.sendall(data[pause_after:])
        out = b""
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                pytest.fail(f"perch reset the connection after sending {out!r}")
            except socket.timeout:
                pytest.fail(f"perch did not close the connection; it sent {out!r}")
            if not d:
                return out
            out += d
    finally:
        s.close()


def assert_refused(proxy, origin, data, status, pause_after=None):
    out = until_orderly_close(proxy.port, data + SMUGGLED, pause_after)
    assert out.startswith(b"HTTP/1.1 %d " % status), out
    responses = parse_responses(out)
    assert len(responses) == 1, out  # the pipelined request is never answered
    _, headers, body = responses[0]
    assert len(body) == int(headers["content-length"]), out  # the whole response came
    assert headers["connection"] == "close", out
    assert origin.settled() == []
    assert origin.received == b"", origin.received


def post(framing, body):
    return b"POST /echo HTTP/1.1\r\nHost: a\r\n" + framing + b"\r\n" + body


CHUNKED = b"Transfer-Encoding: chunked\r\n"


def get_with(field_line):
    return b"GET /f HTTP/1.1\r\nHost: a\r\n" + field_line + b"\r\n\r\n"


REFUSED = [
    # Content-Length: 1*DIGIT, one value (RFC 9112 §6.3, RFC 9110 §8.6).
    ("cl-plus-sign", post(b"Content-Length: +3\r\n", b"abc"), 400),
    ("cl-minus-sign", post(b"Content-Length: -3\r\n", b"abc"), 400),
    ("cl-hex", post(b"Content-Length: 0x3\r\n", b"abc"), 400),
    ("cl-list-of-differing-values", post(b"Content-Length: 3, 4\r\n", b"abcd"), 400),
    ("cl-fields-with-differing-values", post(b"Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd"),
     400),
    # RFC 9110 §8.6 lets a recipient take equal values ("3, 3") as one, or refuse them: perch
    # refuses.
    ("cl-list-of-equal-values", post(b"Content-Length: 3, 3\r\n", b"abc"), 400),
    ("cl-fields-with-equal-values", post(b"Content-Length: 3\r\nContent-Length: 3\r\n", b"abc"),
     400),
    ("cl-empty", post(b"Content-Length: \r\n", b"abc"), 400),
    ("cl-space-inside", post(b"Content-Length: 1 2\r\n", b"abc"), 400),
    ("cl-overflowing-64-bits", post(b"Content-Length: 18446744073709551619\r\n", b"abc"), 400),
    # Transfer-Encoding (§6.1, §6.3).
    ("te-chunked-then-identity", post(b"Transfer-Encoding: chunked, identity\r\n",
                                      b"3\r\nabc\r\n0\r\n\r\n"), 400),
    ("te-chunked-twice", post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                              b"3\r\nabc\r\n0\r\n\r\n"), 400),
    ("te-then-cl", post(CHUNKED + b"Content-Length: 3\r\n", b"0\r\n\r\n"), 400),
    ("cl-then-te", post(b"Content-Length: 3\r\n" + CHUNKED, b"0\r\n\r\n"), 400),
    ("te-vertical-tab", post(b"Transfer-Encoding: \x0bchunked\r\n", b"0\r\n\r\n"), 400),
    ("te-space-before-colon", post(b"Transfer-Encoding : chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-in-http10", b"POST /echo HTTP/1.0\r\nHost: a\r\n" + CHUNKED + b"\r\n0\r\n\r\n", 400),
    # Chunked framing (§7.1).
    ("chunk-size-overflow-wrapping-to-5", post(CHUNKED, b"10000000000000005\r\nhello\r\n0\r\n\r\n"),
     400),
    ("chunk-size-overflow-32-digits", post(CHUNKED, b"f" * 32 + b"\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-size-negative", post(CHUNKED, b"-5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-size-hex-prefix", post(CHUNKED, b"0x5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-ext-bare-cr", post(CHUNKED, b"5;a\rb\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-ext-bare-lf", post(CHUNKED, b"5;a\nb\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-data-then-two-bytes", post(CHUNKED, b"5\r\nhelloAB0\r\n\r\n"), 400),
    ("chunk-size-line-bare-lf", post(CHUNKED, b"5\nhello\r\n0\r\n\r\n"), 400),
    ("chunk-data-then-bare-lf", post(CHUNKED, b"5\r\nhello\n0\r\n\r\n"), 400),
    ("last-chunk-bare-lf", post(CHUNKED, b"5\r\nhello\r\n0\n\r\n"), 400),
    ("chunked-body-end-bare-lf", post(CHUNKED, b"5\r\nhello\r\n0\r\n\n"), 400),
    ("trailer-field-bare-lf", post(CHUNKED, b"5\r\nhello\r\n0\r\nX-T: 1\n\r\n"), 400),
    # A bare LF ending a head line: RFC 9112 §2.2 lets a recipient accept it (MAY), and perch
    # does not (docs/http1.md: llhttp's strict mode, which closes the chunked-body holes, and
    # the classic discrepancy between hops; every client perch serves sends CRLF).
    ("head-bare-lf", b"GET /lf HTTP/1.1\nHost: a\nConnection: close\n\n", 400),
    ("head-mixed-lf", b"GET /lf HTTP/1.1\r\nHost: a\nX-Kept: yes\r\n\r\n", 400),
    # Field lines (§5).
    ("obs-fold-host", b"GET /f HTTP/1.1\r\nHost: good\r\n evil\r\n\r\n", 400),
    ("obs-fold-tab", get_with(b"X-A: 1\r\n\tb"), 400),
    ("whitespace-before-first-field", b"GET /f HTTP/1.1\r\n Host: a\r\n\r\n", 400),
    ("nul-in-field-name", get_with(b"X-A\x00b: 1"), 400),
    ("nul-in-field-value", get_with(b"X-A: a\x00b"), 400),
    ("cr-in-field-name", get_with(b"X-A\rb: 1"), 400),
    ("cr-in-field-value", get_with(b"X-A: a\rb"), 400),
    ("del-in-field-name", get_with(b"X-A\x7fb: 1"), 400),
    ("del-in-field-value", get_with(b"X-A: a\x7fb"), 400),
    ("space-before-colon", get_with(b"X-A : 1"), 400),
    ("tab-before-colon", get_with(b"X-A\t: 1"), 400),
    ("empty-field-name", get_with(b": x"), 400),
    ("field-line-without-colon", get_with(b"X-A"), 400),
    # Request line (§3).
    ("two-spaces-after-method", b"GET  /f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("two-spaces-after-target", b"GET /f  HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("tab-after-method", b"GET\t/f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("tab-after-target", b"GET /f\tHTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("lowercase-version", b"GET /f http/1.1\r\nHost: a\r\n\r\n", 400),
    ("http09", b"GET /\r\n\r\n", 505),  # no version: major version 0 (RFC 9110 §15.6.6)
    ("connect", b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405),
    ("non-ascii-in-target", b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("hash-in-target", b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("absolute-form-ftp", b"GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("absolute-form-file", b"GET file:///etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("absolute-form-empty-host", b"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("absolute-form-userinfo", b"GET http://u:p@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("absolute-form-port-out-of-range", b"GET http://a:99999/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    # Host (RFC 9112 §3.2, RFC 9110 §7.2, RFC 3986 §3.2.2).
    ("no-host-in-http11", b"GET /f HTTP/1.1\r\n\r\n", 400),
    ("two-equal-hosts", b"GET /f HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
    ("two-differing-hosts", b"GET /f HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("host-with-space", b"GET /f HTTP/1.1\r\nHost: go od\r\n\r\n", 400),
    ("host-list", b"GET /f HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
    ("host-with-userinfo", b"GET /f HTTP/1.1\r\nHost: a@b\r\n\r\n", 400),
    ("host-with-path", b"GET /f HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    ("host-with-letters-as-port", b"GET /f HTTP/1.1\r\nHost: a:b\r\n\r\n", 400),
    ("host-port-out-of-range", b"GET /f HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400),
]


@pytest.mark.parametrize("data, status", [pytest.param(d, s, id=i) for i, d, s in REFUSED])
def test_a_request_that_may_be_read_two_ways_is_refused_and_the_connection_closed(
        proxy, origin, data, status):
    assert_refused(proxy, origin, data, status)


def test_a_chunk_error_after_the_body_started_never_completes_a_request_at_the_origin(
        proxy, origin):
    # The head and a good chunk, a pause (perch may have started the origin request), then
    # the second chunk with two bytes where its CRLF belongs.
    good = post(CHUNKED, b"5\r\nhello\r\n")
    out = until_orderly_close(proxy.port, good + b"5\r\nworldXX0\r\n\r\n" + SMUGGLED,
                              pause_after=len(good))
    responses = parse_responses(out)
    assert [r[0] for r in responses] == [400], out
    assert responses[0][1]["connection"] == "close"
    assert origin.settled() == []  # a truncated upload at most, never a request


# ---- normalised ---------------------------------------------------------------------------

def served(proxy, data):
    """The responses perch sends for `data` (whose last request closes the connection)."""
    return parse_responses(until_orderly_close(proxy.port, data))


def only_request(origin):
    requests = origin.settled()
    assert len(requests) == 1, requests
    return requests[0]


def test_a_content_length_with_leading_zeros_reaches_the_origin_as_its_value(proxy, origin):
    [(status, _, _)] = served(proxy, post(b"Content-Length: 003\r\nConnection: close\r\n", b"abc"))
    assert status == 200
    req = only_request(origin)
    assert (req.body, req.values("content-length")) == (b"abc", ["3"])


def test_a_chunked_body_reaches_the_origin_without_its_extensions_or_trailers(proxy, origin):
    body = b"5;name=value\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"
    [(status, _, _)] = served(proxy, post(CHUNKED + b"Connection: close\r\n", body))
    assert status == 200
    req = only_request(origin)
    assert req.body == b"hello"
    assert "x-trailer" not in req.names()


def test_an_h2c_upgrade_is_served_as_http11_and_no_upgrade_reaches_the_origin(proxy, origin):
    # RFC 9110 §7.8: a server may ignore Upgrade. Upgrade and HTTP2-Settings are hop-by-hop
    # (Connection names them) and go no further; the connection stays HTTP/1.1.
    data = (b"GET /h2c HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
            b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
            b"GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    out = until_orderly_close(proxy.port, data)
    assert out.startswith(b"HTTP/1.1 200 "), out
    responses = parse_responses(out)
    assert [r[0] for r in responses] == [200, 200]
    assert "upgrade" not in responses[0][1]
    requests = origin.settled()
    assert [r.target for r in requests] == ["/h2c", "/after"]
    names = requests[0].names()
    assert "upgrade" not in names and "http2-settings" not in names
    assert all("upgrade" not in v.lower() for v in requests[0].values("connection"))


def test_http2_settings_without_connection_naming_it_does_not_reach_the_origin(proxy, origin):
    # RFC 9113 §3.2.1: HTTP2-Settings is a connection-specific field.
    [(status, _, _)] = served(proxy, b"GET /h2c HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n"
                                     b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
                                     b"Connection: close\r\n\r\n")
    assert status == 200
    names = only_request(origin).names()
    assert "upgrade" not in names and "http2-settings" not in names


def test_an_absolute_form_authority_wins_over_host_for_the_origin_and_the_cache_key(proxy, origin):
    # RFC 9112 §3.2.2: the authority of an absolute-form target replaces Host.
    [(status, h, _)] = served(proxy, b"GET http://abs.example/abs HTTP/1.1\r\n"
                                     b"Host: other.example\r\nConnection: close\r\n\r\n")
    assert (status, h["x-cache"]) == (200, "Miss from perch")
    req = only_request(origin)
    assert (req.target, req.values("host")) == ("/abs", ["abs.example"])
    [(status, h, body)] = served(proxy, b"GET /abs HTTP/1.1\r\nHost: abs.example\r\n"
                                        b"Connection: close\r\n\r\n")
    assert (status, h["x-cache"]) == (200, "Hit from perch")
    assert json.loads(body)["target"] == "/abs"
    [(status, h, _)] = served(proxy, b"GET /abs HTTP/1.1\r\nHost: other.example\r\n"
                                     b"Connection: close\r\n\r\n")
    assert (status, h["x-cache"]) == (200, "Miss from perch")
    assert [r.values("host") for r in origin.settled()] == [["abs.example"], ["other.example"]]


def test_an_absolute_form_scheme_is_case_insensitive(proxy, origin):
    # RFC 3986 §3.1: "HTTP" is "http".
    [(status, _, _)] = served(proxy, b"GET HTTP://abs.example/up HTTP/1.1\r\n"
                                     b"Host: abs.example\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert only_request(origin).target == "/up"


@pytest.mark.parametrize("variant", [b"Example.COM", b"example.com.", b"example.com:80",
                                     b"example.com:0080", b"example.com:"])
def test_host_variants_of_one_authority_share_one_cache_entry(proxy, origin, variant):
    first = served(proxy, b"GET /hv HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
    assert [(r[0], r[1]["x-cache"]) for r in first] == [(200, "Miss from perch")]
    again = served(proxy, b"GET /hv HTTP/1.1\r\nHost: " + variant + b"\r\nConnection: close\r\n\r\n")
    assert [(r[0], r[1]["x-cache"]) for r in again] == [(200, "Hit from perch")]
    assert len(origin.settled()) == 1


def test_header_names_with_underscores_are_dropped_before_the_origin(proxy, origin):
    # A hop behind perch (CGI, nginx, Apache) may read X_Forwarded_For as X-Forwarded-For.
    [(status, _, _)] = served(proxy, b"GET /u HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: 1.2.3.4\r\n"
                                     b"Foo_Bar: x\r\nX-Kept: yes\r\nConnection: close\r\n\r\n")
    assert status == 200
    req = only_request(origin)
    assert "x_forwarded_for" not in req.names() and "foo_bar" not in req.names()
    assert req.values("x-forwarded-for") == ["127.0.0.1"]
    assert req.values("x-kept") == ["yes"]  # the origin request policy forwards the others
