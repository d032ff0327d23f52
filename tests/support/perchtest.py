"""Helpers for perch's integration tests: free ports, real processes (perch-proxy, Debian's
nginx, the scripted fault origin) started and stopped by the tests, and small HTTP clients."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PERCH_BUILD_DIR", os.path.join(ROOT, "build"))
SHARED = os.environ.get("PERCH_SHARED_DIR", os.path.join(os.path.dirname(ROOT), "shared"))
PROXY_BIN = os.path.join(BUILD, "examples", "proxy", "perch-proxy")
PYTHON = "/usr/bin/python3"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc=None, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {port}")


class Nginx:
    """Debian's nginx as an origin, with a config the test writes (server blocks only)."""

    def __init__(self, tmp, servers, files=None):
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(os.path.join(self.dir, "www"), exist_ok=True)
        for name, content in (files or {}).items():
            p = os.path.join(self.dir, "www", name.lstrip("/"))
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(content if isinstance(content, bytes) else content.encode())
        self.port = free_port()
        # As root, nginx's workers would switch to "nobody", who cannot read the test's files.
        user = "user root;" if os.geteuid() == 0 else ""
        conf = f"""
{user}
worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {self.dir}/access.log;
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    keepalive_requests 10000;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.dir}/www;
        {servers.replace("@DIR@", self.dir)}
    }}
}}
"""
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(["nginx", "-c", os.path.join(self.dir, "nginx.conf"),
                                      "-p", self.dir], stderr=subprocess.PIPE)
        wait_for_port(self.port, self.proc)

    def _log_lines(self):
        try:
            with open(os.path.join(self.dir, "access.log")) as f:
                return f.readlines()
        except FileNotFoundError:
            return []

    def settled_log_lines(self):
        """The access log once it stops growing: nginx logs a request after sending its
        response, so a client can see the answer before the line is written."""
        lines = self._log_lines()
        for _ in range(10):
            time.sleep(0.03)
            again = self._log_lines()
            if len(again) == len(lines):
                break
            lines = again
        return lines

    def requests(self, path=None):
        """Requests the origin has logged (for `path` only, if given)."""
        lines = self.settled_log_lines()
        if path is None:
            return len(lines)
        return sum(1 for l in lines if f'"GET {path} ' in l or f'"HEAD {path} ' in l)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class FaultOrigin:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([PYTHON, os.path.join(ROOT, "tests", "support", "fault_origin.py"),
                                      str(self.port)], stdout=subprocess.PIPE)
        self.proc.stdout.readline()
        wait_for_port(self.port, self.proc)

    def stats(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        c.request("GET", "/__stats")
        data = json.loads(c.getresponse().read())
        c.close()
        return data

    def requests(self, path):
        return self.stats()["requests"].get(path, 0)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def http_origin(origin_id, port, **extra):
    o = {"origin_id": origin_id, "domain_name": "127.0.0.1",
         "custom_origin_config": {"http_port": port, "https_port": 443,
                                  "origin_protocol_policy": "http-only",
                                  "origin_ssl_protocols": ["TLSv1.2"]}}
    o.update(extra)
    return o


def behavior(target, methods=("GET", "HEAD"), **extra):
    b = {"target_origin_id": target, "allowed_methods": list(methods),
         "cached_methods": ["GET", "HEAD"], "viewer_protocol_policy": "allow-all"}
    b.update(extra)
    return b


class Proxy:
    """perch-proxy serving a config dict; port chosen here unless perch.listen is given."""

    def __init__(self, tmp, config, workers=1, log_level="info", name="perch", stats_interval=0):
        self.tmp = tmp
        config = json.loads(json.dumps(config))
        p = config.setdefault("perch", {})
        if "listen" not in p:
            self.port = free_port()
            p["listen"] = [f"http://127.0.0.1:{self.port}"]
        else:
            self.port = int(p["listen"][0].rsplit(":", 1)[1])
        p.setdefault("workers", workers)
        self.config_path = os.path.join(tmp, f"{name}.json")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)
        self.log_path = os.path.join(tmp, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([PROXY_BIN, "--config", self.config_path, "--log-level",
                                      log_level, "--stats-interval", str(stats_interval)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.proc)

    def request(self, method, path, headers=None, body=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def get(self, path, headers=None):
        return self.request("GET", path, headers)

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def wait_for_line(self, pattern, timeout=5.0):
        """The first line of the proxy's output matching regex `pattern`, waiting up to
        `timeout` seconds for it (AssertionError with the output if none comes)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.output().splitlines():
                if re.search(pattern, line):
                    return line
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.05)

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def rss_kib(pid):
    """A process's resident memory (VmRSS), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def recv_until_close(s):
    """Everything the peer sends on socket `s` until it closes."""
    data = bytearray()
    while True:
        d = s.recv(1 << 20)
        if not d:
            return bytes(data)
        data += d


def raw_exchange(port, data, timeout=5.0, read_until_close=True):
    """Sends raw bytes and returns everything the server sends until it closes (or timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if not read_until_close:
                break
    except socket.timeout:
        pass
    s.close()
    return out


def parse_responses(data):
    """Splits a byte stream into (status, headers dict, body) responses (Content-Length or
    chunked framing)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        if status == 100:
            data = rest
            continue
        if "content-length" in headers:
            n = int(headers["content-length"])
            body, data = rest[:n], rest[n:]
        elif headers.get("transfer-encoding") == "chunked":
            # By offsets: linear in the body (tests move tens of MiB this way).
            parts, at = [], 0
            while True:
                eol = rest.index(b"\r\n", at)
                size = int(rest[at:eol].split(b";")[0], 16)
                at = eol + 2
                if size == 0:
                    at += 2
                    break
                parts.append(rest[at:at + size])
                at += size + 2
            body, data = b"".join(parts), rest[at:]
        else:
            body, data = rest, b""
        out.append((status, headers, body))
    return out


def make_ca_and_cert(tmp, name="localhost"):
    """A private CA and a certificate for 127.0.0.1/localhost signed by it (openssl CLI)."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=perch test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
        "-subj", f"/CN={name}")
    with open(os.path.join(tmp, "ext.cnf"), "w") as f:
        f.write(f"subjectAltName=DNS:{name},IP:127.0.0.1\n")
    run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "ext.cnf")
    return (os.path.join(tmp, "ca.pem"), os.path.join(tmp, f"{name}.pem"),
            os.path.join(tmp, f"{name}.key"))
