"""Closing connections so that the answer survives (RFC 9112 §9.6): every close after an error
lingers, over TLS too, and requests refused for a semantic reason close like framing errors do.
Rejected requests are counted in the stats."""
import socket
import ssl

from perchtest import behavior, free_port, http_origin, make_ca_and_cert, parse_responses


def distribution(port):
    return {"distribution": {"origin": [http_origin("o", port)],
                             "default_cache_behavior": behavior("o", default_ttl=60)}}


def huge_head():
    # 70 KB of fields: over the 64 KiB head limit, all sent before the client reads anything.
    return (b"GET / HTTP/1.1\r\nHost: a\r\n" +
            b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000) for i in range(70)) + b"\r\n")


def read_to_orderly_end(s):
    """Everything until the peer's FIN; a reset (which can destroy the answer) fails the test."""
    data = bytearray()
    while True:
        d = s.recv(65536)  # ConnectionResetError here is the bug this file guards against
        if not d:
            return bytes(data)
        data += d


def check_full_431(data):
    responses = parse_responses(data)
    assert len(responses) == 1, data[:300]
    status, headers, body = responses[0]
    assert status == 431
    assert headers["connection"] == "close"
    assert len(body) == int(headers["content-length"]) > 0


def test_a_70kb_head_gets_the_whole_431_then_an_orderly_fin(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port))
    for _ in range(3):  # a reset is a race: try it more than once
        s = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        s.sendall(huge_head())
        s.shutdown(socket.SHUT_WR)  # all sent: now only read
        check_full_431(read_to_orderly_end(s))
        s.close()
    assert fault_origin.requests("/") == 0


def test_over_tls_the_431_is_followed_by_close_notify_and_fin(tmp, fault_origin, proxies):
    ca, cert, key = make_ca_and_cert(tmp)
    port = free_port()
    config = distribution(fault_origin.port)
    config["perch"] = {"listen": [f"https://127.0.0.1:{port}"],
                       "tls": {"certificate_chain_file": cert, "private_key_file": key}}
    proxies(tmp, config)
    ctx = ssl.create_default_context(cafile=ca)
    for _ in range(3):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(huge_head())
        data = bytearray()
        while True:
            d = s.recv(65536)  # b"" only on close_notify: a bare TCP end raises SSLEOFError
            if not d:
                break
            data += d
        check_full_431(bytes(data))
        # After close_notify the TCP stream ends with a FIN, not a reset.
        raw = s.unwrap()
        assert raw.recv(1) == b""
        raw.close()
        s.close()
    assert fault_origin.requests("/") == 0


def semantic_refusal(proxy, first):
    """Sends `first` and a valid request after it on one connection; returns the responses."""
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    s.sendall(first + b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
    data = read_to_orderly_end(s)
    s.close()
    return parse_responses(data)


def test_requests_without_one_valid_host_get_400_and_the_connection_closes(tmp, fault_origin, proxies):
    proxy = proxies(tmp, distribution(fault_origin.port), stats_interval=1)
    refused = [b"GET / HTTP/1.1\r\n\r\n",
               b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
               b"GET / HTTP/1.1\r\nHost: go od\r\n\r\n",
               b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n",
               b"GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n"]
    for first in refused:
        responses = semantic_refusal(proxy, first)
        assert len(responses) == 1, first  # the pipelined request after it is not served
        status, headers, _ = responses[0]
        assert (status, headers["connection"]) == (400, "close"), first
    assert fault_origin.requests("/") == 0 and fault_origin.requests("/after") == 0
    # Framing errors count too: a 431 and a bad chunk.
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    s.sendall(huge_head())
    read_to_orderly_end(s)
    s.close()
    # The stats line counts each of the 6 refusals.
    proxy.wait_for_line(r"stats: \d+ requests \(6 rejected\)", timeout=5)
    assert "rejected request from 127.0.0.1: 431" in proxy.output()
