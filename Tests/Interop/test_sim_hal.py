"""The firmware's socket over the wire: request checking, pushes, and a firmware killed with SIGKILL."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from sim_process import EventStream, HALClient, SimProcess  # noqa: E402


@pytest.fixture
def sim(bin_dir):
    s = SimProcess(bin_dir)
    yield s
    s.stop()


def test_requests_are_checked_and_refusals_change_nothing(sim):
    hal = HALClient(sim.hal_port)
    assert hal.call("hello pytest 1") == "ok evse-sim 1 2"
    before = sim.state()
    for request, error in [
        ("gpio.set c1.contactor.coil 1", "not open"),
        ("gpio.open c1.contactor.feedback out 1", "cannot be opened as an output"),
        ("gpio.open c3.contactor.coil out 1", "unknown line"),
        ("pwm.open c1.cp.high", "not a pwm"),
        ("teleport c1", "unknown verb"),
    ]:
        reply = hal.call(request)
        assert reply.startswith("err ") and error in reply, (request, reply)
    assert hal.call("pwm.open c1.cp.pwm") == "ok"
    assert hal.call("pwm.set c1.cp.pwm 1000000 1000001 normal 1").startswith("err duty 1000001 ns exceeds period")
    after = sim.state()
    before.pop("time_us"), after.pop("time_us")
    before["firmware"], after["firmware"] = None, None
    assert after == before
    hal.close()


def test_pushes_carry_monotonic_timestamps(sim):
    hal = HALClient(sim.hal_port)
    assert hal.call("adc.open c2.cp.high") == "ok 12000"
    assert hal.call("gpio.open c2.lock.feedback in both") == "ok 0"
    t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    sim.post("/api/connectors/2/plug")
    push = hal.wait_push(lambda p: p.startswith("! adc c2.cp.high"))
    _, _, name, mv, ts = push.split()
    assert (name, mv) == ("c2.cp.high", "9000")
    assert t0 <= int(ts) <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert hal.call("gpio.open c2.lock.drive out 1") == "ok 1"
    edge = hal.wait_push(lambda p: p.startswith("! edge c2.lock.feedback"))
    assert edge.split()[3] == "rising"
    hal.close()


FIRMWARE = r"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for i, req in enumerate(["hello doomed 1", "gpio.open c1.contactor.coil out 0", "pwm.open c1.cp.pwm",
                         "pwm.set c1.cp.pwm 1000000 266667 normal 1", "gpio.set c1.contactor.coil 1"], 1):
    s.sendall(f"{i} {req}\n".encode())
buf = b""
while buf.count(b" ok") < 5:
    buf += s.recv(4096)
print("ready", flush=True)
time.sleep(60)
"""


def test_world_goes_on_when_the_firmware_is_killed(sim):
    sim.post("/api/connectors/1/plug", {"ev": {"max_current_a": 16}})
    sim.post("/api/connectors/1/ev-state", {"state": "C"})
    fw = subprocess.Popen([sys.executable, "-c", FIRMWARE, str(sim.hal_port)], stdout=subprocess.PIPE, text=True)
    assert fw.stdout.readline().strip() == "ready"
    s = sim.state()
    assert s["firmware"]["connected"] is True
    assert s["connectors"][0]["contactor"]["closed"] is True
    os.kill(fw.pid, signal.SIGKILL)
    fw.wait()
    deadline = time.monotonic() + 5
    while sim.state()["firmware"]["connected"] and time.monotonic() < deadline:
        time.sleep(0.05)
    first = sim.state()
    assert first["firmware"]["connected"] is False
    c = first["connectors"][0]
    assert c["ev"]["plugged"] is True and c["contactor"]["closed"] is True
    time.sleep(0.5)
    second = sim.state()["connectors"][0]
    assert second["meter"]["energy_wh"] > c["meter"]["energy_wh"]  # the meter keeps counting
    # A restarted firmware connects and takes over where the world is.
    hal = HALClient(sim.hal_port)
    assert hal.call("hello evsed 1") == "ok evse-sim 1 2"
    assert hal.call("gpio.open c1.contactor.feedback in both") == "ok 1"
    assert hal.call("adc.open c1.cp.high") == "ok 6000"
    assert hal.call("gpio.open c1.contactor.coil out 0") == "ok 0"
    assert sim.state()["connectors"][0]["contactor"]["closed"] is False
    hal.close()


def test_led_channels_change_the_state_but_not_the_event_log(sim):
    stream = EventStream(sim)
    hal = HALClient(sim.hal_port)
    assert hal.call("gpio.open c1.rcd.test out 0") == "ok 0"
    assert hal.call("pwm.open c1.led.blue.pwm") == "ok"
    assert hal.call("gpio.open c2.led.red out 0") == "ok 0"
    # An LED's PWM channel may run at any period (the pilot's must be 1 kHz): the duty is the brightness.
    assert hal.call("pwm.set c1.led.blue.pwm 1000000 250000 normal 1") == "ok"
    assert hal.call("pwm.set c1.led.blue.pwm 500000 125000 normal 1") == "ok"
    for level in (1, 0, 1):
        assert hal.call(f"gpio.set c2.led.red {level}") == "ok"
    assert hal.call("pwm.set c1.cp.pwm 500000 100000 normal 1").startswith("err ")  # not opened, and not 1 kHz
    state = sim.state()
    c1, c2 = state["connectors"]
    assert c1["led_brightness"]["blue"] == 0.25 and c1["leds"]["blue"] is True
    assert c2["leds"]["red"] is True and c2["led_brightness"]["red"] == 1.0
    assert hal.call("gpio.set c1.rcd.test 1") == "ok"  # an output that is not an LED: still an event
    assert hal.call("mark done") == "ok"
    outputs = [e for e in stream.events(until=lambda e: e["kind"] == "firmware.mark") if e["kind"] == "output"]
    assert [e["line"] for e in outputs] == ["c1.rcd.test"], outputs
    stream.close()
    hal.close()


def test_an_led_class_device_runs_its_pattern_without_the_firmware(sim):
    stream = EventStream(sim)
    hal = HALClient(sim.hal_port)
    for request, error in [
        ("led.set c1.led.green.class 1", "not open"),
        ("led.open c1.led.green.pwm", "not an led"),
        ("led.open c3.led.green.class", "unknown line"),
    ]:
        reply = hal.call(request)
        assert reply.startswith("err ") and error in reply, (request, reply)
    assert hal.call("led.open c1.led.green.class") == "ok"
    assert hal.call("led.open c1.led.blue.class") == "ok"
    for request, error in [
        ("led.set c1.led.green.class 1.5", "0…1"),
        ("led.pattern c1.led.green.class 0 1000", "at least two"),
        ("led.pattern c1.led.green.class 0 1000 1", "at least two"),
        ("led.pattern c1.led.green.class 0 0 1 0", "duration above 0"),
        ("led.pattern c1.led.green.class 0 -5 1 1000", "MS must be"),
    ]:
        reply = hal.call(request)
        assert reply.startswith("err ") and error in reply, (request, reply)
    before = sim.state()["connectors"][0]
    assert before["leds"]["green"] is False and before["led_pattern"]["green"] is None

    assert hal.call("led.set c1.led.green.class 0.5") == "ok"
    c1 = sim.state()["connectors"][0]
    assert c1["led_brightness"]["green"] == 0.5 and c1["led_pattern"]["green"] is None

    # One request: the simulator, like the kernel's pattern trigger, breathes from then on.
    assert hal.call("led.pattern c1.led.blue.class 0 1000 1 1000") == "ok"
    c1 = sim.state()["connectors"][0]
    assert c1["led_pattern"]["blue"] == [[0, 1000], [1, 1000]]
    assert c1["leds"]["blue"] is True and 0 <= c1["led_brightness"]["blue"] <= 1
    # A steady brightness ends the pattern.
    assert hal.call("led.set c1.led.blue.class 0") == "ok"
    c1 = sim.state()["connectors"][0]
    assert c1["led_pattern"]["blue"] is None and c1["leds"]["blue"] is False

    assert hal.call("mark done") == "ok"
    events = stream.events(until=lambda e: e["kind"] == "firmware.mark")
    assert [e for e in events if e["kind"] in ("output", "pilot.pwm")] == []
    stream.close()
    hal.close()
