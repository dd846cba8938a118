"""Contract tests for the simulator's HTTP control API (issue 3), against the built evse-sim."""
import json
import sys
import time
import pathlib

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from sim_process import EventStream, HALClient, SimProcess  # noqa: E402


@pytest.fixture
def sim(bin_dir):
    s = SimProcess(bin_dir)
    yield s
    s.stop()


def conn(state, cid=1):
    return next(c for c in state["connectors"] if c["id"] == cid)


def test_state_has_the_contract_shape(sim):
    s = sim.state()
    assert [c["id"] for c in s["connectors"]] == [1, 2]
    c = conn(s)
    assert c["ev"]["plugged"] is False
    assert set(c["pilot"]) >= {"state", "duty_percent", "volts"}
    assert c["pilot"]["state"] == "A" and c["pilot"]["volts"] == 12
    assert c["contactor"] == {"commanded": False, "closed": False}
    assert c["lock"]["locked"] is False
    assert set(c["meter"]) >= {"energy_wh", "power_w", "current_a", "voltage_v"}
    assert c["meter"]["voltage_v"] == [230, 230, 230]
    assert c["faults"] == []
    assert isinstance(s["display"]["lines"], list)
    assert s["firmware"]["connected"] is False


def test_plug_with_options_then_ev_states_then_unplug(sim):
    status, s = sim.post("/api/connectors/1/plug",
                         {"cable_a": 20, "ev": {"max_current_a": 16, "phases": 1, "capacity_wh": 40000, "soc": 0.5}})
    assert status == 200
    c = conn(s)
    assert c["ev"] == {**c["ev"], "plugged": True, "state": "B", "soc": 0.5, "max_current_a": 16, "phases": 1,
                       "capacity_wh": 40000, "cable_a": 20}
    assert c["pilot"]["state"] == "B" and c["pilot"]["volts"] == 9
    for st, volts in (("C", 6), ("D", 3), ("B", 9)):
        status, s = sim.post("/api/connectors/1/ev-state", {"state": st})
        assert status == 200
        assert conn(s)["ev"]["state"] == st
        assert conn(s)["pilot"] == {**conn(s)["pilot"], "state": st, "volts": volts}
    status, s = sim.post("/api/connectors/1/unplug")
    assert status == 200
    assert conn(s)["ev"]["plugged"] is False and conn(s)["pilot"]["state"] == "A"


def test_plug_without_body_uses_defaults(sim):
    status, s = sim.post("/api/connectors/2/plug")
    assert status == 200
    assert conn(s, 2)["ev"]["cable_a"] == 32 and conn(s, 2)["ev"]["phases"] == 3


def test_rfid_reports_frame_length(sim):
    status, r = sim.post("/api/rfid", {"uid": "04a1b2c3"})
    assert status == 200 and r["uid"] == "04A1B2C3" and r["wiegand_bits"] == 34
    status, r = sim.post("/api/rfid", {"uid": "A1B2C3"})
    assert status == 200 and r["wiegand_bits"] == 26


def test_faults_show_per_connector_and_station_wide(sim):
    for kind in ("rcd", "contactor-weld", "contactor-fail-close", "lock-jam", "meter-offline", "pilot-short", "diode"):
        status, s = sim.post("/api/faults", {"connector": 2, "kind": kind, "active": True})
        assert status == 200, s
        assert kind in conn(s, 2)["faults"]
        assert conn(s, 1)["faults"] == []
    s = sim.state()
    assert conn(s, 2)["pilot"]["state"] == "E"           # pilot short
    assert conn(s, 2)["contactor"]["closed"] is True     # welded
    assert conn(s, 2)["meter"]["online"] is False
    status, s = sim.post("/api/faults", {"kind": "estop", "active": True})
    assert status == 200 and "estop" in s["faults"] and "estop" in conn(s, 1)["faults"]
    status, s = sim.post("/api/faults", {"connector": 1, "kind": "overtemp", "active": True})
    assert status == 200 and "overtemp" in s["faults"]
    status, s = sim.post("/api/faults", {"connector": 2, "kind": "pilot-short", "active": False})
    assert "pilot-short" not in conn(s, 2)["faults"] and conn(s, 2)["pilot"]["state"] == "A"


BAD_REQUESTS = [
    # (method, path, body or raw bytes, status, words the error must contain)
    ("POST", "/api/connectors/9/plug", None, 404, "unknown connector 9"),
    ("POST", "/api/connectors/abc/plug", None, 404, "unknown connector"),
    ("POST", "/api/connectors/9/ev-state", {"state": "C"}, 404, "unknown connector 9"),
    ("POST", "/api/connectors/9/unplug", None, 404, "unknown connector 9"),
    ("POST", "/api/connectors/1/plug", b"{not json", 400, "malformed JSON"),
    ("POST", "/api/connectors/1/plug", [1, 2], 400, "JSON object"),
    ("POST", "/api/connectors/1/plug", {"cable_a": 40}, 400, "cable_a"),
    ("POST", "/api/connectors/1/plug", {"cable_a": "32"}, 400, "cable_a must be a number"),
    ("POST", "/api/connectors/1/plug", {"ev": {"phases": 2}}, 400, "phases"),
    ("POST", "/api/connectors/1/plug", {"ev": {"soc": 1.5}}, 400, "soc"),
    ("POST", "/api/connectors/1/plug", {"ev": {"max_current_a": 200}}, 400, "max_current_a"),
    ("POST", "/api/connectors/1/plug", {"ev": {"capacity_wh": -1}}, 400, "capacity_wh"),
    ("POST", "/api/connectors/1/plug", {"colour": "red"}, 400, "unknown field \"colour\""),
    ("POST", "/api/connectors/1/ev-state", {"state": "C"}, 409, "no EV plugged in"),
    ("POST", "/api/connectors/1/ev-state", None, 400, "state"),
    ("POST", "/api/connectors/1/ev-state", b"[", 400, "malformed JSON"),
    ("POST", "/api/connectors/1/unplug", None, 409, "no EV plugged in"),
    ("POST", "/api/rfid", {"uid": "XYZ"}, 400, "uid"),
    ("POST", "/api/rfid", {"uid": "123"}, 400, "uid"),
    ("POST", "/api/rfid", {"uid": 1234}, 400, "uid"),
    ("POST", "/api/rfid", None, 400, "uid"),
    ("POST", "/api/rfid", b"}", 400, "malformed JSON"),
    ("POST", "/api/faults", {"connector": 1, "kind": "gremlins", "active": True}, 400, "kind must be one of"),
    ("POST", "/api/faults", {"connector": 1, "kind": "rcd"}, 400, "active"),
    ("POST", "/api/faults", {"connector": 1, "kind": "rcd", "active": "yes"}, 400, "active"),
    ("POST", "/api/faults", {"connector": 7, "kind": "rcd", "active": True}, 404, "unknown connector 7"),
    ("POST", "/api/faults", {"kind": "rcd", "active": True}, 400, "needs a connector"),
    ("POST", "/api/faults", {"connector": 1.5, "kind": "rcd", "active": True}, 400, "integer"),
    ("POST", "/api/faults", b"nope", 400, "malformed JSON"),
    ("GET", "/api/nothing-here", None, 404, "no such endpoint"),
    ("GET", "/api/events?since=abc", None, 400, "since"),
]


@pytest.mark.parametrize("method,path,body,status,words", BAD_REQUESTS,
                         ids=[f"{m} {p} {s}" for m, p, _, s, _ in BAD_REQUESTS])
def test_bad_input_is_4xx_json_and_changes_nothing(sim, method, path, body, status, words):
    before = sim.state()
    raw = body if isinstance(body, bytes) else None
    got, err = sim.request(method, path, None if raw else body, raw)
    assert got == status, err
    assert isinstance(err, dict) and words in err["error"], err
    after = sim.state()
    before.pop("time_us"), after.pop("time_us")
    assert after == before


def test_conflicts_change_nothing(sim):
    sim.post("/api/connectors/1/plug")
    status, err = sim.post("/api/connectors/1/plug")
    assert status == 409 and "already plugged" in err["error"]
    # A locked cable cannot be pulled out unless forced.
    hal = HALClient(sim.hal_port)
    assert hal.call("gpio.open c1.lock.drive out 1") == "ok 1"
    status, err = sim.post("/api/connectors/1/unplug")
    assert status == 409 and "locked" in err["error"]
    assert conn(sim.state())["ev"]["plugged"] is True
    status, s = sim.post("/api/connectors/1/unplug", {"force": True})
    assert status == 200 and conn(s)["ev"]["plugged"] is False
    hal.close()


def test_ev_side_unplug_leaves_the_locked_cable_in_the_socket(sim):
    sim.post("/api/connectors/1/plug", {"cable_a": 20})
    hal = HALClient(sim.hal_port)
    assert hal.call("gpio.open c1.lock.drive out 1") == "ok 1"
    status, s = sim.post("/api/connectors/1/unplug", {"side": "ev"})
    assert status == 200
    c = conn(s)
    assert c["ev"]["plugged"] is False and c["ev"]["cable_a"] == 20, "the cable is still in the socket"
    assert c["pilot"]["state"] == "A" and c["lock"]["locked"] is True
    status, err = sim.post("/api/connectors/1/unplug", {"side": "ev"})
    assert status == 409 and "no EV" in err["error"]
    status, err = sim.post("/api/connectors/1/unplug", {"side": "left"})
    assert status == 400 and "side" in err["error"]
    # An EV on the same cable again.
    status, s = sim.post("/api/connectors/1/plug")
    assert status == 200 and conn(s)["ev"]["plugged"] is True and conn(s)["ev"]["cable_a"] == 20
    hal.close()


def test_events_stream_every_change_with_sequence_and_monotonic_time(sim):
    stream = EventStream(sim)
    assert "text/event-stream" in stream.headers
    hal = HALClient(sim.hal_port)
    assert hal.call("hello pytest 1") == "ok evse-sim 1 2"
    assert hal.call("gpio.open c1.contactor.coil out 0") == "ok 0"
    assert hal.call("pwm.open c1.cp.pwm") == "ok"
    sim.post("/api/connectors/1/plug")
    sim.post("/api/connectors/1/ev-state", {"state": "C"})
    assert hal.call("pwm.set c1.cp.pwm 1000000 266667 normal 1") == "ok"
    assert hal.call("gpio.set c1.contactor.coil 1") == "ok"
    assert hal.call("mark contactor closed for C") == "ok"
    evs = stream.events(until=lambda e: e["kind"] == "firmware.mark")
    kinds = [e["kind"] for e in evs]
    for k in ("firmware.connected", "firmware.hello", "ev.plugged", "pilot.state", "ev.state", "pilot.pwm",
              "contactor.command", "contactor.state", "charging", "firmware.mark"):
        assert k in kinds, (k, kinds)
    seqs = [e["seq"] for e in evs]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    times = [e["t_us"] for e in evs]
    assert times == sorted(times)
    # Timestamps are CLOCK_MONOTONIC µs, the clock the firmware uses.
    assert abs(times[-1] - time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000) < 5_000_000
    pilot = [e for e in evs if e["kind"] == "pilot.state"]
    assert [(p["connector"], p["previous"], p["state"]) for p in pilot] == [(1, "A", "B"), (1, "B", "C")]
    cmd = next(e for e in evs if e["kind"] == "contactor.command" and e["commanded"])
    assert cmd["connector"] == 1
    stream.close()
    # A late subscriber replays from a sequence number.
    late = EventStream(sim, since=seqs[-3])
    replay = late.events(timeout=2, until=lambda e: e["seq"] == seqs[-1])
    assert [e["seq"] for e in replay] == seqs[-2:]
    late.close()
    hal.close()


def test_page_is_served(sim):
    status, page = sim.get("/")
    assert status == 200 and "<title>evse-sim</title>" in page and "/api/events" in page
