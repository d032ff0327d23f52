#!/usr/bin/env python3
"""Request collapsing figure: N concurrent cold requests for one slow object through the
real perch-proxy; reports how many requests reached the origin (target 1) and how long the
first and the last viewer waited. Usage: collapsing_bench.py BUILD_DIR [N] [ORIGIN_MS]"""
import os
import socket
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
os.environ.setdefault("PERCH_BUILD_DIR", sys.argv[1] if len(sys.argv) > 1 else "build")
from perchtest import FaultOrigin, Proxy, behavior, http_origin  # noqa: E402


def main():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    delay = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    origin = FaultOrigin()
    tmp = tempfile.mkdtemp()
    try:
        for workers in (1, 2):
            proxy = Proxy(tmp, {"distribution": {
                "origin": [http_origin("o", origin.port)],
                "default_cache_behavior": behavior(
                    "o", default_ttl=60,
                    forwarded_values={"query_string": True, "cookies": {"forward": "none"}})}},
                workers=workers, name=f"perch-{workers}")
            path = f"/slow/{delay}?h=Cache-Control:max-age=60&w={workers}"
            socks = [socket.create_connection(("127.0.0.1", proxy.port)) for _ in range(n)]
            waits = [0.0] * n
            barrier = threading.Barrier(n)

            def one(i):
                s = socks[i]
                barrier.wait()
                t0 = time.monotonic()
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode())
                while s.recv(65536):
                    pass
                waits[i] = time.monotonic() - t0
                s.close()

            threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            fetched = origin.requests(f"/slow/{delay}")
            before = getattr(main, "seen", 0)
            main.seen = fetched
            print(f"collapsing: {n} concurrent cold requests, origin {delay} ms, "
                  f"{workers} worker(s): {fetched - before} origin request(s); first viewer "
                  f"{min(waits) * 1000:.0f} ms, last {max(waits) * 1000:.0f} ms "
                  f"(last/first {max(waits) / min(waits):.2f})")
            proxy.stop()
    finally:
        origin.stop()


if __name__ == "__main__":
    main()
