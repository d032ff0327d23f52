"""The examples build and run: the embedding sample, and perch-proxy on the demo's
configuration."""
import json
import os
import re
import subprocess

from perchtest import BUILD, ROOT, free_port


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
