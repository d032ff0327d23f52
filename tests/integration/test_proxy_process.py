"""perch-proxy as a process: config checking, startup errors, the stats line, graceful stop,
TLS on both sides."""
import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
import http.client

import pytest

from perchtest import (PROXY_BIN, behavior, free_port, http_origin, make_ca_and_cert, raw_exchange,
                       wait_for_port)


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_check_config_accepts_the_demo_and_describes_it():
    demo = os.path.join(os.path.dirname(PROXY_BIN), "..", "..", "..", "examples", "proxy", "demo.json")
    r = subprocess.run([PROXY_BIN, "--check-config", demo], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "origin site: directory" in r.stdout
    assert "listen http://127.0.0.1:8080" in r.stdout


@pytest.mark.parametrize("text, message", [
    ('{"distribution": {}}', "distribution.origin: missing"),
    ('{"distribution": {"origin": [{"origin_id": "o"}], "bogus": 1}}', "distribution.bogus: unknown key"),
    ('{"distribution": ', "document: line"),
    ('{"perch": {}}', "distribution: missing"),
])
def test_a_bad_config_exits_2_naming_the_json_path(tmp, text, message):
    path = write(tmp, "bad.json", text)
    for mode in ("--check-config", "--config"):
        r = subprocess.run([PROXY_BIN, mode, path], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2
        # Leveled like every other line: "perch-proxy: error: FILE: PATH: reason", one line
        # per error (these configs may have more than the one looked for).
        lines = r.stderr.splitlines()
        assert all(line.startswith(f"perch-proxy: error: {path}: ") for line in lines), r.stderr
        assert any(line.startswith(f"perch-proxy: error: {path}: {message}") for line in lines), r.stderr
        assert r.stdout == ""


def test_a_config_with_several_mistakes_exits_2_printing_each_in_document_order(tmp):
    # Four unrelated mistakes in four blocks, and one that depends on another (the behavior
    # names the origin whose domain_name is bad: that origin exists, so no second error).
    b = behavior("o")
    b["viewer_protocol_policy"] = "allow-none"
    origin = http_origin("o", 18000)
    origin["domain_name"] = "http://example.com/"
    cfg = {"perch": {"workers": 5000},
           "distribution": {"enabled": "yes", "origin": [origin], "default_cache_behavior": b},
           "cache_policy": [{"id": "cp", "name": "no spaces allowed",
                             "parameters_in_cache_key_and_forwarded_to_origin": {
                                 "cookies_config": {"cookie_behavior": "none"},
                                 "headers_config": {"header_behavior": "none"},
                                 "query_strings_config": {"query_string_behavior": "none"}}}]}
    expected = [
        "perch.workers: must be between 0 and 1024",
        "distribution.enabled: expected a boolean",
        "distribution.origin[0].domain_name: must be a host name, without scheme or path",
        "distribution.default_cache_behavior.viewer_protocol_policy: must be one of "
        '"allow-all", "redirect-to-https", "https-only"',
        "cache_policy[0].name: must be 1 to 128 letters, digits, '-' or '_'",
    ]
    path = write(tmp, "several.json", json.dumps(cfg))
    for mode in ("--check-config", "--config"):
        # --config exits at once instead of serving.
        r = subprocess.run([PROXY_BIN, mode, path], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, r.stderr
        assert r.stderr.splitlines() == [f"perch-proxy: error: {path}: {e}" for e in expected]
        assert r.stdout == ""


def test_an_origin_request_policy_forwarding_authorization_is_refused(tmp):
    # CloudFront answers 400: a forwarded credential must be in the cache key.
    orp = {"id": "orp", "name": "Auth", "cookies_config": {"cookie_behavior": "none"},
           "headers_config": {"header_behavior": "whitelist", "headers": {"items": ["Authorization"]}},
           "query_strings_config": {"query_string_behavior": "none"}}
    b = behavior("o")
    b = {k: v for k, v in b.items() if k not in ("forwarded_values", "min_ttl", "default_ttl", "max_ttl")}
    b.update({"cache_policy_id": "658327ea-f89d-4fab-a63d-7e88639e58f6", "origin_request_policy_id": "orp"})
    cfg = {"distribution": {"origin": [http_origin("o", 9)], "default_cache_behavior": b},
           "origin_request_policy": [orp]}
    path = write(tmp, "auth.json", json.dumps(cfg))
    r = subprocess.run([PROXY_BIN, "--check-config", path], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, r.stdout
    assert ("origin_request_policy[0].headers_config.headers.items[0]: Authorization cannot be "
            "forwarded by an origin request policy") in r.stderr, r.stderr


def test_a_missing_config_file_exits_2_like_a_bad_one(tmp):
    path = os.path.join(tmp, "absent.json")
    for mode in ("--check-config", "--config"):
        r = subprocess.run([PROXY_BIN, mode, path], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2
        assert r.stderr == (f"perch-proxy: error: {path}: cannot read the file: "
                            "No such file or directory\n")


def test_a_listen_address_in_use_fails_to_start_with_a_clear_error(tmp, fault_origin):
    import socket
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    cfg = ('{"distribution": {"origin": [%s], "default_cache_behavior": %s}, "perch": {"listen": '
           '["http://127.0.0.1:%d"], "workers": 1}}' % (
               __import__("json").dumps(http_origin("o", fault_origin.port)),
               __import__("json").dumps(behavior("o")), port))
    # SO_REUSEPORT lets a second socket bind only if the first also set it: this one did not.
    r = subprocess.run([PROXY_BIN, "--config", write(tmp, "c.json", cfg)], capture_output=True,
                       text=True, timeout=10)
    busy.close()
    assert r.returncode == 1
    assert "Address already in use" in r.stderr or "address already in use" in r.stderr
    assert r.stderr.startswith(f"perch-proxy: error: cannot start: http://127.0.0.1:{port}: ")


def test_a_second_proxy_on_a_port_the_first_serves_refuses_to_start(tmp, fault_origin, proxies):
    # Both would bind with SO_REUSEPORT and split the traffic; the second must refuse.
    config = {"distribution": {"origin": [http_origin("o", fault_origin.port)],
                               "default_cache_behavior": behavior("o")}}
    first = proxies(tmp, config, workers=2)  # its own workers do share the port
    second = write(tmp, "second.json", json.dumps(dict(config, perch={
        "listen": [f"http://127.0.0.1:{first.port}"], "workers": 1})))
    start = time.monotonic()
    r = subprocess.run([PROXY_BIN, "--config", second], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert time.monotonic() - start < 5
    assert r.stderr == (f"perch-proxy: error: cannot start: http://127.0.0.1:{first.port}: "
                        "address already in use (another process listens there)\n")
    assert "serving" not in r.stdout
    for i in range(6):  # every connection reaches the first proxy
        assert first.get(f"/after-second/{i}")[0] == 200
    assert first.proc.poll() is None


def test_a_proxy_restarted_on_its_port_starts_despite_connections_in_time_wait(tmp, fault_origin, proxies):
    port = free_port()
    config = {"distribution": {"origin": [http_origin("o", fault_origin.port)],
                               "default_cache_behavior": behavior("o")},
              "perch": {"listen": [f"http://127.0.0.1:{port}"]}}
    first = proxies(tmp, config, name="first")
    for i in range(3):  # closed by the proxy (Connection: close): TIME_WAIT on its side
        assert first.request("GET", f"/tw/{i}", headers={"Connection": "close"})[0] == 200
    assert first.stop() == 0
    again = proxies(tmp, config, name="again")
    assert again.get("/tw/again")[0] == 200


def test_sigterm_lets_an_in_flight_response_finish_then_exits_0(tmp, fault_origin, proxies):
    proxy = proxies(tmp, {"distribution": {"origin": [http_origin("o", fault_origin.port)],
                                           "default_cache_behavior": behavior("o")}})
    result = {}

    def slow():
        result["r"] = proxy.get("/slow/800")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    proxy.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    # New connections are refused while the old one finishes.
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=2).request("GET", "/x")
    t.join(10)
    assert result["r"][0] == 200 and result["r"][2] == b"slow\n"
    assert proxy.proc.wait(10) == 0


def test_sighup_is_logged_and_ignored_and_sigterm_is_logged_at_info(tmp, fault_origin, proxies):
    proxy = proxies(tmp, {"distribution": {"origin": [http_origin("o", fault_origin.port)],
                                           "default_cache_behavior": behavior("o")}})
    proxy.proc.send_signal(signal.SIGHUP)
    assert "warn" in proxy.wait_for_line(r"SIGHUP: configuration reload is not supported yet")
    assert proxy.proc.poll() is None  # still running
    assert proxy.get("/after-hup")[0] == 200
    proxy.proc.send_signal(signal.SIGTERM)
    assert proxy.proc.wait(10) == 0
    line = proxy.wait_for_line(r"SIGTERM: finishing requests in flight")
    assert "info" in line and "warn" not in line, line


def test_help_prints_the_usage_and_exits_0():
    for flag in ("--help", "-h"):
        r = subprocess.run([PROXY_BIN, flag], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0
        assert r.stdout.startswith("usage: perch-proxy --config FILE") and r.stderr == ""
    r = subprocess.run([PROXY_BIN, "--bogus"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and r.stderr.startswith("usage:")


def test_sigint_on_an_idle_proxy_exits_0_quickly(tmp, fault_origin, proxies):
    proxy = proxies(tmp, {"distribution": {"origin": [http_origin("o", fault_origin.port)],
                                           "default_cache_behavior": behavior("o")}}, workers=2)
    proxy.get("/x")
    start = time.monotonic()
    proxy.proc.send_signal(signal.SIGINT)
    assert proxy.proc.wait(10) == 0
    assert time.monotonic() - start < 3


def test_https_listener_serves_a_real_tls_client(tmp, fault_origin, proxies):
    ca, cert, key = make_ca_and_cert(tmp)
    port = free_port()
    proxy = proxies(tmp, {
        "distribution": {"origin": [http_origin("o", fault_origin.port)],
                         "default_cache_behavior": behavior("o", default_ttl=60),
                         "viewer_certificate": {"cloudfront_default_certificate": True,
                                                "minimum_protocol_version": "TLSv1.2_2021"}},
        "perch": {"listen": [f"https://127.0.0.1:{port}"],
                  "tls": {"certificate_chain_file": cert, "private_key_file": key}}})
    ctx = ssl.create_default_context(cafile=ca)
    for expected in ("Miss from perch", "Hit from perch"):
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        c.request("GET", "/tls")
        r = c.getresponse()
        assert (r.status, r.read()) == (200, b"hello /tls\n")
        assert r.getheader("X-Cache") == expected
        c.close()
    # curl, a second real client, with keep-alive over two requests
    out = subprocess.run(["curl", "-sS", "--cacert", ca, f"https://127.0.0.1:{port}/tls",
                          f"https://127.0.0.1:{port}/tls2", "-o", "/dev/null", "-o", "/dev/null",
                          "-w", "%{http_code} %{num_connects}\n"],
                         capture_output=True, text=True, timeout=20)
    assert out.stdout.split("\n")[:2] == ["200 1", "200 0"]


def test_redirect_to_https_sends_the_viewer_to_the_https_listener_port(tmp, fault_origin, proxies):
    ca, cert, key = make_ca_and_cert(tmp)
    http_port, https_port = free_port(), free_port()
    proxy = proxies(tmp, {
        "distribution": {"origin": [http_origin("o", fault_origin.port)],
                         "default_cache_behavior": dict(behavior("o"),
                                                        viewer_protocol_policy="redirect-to-https")},
        "perch": {"listen": [f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{https_port}"],
                  "tls": {"certificate_chain_file": cert, "private_key_file": key}}})
    status, headers, _ = proxy.get("/page?q=1", headers={"Host": f"127.0.0.1:{http_port}"})
    assert status == 301
    assert headers["location"] == f"https://127.0.0.1:{https_port}/page?q=1"
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection("127.0.0.1", https_port, context=ctx, timeout=10)
    c.request("GET", "/page?q=1")
    assert c.getresponse().status == 200  # the Location works


def test_tls_below_the_minimum_protocol_version_is_refused(tmp, fault_origin, proxies):
    ca, cert, key = make_ca_and_cert(tmp)
    port = free_port()
    proxies(tmp, {
        "distribution": {"origin": [http_origin("o", fault_origin.port)],
                         "default_cache_behavior": behavior("o"),
                         "viewer_certificate": {"minimum_protocol_version": "TLSv1.2_2021"}},
        "perch": {"listen": [f"https://127.0.0.1:{port}"],
                  "tls": {"certificate_chain_file": cert, "private_key_file": key}}})
    r = subprocess.run(["curl", "-sS", "--cacert", ca, "--tlsv1.1", "--tls-max", "1.1",
                        f"https://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0


def test_an_https_origin_is_verified_against_its_ca(tmp, nginx_origins, proxies):
    ca, cert, key = make_ca_and_cert(tmp)
    origin = nginx_origins(tmp, f"""
        listen 127.0.0.1:@TLSPORT@ ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{ add_header Cache-Control "max-age=60"; }}
    """.replace("@TLSPORT@", str(tls_port := free_port())), {"/s.txt": "secure\n"})
    wait_for_port(tls_port)
    o = {"origin_id": "tls", "domain_name": "localhost",
         "custom_origin_config": {"http_port": 80, "https_port": tls_port,
                                  "origin_protocol_policy": "https-only",
                                  "origin_ssl_protocols": ["TLSv1.2"]},
         "perch": {"tls_ca_file": ca}}
    proxy = proxies(tmp, {"distribution": {"origin": [o], "default_cache_behavior": behavior("tls")}})
    assert proxy.get("/s.txt")[:3:2] == (200, b"secure\n")
    assert proxy.get("/s.txt")[1]["x-cache"] == "Hit from perch"

    # The same origin without its CA: the certificate does not verify, so 502.
    o2 = dict(o, perch={})
    proxy2 = proxies(tmp, {"distribution": {"origin": [o2], "default_cache_behavior": behavior("tls")}},
                     name="untrusting")
    status, headers, _ = proxy2.get("/s.txt")
    assert status == 502


def test_the_stats_line_gives_bytes_out_in_units_that_fit_a_small_site(tmp, fault_origin, proxies):
    proxy = proxies(tmp, {"distribution": {"origin": [http_origin("o", fault_origin.port)],
                                           "default_cache_behavior": behavior("o", default_ttl=60)}},
                    stats_interval=1)
    sent = sum(len(raw_exchange(proxy.port, b"GET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
               for _ in range(10))
    assert 1024 < sent < 10 * 1024  # a few KiB went out: "0.0 MiB" would say nothing
    line = proxy.wait_for_line(r" info stats: 10 requests")
    m = re.search(r"stats: 10 requests \(0 rejected\), hit ratio 90\.0% \(9 hits, 1 misses\), ([\d.]+) KiB out, \d+ connections, "
                  r"cache 1 objects, \d+(\.\d+)? (B|KiB) of 256 MiB$", line)
    assert m, line
    assert abs(float(m.group(1)) * 1024 - sent) < 0.01 * sent


def test_one_access_line_per_request_at_info_and_none_at_the_default_level(tmp, fault_origin, proxies):
    cfg = {"distribution": {"origin": [http_origin("o", fault_origin.port)],
                            "default_cache_behavior": behavior("o", default_ttl=60)}}
    proxy = proxies(tmp, cfg)  # --log-level info
    for _ in range(2):
        proxy.get("/a?x=1")
    proxy.get("/status/404")
    proxy.wait_for_line(r" access .*/status/404")  # logged once the response is out
    lines = [line for line in proxy.output().splitlines() if " access " in line]
    assert len(lines) == 3, proxy.output()
    pattern = (r" info \[(?P<id>[^\]]+)\] access 127\.0\.0\.1 \"GET (?P<target>\S+)\" (?P<status>\d+) "
               r"(?P<result>\S+) (?P<bytes>\d+) (?P<ms>\d+\.\d{3}) ms")
    seen = [re.search(pattern, line) for line in lines]
    assert all(seen), lines
    assert [(m["target"], m["status"], m["result"]) for m in seen] == [
        ("/a?x=1", "200", "Miss"), ("/a?x=1", "200", "Hit"), ("/status/404", "404", "Error")]
    assert all(int(m["bytes"]) > 100 for m in seen)
    quiet = proxies(tmp, cfg, log_level="warn", name="quiet")
    quiet.get("/a")
    time.sleep(0.3)  # time enough for a line that would follow the response
    assert " access " not in quiet.output()
