"""Measures the built evsed against the DESIGN budget, as real processes: the stripped static
binary's size, process start → BootNotification on the wire, and idle RSS and CPU with two
connectors, a 50,000-entry local list and 10,000 queued messages.

    scripts/build-firmware && swift build --product evse-sim
    .venv/bin/python Benchmarks/evsed_budget.py dist/evsed "$(swift build --show-bin-path)"

The first argument is the evsed to measure (the firmware build, stripped); the second the
folder holding an evse-sim (any build: it only plays the hardware). The CSMS is the interop
tests' one on the `ocpp` package. Prints one line per figure with its budget; exits 1 when
one is over.
"""
import os
import pathlib
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))
from csms16 import CentralSystem  # noqa: E402
from evsed_process import sim_board_for  # noqa: E402
from sim_process import SimProcess  # noqa: E402

MB = 1_000_000
over = []


def report(what, value, unit, budget):
    ok = value <= budget
    if not ok:
        over.append(what)
    print(f"{what}: {value:.2f} {unit} (budget ≤ {budget} {unit}){'' if ok else '  OVER BUDGET'}")


def evsed(exe, board, data, *extra):
    args = [str(exe), "--board", str(board), "--config", str(ROOT / "etc" / "station.demo.yaml"),
            "--data-dir", str(data), *extra]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting for {what}")


def binary_size(exe, scratch):
    stripped = scratch / "evsed.stripped"
    shutil.copy(exe, stripped)
    subprocess.run(["strip", str(stripped)], check=True)
    report("evsed stripped static binary", stripped.stat().st_size / MB, "MB", 25)


def boot_time(exe, board, scratch, runs=7):
    seconds = []
    for i in range(runs):
        cs = CentralSystem()
        data = scratch / f"boot{i}"
        data.mkdir()
        began = time.monotonic()
        p = evsed(exe, board, data, "--csms", cs.url, "--identity", "CP1")
        wait_until(lambda: cs.received("BootNotification"), 10, "BootNotification")
        seconds.append(cs.received("BootNotification")[0][0] - began)
        stop(p)
        cs.stop()
    median_ms = statistics.median(seconds) * 1000
    print(f"  start → BootNotification runs: {', '.join(f'{s * 1000:.0f}' for s in seconds)} ms")
    report("process start → BootNotification (median)", median_ms, "ms", 300)


def seed(data, entries=50_000, queued=10_000):
    """What a busy station has on disk: a full local list and a long transaction queue."""
    db = sqlite3.connect(data / "swiftevse.sqlite")
    with db:
        db.execute("DELETE FROM local_list")
        db.executemany("INSERT INTO local_list (id_token, status) VALUES (?, 'Accepted')",
                       ((f"04B{i:07X}",) for i in range(entries)))
        db.execute("INSERT OR REPLACE INTO local_list_version (singleton, version) VALUES (1, 1)")
        db.execute("INSERT OR IGNORE INTO sessions (id, connector_id, id_token, transaction_id, state, started_at_ms, "
                   "meter_start_wh, updated_at_ms, stop_reason, meter_stop_wh, ended_at_ms) "
                   "VALUES ('bench', 1, '04A1B2C3', '77', 'Finished', 1, 0, 2, 'Local', 1, 2)")
        payload = '{"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[{"value":"1"}]}]}'
        db.executemany("INSERT INTO transaction_queue (kind, payload, session_id, enqueued_at_ms) VALUES ('MeterValues', ?, 'bench', ?)",
                       ((payload, i) for i in range(queued)))
    db.close()


def rss_mb(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / MB
    return float("nan")


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle(exe, board, scratch, settle_s=10, window_s=30):
    data = scratch / "idle"
    data.mkdir()
    offline = CentralSystem()
    port = offline.port
    offline.stop()  # the CSMS is away: the queue stays full, the charger keeps reconnecting
    first = evsed(exe, board, data, "--csms", f"ws://127.0.0.1:{port}", "--identity", "CP1")
    wait_until(lambda: (data / "swiftevse.sqlite").exists(), 10, "the database")
    time.sleep(1)
    stop(first)
    seed(data)
    p = evsed(exe, board, data, "--csms", f"ws://127.0.0.1:{port}", "--identity", "CP1")
    time.sleep(settle_s)  # a benchmark of idleness: it has to be left alone for a while
    before = cpu_seconds(p.pid)
    began = time.monotonic()
    time.sleep(window_s)
    cpu = (cpu_seconds(p.pid) - before) / (time.monotonic() - began) * 100
    report("idle RSS (2 connectors, 50k local list, 10k queued, CSMS offline)", rss_mb(p.pid), "MB", 20)
    report("idle CPU (one core)", cpu, "%", 0.5)
    stop(p)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    exe = pathlib.Path(sys.argv[1]).resolve()
    sim_bin = pathlib.Path(sys.argv[2]).resolve()
    with tempfile.TemporaryDirectory(prefix="evsed-budget-") as tmp:
        scratch = pathlib.Path(tmp)
        binary_size(exe, scratch)
        sim = SimProcess(sim_bin, "--board", str(ROOT / "Board" / "sim-2x22kw.yaml"))
        try:
            board = sim_board_for(ROOT, sim, scratch)
            boot_time(exe, board, scratch)
            idle(exe, board, scratch)
        finally:
            sim.stop()
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
