"""The examples build and run: the embedding sample, perch-proxy on the demo's configuration,
and the README's quick start and advanced example as a newcomer would type them."""
import json
import os
import re
import subprocess

from perchtest import BUILD, PROXY_BIN, PYTHON, ROOT, free_port, wait_for_port

QUICKSTART = os.path.join(ROOT, "examples", "quickstart", "origin.json")


def test_embed_libuv_serves_a_miss_then_a_hit_on_the_hosts_loop():
    exe = os.path.join(BUILD, "examples", "embed-libuv", "embed-libuv")
    r = subprocess.run([exe, os.path.join(ROOT, "examples", "site")], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("perch 0.1.0 listening on 127.0.0.1:")
    assert lines[1] == "HTTP/1.1 200 OK | X-Cache: Miss from perch"
    assert lines[2] == "HTTP/1.1 200 OK | X-Cache: Hit from perch"
    assert lines[3] == "done"


def test_the_demo_configuration_serves_the_site_with_hits_a_custom_404_and_stats(tmp, proxies):
    # `./dev demo` runs examples/proxy/demo.json; here a copy on a free port (never 8080), next
    # to a link to the site so that its relative "../site" resolves as in the repository.
    with open(os.path.join(ROOT, "examples", "proxy", "demo.json")) as f:
        config = json.load(f)
    config["perch"]["listen"] = [f"http://127.0.0.1:{free_port()}"]
    os.symlink(os.path.join(ROOT, "examples", "site"), os.path.join(tmp, "site"))
    os.mkdir(os.path.join(tmp, "proxy"))
    proxy = proxies(os.path.join(tmp, "proxy"), config, name="demo", stats_interval=1)

    def site_file(name):
        with open(os.path.join(ROOT, "examples", "site", name), "rb") as f:
            return f.read()

    status, headers, body = proxy.get("/")
    assert (status, body) == (200, site_file("index.html"))
    assert headers["x-cache"] == "Miss from perch"
    assert headers["content-type"].startswith("text/html")
    status, headers, body = proxy.get("/")
    assert (status, body) == (200, site_file("index.html"))
    assert headers["x-cache"] == "Hit from perch"
    assert int(headers["age"]) >= 0
    status, headers, body = proxy.get("/nope")
    assert (status, body) == (404, site_file("404.html"))
    assert headers["x-cache"] == "Error from perch"
    line = proxy.wait_for_line(r" info stats: 3 requests \(0 rejected\), hit ratio \d+\.\d%", timeout=3.5)
    assert re.search(r", \d+(\.\d+)? KiB out, ", line), line


def readme_section(title):
    """The README's text from the "## <title>" heading to the next "## " heading."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## )", text, re.M | re.S)
    assert m, f"README.md has no section '## {title}'"
    return m.group(1)


def test_the_quick_start_config_loads_as_committed():
    r = subprocess.run([PROXY_BIN, "--check-config", QUICKSTART], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    assert "listen http://127.0.0.1:8081" in r.stdout
    assert "origin mine: http://127.0.0.1:8000" in r.stdout


def test_the_readmes_quick_start_gives_a_miss_then_a_hit_from_a_python_origin(tmp):
    quick = readme_section("Quick start: perch in front of your own origin")
    # The README shows these commands; the test runs them with free ports instead of 8000,
    # 8081 and 9001 (the file itself is checked as committed above).
    assert "python3 -m http.server 8000 --bind 127.0.0.1" in quick
    assert "$ build/examples/proxy/perch-proxy --config examples/quickstart/origin.json" in quick
    with open(QUICKSTART) as f:
        committed = f.read()
    assert committed.strip() in quick, "the README shows examples/quickstart/origin.json as it is"
    # Each "$ curl -i URL" in the README and the X-Cache its output shows.
    shown = re.findall(r"^\$ curl -i (http://127\.0\.0\.1:8081\S*)\n(?:(?!\$ ).*\n)*?X-Cache: (.*)\n",
                       quick, re.M)
    assert [x for _, x in shown] == ["Miss from perch", "Hit from perch"], shown

    site = os.path.join(tmp, "site")
    os.mkdir(site)
    with open(os.path.join(site, "index.html"), "w") as f:
        f.write("<h1>hello from my origin</h1>\n")
    origin_port, port, admin_port = free_port(), free_port(), free_port()
    config = json.loads(committed)
    config["distribution"]["origin"][0]["custom_origin_config"]["http_port"] = origin_port
    config["perch"]["listen"] = [f"http://127.0.0.1:{port}"]
    config["perch"]["admin"]["listen"] = f"http://127.0.0.1:{admin_port}"
    config_path = os.path.join(tmp, "origin.json")
    with open(config_path, "w") as f:
        json.dump(config, f)

    origin_log = open(os.path.join(tmp, "origin.log"), "w")
    origin = subprocess.Popen([PYTHON, "-m", "http.server", str(origin_port), "--bind", "127.0.0.1"],
                              cwd=site, stdout=origin_log, stderr=subprocess.STDOUT)
    proxy_log = open(os.path.join(tmp, "proxy.log"), "w")
    proxy = subprocess.Popen([PROXY_BIN, "--config", config_path], stdout=proxy_log,
                             stderr=subprocess.STDOUT)
    try:
        wait_for_port(origin_port, origin)
        wait_for_port(port, proxy)
        seen = []
        for url, expected in shown:
            r = subprocess.run(["curl", "-si", url.replace(":8081", f":{port}")],
                               capture_output=True, text=True, timeout=10)
            head, _, body = r.stdout.replace("\r\n", "\n").partition("\n\n")
            fields = dict(l.split(": ", 1) for l in head.splitlines()[1:])
            assert head.startswith("HTTP/1.1 200 OK"), r.stdout
            assert body == "<h1>hello from my origin</h1>\n"
            assert fields["X-Cache"] == expected, head
            assert fields["Via"] == "1.1 perch" and re.fullmatch(r"[0-9a-f]{16}", fields["X-Request-Id"])
            seen.append(fields)
        assert "Age" not in seen[0] and int(seen[1]["Age"]) >= 0
        origin_log.flush()
        with open(origin_log.name) as f:
            gets = [l for l in f if '"GET / HTTP/1.1" 200' in l]
        assert len(gets) == 1, "the hit must not reach the origin"
    finally:
        for p in (proxy, origin):
            p.terminate()
            p.wait(timeout=15)
        proxy_log.close()
        origin_log.close()
    assert proxy.returncode == 0


def test_the_readmes_advanced_example_loads_given_its_site_and_certificate(tmp):
    guide = readme_section("Configuration guide")
    m = re.search(r"^```json\n(\{\n  \"distribution\".*?)^```", guide, re.M | re.S)
    assert m, "the configuration guide shows a whole configuration"
    with open(os.path.join(tmp, "edge.json"), "w") as f:
        f.write(m.group(1))
    os.mkdir(os.path.join(tmp, "site"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", "key.pem", "-out", "fullchain.pem", "-days", "1",
                    "-subj", "/CN=localhost"], check=True, capture_output=True, cwd=tmp)
    r = subprocess.run([PROXY_BIN, "--check-config", "edge.json"], capture_output=True, text=True,
                       cwd=tmp, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "behavior /api/* -> app" in r.stdout
