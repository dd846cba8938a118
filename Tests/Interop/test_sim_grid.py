"""The simulator's building (house load, PV) and its grid meter, read by a Modbus client we did
not write (pymodbus) through the board's map: Carlo Gavazzi EM340 at unit 10 on
Board/sim-2x22kw.yaml (int32, low word first), SDM630 at unit 10 without a board."""
import pathlib
import struct
import sys

import pytest
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusIOException

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from sim_process import HALClient, SimProcess  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
# EM340 input registers (Board/meters/em340.yaml): int32, low word first, scaled.
EM340 = {"A1": (0x0C, 0.001), "A2": (0x0E, 0.001), "A3": (0x10, 0.001),
         "W1": (0x12, 0.1), "W2": (0x14, 0.1), "W3": (0x16, 0.1), "W": (0x28, 0.1),
         "kWh": (0x34, 100), "kWh_exp": (0x4E, 100)}
GRID_UNIT = 10


@pytest.fixture
def sim(bin_dir):
    s = SimProcess(bin_dir, "--board", str(ROOT / "Board" / "sim-2x22kw.yaml"))
    yield s
    s.stop()


def em340(client, name):
    address, scale = EM340[name]
    r = client.read_input_registers(address, count=2, device_id=GRID_UNIT)
    assert not r.isError(), r
    low, high = r.registers
    return struct.unpack(">i", struct.pack(">HH", high, low))[0] * scale


def charge(sim, connector, amps):
    hal = HALClient(sim.hal_port)
    sim.post(f"/api/connectors/{connector}/plug", {"ev": {"max_current_a": amps, "phases": 3}})
    sim.post(f"/api/connectors/{connector}/ev-state", {"state": "C"})
    assert hal.call(f"pwm.open c{connector}.cp.pwm") == "ok"
    assert hal.call(f"pwm.set c{connector}.cp.pwm 1000000 {round(amps / 0.6 * 10000)} normal 1") == "ok"
    # The relay of the sim board rests at one phase: drive it to three, as evsed does at start.
    assert hal.call(f"gpio.open c{connector}.phase.switch out 1") == "ok 1"
    assert hal.call(f"gpio.open c{connector}.contactor.coil out 1") == "ok 1"
    return hal


def test_grid_meter_reads_house_load_plus_chargers_per_phase(sim):
    assert sim.post("/api/grid", {"house_load_a": [10, 5, 0]})[0] == 200
    hal = charge(sim, 1, 16)
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2) as client:
        assert [round(em340(client, a), 1) for a in ("A1", "A2", "A3")] == [26, 21, 16]
        assert em340(client, "W1") == pytest.approx(26 * 230, abs=2)
        assert em340(client, "W") == pytest.approx((26 + 21 + 16) * 230, abs=3)
        g = sim.get("/api/grid")[1]
        assert g["current_a"] == [26, 21, 16] and g["chargers_a"] == [16, 16, 16]
        assert g["import_w"] == pytest.approx((26 + 21 + 16) * 230, abs=3) and g["export_w"] == 0
        assert g["meter"] == {"unit": 10, "model": "em340", "online": True}
    hal.close()


def test_pv_export_is_negative_power_and_currents_stay_magnitudes(sim):
    assert sim.post("/api/grid", {"house_load_a": 2, "pv_w": 6900})[0] == 200  # 10 A/phase out, 2 in
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2) as client:
        assert round(em340(client, "A1"), 2) == 8
        assert em340(client, "W1") == pytest.approx(-8 * 230, abs=1)
        assert em340(client, "W") == pytest.approx(-3 * 8 * 230, abs=1)
    g = sim.get("/api/grid")[1]
    assert g["current_a"] == [-8, -8, -8] and g["export_w"] == pytest.approx(5520, abs=1)


def test_grid_meter_offline_fault_and_bad_input(sim):
    assert sim.post("/api/faults", {"kind": "grid-meter-offline", "active": True})[0] == 200
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=1, retries=0) as client:
        with pytest.raises(ModbusIOException):
            r = client.read_input_registers(0x0C, count=2, device_id=GRID_UNIT)
            if r.isError():
                raise ModbusIOException(str(r))
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2) as client:
        # The chargers' meters still answer.
        assert not client.read_input_registers(0, count=2, device_id=1).isError()
    assert sim.get("/api/grid")[1]["meter"]["online"] is False
    assert "grid-meter-offline" in sim.state()["faults"]
    before = sim.get("/api/grid")[1]
    for body in ({"house_load_a": [1, 2]}, {"house_load_a": -3}, {"pv_w": "sunny"}, {"pv_curve": {"points": [[12, 1], [6, 2]]}},
                 {"pv_curve": {"points": [[6, 0]], "seconds_per_hour": 0}}, {"house_load_a": 5, "pv_w": -1}, {"wind_w": 3}):
        status, answer = sim.post("/api/grid", body)
        assert status == 400 and "error" in answer, body
    after = sim.get("/api/grid")[1]
    assert after["house_load_a"] == before["house_load_a"] and after["pv_w"] == before["pv_w"]


def test_pv_day_curve_runs_in_compressed_time(sim):
    curve = {"points": [[6, 0], [12, 9000], [18, 0]], "seconds_per_hour": 0.5, "start_hour": 9}
    assert sim.post("/api/grid", {"pv_curve": curve})[0] == 200
    g = sim.get("/api/grid")[1]
    assert g["pv_curve"]["hour"] == pytest.approx(9, abs=0.3)
    assert g["pv_w"] == pytest.approx(4500, abs=600)
    import time
    time.sleep(1.6)   # ≈ 3 hours later: noon
    g = sim.get("/api/grid")[1]
    assert g["pv_w"] == pytest.approx(9000, abs=700)
    assert g["pv_wh"] > 0 and g["export_wh"] > 0


def test_without_a_board_the_grid_meter_is_an_sdm630_at_unit_10(bin_dir):
    s = SimProcess(bin_dir)
    try:
        assert s.post("/api/grid", {"house_load_a": [7, 8, 9]})[0] == 200
        with ModbusTcpClient("127.0.0.1", port=s.modbus_port, timeout=2) as client:
            r = client.read_input_registers(0x06, count=6, device_id=GRID_UNIT)
            assert not r.isError()
            amps = [struct.unpack(">f", struct.pack(">HH", *r.registers[i:i + 2]))[0] for i in (0, 2, 4)]
            assert amps == [7, 8, 9]
    finally:
        s.stop()
