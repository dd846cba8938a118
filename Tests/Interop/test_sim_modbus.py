"""A Modbus client we did not write (pymodbus) reads the simulated meters and agrees with /api/state."""
import pathlib
import struct
import sys
import time

import pytest
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusIOException

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from sim_process import HALClient, SimProcess  # noqa: E402

# Eastron SDM630 input registers, float32 high word first.
SDM630 = {"V1": 0x00, "V2": 0x02, "V3": 0x04, "A1": 0x06, "A2": 0x08, "A3": 0x0A,
          "W1": 0x0C, "W2": 0x0E, "W3": 0x10, "W": 0x34, "PF": 0x3E, "Hz": 0x46, "kWh": 0x48, "kWh_exp": 0x4A}


@pytest.fixture
def sim(bin_dir):
    s = SimProcess(bin_dir)
    yield s
    s.stop()


def read_float(client, address, unit):
    r = client.read_input_registers(address, count=2, device_id=unit)
    assert not r.isError(), r
    return struct.unpack(">f", struct.pack(">HH", *r.registers))[0]


def start_charging(sim, connector, amps, phases=3):
    hal = HALClient(sim.hal_port)
    sim.post(f"/api/connectors/{connector}/plug", {"ev": {"max_current_a": amps, "phases": phases}})
    sim.post(f"/api/connectors/{connector}/ev-state", {"state": "C"})
    assert hal.call(f"pwm.open c{connector}.cp.pwm") == "ok"
    assert hal.call(f"pwm.set c{connector}.cp.pwm 1000000 {round(32 / 0.6 * 10000)} normal 1") == "ok"
    assert hal.call(f"gpio.open c{connector}.contactor.coil out 1") == "ok 1"
    return hal


def test_idle_meter_reads_grid_voltage_and_zero_energy(sim):
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2) as client:
        for unit in (1, 2):
            assert read_float(client, SDM630["V1"], unit) == pytest.approx(230)
            assert read_float(client, SDM630["Hz"], unit) == pytest.approx(50)
            assert read_float(client, SDM630["kWh"], unit) == 0
            assert read_float(client, SDM630["W"], unit) == 0


def test_charging_meter_agrees_with_state(sim):
    hal = start_charging(sim, 2, 16, phases=3)
    time.sleep(1.5)
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2) as client:
        r = client.read_input_registers(0, count=12, device_id=2)
        assert not r.isError()
        words = r.registers
        values = [struct.unpack(">f", struct.pack(">HH", words[i], words[i + 1]))[0] for i in range(0, 12, 2)]
        assert values[:3] == pytest.approx([230, 230, 230])
        assert values[3:] == pytest.approx([16, 16, 16])
        power = read_float(client, SDM630["W"], 2)
        kwh = read_float(client, SDM630["kWh"], 2)
        state = next(c for c in sim.state()["connectors"] if c["id"] == 2)
    assert power == pytest.approx(state["meter"]["power_w"]) == pytest.approx(11040)
    assert state["meter"]["current_a"] == [16, 16, 16]
    # Energy keeps growing between the two reads: the meter read precedes /api/state.
    assert 0 < kwh * 1000 <= state["meter"]["energy_wh"] + 0.1
    assert state["meter"]["energy_wh"] - kwh * 1000 < 11040 / 3600 * 1.0  # within a second of charging
    # Connector 1 is idle.
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2) as client:
        assert read_float(client, SDM630["W"], 1) == 0
    hal.close()


def test_meter_keeps_counting_after_the_firmware_dies(sim):
    hal = start_charging(sim, 1, 10, phases=1)
    hal.sock.close()  # the firmware vanishes (as after kill -9): the contactor stays as it was
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2) as client:
        first = read_float(client, SDM630["kWh"], 1)
        time.sleep(1.0)
        second = read_float(client, SDM630["kWh"], 1)
    assert second > first
    assert sim.state()["firmware"]["connected"] is False


def test_exceptions_and_offline_meter(sim):
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=1, retries=0) as client:
        r = client.read_holding_registers(0, count=2, device_id=1)
        assert r.isError() and r.exception_code == 2
        r = client.read_input_registers(0x4C, count=2, device_id=1)
        assert r.isError() and r.exception_code == 2
        r = client.write_register(0, 1, device_id=1)  # a meter's readings are not writable
        assert r.isError() and r.exception_code == 1
        status, _ = sim.post("/api/faults", {"connector": 1, "kind": "meter-offline", "active": True})
        assert status == 200
        with pytest.raises(ModbusIOException):
            r = client.read_input_registers(0, count=2, device_id=1)
            if r.isError():
                raise ModbusIOException(str(r))
    with ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2) as client:
        assert read_float(client, SDM630["V1"], 2) == pytest.approx(230)
        sim.post("/api/faults", {"connector": 1, "kind": "meter-offline", "active": False})
        assert read_float(client, SDM630["V1"], 1) == pytest.approx(230)
