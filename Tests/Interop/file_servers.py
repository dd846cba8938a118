"""File servers for the firmware and diagnostics interop tests, written by others: Python's
http.server (GET from a dict, PUT into it) and pyftpdlib, each in a background thread on
127.0.0.1 with a free port."""
import http.server
import threading
from datetime import datetime, timezone

import pytest

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


class HTTPFileServer:
    """GET serves `files[path]` (404 otherwise); PUT stores the body under its path (201).
    Every request is recorded as (method, path, headers)."""

    def __init__(self):
        self.files = {}
        self.requests = []
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _record(self):
                with server.lock:
                    server.requests.append((self.command, self.path, dict(self.headers)))

            def do_GET(self):
                self._record()
                with server.lock:
                    body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                self._record()
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with server.lock:
                    server.files[self.path] = body
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, method):
        with self.lock:
            return [(m, p, h) for (m, p, h) in self.requests if m == method]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class FTPFileServer:
    """pyftpdlib with one user whose home is `root` (read and write)."""

    def __init__(self, root, user="evse", password="s3cret"):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        authorizer = DummyAuthorizer()
        authorizer.add_user(user, password, str(root), perm="elradfmwMT")
        handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "passive_ports": None})
        self.server = FTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.address[1]
        self.user, self.password = user, password
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"ftp://{self.user}:{self.password}@127.0.0.1:{self.port}{path}"

    def stop(self):
        self.server.close_all()


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture()
def http_files():
    server = HTTPFileServer()
    yield server
    server.stop()


def firmware_station_file(tmp_path, repo_root, new_version):
    """The demo station file with a firmware section: an installer script that copies the image
    to installed.bin and writes `new_version` to the version file evsed reports."""
    installer = tmp_path / "install-firmware.sh"
    installer.write_text(f"#!/bin/sh\ncp \"$1\" \"{tmp_path}/installed.bin\" && echo {new_version} > \"{tmp_path}/firmware-version\"\n")
    installer.chmod(0o755)
    config = tmp_path / "station.yaml"
    config.write_text((repo_root / "etc" / "station.demo.yaml").read_text()
                      + f"\nfirmware:\n  installer: {installer}\n  version_file: {tmp_path}/firmware-version\n")
    return config
