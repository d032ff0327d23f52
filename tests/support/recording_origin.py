"""An HTTP/1.1 origin inside the test's own process that records every byte and every complete
request it receives, for tests that must prove what did (or did not) reach the origin. How it
answers is the test's choice: a function from the request to (status, headers, body); by default
a JSON echo of the request. Connections are kept alive; each one has its own thread."""
import json
import socket
import threading
import time


class Request:
    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # [(name, value)], as received
        self.body = body

    def values(self, name):
        """The values of the fields named `name` (case-insensitive), in order."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def names(self):
        return [k.lower() for k, _ in self.headers]

    def __repr__(self):
        return f"Request({self.method} {self.target} {self.headers!r} {self.body!r})"


def echo(req):
    data = {"method": req.method, "target": req.target, "headers": req.headers,
            "body": req.body.decode("latin-1")}
    return 200, [("Content-Type", "application/json")], json.dumps(data).encode()


class RecordingOrigin:
    def __init__(self, respond=echo):
        self.respond = respond
        self.lock = threading.Lock()
        self.requests = []       # complete requests, in arrival order
        self.received = b""      # every byte received, on every connection
        self.connections = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.stopping = False
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = bytearray()

        def more():
            d = conn.recv(65536)
            if not d:
                raise EOFError
            with self.lock:
                self.received += d
            buf.extend(d)

        def line():
            while b"\r\n" not in buf:
                more()
            i = buf.index(b"\r\n")
            out = bytes(buf[:i])
            del buf[:i + 2]
            return out

        def take(n):
            while len(buf) < n:
                more()
            out = bytes(buf[:n])
            del buf[:n]
            return out

        try:
            while True:
                method, target, version = line().decode("latin-1").split(" ", 2)
                headers = []
                while True:
                    h = line().decode("latin-1")
                    if not h:
                        break
                    name, _, value = h.partition(":")
                    headers.append((name, value.strip(" \t")))
                req = Request(method, target, version, headers, b"")
                te = ",".join(req.values("transfer-encoding")).lower()
                if "chunked" in te:
                    body = b""
                    while True:
                        size = int(line().split(b";")[0], 16)
                        if size == 0:
                            while line():
                                pass
                            break
                        body += take(size)
                        take(2)
                    req.body = body
                elif req.values("content-length"):
                    req.body = take(int(req.values("content-length")[0]))
                with self.lock:
                    self.requests.append(req)
                status, rheaders, rbody = self.respond(req)
                out = f"HTTP/1.1 {status} Answer\r\n"
                for k, v in rheaders:
                    out += f"{k}: {v}\r\n"
                out += f"Content-Length: {len(rbody)}\r\n\r\n"
                conn.sendall(out.encode("latin-1") + (b"" if method == "HEAD" else rbody))
                if "close" in ",".join(req.values("connection")).lower():
                    return
        except (EOFError, OSError, ValueError):
            return
        finally:
            conn.close()

    def settled(self, quiet=0.1):
        """The complete requests once nothing new arrived for `quiet` seconds."""
        while True:
            with self.lock:
                before = (len(self.received), len(self.requests))
            time.sleep(quiet)
            with self.lock:
                if (len(self.received), len(self.requests)) == before:
                    return list(self.requests)

    def stop(self):
        self.stopping = True
        self.listener.close()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=2)
