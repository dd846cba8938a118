"""A charger without an RTC battery boots at 1970: evsed started with its wall clock at 1970
(the test hook SWIFTEVSE_TEST_WALL_CLOCK_START=0, read by StationClock.forDaemon only) and no
CSMS reachable charges a session offline; once the CSMS answers BootNotification, the
session's messages reach it with the true time, corrected from the monotonic clock
(docs/ROBUSTNESS.md, "The clock"). evse-sim and evsed as processes, a CSMS on the `ocpp`
package, both OCPP versions."""
import os
import time
from datetime import datetime

import pytest

from csms16 import CentralSystem
from csms201 import Csms201
from evsed_process import EvsedProcess, sim_board_for
from sim_process import connector, wait_for

CARD = "04A1B2C3"  # in etc/station.demo.yaml's local list: a session starts without a CSMS
# Times before this were taken from a clock that was not set (StationClock's floor).
FLOOR = datetime.fromisoformat("2024-01-01T00:00:00+00:00").timestamp()


def unix(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def timestamps(payload):
    """Every `timestamp` member of a message, at any depth (meter values included)."""
    found = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "timestamp" and isinstance(value, str):
                found.append(unix(value))
            else:
                found += timestamps(value)
    elif isinstance(payload, list):
        for item in payload:
            found += timestamps(item)
    return found


@pytest.fixture()
def evsed_at_1970(sim, bin_dir, repo_root, tmp_path):
    board = sim_board_for(repo_root, sim, tmp_path)
    started = []

    def start(csms_url, identity, *extra):
        env = {**os.environ, "SWIFTEVSE_TEST_WALL_CLOCK_START": "0"}
        p = EvsedProcess(bin_dir, board, repo_root / "etc" / "station.demo.yaml", tmp_path / "data",
                         "--csms", csms_url, "--identity", identity, *extra, env=env)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def charge_offline(sim, evsed):
    """Plug in, card, charge a little, unplug: returns the real times the session started and ended."""
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    assert sim.post("/api/rfid", {"uid": CARD})[0] == 200
    evsed.wait_log(r"c1: session .* started by " + CARD, start=mark)
    started = time.time()
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    e0 = connector(sim, 1)["meter"]["energy_wh"]
    wait_for(lambda: connector(sim, 1)["meter"]["energy_wh"] >= e0 + 2, timeout=20, what="energy counted offline")
    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    evsed.wait_log(r"c1: session .* ended", start=mark)
    ended = time.time()
    return started, ended


def free_port():
    probe = CentralSystem()  # a port nobody listens on once it stops
    port = probe.port
    probe.stop()
    return port


def test_ocpp16_a_session_charged_before_the_clock_was_set_arrives_with_the_true_time(sim, evsed_at_1970):
    port = free_port()
    evsed = evsed_at_1970(f"ws://127.0.0.1:{port}", "CP1")
    started, ended = charge_offline(sim, evsed)

    cs = CentralSystem(port=port)
    try:
        start = cs.wait_for("StartTransaction", timeout=40)[0]
        stop = cs.wait_for("StopTransaction", timeout=15)[0]
        print(f"1.6: StartTransaction {unix(start['timestamp']) - started:+.3f} s, "
              f"StopTransaction {unix(stop['timestamp']) - ended:+.3f} s from the real time")
        assert abs(unix(start["timestamp"]) - started) <= 2, (start["timestamp"], started)
        assert abs(unix(stop["timestamp"]) - ended) <= 2, (stop["timestamp"], ended)
        evsed.wait_log(r"clock: set from the CSMS .* corrected 1 session\(s\)")
        # Nothing reached the CSMS with a 1970 time: not the transaction messages, their meter
        # values, the status reports after the boot, nor the security events logged before it.
        assert cs.received("SecurityEventNotification"), "the startup event logged at 1970 is sent too"
        for action in ("StartTransaction", "StopTransaction", "MeterValues", "StatusNotification",
                       "SecurityEventNotification"):
            for payload in cs.received(action):
                assert all(t >= FLOOR for t in timestamps(payload)), (action, payload)
    finally:
        cs.stop()


def test_ocpp201_a_session_charged_before_the_clock_was_set_arrives_with_the_true_time(sim, evsed_at_1970):
    port = free_port()
    evsed = evsed_at_1970(f"ws://127.0.0.1:{port}", "CS1", "--ocpp-version", "2.0.1")
    started, ended = charge_offline(sim, evsed)

    cs = Csms201(port=port)
    try:
        events = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended", timeout=40)
        ended_event = events[0]
        transaction = ended_event["transactionInfo"]["transactionId"]
        mine = [e for e in cs.received("TransactionEvent") if e["transactionInfo"]["transactionId"] == transaction]
        first = next(e for e in mine if e["eventType"] == "Started")
        print(f"2.0.1: Started {unix(first['timestamp']) - started:+.3f} s, "
              f"Ended {unix(ended_event['timestamp']) - ended:+.3f} s from the real time")
        assert abs(unix(first["timestamp"]) - started) <= 2, (first["timestamp"], started)
        assert abs(unix(ended_event["timestamp"]) - ended) <= 2, (ended_event["timestamp"], ended)
        assert all(e.get("offline") for e in mine), "queued while no CSMS was reachable"
        evsed.wait_log(r"clock: set from the CSMS")
        for event in mine:
            assert all(t >= FLOOR for t in timestamps(event)), event
    finally:
        cs.stop()
