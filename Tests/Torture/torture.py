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
from ocpp.v201 import ChargePoint as ChargePoint201, call as call201, call_result as call_result201  # noqa: E402

from evsed_process import EvsedProcess, sim_board_for  # noqa: E402
from sim_process import SimProcess  # noqa: E402

IDENTITY = "CP1"
CONNECTORS = (1, 2)
# Phases a kill is aimed at (the round's target) and the ones it may be classified in.
PHASES = ("authorize", "start_pending", "charging", "meter_values", "stop_pending", "offline_backlog",
          "after_reconnect")
# The answer the CSMS holds for each aimed phase, per OCPP version (2.0.1: TransactionEvent by type).
HOLD = {
    "1.6": {"authorize": "Authorize", "start_pending": "StartTransaction", "meter_values": "MeterValues",
            "stop_pending": "StopTransaction"},
    "2.0.1": {"authorize": "Authorize", "start_pending": "TransactionEvent.Started",
              "meter_values": "TransactionEvent.Updated", "stop_pending": "TransactionEvent.Ended"},
}
HOLD_PHASE = {action: phase for version in HOLD.values() for phase, action in version.items()}
# Energy tolerance per transaction: in 1.6 meterStart and meterStop are whole Wh (integers), each
# rounded from the register, so each transaction's energy is within ±1 Wh of the register's increase.
# 2.0.1's registers carry tenths of a Wh, so its tolerance is a tenth.
TOL_WH_PER_TX = {"1.6": 1.0, "2.0.1": 0.1}
TOL_WH_PER_ROUND = {"1.6": 0.5, "2.0.1": 0.05}


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


class TortureChargePoint201(ChargePoint201):
    """The same permissive backend for OCPP 2.0.1. The station numbers its own transactions
    (transactionId = the session id) and each event (seqNo); a redelivery repeats both."""
    csms = None

    async def route_message(self, raw_msg):
        self.csms._frame(raw_msg)
        await super().route_message(raw_msg)

    @on("BootNotification")
    def on_boot(self, **kw):
        self.csms._record("BootNotification", {})
        return call_result201.BootNotification(current_time=now_iso(), interval=300, status="Accepted")

    @on("Heartbeat")
    def on_heartbeat(self, **kw):
        return call_result201.Heartbeat(current_time=now_iso())

    @on("StatusNotification")
    def on_status(self, evse_id, connector_id, connector_status, **kw):
        self.csms._record("StatusNotification", {"connectorId": evse_id, "status": connector_status})
        return call_result201.StatusNotification()

    @on("SecurityEventNotification")
    def on_security_event(self, **kw):
        return call_result201.SecurityEventNotification()

    @on("NotifyReport")
    def on_notify_report(self, **kw):
        return call_result201.NotifyReport()

    @on("NotifyEvent")
    def on_notify_event(self, **kw):
        return call_result201.NotifyEvent()

    @on("MeterValues")
    def on_meter_values(self, **kw):
        return call_result201.MeterValues()

    @on("Authorize")
    async def on_authorize(self, id_token, **kw):
        self.csms._record("Authorize", {"idTag": id_token["id_token"]})
        await self.csms._maybe_hold("Authorize")
        return call_result201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    async def on_transaction_event(self, event_type, timestamp, trigger_reason, seq_no, transaction_info, **kw):
        evse = kw.get("evse") or {}
        self.csms._record("TransactionEvent", {
            "eventType": event_type, "timestamp": timestamp, "seqNo": seq_no,
            "transactionId": transaction_info["transaction_id"], "connectorId": evse.get("id"),
            "idTag": (kw.get("id_token") or {}).get("id_token"), "offline": kw.get("offline", False),
            "registers": registers(kw.get("meter_value") or []), "reason": transaction_info.get("stopped_reason")})
        await self.csms._maybe_hold("TransactionEvent." + event_type)
        if kw.get("id_token"):
            return call_result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return call_result201.TransactionEvent()


def registers(meter_values):
    """{context: Wh} of the Energy.Active.Import.Register samples of a 2.0.1 meterValue list."""
    found = {}
    for mv in meter_values:
        for sv in mv.get("sampled_value", []):
            if sv.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register":
                found[sv.get("context", "Sample.Periodic")] = float(sv["value"])
    return found


class TortureCSMS:
    def __init__(self, version="1.6"):
        self.version = version
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
        protocol = "ocpp1.6" if self.version == "1.6" else "ocpp2.0.1"
        self.server = await websockets.serve(self._on_connect, "127.0.0.1", self.port, subprotocols=[protocol])
        self.port = self.server.sockets[0].getsockname()[1]

    async def _on_connect(self, ws):
        kind = TortureChargePoint if self.version == "1.6" else TortureChargePoint201
        cp = kind(ws.request.path.strip("/"), ws)
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
    def __init__(self, bin_dir, board, config, data_dir, csms_url, version="1.6"):
        self.args = (bin_dir, board, config, data_dir, "--csms", csms_url, "--identity", IDENTITY,
                     "--ocpp-version", version)
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
    def __init__(self, bin_dir, seed, verbose=False, workdir=None, extra_kill_share=0.25, version="1.6"):
        self.seed = seed
        self.version = version
        self.hold = HOLD[version]
        self.remote_start_ids = 0
        self.extra_kill_share = extra_kill_share
        self.verbose = verbose
        self.rng = random.Random(seed)
        self.tmp = pathlib.Path(workdir or tempfile.mkdtemp(prefix="swiftevse-torture-"))
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.sim = SimProcess(bin_dir, "--board", str(ROOT / "Board" / "sim-2x22kw.yaml"))
        self.csms = TortureCSMS(version)
        board = sim_board_for(ROOT, self.sim, self.tmp)
        self.fw = Firmware(bin_dir, board, ROOT / "etc" / "station.demo.yaml", self.tmp / "data", self.csms.url,
                           version)
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
        if self.version == "2.0.1":
            settings = [("SampledDataCtrlr", "TxUpdatedInterval", None, "1"),
                        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", None, "true"),
                        ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent", "2"),
                        ("AuthCtrlr", "LocalPreAuthorize", None, "false")]
            data = [{"attribute_value": value, "component": {"name": component},
                     "variable": {"name": variable, **({"instance": instance} if instance else {})}}
                    for component, variable, instance, value in settings]
            r = self.csms.call(call201.SetVariables(set_variable_data=data))
            for result in r.set_variable_result:
                if result["attribute_status"] != "Accepted":
                    raise RuntimeError(f"SetVariables: {result}")
            return
        for key, value in (("MeterValueSampleInterval", "1"), ("AllowOfflineTxForUnknownId", "true"),
                           ("TransactionMessageRetryInterval", "2"), ("LocalPreAuthorize", "false")):
            r = self.csms.call(call.ChangeConfiguration(key=key, value=value))
            if r.status != "Accepted":
                raise RuntimeError(f"ChangeConfiguration {key}: {r.status}")

    def remote_start(self, c, tag):
        if self.version == "2.0.1":
            self.remote_start_ids += 1
            return self.csms.call(call201.RequestStartTransaction(
                id_token={"id_token": tag, "type": "ISO14443"}, remote_start_id=self.remote_start_ids, evse_id=c))
        return self.csms.call(call.RemoteStartTransaction(id_tag=tag, connector_id=c))

    def remote_stop(self, session):
        if self.version == "2.0.1":
            return self.csms.call(call201.RequestStopTransaction(transaction_id=session["id"]))
        return self.csms.call(call.RemoteStopTransaction(transaction_id=int(session["transaction_id"])))

    def journal_transaction(self, session):
        """The transaction id a journal session is known by at the CSMS (2.0.1: the session id)."""
        if self.version == "2.0.1":
            return session["id"]
        return None if session["transaction_id"] is None else int(session["transaction_id"])

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
                    r = self.remote_start(c, tag)
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
                tx = self.journal_transaction(s)
                if tx is None or not self.csms.connected():
                    method = "card"
                else:
                    r = self.remote_stop(s)
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
            if c == victim and target in ("authorize", "start_pending") and self.csms.is_up:
                held = self.hold[target]
                arm = lambda: (self.csms.arm(held), killers.append(self.kill_when_held(held, target)))  # noqa: E731
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
            self.csms.arm(self.hold["meter_values"])
            killers.append(self.kill_when_held(self.hold["meter_values"], target, timeout=6))
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
                held = self.hold["stop_pending"]
                arm = lambda: (self.csms.arm(held), killers.append(self.kill_when_held(held, target)))  # noqa: E731
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
    def transaction_records(self):
        """What the CSMS heard, in one shape for both versions: the starts [(t, p)], the stops
        [(t, p)], the meter values [(t, transactionId)] and violations of the message sequence.
        A start p has transactionId, connectorId, idTag, meterStart, timestamp, redelivery; a stop
        p has transactionId, meterStop, timestamp, reason, idTag."""
        if self.version == "1.6":
            starts = self.csms.received("StartTransaction")
            stops = self.csms.received("StopTransaction")
            meter_values = [(t, p["transactionId"]) for t, _, p in self.csms.received("MeterValues")]
            return [(t, p) for t, _, p in starts], [(t, p) for t, _, p in stops], meter_values, []
        # 2.0.1: the station numbers each event of a transaction (seqNo from 0, no gaps); a
        # redelivery after a kill repeats the event byte for byte.
        starts, stops, meter_values, v = [], [], [], []
        seen = {}  # (transactionId, seqNo) -> payload
        for t, _, p in self.csms.received("TransactionEvent"):
            tx, key = p["transactionId"], (p["transactionId"], p["seqNo"])
            redelivery = key in seen
            if redelivery and seen[key] != p:
                v.append(f"transaction {tx}: two different events with seqNo {p['seqNo']}: {seen[key]} / {p}")
            seen.setdefault(key, p)
            if p["eventType"] == "Started":
                if "Transaction.Begin" not in p["registers"]:
                    v.append(f"transaction {tx}: Started without the Transaction.Begin register")
                starts.append((t, {"transactionId": tx, "connectorId": p["connectorId"], "idTag": p["idTag"],
                                   "meterStart": p["registers"].get("Transaction.Begin", 0.0),
                                   "timestamp": p["timestamp"], "redelivery": redelivery}))
            elif p["eventType"] == "Ended":
                if "Transaction.End" not in p["registers"]:
                    v.append(f"transaction {tx}: Ended without the Transaction.End register")
                stops.append((t, {"transactionId": tx, "meterStop": p["registers"].get("Transaction.End", 0.0),
                                  "timestamp": p["timestamp"], "reason": p["reason"], "idTag": p["idTag"],
                                  "seqNo": p["seqNo"]}))
            elif p["registers"]:
                meter_values.append((t, tx))
        numbers = {}
        for tx, seq in seen:
            numbers.setdefault(tx, set()).add(seq)
        for tx, seqs in numbers.items():
            if seqs != set(range(len(seqs))):
                v.append(f"transaction {tx}: seqNo not 0..n without gaps: {sorted(seqs)}")
        return starts, stops, meter_values, v

    def started_transactions(self):
        return {p["transactionId"] for _, p in self.transaction_records()[0]}

    def check(self, e_before, round_tx_before):
        """Checks the whole history so far; returns this round's new transactions."""
        start_records, stop_records, meter_values, v = self.transaction_records()
        starts = [p for _, p in start_records]
        stops = [p for _, p in stop_records]
        tx_start = {}
        for p in starts:
            if p["transactionId"] in tx_start and not p["redelivery"]:
                v.append(f"transaction {p['transactionId']} started twice: {tx_start[p['transactionId']]} / {p}")
            tx_start.setdefault(p["transactionId"], p)
        stops_by_tx = {}
        for p in stops:
            stops_by_tx.setdefault(p["transactionId"], []).append(p)
        self.redelivered_starts = sum(1 for p in starts if p["redelivery"])
        lost, duplicated = [], []
        for tx, p in tx_start.items():
            ss = stops_by_tx.get(tx, [])
            if not ss:
                lost.append(f"transaction {tx} (c{p['connectorId']} {p['idTag']}) has no stop")
            distinct = {json.dumps(s, sort_keys=True) for s in ss}
            if len(distinct) > 1:
                duplicated.append(f"transaction {tx} has {len(distinct)} different stops: {ss}")
            for s in ss[:1]:
                if s["meterStop"] < p["meterStart"]:
                    v.append(f"transaction {tx}: meterStop {s['meterStop']} < meterStart {p['meterStart']}")
        self.redelivered_stops = sum(len(ss) - 1 for ss in stops_by_tx.values())
        for tx in stops_by_tx:
            if tx not in tx_start:
                lost.append(f"a stop for unknown transaction {tx}")
        # the journal: one transaction id per session, one session per transaction
        sessions = self.fw.db("SELECT * FROM sessions")
        by_tx = Counter(self.journal_transaction(s) for s in sessions)
        # 1.6 sends whole Wh, 2.0.1 tenths: the CSMS's figure is the journal's, rounded
        rounded = round if self.version == "1.6" else (lambda wh: round(wh * 10) / 10)
        for s in sessions:
            tx = self.journal_transaction(s)
            if tx is None:
                lost.append(f"session {s['id']} (c{s['connector_id']}) never got a transaction id")
            elif tx not in tx_start:
                lost.append(f"session {s['id']}: transaction {tx} unknown to the CSMS")
            else:
                p = tx_start[tx]
                if p["connectorId"] != s["connector_id"] or abs(p["meterStart"] - rounded(s["meter_start_wh"])) > 0.01:
                    v.append(f"session {s['id']}: start {p} does not match the journal")
                st = stops_by_tx.get(tx)
                if st and s["meter_stop_wh"] is not None and abs(st[0]["meterStop"] - rounded(s["meter_stop_wh"])) > 0.01:
                    v.append(f"session {s['id']}: meterStop {st[0]['meterStop']} vs journal {s['meter_stop_wh']}")
        for tx, n in by_tx.items():
            if tx is not None and n > 1:
                duplicated.append(f"transaction {tx} belongs to {n} sessions")
        journal_tx = {tx for tx in by_tx if tx is not None}
        for tx, p in tx_start.items():
            if tx not in journal_tx:
                duplicated.append(f"transaction {tx} (c{p['connectorId']} {p['idTag']} {p['timestamp']}) "
                                  f"belongs to no session: a second start for a session")
        # meter values belong to known transactions, and come before their stop
        stop_time = {}
        for t, p in stop_records:
            stop_time.setdefault(p["transactionId"], t)
        for t, tx in meter_values:
            if tx is None:
                continue
            if tx not in tx_start:
                v.append(f"meter values for unknown transaction {tx}")
            elif tx in stop_time and t > stop_time[tx] + 0.001:
                v.append(f"meter values for transaction {tx} after its stop")
        # energy of this round, per connector
        new_tx = [tx for tx in tx_start if tx not in round_tx_before]
        energy_report = {}
        for c in CONNECTORS:
            counted = sum(stops_by_tx[tx][0]["meterStop"] - tx_start[tx]["meterStart"]
                          for tx in new_tx if tx_start[tx]["connectorId"] == c and tx in stops_by_tx)
            n = sum(1 for tx in new_tx if tx_start[tx]["connectorId"] == c)
            metered = self.energy(c) - e_before[c]
            tol = TOL_WH_PER_TX[self.version] * n + TOL_WH_PER_ROUND[self.version]
            energy_report[c] = (metered, counted, tol)
            if abs(metered - counted) > tol:
                v.append(f"c{c}: the meter counted {metered:.2f} Wh this round, the transactions {counted:.2f} Wh "
                         f"({n} transaction(s), tolerance {tol:.1f} Wh)")
        if not self.csms.connected():
            v.append("evsed is not connected to the CSMS")
        return v, lost, duplicated, new_tx, energy_report

    # -- the whole run ------------------------------------------------------------------------
    def run(self, rounds, time_budget=None):
        self.configure()
        print(f"torture: OCPP {self.version}, seed {self.seed}, {rounds} rounds, work dir {self.tmp}", flush=True)
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
            tx_before = self.started_transactions()
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
                  f"energy " + " ".join(f"c{c} {m:.1f}/{n:.1f}" for c, (m, n, _) in energy.items())
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
        starts = self.started_transactions()
        s = {
            "ocpp_version": self.version,
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
    print(f"OCPP {s['ocpp_version']}  seed {s['seed']}  rounds {s['rounds']}  time {s['seconds']} s  outages {s['outages']}")
    print(f"kills {s['kills']}: " + ", ".join(f"{k} {n}" for k, n in s["kills_per_phase"].items()))
    print(f"transactions {s['transactions']}  lost {s['lost']}  duplicated {s['duplicated']}  "
          f"energy mismatch {s['energy_mismatch']} (max error {s['max_energy_error_wh']} Wh, "
          f"tolerance {TOL_WH_PER_TX[s['ocpp_version']]} Wh per transaction "
          f"+ {TOL_WH_PER_ROUND[s['ocpp_version']]})")
    print(f"redelivered (same content, answered alike): starts {s['redelivered_starts']}, "
          f"stops {s['redelivered_stops']}")
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
    ap.add_argument("--ocpp-version", choices=sorted(HOLD), default="1.6", help="the protocol evsed speaks")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if not args.bin:
        ap.error("give --bin or set SWIFTEVSE_BIN")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    t = Torture(args.bin, seed, verbose=args.verbose, extra_kill_share=args.extra_kills,
                version=args.ocpp_version)
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
