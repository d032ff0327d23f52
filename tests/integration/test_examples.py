"""The embedding examples build and run."""
import os
import subprocess

from perchtest import BUILD, ROOT


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
