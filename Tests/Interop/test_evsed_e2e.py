"""evsed + evse-sim as processes: whole sessions, C→B latency, kill -9 and recovery, SIGTERM."""
import signal
import sqlite3
import time

import pytest

from evsed_process import EvsedProcess, sim_board_for
from sim_process import c_to_b_latency_ms, connector, wait_for

CARD = "04A1B2C3"  # accepted by etc/station.demo.yaml; the sim board reads Wiegand 34


@pytest.fixture()
def setup(sim, bin_dir, repo_root, tmp_path):
    board = sim_board_for(repo_root, sim, tmp_path)
    data = tmp_path / "data"
    started = []

    def start(env=None):
        p = EvsedProcess(bin_dir, board, repo_root / "etc" / "station.demo.yaml", data, env=env)
        started.append(p)
        return p

    yield start, data
    for n, p in enumerate(started):
        p.stop()
        # Shown by pytest only when the test failed.
        print(f"--- evsed run {n + 1} ({' '.join(p.args[1:])}), last lines:")
        print("\n".join(p.log()[-60:]))


def c1(sim):
    return connector(sim, 1)


def sessions(data):
    db = sqlite3.connect(str(data / "swiftevse.sqlite"))
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM sessions ORDER BY started_at_ms")]
    finally:
        db.close()


def wait_meter_read(evsed, at_least_wh, start=0, timeout=10.0):
    """Waits until evsed has read connector 1's meter at or above `at_least_wh`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in evsed.log()[start:]:
            if "c1: meter " in line:
                wh = float(line.split("c1: meter ")[1].split(" Wh")[0])
                if wh >= at_least_wh - 0.05:
                    return wh
        time.sleep(0.05)
    raise AssertionError(f"evsed did not read {at_least_wh} Wh")


def present_card(sim, evsed):
    """Presents the demo card once, as a person would, and waits for evsed to read it."""
    mark = len(evsed.log())
    assert sim.post("/api/rfid", {"uid": CARD})[0] == 200
    # One presentation must be enough: a card lost between the reader and evsed is a bug.
    evsed.wait_log(r"card " + CARD + " presented", timeout=3, start=mark)


def plug_and_authorize(sim, evsed):
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed)
    evsed.wait_log(r"c1: session .* started by " + CARD, start=mark)
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed after C")


def test_session_stored_with_metered_energy_and_c_to_b_latency(sim, setup):
    start, data = setup
    evsed = start()
    e0 = c1(sim)["meter"]["energy_wh"]
    plug_and_authorize(sim, evsed)
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e0 + 5, timeout=20, what="energy counted")

    latencies = [c_to_b_latency_ms(sim)]
    wait_for(lambda: not c1(sim)["contactor"]["closed"], what="contactor open after B")
    # Two more C→B cycles in the same session, for more than one latency figure.
    for _ in range(2):
        sim.post("/api/connectors/1/ev-state", {"state": "C"})
        wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed again")
        latencies.append(c_to_b_latency_ms(sim))
        wait_for(lambda: not c1(sim)["contactor"]["closed"], what="contactor open")
    print(f"\nC→B latency (pilot change → contactor-open command), ms: {latencies}")
    assert max(latencies) < 100, latencies

    e1 = c1(sim)["meter"]["energy_wh"]
    mark = len(evsed.log())
    wait_meter_read(evsed, e1, start=mark)
    # The car end of the cable comes out while the socket end is still locked (EV-side
    # disconnect: the simulator's forced unplug): the session ends, then the lock opens.
    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    evsed.wait_log(r"c1: session .* ended \(EVDisconnected\)", start=mark)
    wait_for(lambda: not c1(sim)["lock"]["locked"], what="lock released after the session")

    rows = sessions(data)
    assert len(rows) == 1
    s = rows[0]
    assert s["ended_at_ms"] is not None and s["stop_reason"] == "EVDisconnected"
    assert s["connector_id"] == 1 and s["id_token"] == CARD
    assert abs(s["meter_start_wh"] - e0) <= 1
    assert abs(s["meter_stop_wh"] - e1) <= 1
    print(f"session energy {s['meter_stop_wh'] - s['meter_start_wh']:.1f} Wh, simulator {e1 - e0:.1f} Wh")

    assert evsed.terminate() == 0


def test_kill_minus_9_mid_session_is_recovered_and_ended_once(sim, setup):
    start, data = setup
    evsed = start()
    e0 = c1(sim)["meter"]["energy_wh"]
    plug_and_authorize(sim, evsed)
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e0 + 5, timeout=20, what="energy counted")
    open_rows = sessions(data)
    assert len(open_rows) == 1 and open_rows[0]["ended_at_ms"] is None
    session_id = open_rows[0]["id"]

    evsed.kill9()
    # The world goes on: the EV still draws while the firmware is dead.
    e_dead = c1(sim)["meter"]["energy_wh"]
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e_dead + 3, timeout=10, what="energy while evsed is dead")

    evsed = start()
    evsed.wait_log(r"resuming session " + session_id)
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed again after recovery")
    e_resumed = c1(sim)["meter"]["energy_wh"]
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e_resumed + 3, timeout=10, what="energy after recovery")

    sim.post("/api/connectors/1/ev-state", {"state": "B"})
    wait_for(lambda: not c1(sim)["contactor"]["closed"], what="contactor open")
    e1 = c1(sim)["meter"]["energy_wh"]
    mark = len(evsed.log())
    wait_meter_read(evsed, e1, start=mark)
    # This time the driver stops with the card, the lock opens, then the cable comes out.
    present_card(sim, evsed)
    evsed.wait_log(r"c1: session " + session_id + r" ended \(Local\)", start=mark)
    wait_for(lambda: not c1(sim)["lock"]["locked"], what="lock released after the card stop")
    assert sim.post("/api/connectors/1/unplug")[0] == 200

    rows = sessions(data)
    assert [r["id"] for r in rows] == [session_id]
    s = rows[0]
    assert s["ended_at_ms"] is not None and s["stop_reason"] == "Local"
    assert abs(s["meter_start_wh"] - e0) <= 1
    assert abs(s["meter_stop_wh"] - e1) <= 1
    print(f"\nrecovered session energy {s['meter_stop_wh'] - s['meter_start_wh']:.1f} Wh, simulator {e1 - e0:.1f} Wh")

    # A third start finds nothing open and ends nothing twice.
    assert evsed.terminate() == 0
    evsed = start()
    assert not any("resuming" in l or "ending session" in l for l in evsed.log())
    assert len(sessions(data)) == 1


def test_a_damaged_database_is_moved_aside_and_the_charger_still_bills(sim, setup):
    import os
    start, data = setup
    data.mkdir(parents=True, exist_ok=True)
    garbage = b"what a blackout left behind " + bytes([0xA5]) * 8192
    (data / "swiftevse.sqlite").write_bytes(garbage)
    evsed = start()
    line = evsed.wait_log(r"storage: the database in .* is damaged")
    moved = [p for p in os.listdir(data) if p.startswith("swiftevse.sqlite.damaged-")]
    assert len(moved) == 1 and moved[0] in line, (moved, line)
    assert (data / moved[0]).read_bytes() == garbage, "kept as it was, for recovery"
    plug_and_authorize(sim, evsed)
    rows = sessions(data)
    assert len(rows) == 1 and rows[0]["ended_at_ms"] is None, "the new database records the session"


def test_sigterm_opens_the_contactor_and_exits_0(sim, setup):
    start, data = setup
    evsed = start()
    plug_and_authorize(sim, evsed)
    evsed.proc.send_signal(signal.SIGTERM)
    assert evsed.proc.wait(10) == 0
    state = c1(sim)
    assert state["contactor"]["commanded"] is False
    rows = sessions(data)
    assert len(rows) == 1 and rows[0]["ended_at_ms"] is None  # kept for the next start
    assert any("energy suspended for shutdown" in l for l in evsed.log())


def test_bad_station_file_names_file_line_and_field(bin_dir, repo_root, tmp_path):
    import subprocess
    bad = tmp_path / "station.yaml"
    bad.write_text("identity: X\nauthorization:\n  mode: everyone\n")
    r = subprocess.run([str(bin_dir / "evsed"), "--board", str(repo_root / "Board" / "sim-2x22kw.yaml"),
                        "--config", str(bad), "--data-dir", str(tmp_path / "d")], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0
    assert f"{bad}:3: authorization.mode: expected one of" in r.stderr


OPTIONS = ["--board", "--config", "--data-dir", "--log-level", "--loop-interval-ms", "--idle-interval-ms", "--csms",
           "--identity", "--ocpp-version", "--security-profile", "--authorization-key-file",
           "--csms-root-certificate", "--client-certificate", "--client-key", "--frame-log"]


def run_evsed(bin_dir, *args):
    import subprocess
    return subprocess.run([str(bin_dir / "evsed"), *args], capture_output=True, text=True, timeout=20)


def test_help_lists_every_option_and_exits_0(bin_dir):
    r = run_evsed(bin_dir, "--help")
    assert r.returncode == 0, r.stderr
    for option in OPTIONS:
        assert option in r.stdout, option
    assert run_evsed(bin_dir, "-h").stdout == r.stdout


@pytest.mark.parametrize("args, message", [
    (["--board", "b.yaml", "--security-profile", "7"], "--security-profile must be 0…3"),
    (["--board", "b.yaml", "--bogus"], "unknown option '--bogus'"),
    (["--config", "s.yaml"], "missing '--board <path>'"),
    (["--board"], "missing value for '--board'"),
    (["--board", "--config", "s.yaml"], "missing value for '--board'"),
    (["--board", "b.yaml", "--loop-interval-ms", "fast"], "fast"),
    (["--board", "b.yaml", "--frame-log=yes"], "--frame-log"),
    (["--board", "b.yaml", "extra"], "extra"),
])
def test_a_bad_command_line_exits_64_with_the_reason_and_touches_nothing(bin_dir, tmp_path, args, message):
    r = run_evsed(bin_dir, "--data-dir", str(tmp_path / "data"), *args)
    assert r.returncode == 64, (r.returncode, r.stderr)
    first, hint = r.stderr.strip().splitlines()[-2:]
    assert first.startswith("evsed: ") and message in first, r.stderr
    assert hint == "See 'evsed --help'."
    assert not (tmp_path / "data").exists()


def test_equals_form_is_the_same_as_a_separate_value(bin_dir, tmp_path):
    r = run_evsed(bin_dir, "--board=/nonexistent/board.yaml", "--data-dir", str(tmp_path / "d"))
    # Parsed (not a usage error): the board file itself is what is missing, a configuration error.
    assert r.returncode == 78, (r.returncode, r.stderr)
    assert "/nonexistent/board.yaml" in r.stderr


def test_sd_notify_ready_then_watchdog_from_the_loop(setup, tmp_path):
    import os
    import socket
    start, _ = setup
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="200000")
    evsed = start(env=env)
    messages = []
    try:
        while not any(m.startswith("READY=1") for m in messages):
            messages.append(sock.recv(512).decode())
        # Every ~100 ms while the loop runs.
        got = [sock.recv(512).decode() for _ in range(3)]
        assert got == ["WATCHDOG=1"] * 3, got
        evsed.proc.send_signal(signal.SIGTERM)
        assert evsed.proc.wait(10) == 0
        rest = []
        sock.settimeout(1)
        try:
            while True:
                rest.append(sock.recv(512).decode())
        except socket.timeout:
            pass
        assert "STOPPING=1" in rest
    finally:
        sock.close()
