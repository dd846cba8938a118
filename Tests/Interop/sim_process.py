"""Starts a built `evse-sim` on free ports for the simulator interop tests."""
import json
import pathlib
import re
import select
import socket
import subprocess
import time
import urllib.error
import urllib.request


class SimProcess:
    def __init__(self, bin_dir: pathlib.Path, *args: str):
        exe = pathlib.Path(bin_dir) / "evse-sim"
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--http", "127.0.0.1:0", "--hal", "127.0.0.1:0", "--modbus", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith("evse-sim ready"):
                    break
            if self.proc.poll() is not None:
                raise RuntimeError("evse-sim exited: " + self.proc.stderr.read())
        m = re.search(r"http=([\d.]+):(\d+) hal=(\d+) modbus=(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("evse-sim did not report ready: " + line)
        self.host = m.group(1)
        self.http_port = int(m.group(2))
        self.hal_port = int(m.group(3))
        self.modbus_port = int(m.group(4))
        self.base = f"http://{self.host}:{self.http_port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def request(self, method: str, path: str, body=None, raw: bytes | None = None):
        """(status, parsed JSON or text)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                status, text, ctype = r.status, r.read().decode(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, text, ctype = e.code, e.read().decode(), e.headers.get("Content-Type", "")
        return status, (json.loads(text) if "json" in ctype else text)

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None, raw=None):
        return self.request("POST", path, body, raw)

    def state(self):
        status, s = self.get("/api/state")
        assert status == 200
        return s


class HALClient:
    """A bare line-protocol client (the firmware's side, written for the test)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.pushed: list[str] = []
        self.next_id = 1

    def _line(self) -> str:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("simulator closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def call(self, text: str) -> str:
        rid = self.next_id
        self.next_id += 1
        self.sock.sendall(f"{rid} {text}\n".encode())
        while True:
            line = self._line()
            if line.startswith("!"):
                self.pushed.append(line)
                continue
            assert line.split(" ", 1)[0] == str(rid), line
            return line.split(" ", 1)[1]

    def wait_push(self, predicate, timeout=5.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.pushed:
                if predicate(p):
                    self.pushed.remove(p)
                    return p
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                line = self._line()
            except socket.timeout:
                break
            finally:
                self.sock.settimeout(5)
            if line.startswith("!"):
                self.pushed.append(line)
        raise AssertionError(f"no matching push; got {self.pushed}")

    def close(self):
        self.sock.close()


class EventStream:
    """Reads /api/events (server-sent events) from a raw socket."""

    def __init__(self, sim: SimProcess, since: int | None = None):
        self.sock = socket.create_connection((sim.host, sim.http_port), timeout=5)
        path = "/api/events" + (f"?since={since}" if since is not None else "")
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.headers = head.decode()
        self.chunked = "chunked" in self.headers.lower()

    def _until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("event stream closed")
            self.buf += chunk
        out, self.buf = self.buf.split(sep, 1)
        return out

    def events(self, timeout=5.0, until=None) -> list[dict]:
        """Events until `until(event)` is true (or the timeout passes)."""
        if not hasattr(self, "text"):
            self.raw, self.text = self.buf, b""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            # Decode what is buffered first, so events left over from the last call come out.
            if self.chunked:
                while b"\r\n" in self.raw:
                    size_line, rest = self.raw.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0], 16)
                    if len(rest) < size + 2:
                        break
                    self.text += rest[:size]
                    self.raw = rest[size + 2:]
            else:
                self.text += self.raw
                self.raw = b""
            while b"\n\n" in self.text:
                block, self.text = self.text.split(b"\n\n", 1)
                for line in block.decode().split("\n"):
                    if line.startswith("data: "):
                        ev = json.loads(line[6:])
                        got.append(ev)
                        if until and until(ev):
                            return got
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return got
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return got
            if not chunk:
                return got
            self.raw += chunk

    def close(self):
        self.sock.close()


def c_to_b_latency_ms(sim, cid=1):
    """The EV on `cid` goes C → B; returns the ms from the simulator's pilot change to the
    firmware's contactor-open command, both stamped by the simulator on CLOCK_MONOTONIC."""
    stream = EventStream(sim, since=None)
    try:
        assert sim.post(f"/api/connectors/{cid}/ev-state", {"state": "B"})[0] == 200
        evs = stream.events(timeout=5, until=lambda e: e["kind"] == "contactor.command" and not e.get("commanded"))
    finally:
        stream.close()
    pilot = [e for e in evs if e["kind"] == "pilot.state" and e.get("connector") == cid and e.get("state") == "B"]
    cmd = [e for e in evs if e["kind"] == "contactor.command" and e.get("connector") == cid and not e.get("commanded")]
    assert pilot and cmd, [e["kind"] for e in evs]
    return (cmd[-1]["t_us"] - pilot[-1]["t_us"]) / 1000


def connector(sim, cid=1):
    """Connector `cid` of the simulator's /api/state."""
    return next(c for c in sim.state()["connectors"] if c["id"] == cid)


def wait_for(predicate, timeout=10.0, what="condition"):
    """The first truthy value of `predicate`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
