"""Writes scripts/code-order/evsed.order: the functions evsed runs in everyday work, and the
zero-initialised data (.bss) it writes, so that `scripts/build-firmware` can lay each of them out
side by side in the binary.

Why: the kernel maps a binary's code into a process 64 KB at a time around each page it touches
(fault-around), so code that is run rarely but sits between hot functions costs resident memory
all the same. With the functions an idle or charging station runs packed together, they share
those 64 KB windows: the idle RSS drops by megabytes, and nothing else changes (the same code,
only its order in .text). The same holds for .bss, page by page: the Swift runtime's caches
(type metadata, witness tables) are 8-byte variables spread over 770 KB, and one written
variable makes its page the process's own. Listed after the functions, the sections holding the
written ones are placed first in .bss: the idle station's written .bss went from 324 KB to 216 KB.

How: evsed (the firmware build, with its symbols, debug info stripped) runs under valgrind's
callgrind through what a station does every day, each as a real process against the simulator
and the interop tests' CSMS: start-up with a full local list and a long queue, idle with the CSMS
away, idle online, a charging session (plug, card, charge, meter values, stop, unplug), a
GetConfiguration/GetVariables; once with OCPP 1.6 and once with 2.0.1. Every function callgrind
saw run is listed, in the order it first ran; then every .bss variable that holds a value other
than zero at the end of a run (read from the traced process's memory just before it stops).

    scripts/build-firmware                            # the build whose symbols are read
    .venv/bin/python scripts/code-order/collect.py    # about 3 minutes; then build-firmware again

Re-run it after large changes: a function renamed since is simply placed as the linker would
(lld ignores names it does not find), so a stale list costs memory, never correctness.
"""
import json
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))
sys.path.insert(0, str(ROOT / "Benchmarks"))
from csms16 import CentralSystem  # noqa: E402
from csms201 import Csms201  # noqa: E402
from evsed_process import sim_board_for  # noqa: E402
from sim_process import SimProcess, connector  # noqa: E402
from evsed_budget import wait_until  # noqa: E402
from ocpp.v16 import call as call16  # noqa: E402
from ocpp.v201 import call as call201  # noqa: E402

BUILD = ROOT / ".build-fw" / "release"
OUT = pathlib.Path(__file__).resolve().parent / "evsed.order"


def seed(data, version):
    """A busy station's disk (as Benchmarks/evsed_budget.py's): a full local list, a queue."""
    import evsed_budget
    evsed_budget.OCPP = version
    evsed_budget.seed(data, entries=50_000, queued=200)


class Traced:
    """evsed under callgrind; `stop()` ends it with SIGTERM and returns the functions it ran."""

    def __init__(self, exe, board, data, out, *extra):
        self.out = out
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
             str(exe), "--board", str(board), "--config", str(ROOT / "etc" / "station.demo.yaml"),
             "--data-dir", str(data), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, exe):
        """Ends the run; returns the functions it ran and the .bss variables it wrote."""
        data = written_bss(self.proc.pid, exe)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(120)
        return functions_in(self.out), data


def written_bss(pid, exe):
    """The .bss variables of `exe` that hold something other than zero in the running process
    `pid` (valgrind loads the program into its own address space, at its own base address)."""
    sections = subprocess.run(["readelf", "-SW", str(exe)], capture_output=True, text=True, check=True).stdout
    bss = next(line.replace("[ ", "[").split() for line in sections.splitlines() if " .bss " in line)
    start, size = int(bss[3], 16), int(bss[5], 16)
    base = next(int(line.split("-")[0], 16) for line in pathlib.Path(f"/proc/{pid}/maps").read_text().splitlines()
                if line.split()[-1] == str(exe))
    with open(f"/proc/{pid}/mem", "rb") as memory:
        memory.seek(base + start)
        contents = memory.read(size)
    out = subprocess.run(["nm", "-S", "--defined-only", str(exe)], capture_output=True, text=True, check=True).stdout
    written = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "bB":
            offset, length = int(parts[0], 16) - start, int(parts[1], 16)
            if 0 <= offset < size and length and any(contents[offset:offset + length]):
                written.append(parts[3])
    return written


def functions_in(path):
    """Function names in callgrind's output, in the order they first appear (compressed names:
    `fn=(12) name` defines number 12, a later `fn=(12)` refers back to it)."""
    names, seen = [], set()
    for line in path.read_text(errors="replace").splitlines():
        m = re.match(r"^c?fn=\(\d+\) (.+)$", line)
        if m and m.group(1) not in seen and not m.group(1).startswith("0x"):
            seen.add(m.group(1))
            names.append(m.group(1))
    return names


def symbols_of(exe):
    """The functions evsed itself defines (callgrind also lists libc's, SQLite's, …)."""
    out = subprocess.run(["nm", "--defined-only", str(exe)], capture_output=True, text=True, check=True).stdout
    return {line.split()[2] for line in out.splitlines() if len(line.split()) == 3 and line.split()[1] in "tTwW"}


def in_shared_sections(names):
    """Those of `names` whose code shares its section with other functions in the objects the
    firmware is linked from (the toolchain's static libraries are not built with function
    sections). The linker can only move a whole section: listed first, one of them would drag
    hundreds of kilobytes of cold code into the middle of the hot ones, so they go last."""
    target = json.loads(subprocess.run(["swiftc", "-print-target-info"], capture_output=True, text=True,
                                       check=True).stdout)
    static_libs = pathlib.Path(target["paths"]["runtimeResourcePath"]).parent / "swift_static" / "linux"
    inputs = sorted(BUILD.glob("*.build/**/*.o")) + sorted(static_libs.glob("*.a"))
    wanted, shared = set(names), set()
    for path in inputs:
        out = subprocess.run(["readelf", "-SsW", str(path)], capture_output=True, text=True, errors="replace").stdout
        functions = {}  # section index → the wanted functions in it, per archive member
        count = {}
        for line in out.splitlines() + ["File: end"]:
            if line.startswith("File: "):
                for index, found in functions.items():
                    if count[index] > 1:
                        shared.update(found)
                functions, count = {}, {}
                continue
            parts = line.split()
            if len(parts) >= 8 and parts[3] == "FUNC" and parts[6].isdigit():
                count[parts[6]] = count.get(parts[6], 0) + 1
                if parts[7] in wanted:
                    functions.setdefault(parts[6], []).append(parts[7])
    return shared


def charging_session(sim, cs, identity, version):
    assert sim.post("/api/connectors/1/plug")[0] == 200
    time.sleep(2)
    assert sim.post("/api/rfid", {"uid": "04A1B2C3"})[0] == 200
    wait_until(lambda: connector(sim, 1)["pilot"]["offered_current_a"] >= 6, 60, "the PWM offer")
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_until(lambda: connector(sim, 1)["contactor"]["closed"], 60, "the contactor closing")
    time.sleep(15)  # meter polls, sampled values
    if version == "1.6":
        cs.call(identity, call16.GetConfiguration(key=["HeartbeatInterval"]), timeout=60)
        cs.call(identity, call16.GetConfiguration(), timeout=60)
    else:
        cs.call(identity, call201.GetVariables(get_variable_data=[
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]), timeout=60)
    assert sim.post("/api/connectors/1/ev-state", {"state": "B"})[0] == 200
    time.sleep(3)
    assert sim.post("/api/rfid", {"uid": "04A1B2C3"})[0] == 200
    time.sleep(5)
    assert sim.post("/api/connectors/1/unplug")[0] == 200
    time.sleep(5)


def main():
    exe = BUILD / "evsed"
    if not exe.exists() or not (BUILD / "evse-sim").exists():
        raise SystemExit("run scripts/build-firmware first")
    order, data_order = [], []
    with tempfile.TemporaryDirectory(prefix="code-order-") as tmp:
        scratch = pathlib.Path(tmp)
        traced_exe = scratch / "evsed"
        shutil.copy(exe, traced_exe)
        # valgrind cannot read this build's DWARF; the symbol table is all it needs.
        subprocess.run(["strip", "--strip-debug", str(traced_exe)], check=True)
        sim = SimProcess(BUILD, "--board", str(ROOT / "Board" / "sim-2x22kw.yaml"))
        try:
            board = sim_board_for(ROOT, sim, scratch)
            for run, version in enumerate(("1.6", "2.0.1")):
                version_args = [] if version == "1.6" else ["--ocpp-version", version]
                data = scratch / f"data{run}"
                data.mkdir()
                cs = CentralSystem() if version == "1.6" else Csms201()
                port = cs.port
                cs.stop()
                # Start-up and idle with the CSMS away, on a busy station's disk.
                first = subprocess.Popen([str(exe), "--board", str(board), "--config", str(ROOT / "etc" / "station.demo.yaml"),
                                          "--data-dir", str(data), "--csms", f"ws://127.0.0.1:{port}", "--identity", "CP1",
                                          *version_args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                wait_until(lambda: (data / "swiftevse.sqlite").exists(), 20, "the database")
                time.sleep(1)
                first.terminate()
                first.wait(10)
                seed(data, version)
                traced = Traced(traced_exe, board, data, scratch / f"offline{run}.out",
                                "--csms", f"ws://127.0.0.1:{port}", "--identity", "CP1", *version_args)
                time.sleep(40)
                functions, data_written = traced.stop(traced_exe)
                order += functions
                data_order += data_written
                # Online: boot, the queue delivered, idle, a charging session.
                cs = CentralSystem() if version == "1.6" else Csms201()
                traced = Traced(traced_exe, board, data, scratch / f"online{run}.out",
                                "--csms", cs.url, "--identity", "CP1", *version_args)
                cs.wait_for("BootNotification", timeout=120)
                time.sleep(20)
                charging_session(sim, cs, "CP1", version)
                functions, data_written = traced.stop(traced_exe)
                order += functions
                data_order += data_written
                cs.stop()
        finally:
            sim.stop()
    defined = symbols_of(exe)
    seen, unique = set(), []
    for name in order:
        if name in defined and name not in seen:
            seen.add(name)
            unique.append(name)
    shared = in_shared_sections(unique)
    packed = [n for n in unique if n not in shared] + [n for n in unique if n in shared]
    data = list(dict.fromkeys(data_order))
    OUT.write_text("\n".join(packed + data) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(packed)} functions, {len(shared)} of them in shared sections (listed last); "
          f"{len(data)} .bss variables")


if __name__ == "__main__":
    main()
