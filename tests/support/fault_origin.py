#!/usr/bin/env python3
"""An HTTP/1.1 origin whose answers the tests script through the request path: echoes,
delays, hangs, truncated bodies, chosen statuses and headers. It counts requests per path
and connections, readable at /__stats. Run: fault_origin.py PORT (prints "ready" when
listening). It is a real process on a loopback port, for failures Debian's nginx cannot be
made to produce on demand.

Paths:
  /echo...                  200, JSON of the request (method, target, headers, body)
  /status/CODE              that status; headers from ?h=Name:Value (repeatable)
  /slow/MS...               answer after MS milliseconds ("slow", or "slow V" with V the
                            value of the request header named by ?echo=)
  /hang...                  read the request, never answer
  /truncate/N               Content-Length 2N, send N bytes, close
  /chunked/N                N bytes in chunks of 1000, chunked encoding (after ?wait=MS
                            milliseconds past the head)
  /close-delimited/N        N bytes, no length, close
  /etag...                  ETag "v1" + Cache-Control from ?cc= (status from ?status=);
                            304 on If-None-Match "v1", with headers from ?nm=Name:Value
                            (an ETag there replaces "v1" on the 304)
  /close-others...          closes every other idle connection, then answers with
                            Connection: close (a pooled connection dying under the client)
  /rst/N                    N bytes of a close-delimited body, then a TCP reset
  /slowupload...            waits 1 s before reading the request body
  /flip/N...                200 "fresh K" for the first N requests, then 500 (or ?fail=CODE);
                            headers from ?h=
  /drip/N/MS                N bytes (a-z repeated) in 4 pieces MS ms apart, with Content-Length
  anything else             200 "hello <path>", headers from ?h=
"""
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse

lock = threading.Lock()
stats = {"requests": {}, "connections": 0, "conditional": 0}
idle = set()  # connections waiting for their next request


def count(path):
    with lock:
        stats["requests"][path] = stats["requests"].get(path, 0) + 1


def read_request(f):
    line = f.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = []
    while True:
        h = f.readline().decode("latin-1").rstrip("\r\n")
        if not h:
            break
        name, _, value = h.partition(":")
        headers.append((name.strip(), value.strip()))
    hmap = {k.lower(): v for k, v in headers}
    if target.startswith("/slowupload"):
        time.sleep(1.0)
    body = b""
    if "content-length" in hmap:
        body = f.read(int(hmap["content-length"]))
    elif hmap.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b""):
                    pass
                break
            body += f.read(size)
            f.read(2)
    return method, target, headers, hmap, body


def respond(conn, status, headers, body=b"", head_only=False):
    reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}.get(status, "Status")
    out = f"HTTP/1.1 {status} {reason}\r\n"
    if not any(k.lower() == "content-length" for k, _ in headers) and status not in (204, 304):
        headers = headers + [("Content-Length", str(len(body)))]
    for k, v in headers:
        out += f"{k}: {v}\r\n"
    if head_only or status in (204, 304):
        body = b""
    conn.sendall(out.encode("latin-1") + b"\r\n" + body)


def handle(conn):
    with lock:
        stats["connections"] += 1
    f = conn.makefile("rb")
    try:
        while True:
            with lock:
                idle.add(conn)
            req = read_request(f)
            with lock:
                idle.discard(conn)
            if req is None:
                return
            method, target, headers, hmap, body = req
            url = urllib.parse.urlsplit(target)
            path = url.path
            query = urllib.parse.parse_qs(url.query)
            extra = [tuple(h.split(":", 1)) for h in query.get("h", [])]
            head_only = method == "HEAD"
            if path == "/__stats":
                with lock:
                    respond(conn, 200, [("Content-Type", "application/json")],
                            json.dumps(stats).encode())
                continue
            count(path)
            if path.startswith("/echo"):
                data = {"method": method, "target": target, "headers": headers,
                        "body": body.decode("latin-1")}
                respond(conn, 200, [("Content-Type", "application/json")] + extra,
                        json.dumps(data).encode(), head_only)
            elif path.startswith("/drip/"):
                # N bytes in 4 pieces, MS milliseconds apart, Content-Length announced
                n, ms = (int(x) for x in path.split("/")[2:4])
                body = bytes(b"abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(n))
                conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n".encode()
                             + "".join(f"{k}: {v}\r\n" for k, v in extra).encode() + b"\r\n")
                step = (n + 3) // 4
                for i in range(0, n, step):
                    if i:
                        time.sleep(ms / 1000)
                    conn.sendall(body[i:i + step])
            elif path.startswith("/flip/"):
                # 200 for the first N requests to this path, then 500 (headers from ?h=)
                with lock:
                    seen = stats["requests"][path]
                if seen <= int(path.split("/")[2]):
                    respond(conn, 200, extra, f"fresh {seen}\n".encode(), head_only)
                else:
                    code = int(query.get("fail", ["500"])[0])
                    respond(conn, code, extra, b"broken\n", head_only)
            elif path.startswith("/status/"):
                code = int(path.split("/")[2])
                respond(conn, code, extra, f"status {code}\n".encode(), head_only)
            elif path.startswith("/slow/"):
                time.sleep(int(path.split("/")[2]) / 1000)
                body = b"slow\n"
                if "echo" in query:
                    body = f"slow {hmap.get(query['echo'][0].lower(), '')}\n".encode()
                respond(conn, 200, extra, body, head_only)
            elif path.startswith("/hang"):
                time.sleep(3600)
            elif path.startswith("/truncate/"):
                n = int(path.split("/")[2])
                conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {2 * n}\r\n"
                             "Cache-Control: max-age=600\r\n\r\n".encode() + b"x" * n)
                return
            elif path.startswith("/chunked/"):
                n = int(path.split("/")[2])
                out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                out += "".join(f"{k}: {v}\r\n" for k, v in extra).encode() + b"\r\n"
                full, rest = divmod(n, 1000)
                piece = b"3e8\r\n" + b"c" * 1000 + b"\r\n"
                tail = (f"{rest:x}\r\n".encode() + b"c" * rest + b"\r\n") if rest else b""
                conn.sendall(out)
                time.sleep(int(query.get("wait", ["0"])[0]) / 1000)
                for _ in range(full // 100):
                    conn.sendall(piece * 100)
                conn.sendall(piece * (full % 100) + tail + b"0\r\n\r\n")
            elif path.startswith("/close-delimited/"):
                n = int(path.split("/")[2])
                hdr = "".join(f"{k}: {v}\r\n" for k, v in extra)
                conn.sendall(f"HTTP/1.1 200 OK\r\nConnection: close\r\n{hdr}\r\n".encode() + b"d" * n)
                return
            elif path.startswith("/etag"):
                cc = query.get("cc", ["max-age=1"])[0]
                status = int(query.get("status", ["200"])[0])
                if hmap.get("if-none-match") == '"v1"':
                    with lock:
                        stats["conditional"] += 1
                    nm = [tuple(h.split(":", 1)) for h in query.get("nm", [])]
                    etag = [] if any(k.lower() == "etag" for k, _ in nm) else [("ETag", '"v1"')]
                    respond(conn, 304, etag + [("Cache-Control", cc)] + nm)
                else:
                    respond(conn, status, [("ETag", '"v1"'), ("Cache-Control", cc)] + extra,
                            b"etag body\n", head_only)
            elif path.startswith("/close-others"):
                with lock:
                    others = list(idle)
                for other in others:
                    try:
                        other.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                respond(conn, 200, [("Connection", "close")], b"closed the others\n", head_only)
                return
            elif path.startswith("/interim/"):
                # 102 and 103 Early Hints (with a Link and a hop-by-hop field), then 200 after
                # MS milliseconds (/interim/MS)
                conn.sendall(b"HTTP/1.1 102 Processing\r\n\r\n"
                             b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n"
                             b"Connection: X-Hop\r\nX-Hop: 1\r\n\r\n")
                time.sleep(int(path.split("/")[2]) / 1000)
                respond(conn, 200, [("Content-Type", "text/plain")] + extra, b"final\n", head_only)
            elif path.startswith("/continue-flood"):
                # 100 Continue every 100 ms, never a final answer
                for _ in range(600):
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    time.sleep(0.1)
                return
            elif path.startswith("/rst/"):
                n = int(path.split("/")[2])
                conn.sendall(b"HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\n\r\n" + b"r" * n)
                time.sleep(0.2)  # let the bytes arrive before the reset
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                f.close()
                conn.close()  # with linger 0: a reset, not a FIN
                return
            else:
                respond(conn, 200, [("Content-Type", "text/plain")] + extra,
                        f"hello {path}\n".encode(), head_only)
            if hmap.get("connection", "").lower() == "close":
                return
    except (ConnectionError, OSError, ValueError):
        return
    finally:
        conn.close()


def main():
    port = int(sys.argv[1])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(128)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
