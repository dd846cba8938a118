#!/usr/bin/env python3
"""Crash torture for SwiftEVSE (issue 14, item 1): evse-sim and evsed as processes against a CSMS
on the `ocpp` package. Random charging stories on both connectors, random CSMS outages and kill -9
of evsed at instants aimed at every phase of a transaction; after each round the CSMS's records,
the journal (<data-dir>/swiftevse.sqlite) and the simulator's meters are checked against each
other. See Tests/Torture/README.md.

    SWIFTEVSE_BIN=$(swift build --show-bin-path) .venv/bin/python Tests/Torture/torture.py --rounds 300 --seed 7

Exit status 0 when every invariant held, 1 otherwise."""
import argparse
import asyncio
import json
import os
import pathlib
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))

import websockets  # noqa: E402
from ocpp.routing import on  # noqa: E402
from ocpp.v16 import ChargePoint, call, call_result  # noqa: E402
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus  # noqa: E402

from evsed_process import EvsedProcess, sim_board_for  # noqa: E402
from sim_process import SimProcess  # noqa: E402

IDENTITY = "CP1"
CONNECTORS = (1, 2)
# Phases a kill is aimed at (the round's target) and the ones it may be classified in.
PHASES = ("authorize", "start_pending", "charging", "meter_values", "stop_pending", "offline_backlog",
          "after_reconnect")
HOLD_PHASE = {"Authorize": "authorize", "StartTransaction": "start_pending", "MeterValues": "meter_values",
              "StopTransaction": "stop_pending"}
# Energy tolerance per transaction: meterStart and meterStop are whole Wh (OCPP 1.6 integers), each
# rounded from the register, so each transaction's energy is within ±1 Wh of the register's increase.
TOL_WH_PER_TX = 1.0


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class Deadline(Exception):
    pass


def wait_until(predicate, timeout, what, step=0.02):
    """The first truthy value of predicate(), polled until `timeout` s (bounded in count and time)."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 2):
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(step)
    raise Deadline(f"timed out ({timeout}s) waiting for {what}")


# ---------------------------------------------------------------------------------------------
# The CSMS: records everything, answers like a permissive backend, can hold one answer (so a
# kill lands while the charger waits for it), goes down and comes back on the same port.
# ---------------------------------------------------------------------------------------------
class TortureChargePoint(ChargePoint):
    csms = None

    async def route_message(self, raw_msg):
        self.csms._frame(raw_msg)
        await super().route_message(raw_msg)

    @on(Action.boot_notification)
    def on_boot(self, charge_point_vendor, charge_point_model, **kw):
        self.csms._record("BootNotification", {})
        return call_result.BootNotification(current_time=now_iso(), interval=300, status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self, **kw):
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    def on_status(self, connector_id, error_code, status, **kw):
        self.csms._record("StatusNotification", {"connectorId": connector_id, "status": status})
        return call_result.StatusNotification()

    @on(Action.security_event_notification)
    def on_security_event(self, type, timestamp, **kw):
        return call_result.SecurityEventNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag, **kw):
        self.csms._record("Authorize", {"idTag": id_tag})
        await self.csms._maybe_hold("Authorize")
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    async def on_start(self, connector_id, id_tag, meter_start, timestamp, **kw):
        tx, redelivery = self.csms._start(connector_id, id_tag, meter_start, timestamp)
        self.csms._record("StartTransaction", {"connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start,
                                               "timestamp": timestamp, "transactionId": tx, "redelivery": redelivery})
        # The CSMS committed the transaction; its answer may be held (a kill lands before it arrives).
        await self.csms._maybe_hold("StartTransaction")
        return call_result.StartTransaction(transaction_id=tx, id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.stop_transaction)
    async def on_stop(self, meter_stop, timestamp, transaction_id, **kw):
        self.csms._record("StopTransaction", {"meterStop": meter_stop, "timestamp": timestamp,
                                              "transactionId": transaction_id, "reason": kw.get("reason"),
                                              "idTag": kw.get("id_tag")})
        await self.csms._maybe_hold("StopTransaction")
        return call_result.StopTransaction()

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id, meter_value, **kw):
        self.csms._record("MeterValues", {"connectorId": connector_id, "transactionId": kw.get("transaction_id"),
                                          "meterValue": meter_value})
        await self.csms._maybe_hold("MeterValues")
        return call_result.MeterValues()


class TortureCSMS:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []  # (monotonic, action, payload)
        self.frames = 0
        self.next_tx = 5000
        self.tx_by_key = {}  # (connectorId, idTag, meterStart, timestamp) -> tx id: answers a redelivery alike
        self.cp = None
        self.connections = set()
        self.connects = 0
        self.last_connect_at = 0.0
        self.is_up = False
        self.armed = None  # action whose next answer is held
        self.held = None  # (action, asyncio.Event) while an answer is held
        self.held_signal = threading.Event()
        self.port = 0
        self.server = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.up()

    def _run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # server
    async def _serve(self):
        self.server = await websockets.serve(self._on_connect, "127.0.0.1", self.port, subprotocols=["ocpp1.6"])
        self.port = self.server.sockets[0].getsockname()[1]

    async def _on_connect(self, ws):
        cp = TortureChargePoint(ws.request.path.strip("/"), ws)
        cp.csms = self
        with self.lock:
            self.cp = cp
            self.connects += 1
            self.last_connect_at = time.monotonic()
        self.connections.add(ws)
        try:
            await cp.start()
        except websockets.exceptions.ConnectionClosed:
            pass
        except Exception as e:  # noqa: BLE001 (an answer to a dead socket, a malformed frame)
            self._record("_error", {"error": repr(e)})
        finally:
            self.connections.discard(ws)
            with self.lock:
                if self.cp is cp:
                    self.cp = None

    def up(self):
        self._run(self._serve())
        self.is_up = True

    def down(self):
        async def shutdown():
            self.server.close()
            for ws in list(self.connections):
                await ws.close()
            await self.server.wait_closed()
        self.is_up = False
        self.release()
        self._run(shutdown(), timeout=15)

    def drop_connections(self):
        async def close():
            # A peer that was just killed never answers the closing handshake, and websockets
            # waits its close_timeout (10 s) for it: bound the wait, then drop the socket.
            connections = list(self.connections)
            await asyncio.gather(*(asyncio.wait_for(ws.close(), 2) for ws in connections), return_exceptions=True)
            for ws in connections:
                ws.transport.abort()
        self.release()
        self._run(close())

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}"

    def connected(self):
        with self.lock:
            return self.cp is not None

    # holds
    def arm(self, action):
        self.held_signal.clear()
        self.armed = action

    def disarm(self):
        self.armed = None

    async def _maybe_hold(self, action):
        if self.armed != action:
            return
        self.armed = None
        ev = asyncio.Event()
        self.held = (action, ev)
        self.held_signal.set()
        try:
            await asyncio.wait_for(ev.wait(), 10)
        except asyncio.TimeoutError:
            pass
        finally:
            self.held = None

    def held_action(self):
        h = self.held
        return h[0] if h else None

    def release(self):
        h = self.held
        if h:
            self.loop.call_soon_threadsafe(h[1].set)

    # records
    def _frame(self, raw):
        with self.lock:
            self.frames += 1

    def _record(self, action, payload):
        with self.lock:
            self.messages.append((time.monotonic(), action, payload))

    def _start(self, connector_id, id_tag, meter_start, timestamp):
        key = (connector_id, id_tag, meter_start, timestamp)
        with self.lock:
            if key in self.tx_by_key:
                return self.tx_by_key[key], True
            self.next_tx += 1
            self.tx_by_key[key] = self.next_tx
            return self.next_tx, False

    def received(self, action=None):
        with self.lock:
            return [(t, a, p) for (t, a, p) in self.messages if action is None or a == action]

    def call(self, payload, timeout=8.0):
        with self.lock:
            cp = self.cp
        if cp is None:
            raise ConnectionError("charge point not connected")
        return self._run(cp.call(payload, suppress=False), timeout=timeout)

    def close(self):
        try:
            if self.is_up:
                self.down()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


# ---------------------------------------------------------------------------------------------
# evsed across its incarnations (kill -9, restart on the same data directory)
# ---------------------------------------------------------------------------------------------
class Firmware:
    def __init__(self, bin_dir, board, config, data_dir, csms_url):
        self.args = (bin_dir, board, config, data_dir, "--csms", csms_url, "--identity", IDENTITY)
        self.data_dir = pathlib.Path(data_dir)
        self.lock = threading.RLock()
        self.proc = None
        self.old_logs = []
        self.incarnations = 0
        self.start()

    def start(self):
        with self.lock:
            self.proc = EvsedProcess(*self.args)
            self.incarnations += 1

    def kill9_and_restart(self):
        with self.lock:
            self.proc.kill9()
            self.old_logs.extend(self.proc.log())
            self.start()

    def log(self):
        with self.lock:
            return self.old_logs + self.proc.log()

    def alive(self):
        with self.lock:
            return self.proc.proc.poll() is None

    def stop(self):
        with self.lock:
            if self.proc:
                self.proc.stop()
                self.old_logs.extend(self.proc.log())

    # the journal
    def db(self, sql, args=()):
        db = sqlite3.connect(str(self.data_dir / "swiftevse.sqlite"), timeout=5)
        try:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, args).fetchall()]
        finally:
            db.close()

    def open_session(self, connector):
        rows = self.db("SELECT * FROM sessions WHERE connector_id = ? AND ended_at_ms IS NULL", (connector,))
        return rows[0] if rows else None

    def open_sessions(self):
        return self.db("SELECT * FROM sessions WHERE ended_at_ms IS NULL")

    def queue_length(self):
        return self.db("SELECT count(*) AS n FROM transaction_queue")[0]["n"]


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------
class Torture:
    def __init__(self, bin_dir, seed, verbose=False, workdir=None, extra_kill_share=0.25):
        self.seed = seed
        self.extra_kill_share = extra_kill_share
        self.verbose = verbose
        self.rng = random.Random(seed)
        self.tmp = pathlib.Path(workdir or tempfile.mkdtemp(prefix="swiftevse-torture-"))
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.sim = SimProcess(bin_dir, "--board", str(ROOT / "Board" / "sim-2x22kw.yaml"))
        self.csms = TortureCSMS()
        board = sim_board_for(ROOT, self.sim, self.tmp)
        self.fw = Firmware(bin_dir, board, ROOT / "etc" / "station.demo.yaml", self.tmp / "data", self.csms.url)
        self.kill_lock = threading.Lock()
        self.kills = Counter()  # observed phase -> count
        self.kill_targets = Counter()
        self.kill_log = []  # (round, target, observed)
        self.violations = []  # (round, text)
        self.story_failures = []  # (round, text)
        self.outages = 0
        self.round = 0
        self.started_at = time.monotonic()
        self.checked_tx = set()
        self.redelivered_starts = 0
        self.redelivered_stops = 0
        self.started_tags = set()
        self.round_over = threading.Event()

    def log(self, text):
        if self.verbose:
            print(f"[{time.monotonic() - self.started_at:7.1f}s r{self.round}] {text}", flush=True)

    # -- the world ----------------------------------------------------------------------------
    def connector(self, c):
        status, s = self.sim.get("/api/state")
        if status != 200:
            raise RuntimeError(f"simulator state: {status}")
        return next(x for x in s["connectors"] if x["id"] == c)

    def energy(self, c):
        return self.connector(c)["meter"]["energy_wh"]

    def post(self, path, body=None):
        return self.sim.post(path, body)[0]

    def configure(self):
        wait_until(self.csms.connected, 20, "evsed connected to the CSMS")
        wait_until(lambda: self.csms.received("BootNotification"), 20, "BootNotification")
        for key, value in (("MeterValueSampleInterval", "1"), ("AllowOfflineTxForUnknownId", "true"),
                           ("TransactionMessageRetryInterval", "2"), ("LocalPreAuthorize", "false")):
            r = self.csms.call(call.ChangeConfiguration(key=key, value=value))
            if r.status != "Accepted":
                raise RuntimeError(f"ChangeConfiguration {key}: {r.status}")

    # -- kills --------------------------------------------------------------------------------
    def observed_phase(self):
        held = self.csms.held_action()
        if held:
            return HOLD_PHASE[held]
        if not self.csms.connected():
            try:
                backlog = self.fw.queue_length()
            except sqlite3.Error:
                backlog = 0
            return "offline_backlog" if backlog else "offline"
        if time.monotonic() - self.csms.last_connect_at < 2.0:
            return "after_reconnect"
        if any(self.connector(c)["contactor"]["closed"] for c in CONNECTORS):
            return "charging"
        if self.fw.open_sessions():
            return "session_open"
        return "idle"

    def kill(self, target):
        with self.kill_lock:
            phase = self.observed_phase()
            self.log(f"kill -9 (aimed at {target}, landed in {phase})")
            self.fw.kill9_and_restart()
            self.kills[phase] += 1
            self.kill_targets[target] += 1
            self.kill_log.append((self.round, target, phase))
            self.csms.release()
            return phase

    def kill_when_held(self, action, target, timeout=12.0):
        """A thread: kill as soon as the CSMS holds `action`'s answer (armed by the caller)."""
        def run():
            deadline = time.monotonic() + timeout
            held = False
            while time.monotonic() < deadline and not self.round_over.is_set():
                if self.csms.held_signal.wait(0.1):
                    held = True
                    break
            if held:
                self.kill(target)
            else:
                self.csms.disarm()
                self.log(f"{action} never came: no kill for {target}")
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    # -- story steps --------------------------------------------------------------------------
    def tag(self):
        while True:
            t = "%08X" % self.rng.getrandbits(32)
            if t not in self.started_tags and t not in ("04A1B2C3", "DEADBEEF"):
                self.started_tags.add(t)
                return t

    def plug(self, c):
        st = self.connector(c)
        if st["ev"]["plugged"]:
            return
        code = self.post(f"/api/connectors/{c}/plug", {"ev": {"soc": 0.2, "capacity_wh": 60000}})
        if code != 200:
            raise RuntimeError(f"plug c{c}: {code}")

    def start_session(self, c, method, arm=None):
        """Starts a session on connector c by card or remote start; retries (a kill may have
        swallowed the attempt) with a fresh tag. The open session, or None."""
        for attempt in range(4):
            s = self.fw.open_session(c)
            if s:
                return s
            use = method if attempt == 0 else self.rng.choice(("card", "remote"))
            if use == "remote" and not self.csms.connected():
                use = "card"
            tag = self.tag()
            if arm and attempt == 0:
                arm()
            try:
                if use == "card":
                    self.plug(c)
                    # the card goes to the connector whose EV waits: let evsed see the plug first
                    wait_until(lambda: self.connector(c)["pilot"]["state"] in ("B", "C"), 3, f"c{c} pilot B")
                    self.post("/api/rfid", {"uid": tag})
                else:
                    cable_first = self.rng.random() < 0.5
                    if cable_first:
                        self.plug(c)
                    r = self.csms.call(call.RemoteStartTransaction(id_tag=tag, connector_id=c))
                    if r.status != "Accepted":
                        self.log(f"c{c}: RemoteStart {r.status}")
                    self.plug(c)
                self.log(f"c{c}: start by {use} ({tag})")
                inc = self.fw.incarnations
                restarted_at = []

                def opened():
                    s = self.fw.open_session(c)
                    if s:
                        return s
                    # a kill swallowed the attempt: give the new incarnation a moment, then retry
                    if self.fw.incarnations != inc:
                        restarted_at.append(time.monotonic())
                        if time.monotonic() - restarted_at[0] > 2.0:
                            raise Deadline("evsed restarted during the attempt")
                    return None
                return wait_until(opened, 10, f"c{c} session open")
            except (Deadline, ConnectionError, TimeoutError, asyncio.TimeoutError, Exception) as e:  # noqa: BLE001
                self.log(f"c{c}: start attempt {attempt} ({use}) failed: {type(e).__name__} {e}")
                time.sleep(self.rng.uniform(0.05, 0.3))  # story pause before trying again
        self.story_failures.append((self.round, f"c{c}: no session after 4 start attempts"))
        return None

    def charge(self, c):
        code = self.post(f"/api/connectors/{c}/ev-state", {"state": "C"})
        if code != 200:
            self.log(f"c{c}: ev-state C: {code}")
            return False
        try:
            wait_until(lambda: self.connector(c)["contactor"]["closed"], 8, f"c{c} contactor closed")
            return True
        except Deadline:
            self.story_failures.append((self.round, f"c{c}: contactor not closed within 8 s of EV in C"))
            return False

    def stop_session(self, c, method, arm=None):
        s = self.fw.open_session(c)
        if not s:
            return
        if arm:
            arm()
        try:
            if method == "remote":
                tx = s["transaction_id"]
                if tx is None or not self.csms.connected():
                    method = "card"
                else:
                    r = self.csms.call(call.RemoteStopTransaction(transaction_id=int(tx)))
                    self.log(f"c{c}: RemoteStop {tx}: {r.status}")
            if method == "card":
                self.post("/api/rfid", {"uid": s["id_token"]})
            elif method == "ev_unplug":
                self.post(f"/api/connectors/{c}/unplug", {"side": "ev"})
            elif method == "unplug":
                self.post(f"/api/connectors/{c}/unplug", {"force": True})
            self.log(f"c{c}: stop by {method}")
        except Exception as e:  # noqa: BLE001 (a call into a dying charger)
            self.log(f"c{c}: stop by {method} failed: {type(e).__name__} {e}")
        try:
            wait_until(lambda: not self.fw.open_session(c), 12, f"c{c} session ended")
        except Deadline:
            # The story goes on: the cable out ends whatever is left.
            self.log(f"c{c}: session still open after stop by {method}: unplugging")
            self.post(f"/api/connectors/{c}/unplug", {"force": True})
            try:
                wait_until(lambda: not self.fw.open_session(c), 15, f"c{c} session ended after unplug")
            except Deadline:
                self.story_failures.append((self.round, f"c{c}: session open after stop by {method} and unplug"))

    def unplug_all(self):
        for c in CONNECTORS:
            # 409 when nothing is in the socket; an EV-side unplug leaves the cable there
            self.post(f"/api/connectors/{c}/unplug", {"force": True})

    def outage(self, kind=None):
        kind = kind or self.rng.choice(("down", "drop"))
        self.outages += 1
        if kind == "drop":
            self.log("CSMS drops its connections")
            self.csms.drop_connections()
        else:
            self.log("CSMS down")
            self.csms.down()
        return kind

    def csms_up(self):
        if not self.csms.is_up:
            self.log("CSMS up")
            self.csms.up()

    # -- one round ----------------------------------------------------------------------------
    def play_round(self, target):
        rng = self.rng
        order = list(CONNECTORS)
        rng.shuffle(order)
        starts = {c: rng.choice(("card", "remote")) for c in CONNECTORS}
        stops = {c: rng.choice(("card", "remote", "ev_unplug", "unplug")) for c in CONNECTORS}
        victim = rng.choice(CONNECTORS)
        killers = []
        outage_at = rng.choice((None, None, "before_start", "charging", "before_stop"))
        if target == "authorize":
            starts[victim] = "card"
        if target in ("offline_backlog", "after_reconnect"):
            outage_at = outage_at or rng.choice(("before_start", "charging", "before_stop"))
        elif target in ("authorize", "start_pending", "stop_pending", "meter_values"):
            # the held message needs the CSMS: at most a dropped connection, while charging
            outage_at = rng.choice((None, "charging"))
        # a random-instant kill in some rounds, classified by what it hit
        if rng.random() < self.extra_kill_share:
            delay = rng.uniform(0.2, 6.0)
            timer = threading.Timer(delay, lambda: self.kill("random"))
            timer.daemon = True
            timer.start()
            killers.append(timer)
        self.round_over.clear()
        self.log(f"target {target}; starts {starts} stops {stops} outage {outage_at}")

        down = None

        def maybe_outage(point):
            nonlocal down
            if outage_at == point and down is None:
                kind = "down" if target in ("offline_backlog", "after_reconnect") else None
                if target in ("authorize", "start_pending", "stop_pending", "meter_values"):
                    kind = "drop"
                down = self.outage(kind)

        maybe_outage("before_start")
        for c in order:
            arm = None
            if c == victim and target == "authorize" and self.csms.is_up:
                arm = lambda: (self.csms.arm("Authorize"), killers.append(self.kill_when_held("Authorize", target)))  # noqa: E731
            elif c == victim and target == "start_pending" and self.csms.is_up:
                arm = lambda: (self.csms.arm("StartTransaction"), killers.append(self.kill_when_held("StartTransaction", target)))  # noqa: E731
            self.start_session(c, starts[c], arm)
            time.sleep(rng.uniform(0, 0.3))
        for c in order:
            if self.fw.open_session(c):
                self.charge(c)
        maybe_outage("charging")
        time.sleep(rng.uniform(0.3, 1.5))
        if target == "charging":
            self.kill(target)
        elif target == "meter_values" and self.csms.is_up:
            self.csms.arm("MeterValues")
            killers.append(self.kill_when_held("MeterValues", target, timeout=6))
            killers[-1].join(7)
        time.sleep(rng.uniform(0.2, 1.2))
        maybe_outage("before_stop")
        rng.shuffle(order)
        for i, c in enumerate(order):
            if rng.random() < 0.6:
                # the EV stops drawing first (else the charger gives it 6 s under load)
                self.post(f"/api/connectors/{c}/ev-state", {"state": "B"})
                time.sleep(rng.uniform(0, 0.3))
            arm = None
            if c == victim and target == "stop_pending" and self.csms.is_up:
                arm = lambda: (self.csms.arm("StopTransaction"), killers.append(self.kill_when_held("StopTransaction", target)))  # noqa: E731
            self.stop_session(c, stops[c], arm)
            if target == "offline_backlog" and i == 0 and down == "down":
                try:
                    wait_until(lambda: self.fw.queue_length() > 0, 3, "a backlog")
                except Deadline:
                    pass
                self.kill(target)
            time.sleep(rng.uniform(0, 0.4))
        self.unplug_all()
        if down == "down":
            time.sleep(rng.uniform(0.2, 1.5))
            if target == "after_reconnect":
                before = self.csms.connects
                self.csms_up()
                try:
                    wait_until(lambda: self.csms.connects > before, 40, "reconnect")
                    time.sleep(rng.uniform(0, 0.8))
                    self.kill(target)
                except Deadline:
                    self.story_failures.append((self.round, "no reconnect within 40 s"))
            else:
                self.csms_up()
        self.round_over.set()
        for k in killers:
            if isinstance(k, threading.Timer):
                k.cancel()
            k.join(15)
        self.csms.disarm()

    def quiesce(self):
        """Everything settled: no open session, CSMS up, evsed running and connected, queue empty."""
        self.csms_up()
        self.unplug_all()
        wait_until(lambda: not self.fw.open_sessions(), 30, "no open session")
        wait_until(lambda: self.fw.alive(), 5, "evsed alive")
        wait_until(self.csms.connected, 60, "evsed connected")
        wait_until(lambda: self.fw.queue_length() == 0, 60, "the transaction queue empty")
        wait_until(lambda: self.sim.get("/api/state")[1]["firmware"]["connected"], 10, "evsed on the simulator")

    # -- invariants ---------------------------------------------------------------------------
    def check(self, e_before, round_tx_before):
        """Checks the whole history so far; returns this round's new transactions."""
        v = []
        starts = [p for _, _, p in self.csms.received("StartTransaction")]
        stops = [p for _, _, p in self.csms.received("StopTransaction")]
        tx_start = {}
        for p in starts:
            tx_start.setdefault(p["transactionId"], p)
        stops_by_tx = {}
        for p in stops:
            stops_by_tx.setdefault(p["transactionId"], []).append(p)
        self.redelivered_starts = sum(1 for p in starts if p["redelivery"])
        lost, duplicated = [], []
        for tx, p in tx_start.items():
            ss = stops_by_tx.get(tx, [])
            if not ss:
                lost.append(f"transaction {tx} (c{p['connectorId']} {p['idTag']}) has no StopTransaction")
            distinct = {json.dumps(s, sort_keys=True) for s in ss}
            if len(distinct) > 1:
                duplicated.append(f"transaction {tx} has {len(distinct)} different StopTransactions: {ss}")
            for s in ss[:1]:
                if s["meterStop"] < p["meterStart"]:
                    v.append(f"transaction {tx}: meterStop {s['meterStop']} < meterStart {p['meterStart']}")
        self.redelivered_stops = sum(len(ss) - 1 for ss in stops_by_tx.values())
        for tx in stops_by_tx:
            if tx not in tx_start:
                lost.append(f"StopTransaction for unknown transaction {tx}")
        # the journal: one transaction id per session, one session per transaction
        sessions = self.fw.db("SELECT * FROM sessions")
        by_tx = Counter(s["transaction_id"] for s in sessions)
        for s in sessions:
            if s["transaction_id"] is None:
                lost.append(f"session {s['id']} (c{s['connector_id']}) never got a transaction id")
            elif int(s["transaction_id"]) not in tx_start:
                lost.append(f"session {s['id']}: transaction {s['transaction_id']} unknown to the CSMS")
            else:
                p = tx_start[int(s["transaction_id"])]
                if p["connectorId"] != s["connector_id"] or p["meterStart"] != round(s["meter_start_wh"]):
                    v.append(f"session {s['id']}: StartTransaction {p} does not match the journal")
                st = stops_by_tx.get(int(s["transaction_id"]))
                if st and s["meter_stop_wh"] is not None and st[0]["meterStop"] != round(s["meter_stop_wh"]):
                    v.append(f"session {s['id']}: meterStop {st[0]['meterStop']} vs journal {s['meter_stop_wh']}")
        for tx, n in by_tx.items():
            if tx is not None and n > 1:
                duplicated.append(f"transaction {tx} belongs to {n} sessions")
        journal_tx = {int(s["transaction_id"]) for s in sessions if s["transaction_id"] is not None}
        for tx, p in tx_start.items():
            if tx not in journal_tx:
                duplicated.append(f"transaction {tx} (c{p['connectorId']} {p['idTag']} {p['timestamp']}) "
                                  f"belongs to no session: a second StartTransaction for a session")
        # MeterValues belong to known transactions, and come before their stop
        stop_time = {}
        for t, _, p in self.csms.received("StopTransaction"):
            stop_time.setdefault(p["transactionId"], t)
        for t, _, p in self.csms.received("MeterValues"):
            tx = p["transactionId"]
            if tx is None:
                continue
            if tx not in tx_start:
                v.append(f"MeterValues for unknown transaction {tx}")
            elif tx in stop_time and t > stop_time[tx] + 0.001:
                v.append(f"MeterValues for transaction {tx} after its StopTransaction")
        # energy of this round, per connector
        new_tx = [tx for tx in tx_start if tx not in round_tx_before]
        energy_report = {}
        for c in CONNECTORS:
            counted = sum(stops_by_tx[tx][0]["meterStop"] - tx_start[tx]["meterStart"]
                          for tx in new_tx if tx_start[tx]["connectorId"] == c and tx in stops_by_tx)
            n = sum(1 for tx in new_tx if tx_start[tx]["connectorId"] == c)
            metered = self.energy(c) - e_before[c]
            tol = TOL_WH_PER_TX * n + 0.5
            energy_report[c] = (metered, counted, tol)
            if abs(metered - counted) > tol:
                v.append(f"c{c}: the meter counted {metered:.1f} Wh this round, the transactions {counted} Wh "
                         f"({n} transaction(s), tolerance {tol:.1f} Wh)")
        if not self.csms.connected():
            v.append("evsed is not connected to the CSMS")
        return v, lost, duplicated, new_tx, energy_report

    # -- the whole run ------------------------------------------------------------------------
    def run(self, rounds, time_budget=None):
        self.configure()
        print(f"torture: seed {self.seed}, {rounds} rounds, work dir {self.tmp}", flush=True)
        targets = []
        seen_lost, seen_dup, seen_v = set(), set(), set()
        energy_mismatch = 0
        self.energy_abs_error = 0.0
        self.quiesce()
        for r in range(1, rounds + 1):
            if time_budget and time.monotonic() - self.started_at > time_budget:
                print(f"time budget of {time_budget}s used up after {r - 1} rounds", flush=True)
                break
            self.round = r
            if not targets:
                targets = list(PHASES)
                self.rng.shuffle(targets)
            target = targets.pop()
            e_before = {c: self.energy(c) for c in CONNECTORS}
            tx_before = {p["transactionId"] for _, _, p in self.csms.received("StartTransaction")}
            try:
                self.play_round(target)
                self.quiesce()
            except Deadline as e:
                self.violations.append((r, f"round did not settle: {e}"))
                print(f"round {r}: did not settle: {e}", flush=True)
                self.dump_tail()
                try:
                    self.quiesce()
                except Deadline as e2:
                    self.violations.append((r, f"still not settled: {e2}"))
                    break
            v, lost, dup, new_tx, energy = self.check(e_before, tx_before)
            for text in v:
                if text not in seen_v:
                    seen_v.add(text)
                    self.violations.append((r, text))
                    if "meter counted" in text:
                        energy_mismatch += 1
            for text in lost:
                if text not in seen_lost:
                    seen_lost.add(text)
                    self.violations.append((r, "LOST " + text))
            for text in dup:
                if text not in seen_dup:
                    seen_dup.add(text)
                    self.violations.append((r, "DUPLICATED " + text))
            for c, (metered, counted, _) in energy.items():
                self.energy_abs_error = max(self.energy_abs_error, abs(metered - counted))
            fresh = [t for t in self.violations if t[0] == r]
            kills_now = [k for k in self.kill_log if k[0] == r]
            print(f"round {r:3d} target {target:15s} kills {[k[2] for k in kills_now]} tx {len(new_tx)} "
                  f"energy " + " ".join(f"c{c} {m:.1f}/{n}" for c, (m, n, _) in energy.items())
                  + (f" VIOLATIONS {len(fresh)}" if fresh else ""), flush=True)
            for _, text in fresh:
                print(f"    {text}", flush=True)
        self.lost = len(seen_lost)
        self.duplicated = len(seen_dup)
        self.energy_mismatch = energy_mismatch
        return self.summary()

    def dump_tail(self):
        for line in self.fw.log()[-25:]:
            print("    evsed| " + line, flush=True)

    def summary(self):
        starts = {p["transactionId"] for _, _, p in self.csms.received("StartTransaction")}
        s = {
            "seed": self.seed,
            "rounds": self.round,
            "kills": sum(self.kills.values()),
            "kills_per_phase": dict(sorted(self.kills.items())),
            "kills_aimed": dict(sorted(self.kill_targets.items())),
            "transactions": len(starts),
            "lost": self.lost,
            "duplicated": self.duplicated,
            "energy_mismatch": self.energy_mismatch,
            "max_energy_error_wh": round(self.energy_abs_error, 2),
            "redelivered_starts": self.redelivered_starts,
            "redelivered_stops": self.redelivered_stops,
            "outages": self.outages,
            "story_failures": len(self.story_failures),
            "violations": len(self.violations),
            "seconds": round(time.monotonic() - self.started_at, 1),
        }
        return s

    def close(self, keep=False):
        for f in (self.fw.stop, self.csms.close, self.sim.stop):
            try:
                f()
            except Exception as e:  # noqa: BLE001
                print(f"cleanup: {e}", file=sys.stderr)
        if not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def print_summary(t, s):
    print("\n== torture summary ==")
    print(f"seed {s['seed']}  rounds {s['rounds']}  time {s['seconds']} s  outages {s['outages']}")
    print(f"kills {s['kills']}: " + ", ".join(f"{k} {n}" for k, n in s["kills_per_phase"].items()))
    print(f"transactions {s['transactions']}  lost {s['lost']}  duplicated {s['duplicated']}  "
          f"energy mismatch {s['energy_mismatch']} (max error {s['max_energy_error_wh']} Wh, "
          f"tolerance {TOL_WH_PER_TX} Wh per transaction + 0.5)")
    print(f"redelivered (same content, answered alike): StartTransaction {s['redelivered_starts']}, "
          f"StopTransaction {s['redelivered_stops']}")
    print(f"story steps that did not happen: {s['story_failures']}")
    for r, text in t.story_failures[:20]:
        print(f"  round {r}: {text}")
    print(f"violations {s['violations']}")
    for r, text in t.violations[:50]:
        print(f"  round {r}: {text}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--seed", type=int, default=None, help="replays a run (printed at the start)")
    ap.add_argument("--bin", default=os.environ.get("SWIFTEVSE_BIN"), help="folder with evsed and evse-sim "
                    "(default $SWIFTEVSE_BIN)")
    ap.add_argument("--time-budget", type=float, default=None, help="stop starting rounds after this many s")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (data dir, board)")
    ap.add_argument("--json", help="write the summary to this file")
    ap.add_argument("--extra-kills", type=float, default=0.25, metavar="SHARE",
                    help="share of rounds with a second kill at a random instant (0-1; default 0.25)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if not args.bin:
        ap.error("give --bin or set SWIFTEVSE_BIN")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    t = Torture(args.bin, seed, verbose=args.verbose, extra_kill_share=args.extra_kills)
    ok = False
    try:
        s = t.run(args.rounds, args.time_budget)
        print_summary(t, s)
        ok = s["violations"] == 0
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps(s, indent=2))
    finally:
        t.close(keep=args.keep or not ok)
        if not ok:
            print(f"work directory kept: {t.tmp}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
