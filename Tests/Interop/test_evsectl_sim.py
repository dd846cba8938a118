"""`evsectl` against a running `evse-sim`: the bring-up CLI drives the simulated board through
the same drivers and backends it uses on real hardware."""
import pathlib
import subprocess
import time

import pytest

from sim_process import SimProcess

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIM_BOARD = ROOT / "Board" / "sim-2x22kw.yaml"


@pytest.fixture
def sim(bin_dir):
    s = SimProcess(bin_dir, "--board", str(SIM_BOARD))
    yield s
    s.stop()


@pytest.fixture
def board(sim, tmp_path):
    """The sim board pointed at this simulator's free ports."""
    text = SIM_BOARD.read_text()
    text = text.replace("simulator: {address: 127.0.0.1:8089}", f"simulator: {{address: 127.0.0.1:{sim.hal_port}}}")
    text = text.replace("tcp: 127.0.0.1:5020", f"tcp: 127.0.0.1:{sim.modbus_port}")
    path = tmp_path / "sim-board.yaml"
    path.write_text(text)
    (tmp_path / "meters").symlink_to(ROOT / "Board" / "meters")
    return path


def evsectl(bin_dir, *args, timeout=30):
    return subprocess.run([str(bin_dir / "evsectl"), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_selftest_passes_every_part(bin_dir, board):
    r = evsectl(bin_dir, "selftest", "--board", board)
    assert r.returncode == 0, r.stdout + r.stderr
    for part in ["c1.pilot", "c1.proximity", "c1.lock", "c1.contactor", "c1.rcd", "c1.rcd.test", "c1.meter",
                 "c2.pilot", "c2.meter", "station.rfid", "station.display", "station.estop", "station.overtemp"]:
        assert any(l.startswith("PASS") and l.split()[1] == part for l in r.stdout.splitlines()), (part, r.stdout)
    assert "0 failed" in r.stdout


def test_selftest_fails_on_a_pressed_emergency_stop(bin_dir, sim, board):
    status, _ = sim.post("/api/faults", {"kind": "estop", "active": True})
    assert status == 200
    r = evsectl(bin_dir, "selftest", "--board", board)
    assert r.returncode == 1
    assert any(l.startswith("FAIL") and l.split()[1] == "station.estop" for l in r.stdout.splitlines()), r.stdout


def test_contactor_close_needs_an_ev_requesting_charge(bin_dir, sim, board):
    r = evsectl(bin_dir, "contactor", "close", "--board", board, "--connector", "1")
    assert r.returncode != 0
    assert "pilot is in state A" in r.stderr and "--force" in r.stderr
    assert sim.state()["connectors"][0]["contactor"]["closed"] is False

    status, _ = sim.post("/api/connectors/1/plug", {"cable_a": 32, "ev": {"state": "C"}})
    assert status == 200
    r = evsectl(bin_dir, "contactor", "close", "--board", board, "--connector", "1")
    assert r.returncode == 0, r.stderr
    assert "feedback confirmed" in r.stdout
    r = evsectl(bin_dir, "contactor", "open", "--board", board, "--connector", "1")
    assert r.returncode == 0, r.stderr


def test_pilot_sense_sees_the_ev(bin_dir, sim, board):
    sim.post("/api/connectors/2/plug", {"cable_a": 20, "ev": {"state": "B"}})
    r = evsectl(bin_dir, "pilot", "sense", "--board", board, "--connector", "2")
    assert r.returncode == 0, r.stderr
    assert "state B" in r.stdout


def test_meter_read_json_from_the_board(bin_dir, board):
    import json
    r = evsectl(bin_dir, "meter", "read", "--board", board, "--json")
    assert r.returncode == 0, r.stderr
    values = json.loads(r.stdout)
    assert set(values) == {"1", "2"}
    assert values["1"]["voltage.l1"] == pytest.approx(230, abs=15)
    assert "energy.active.import" in values["2"]


def test_rfid_watch_prints_the_presented_card(bin_dir, sim, board):
    proc = subprocess.Popen([str(bin_dir / "evsectl"), "rfid", "watch", "--board", str(board), "--count", "1", "--for", "10"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("waiting for cards")
        status, _ = sim.post("/api/rfid", {"uid": "04A1B2"})
        assert status == 200
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "card 04A1B2" in out


def test_missing_simulator_is_a_clear_error(bin_dir, sim, board):
    sim.stop()
    r = evsectl(bin_dir, "pilot", "sense", "--board", board)
    assert r.returncode == 1
    assert "c1.pilot" in r.stderr and "evse-sim" in r.stderr
