"""The admin endpoint of perch-proxy (perch.admin): invalidation by path and by prefix over
POST /invalidations with a bearer token, against the scripted fault origin."""
import http.client
import json
import re
import socket
import time

import perchtest
import pytest

TOKEN = "integration-admin-token-0123456789"


def admin_config(origin_port, admin_port, **perch):
    p = {"admin": {"listen": f"http://127.0.0.1:{admin_port}", "token": TOKEN}}
    p.update(perch)
    return {"distribution": {"origin": [perchtest.http_origin("o", origin_port)],
                             "default_cache_behavior": perchtest.behavior("o")},
            "perch": p}


class Admin:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, token=TOKEN, headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def invalidate(self, paths, **kw):
        return self.request("POST", "/invalidations", {"paths": paths}, **kw)


@pytest.fixture
def edge(tmp, fault_origin, proxies):
    """A perch-proxy with perch.admin; returns (proxy, admin client)."""
    def start(workers=1, **perch):
        admin_port = perchtest.free_port()
        proxy = proxies(tmp, admin_config(fault_origin.port, admin_port, **perch),
                        workers=workers)
        perchtest.wait_for_port(admin_port, proxy.proc)
        return proxy, Admin(admin_port)
    return start


def x_cache(proxy, path):
    status, headers, _ = proxy.get(path)
    assert status == 200
    return headers["x-cache"].split()[0]


def test_invalidating_a_cached_path_makes_the_next_request_a_miss(edge, fault_origin):
    proxy, admin = edge()
    assert x_cache(proxy, "/a.html") == "Miss"
    assert x_cache(proxy, "/a.html") == "Hit"
    assert x_cache(proxy, "/b.html") == "Miss"
    status, headers, body = admin.invalidate(["/a.html"])
    assert status == 201
    record = json.loads(body)
    assert record["id"].startswith("I") and len(record["id"]) == 14
    assert record["status"] == "Completed"
    assert record["invalidation_batch"]["paths"] == {"quantity": 1, "items": ["/a.html"]}
    assert record["perch"]["objects_removed"] == 1
    assert headers["location"] == "/invalidations/" + record["id"]
    assert headers["content-type"] == "application/json"
    assert x_cache(proxy, "/a.html") == "Miss"
    assert x_cache(proxy, "/b.html") == "Hit"  # other paths stay
    assert fault_origin.requests("/a.html") == 2
    # The record can be read back.
    status, _, again = admin.request("GET", headers["location"])
    assert status == 200 and json.loads(again) == record
    assert "admin endpoint listening on port" in proxy.output()


def test_a_wildcard_invalidates_every_path_with_the_prefix(edge):
    proxy, admin = edge()
    for p in ("/img/a.png", "/img/sub/b.png", "/imgx.png", "/other.html"):
        assert x_cache(proxy, p) == "Miss"
    # Paths are case-sensitive, as in CloudFront.
    status, _, body = admin.invalidate(["/IMG/*", "/Other.html"])
    assert status == 201 and json.loads(body)["perch"]["objects_removed"] == 0
    assert x_cache(proxy, "/img/a.png") == "Hit"
    status, _, body = admin.invalidate(["/img/*"])
    assert status == 201 and json.loads(body)["perch"]["objects_removed"] == 2
    assert x_cache(proxy, "/img/a.png") == "Miss"
    assert x_cache(proxy, "/img/sub/b.png") == "Miss"
    assert x_cache(proxy, "/imgx.png") == "Hit"
    assert x_cache(proxy, "/other.html") == "Hit"
    status, _, body = admin.invalidate(["/*"])
    assert status == 201 and json.loads(body)["perch"]["objects_removed"] == 4
    assert x_cache(proxy, "/other.html") == "Miss"


def test_an_encoded_path_invalidates_the_same_object(edge):
    proxy, admin = edge()
    assert x_cache(proxy, "/a.b") == "Miss"
    assert admin.invalidate(["/a%2Eb"])[0] == 201
    assert x_cache(proxy, "/a.b") == "Miss"


@pytest.mark.parametrize("token", ["wrong-token", TOKEN + "x", TOKEN[:-1], None])
def test_a_wrong_or_missing_token_gets_401_and_invalidates_nothing(edge, token):
    proxy, admin = edge()
    assert x_cache(proxy, "/a.html") == "Miss"
    status, headers, body = admin.invalidate(["/a.html"], token=token)
    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")
    assert json.loads(body)["error"]["code"] == "AccessDenied"
    assert x_cache(proxy, "/a.html") == "Hit"


def test_the_admin_port_never_serves_cached_content(edge):
    proxy, admin = edge()
    assert x_cache(proxy, "/a.html") == "Miss"
    for token, expected in ((TOKEN, 404), (None, 401)):
        for path in ("/", "/a.html"):
            status, headers, body = admin.request("GET", path, token=token)
            assert status == expected
            assert "x-cache" not in headers
            assert b"hello" not in body


def test_bad_json_and_bad_paths_get_400_naming_the_problem(edge):
    proxy, admin = edge()
    assert x_cache(proxy, "/a.html") == "Miss"
    status, _, body = admin.request("POST", "/invalidations", '{"paths": [')
    assert status == 400
    assert json.loads(body)["error"] == {"code": "MalformedInput",
                                         "message": "the body is not valid JSON"}
    status, _, body = admin.invalidate(["/a.html", "/img/*.png"])
    assert status == 400
    assert json.loads(body)["error"]["message"] == \
        "paths[1]: '*' is allowed only as the last character"
    status, _, body = admin.invalidate(["a.html"])
    assert status == 400 and "paths[0]: must start with '/'" in json.loads(body)["error"]["message"]
    assert x_cache(proxy, "/a.html") == "Hit"  # nothing was invalidated


def test_every_admin_answer_carries_its_own_request_id(edge):
    _, admin = edge()
    answers = [admin.invalidate(["/a.html"]), admin.invalidate(["/a.html"], token="wrong-token"),
               admin.request("GET", "/nope"),
               admin.request("POST", "/invalidations", json.dumps({"paths": ["/" + "a" * 3000] * 400}))]
    assert [a[0] for a in answers] == [201, 401, 404, 413]
    ids = [a[1]["x-request-id"] for a in answers]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_admin_answers_share_the_generated_head_and_close(edge):
    _, admin = edge()
    for method, path, token, status in (("GET", "/nope", TOKEN, 404),
                                        ("GET", "/nope", "wrong-token", 401),
                                        ("PUT", "/invalidations", TOKEN, 405)):
        got, headers, _ = admin.request(method, path, token=token)
        assert got == status
        assert headers["content-type"] == "application/json"
        assert headers["cache-control"] == "no-store"
        assert headers["via"] == "1.1 perch" and headers["date"].endswith(" GMT")
        assert headers["connection"] == "close"
        assert ("www-authenticate" in headers) == (status == 401)
        assert ("allow" in headers) == (status == 405)


def test_a_body_over_the_limit_gets_413(edge):
    _, admin = edge()
    body = json.dumps({"paths": ["/" + "a" * 3000] * 400})  # about 1.2 MB
    status, _, data = admin.request("POST", "/invalidations", body)
    assert status == 413
    assert json.loads(data)["error"]["code"] == "BatchTooLarge"


def test_with_two_workers_an_invalidation_applies_to_both(edge):
    proxy, admin = edge(workers=2)

    def settle():
        # The store commits an object as its response ends: a request on the other worker
        # right after a Miss may miss too. Wait for the first Hit.
        for _ in range(50):
            if x_cache(proxy, "/shared.html") == "Hit":
                return
            time.sleep(0.05)
        raise AssertionError("never a Hit")

    assert x_cache(proxy, "/shared.html") == "Miss"
    settle()
    # New connections are spread across both workers: every one sees the shared store.
    assert all(x_cache(proxy, "/shared.html") == "Hit" for _ in range(8))
    assert admin.invalidate(["/shared.html"])[0] == 201
    assert x_cache(proxy, "/shared.html") == "Miss"
    settle()
    assert all(x_cache(proxy, "/shared.html") == "Hit" for _ in range(8))


def test_a_slow_request_head_is_cut_at_header_timeout(edge):
    _, admin = edge(limits={"header_timeout": 1, "idle_timeout": 30})
    s = socket.create_connection(("127.0.0.1", admin.port), timeout=10)
    start = time.monotonic()
    s.sendall(b"POST /invalidations HTTP/1.1\r\n")
    for _ in range(4):  # trickling bytes does not extend the deadline
        time.sleep(0.4)
        try:
            s.sendall(b"X-A: b\r\n")
        except OSError:
            break
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    assert time.monotonic() - start < 4


def test_sigterm_closes_the_admin_listener_too(edge):
    proxy, admin = edge()
    assert admin.invalidate(["/a"])[0] == 201
    assert proxy.stop() == 0
    with pytest.raises(OSError):
        admin.request("GET", "/invalidations/x")
