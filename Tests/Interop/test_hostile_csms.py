"""A hostile backend: a CSMS that floods CALLs, sends a 10 MB frame, answers message ids that were
never sent, answers after the call timeout, pings without end, closes mid-frame, or accepts the
TCP connection and never finishes the WebSocket or the TLS handshake. Through all of it evsed's memory stays bounded, it keeps (or gets back)
its connection, and the pilot → contactor path keeps its latency.

The server is raw `websockets` (the library the `ocpp` package runs on): a hostile peer does not
go through a well-behaved OCPP library."""
import asyncio
import json
import pathlib
import socket
import statistics
import threading
import time
from datetime import datetime, timezone

import pytest
import websockets

from ocpp16_support import CARD, IDENTITY, c1, journal_session, station  # noqa: F401 (fixture)
from openssl_pki import PKI
from sim_process import c_to_b_latency_ms, wait_for

ANSWERS = {
    "BootNotification": lambda: {"status": "Accepted", "interval": 300, "currentTime": now()},
    "Heartbeat": lambda: {"currentTime": now()},
    "Authorize": lambda: {"idTagInfo": {"status": "Accepted"}},
    "StartTransaction": lambda: {"transactionId": 4711, "idTagInfo": {"status": "Accepted"}},
}


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def rss_mb(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class HostileCSMS:
    """Answers the charge point's CALLs (enough for sessions to run) and lets a test misbehave on
    the live connection from its own thread."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.connections = []  # every connection, in order
        self.results = {}  # message id → the charge point's CALLRESULT / CALLERROR frame
        self.received = []  # (action, payload) of the charge point's CALLs
        # async (ws, message id, action, payload) → True when it took the CALL (answered it
        # itself, later or never): a test's own misbehaviour.
        self.intercept = None
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        assert started.wait(10)

    def _run(self, started):
        asyncio.set_event_loop(self.loop)

        async def main():
            self.server = await websockets.serve(self._serve, "127.0.0.1", 0, subprotocols=["ocpp1.6"],
                                                 max_size=None, ping_interval=None)
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()

        self.loop.run_until_complete(main())
        self.loop.run_forever()

    async def _serve(self, ws):
        self.connections.append(ws)
        try:
            async for text in ws:
                frame = json.loads(text)
                if frame[0] == 2:
                    _, mid, action, payload = frame
                    self.received.append((action, payload))
                    if self.intercept and await self.intercept(ws, mid, action, payload):
                        continue
                    await ws.send(json.dumps([3, mid, ANSWERS.get(action, dict)()]))
                else:
                    self.results[frame[1]] = frame
        except websockets.exceptions.ConnectionClosed:
            pass

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}"

    def run(self, coroutine, timeout=60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def live(self):
        return self.connections[-1]

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)


@pytest.fixture()
def hostile():
    h = HostileCSMS()
    yield h
    h.stop()


def charging(sim, evsed):
    """Card, EV to C, the contactor closed: a session the latency can be measured on."""
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: status Preparing|pilot B", timeout=10)
    assert sim.post("/api/rfid", {"uid": CARD})[0] == 200
    wait_for(lambda: c1(sim)["pilot"]["offered_current_a"] >= 6, 15, "the PWM offer")


def latencies(sim, changes):
    ms = []
    for _ in range(changes):
        assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
        wait_for(lambda: c1(sim)["contactor"]["closed"], 10, "the contactor closing")
        ms.append(c_to_b_latency_ms(sim))
    return sorted(ms)


def p99(ms):
    return ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def answered(hostile, ids):
    return sum(1 for i in ids if i in hostile.results)


def test_a_flood_of_1000_calls_a_second_is_answered_and_the_safety_path_keeps_its_latency(sim, station, hostile):
    evsed = station(hostile.url)
    wait_for(lambda: hostile.connections, 15, "evsed connected")
    charging(sim, evsed)
    baseline = latencies(sim, 20)
    rss_before = rss_mb(evsed.proc.pid)

    ids = []

    async def flood(seconds):
        ws = hostile.live()
        began = time.monotonic()
        while (elapsed := time.monotonic() - began) < seconds:
            # 1,000 a second: catch up with the clock in batches, then yield for a millisecond.
            while len(ids) < 1_000 * elapsed:
                mid = f"f{len(ids)}"
                ids.append(mid)
                await ws.send(f'[2,"{mid}","GetConfiguration",{{"key":["HeartbeatInterval"]}}]')
            await asyncio.sleep(0.001)

    flooding = asyncio.run_coroutine_threadsafe(flood(8), hostile.loop)
    during = latencies(sim, 20)
    flooding.result(30)
    wait_for(lambda: answered(hostile, ids) >= len(ids) * 0.99, 30, "the flood answered")
    rss_after = rss_mb(evsed.proc.pid)
    print(f"flood: {len(ids)} CALLs in 8 s, {answered(hostile, ids)} answered; "
          f"C→B p50/p99 {statistics.median(baseline):.2f}/{p99(baseline):.2f} ms before, "
          f"{statistics.median(during):.2f}/{p99(during):.2f} ms during; RSS {rss_before:.1f} → {rss_after:.1f} MB")
    # 1,000 a second when this machine's Python can send that fast (a loaded CI machine may not).
    assert len(ids) >= 5_000
    assert len(hostile.connections) == 1, "the flood did not cost the connection"
    assert rss_after - rss_before < 8, "memory stays bounded under the flood"
    # The safety path does not wait for the network: on two cores the flood may take CPU from it,
    # never block it. The median is asserted (20 samples make p99 the single worst one, which a
    # loaded machine's scheduler decides); IEC 61851-1 allows 100 ms.
    assert statistics.median(during) <= 2 * statistics.median(baseline) + 5, (baseline, during)
    assert during[int(len(during) * 0.9)] < 100, during
    assert not c1(sim)["contactor"]["closed"]


def test_a_10_mb_frame_is_refused_without_holding_it_and_the_charger_reconnects(sim, station, hostile):
    evsed = station(hostile.url)
    wait_for(lambda: hostile.connections, 15, "evsed connected")
    rss_before = rss_mb(evsed.proc.pid)
    big = json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "A" * 10_000_000}])
    try:
        hostile.run(hostile.live().send(big))
    except (websockets.exceptions.ConnectionClosed, ConnectionResetError):
        pass  # evsed closed with 1009 (message too big) before the 10 MB were through: as it should
    wait_for(lambda: len(hostile.connections) >= 2, 60, "evsed reconnected")
    assert any("ocpp.connection: disconnected" in line for line in evsed.log())
    rss_after = rss_mb(evsed.proc.pid)
    print(f"10 MB frame: RSS {rss_before:.1f} → {rss_after:.1f} MB")
    assert rss_after - rss_before < 8, "the frame was not buffered whole"
    assert "big" not in hostile.results, "no answer to a frame that was refused"


def test_answers_to_ids_never_sent_are_ignored_and_the_connection_stays(sim, station, hostile):
    evsed = station(hostile.url)
    wait_for(lambda: hostile.connections, 15, "evsed connected")
    ws = hostile.live()
    for frame in ([3, "never-sent", {}], [4, "never-sent-either", "GenericError", "", {}], [3, 17, {}],
                  [5, "x"], "not json at all", [2, "ok-after", "GetConfiguration", {"key": ["HeartbeatInterval"]}]):
        hostile.run(ws.send(frame if isinstance(frame, str) else json.dumps(frame)))
    wait_for(lambda: "ok-after" in hostile.results, 10, "the next CALL answered")
    assert hostile.results["ok-after"][0] == 3
    assert len(hostile.connections) == 1


def test_endless_pings_are_answered_without_growing_memory(sim, station, hostile):
    evsed = station(hostile.url)
    wait_for(lambda: hostile.connections, 15, "evsed connected")
    rss_before = rss_mb(evsed.proc.pid)
    pongs = []

    async def ping(seconds):
        ws = hostile.live()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            waiter = await ws.ping()
            pongs.append(waiter)
            await asyncio.sleep(0.001)
        done = 0
        for w in pongs:
            try:
                await asyncio.wait_for(w, 5)
                done += 1
            except (asyncio.TimeoutError, websockets.exceptions.ConnectionClosed):
                pass
        return done

    answered_pongs = hostile.run(ping(5), timeout=60)
    hostile.run(hostile.live().send(json.dumps([2, "after-pings", "GetConfiguration", {"key": ["HeartbeatInterval"]}])))
    wait_for(lambda: "after-pings" in hostile.results, 10, "a CALL after the pings")
    rss_after = rss_mb(evsed.proc.pid)
    print(f"pings: {len(pongs)} sent, {answered_pongs} answered; RSS {rss_before:.1f} → {rss_after:.1f} MB")
    assert answered_pongs >= len(pongs) * 0.99
    assert rss_after - rss_before < 8
    assert len(hostile.connections) == 1


def test_a_frame_cut_off_by_a_close_is_dropped_and_the_charger_reconnects(sim, station, hostile):
    evsed = station(hostile.url)
    wait_for(lambda: hostile.connections, 15, "evsed connected")
    ws = hostile.live()

    async def cut():
        # A text frame that announces 1,000 bytes (FIN, opcode 1, 16-bit length), 10 of them sent.
        ws.transport.write(bytes([0x81, 126, 0x03, 0xE8]) + b'[2,"cut",')
        await asyncio.sleep(0.2)
        ws.transport.abort()

    hostile.run(cut())
    wait_for(lambda: len(hostile.connections) >= 2, 60, "evsed reconnected")
    assert not any(a == "cut" for a, _ in hostile.received)


def test_a_handshake_that_never_finishes_times_out_and_is_tried_again(sim, station):
    # A server that accepts the TCP connection and never answers the WebSocket upgrade.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    try:
        evsed = station(f"ws://127.0.0.1:{listener.getsockname()[1]}")
        wait_for(lambda: accepted, 15, "the first connection")
        # The connect deadline (30 s) ends the hung handshake; the backoff then tries again.
        evsed.wait_log(r"connect failed", timeout=45)
        wait_for(lambda: len(accepted) >= 2, 60, "a second attempt")
        assert evsed.proc.poll() is None
    finally:
        listener.close()
        for c in accepted:
            c.close()


def test_an_answer_after_the_call_timeout_is_ignored_and_the_session_keeps_one_transaction_id(sim, station, hostile):
    evsed = station(hostile.url)
    wait_for(lambda: hostile.connections, 15, "evsed connected")
    held = []  # the first StartTransaction's message id: answered only after the retry was

    async def late_start(ws, mid, action, payload):
        if action != "StartTransaction":
            return False
        if not held:
            held.append(mid)  # no answer: the 30 s call timeout runs out
            return True
        await ws.send(json.dumps([3, mid, {"transactionId": 4711, "idTagInfo": {"status": "Accepted"}}]))
        await asyncio.sleep(0.5)
        # The answer to the timed-out first attempt, with another id: too late to count.
        await ws.send(json.dumps([3, held[0], {"transactionId": 9999, "idTagInfo": {"status": "Accepted"}}]))
        return True

    hostile.intercept = late_start
    wait_for(lambda: any(a == "StatusNotification" for a, _ in hostile.received), 15, "the charger registered")
    # The retry follows the timeout after 1 s (TransactionMessageRetryInterval × attempt).
    retry = json.dumps([2, "retry-1s", "ChangeConfiguration", {"key": "TransactionMessageRetryInterval", "value": "1"}])
    hostile.run(hostile.live().send(retry))
    wait_for(lambda: "retry-1s" in hostile.results, 10, "the configuration answered")
    assert hostile.results["retry-1s"][2] == {"status": "Accepted"}, hostile.results["retry-1s"]
    charging(sim, evsed)
    mark = len(evsed.log())
    wait_for(lambda: sum(1 for a, _ in hostile.received if a == "StartTransaction") >= 2, 60, "the StartTransaction retried")
    evsed.wait_log(r"answer ignored: it matches no outstanding CALL", timeout=10, start=mark)
    evsed.wait_log(r"transactionId 4711", timeout=10)
    assert not any("transactionId 9999" in line for line in evsed.log()), "the late answer was applied"
    data = evsed.args[evsed.args.index("--data-dir") + 1]
    assert journal_session(data)["transaction_id"] == "4711"

    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    wait_for(lambda: any(a == "StopTransaction" for a, _ in hostile.received), 20, "the StopTransaction")
    stops = [p for a, p in hostile.received if a == "StopTransaction"]
    assert [s["transactionId"] for s in stops] == [4711], "one transaction, one id"
    assert sum(1 for a, _ in hostile.received if a == "StartTransaction") == 2


def test_a_tls_handshake_that_never_finishes_times_out_with_a_reason_and_is_tried_again(sim, station, tmp_path):
    # wss:// to a server that accepts the TCP connection and never sends its ServerHello.
    pki = PKI(tmp_path / "pki")
    key = tmp_path / "authorization-key"
    key.write_text("00112233445566778899aabbccddeeff00112233\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    try:
        evsed = station(f"wss://localhost:{listener.getsockname()[1]}", "--security-profile", "2",
                        "--authorization-key-file", str(key), "--csms-root-certificate", pki.path("root.pem"))
        wait_for(lambda: accepted, 15, "the first connection")
        hello = accepted[0].recv(1024, socket.MSG_PEEK)
        assert hello[:1] == b"\x16", "the charger sent its ClientHello"
        line = evsed.wait_log(r"connect failed", timeout=45)
        assert "time" in line.lower() or "deadline" in line.lower(), f"no reason given: {line}"
        wait_for(lambda: len(accepted) >= 2, 60, "a second attempt")
        assert evsed.proc.poll() is None
    finally:
        listener.close()
        for c in accepted:
            c.close()
