"""The meter driver against a Modbus server that is not our code.

For every map in Board/meters/, a pymodbus TCP server serves the map's registers with known
values (encoded in Python by modbus_map_server.py); `evsectl meter read` reads them through
libmodbus and the map, and must print the same values. Then the meter goes away or mute:
evsectl must fail with a message that says so.
"""
from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import modbus_map_server as mms  # noqa: E402

SERVER = pathlib.Path(mms.__file__).resolve()
MAPS = sorted((pathlib.Path(__file__).resolve().parents[2] / "Board" / "meters").glob("*.yaml"))


class MeterServer:
    """modbus_map_server.py in a child process; closing its stdin stops it."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("READY port="):
            self.proc.kill()
            raise RuntimeError(f"modbus_map_server.py did not start: {line!r}")
        self.port = int(line.strip().split("=", 1)[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def meter_server():
    servers: list[MeterServer] = []

    def start(*args: str) -> MeterServer:
        server = MeterServer(*args)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


def evsectl_meter_read(bin_dir: pathlib.Path, map_path: pathlib.Path, port: int, unit: int = 1,
                       timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bin_dir / "evsectl"), "meter", "read", "--map", str(map_path),
         "--tcp", f"127.0.0.1:{port}", "--unit", str(unit), "--json"],
        capture_output=True, text=True, timeout=timeout,
    )


def test_every_expected_map_is_shipped():
    names = {p.stem for p in MAPS}
    assert {"sdm630", "sdm72d-m", "sdm120", "abb-b23", "abb-b24", "em340"} <= names


@pytest.mark.parametrize("map_path", MAPS, ids=[p.stem for p in MAPS])
def test_map_values_match_what_pymodbus_serves(bin_dir, meter_server, map_path):
    meter_map = mms.load_map(map_path)
    expected = mms.served_values(meter_map)
    # The served values are the nominal ones up to the register type's resolution, so a wrong
    # scale in a map file shows up here rather than as a silently odd reading.
    for name, value in expected.items():
        reg = meter_map["registers"][name]
        resolution = abs(reg["scale"]) if reg["type"] != "float32" else abs(value) * 1e-6
        nominal = mms.NOMINAL[name] if reg["type"] in mms.SIGNED else abs(mms.NOMINAL[name])
        if name == "power.active.total" and meter_map["registers"].get("power.active.l1", {}).get("address") == reg["address"]:
            continue  # single-phase meter: total is the L1 register
        assert abs(value - nominal) <= resolution / 2 + 1e-9, f"{name}: {value} vs {nominal}"

    server = meter_server("--map", str(map_path), "--unit", "1")
    result = evsectl_meter_read(bin_dir, map_path, server.port)
    assert result.returncode == 0, f"evsectl failed: {result.stderr}{result.stdout}"
    got = json.loads(result.stdout)
    assert set(got) == set(expected), f"measurands differ: {sorted(set(got) ^ set(expected))}"
    for name, value in expected.items():
        assert math.isclose(got[name], value, rel_tol=1e-6, abs_tol=1e-6), f"{name}: {got[name]} != {value}"


def test_meter_gone_is_a_clear_failure(bin_dir, meter_server):
    map_path = next(p for p in MAPS if p.stem == "sdm630")
    server = meter_server("--map", str(map_path))
    port = server.port
    server.stop()
    result = evsectl_meter_read(bin_dir, map_path, port)
    assert result.returncode != 0
    message = (result.stderr + result.stdout).lower()
    assert f"127.0.0.1:{port}" in message
    assert "refused" in message or "offline" in message, message


def test_mute_meter_times_out_with_a_clear_failure(bin_dir, meter_server):
    map_path = next(p for p in MAPS if p.stem == "em340")
    server = meter_server("--silent")
    result = evsectl_meter_read(bin_dir, map_path, server.port)
    assert result.returncode != 0
    message = (result.stderr + result.stdout).lower()
    assert f"127.0.0.1:{server.port}" in message
    assert any(w in message for w in ("no answer", "timed out", "timeout", "offline")), message


def test_wrong_unit_is_a_clear_failure(bin_dir, meter_server):
    map_path = next(p for p in MAPS if p.stem == "abb-b23")
    server = meter_server("--map", str(map_path), "--unit", "1")
    result = evsectl_meter_read(bin_dir, map_path, server.port, unit=9)
    assert result.returncode != 0
    assert "unit 9" in (result.stderr + result.stdout).lower()
