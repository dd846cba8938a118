#!/usr/bin/env python3
"""Makes an upgrade fixture: a data directory written by the evsed binary in --bin, as a charger in
the field leaves it when new firmware is flashed. Run it once per released schema version with that
version's build, and commit the result next to this script (test_upgrade_databases.py then upgrades
every fixture with today's evsed):

    .venv/bin/python Tests/Interop/upgrade_databases/make_database.py --bin <old build> --out Tests/Interop/upgrade_databases

The board file (Board/sim-2x22kw.yaml, with its meter maps in Board/meters) and the station file
(etc/station.demo.yaml) come from this tree by default. An old build rejects fields added since
(an unknown key is an error), so for an old build pass its own source tree with `--source`, e.g.
a `git worktree` of the commit it was built from:

    git worktree add --detach ../old <commit> && (cd ../old && swift build --product evsed && swift build --product evse-sim)
    .venv/bin/python Tests/Interop/upgrade_databases/make_database.py --bin ../old/.build/debug --source ../old --out /tmp/fixture

The harness is today's (Tests/Interop: the simulator's HTTP API, evsed's flags, the log lines
waited for); as it is, it made the fixtures of schemas 4 to 7 from their builds and source trees
(docs/ROBUSTNESS.md names the commits).

What the old firmware is made to write, against a CSMS on the `ocpp` package:
- configuration changed by the CSMS (HeartbeatInterval 123, MeterValueSampleInterval 5);
- a local authorization list (version 5, card 0BADF00D Accepted);
- with the CSMS gone, one whole session on connector 2 (StartTransaction, MeterValues and
  StopTransaction queued, never sent);
- then a session on connector 1, charging when evsed is killed with kill -9 (its
  StartTransaction queued, the session open in the journal, the WAL not checkpointed).

The files are copied as the kill left them: swiftevse.sqlite with its -wal (the -shm is only an
index of the WAL, rebuilt by SQLite)."""
import argparse
import pathlib
import shutil
import sqlite3
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))

from ocpp.v16 import call  # noqa: E402

from csms16 import CentralSystem  # noqa: E402
from evsed_process import EvsedProcess, sim_board_for  # noqa: E402
from sim_process import SimProcess, connector, wait_for  # noqa: E402

CARD = "0BADF00D"  # the simulator reader sends 4-byte UIDs
IDENTITY = "CP1"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="folder with the old build's evsed and evse-sim")
    ap.add_argument("--out", required=True, help="folder for schema-<N>.sqlite and schema-<N>.sqlite-wal")
    ap.add_argument("--source", default=str(ROOT),
                    help="the source tree the old build was made from: its Board/sim-2x22kw.yaml, Board/meters "
                         "and etc/station.demo.yaml are used (default: this tree)")
    args = ap.parse_args()
    tree = pathlib.Path(args.source).resolve()
    work = pathlib.Path(tempfile.mkdtemp(prefix="swiftevse-upgrade-"))
    sim = SimProcess(args.bin, "--board", str(tree / "Board" / "sim-2x22kw.yaml"))
    cs = CentralSystem()
    evsed = None
    try:
        board = sim_board_for(tree, sim, work)
        evsed = EvsedProcess(args.bin, board, tree / "etc" / "station.demo.yaml", work / "data",
                             "--csms", cs.url, "--identity", IDENTITY)
        cs.wait_for("BootNotification", timeout=20)
        cs.wait_for("StatusNotification", count=3)
        for key, value in (("HeartbeatInterval", "123"), ("MeterValueSampleInterval", "5")):
            assert cs.call(IDENTITY, call.ChangeConfiguration(key=key, value=value)).status == "Accepted"
        _, answer = cs.raw_call(IDENTITY, "SendLocalList", {
            "listVersion": 5, "updateType": "Full",
            "localAuthorizationList": [{"idTag": CARD, "idTagInfo": {"status": "Accepted"}}]})
        assert answer == {"status": "Accepted"}, answer
        cs.stop()

        def session(c, finish):
            seen = len(evsed.log())
            assert sim.post(f"/api/connectors/{c}/plug")[0] == 200
            wait_for(lambda: connector(sim, c)["pilot"]["state"] == "B", what=f"c{c} pilot B")
            # The card only once evsed saw the plug: a card that comes first waits for a plug
            # on the connector it picked, which need not be this one (schema 5's build took c1).
            evsed.wait_log(rf"c{c}: pilot \S+ → B", timeout=5, start=seen)
            assert sim.post("/api/rfid", {"uid": CARD})[0] == 200
            assert sim.post(f"/api/connectors/{c}/ev-state", {"state": "C"})[0] == 200
            wait_for(lambda: connector(sim, c)["contactor"]["closed"], timeout=15, what=f"c{c} contactor closed")
            e0 = connector(sim, c)["meter"]["energy_wh"]
            wait_for(lambda: connector(sim, c)["meter"]["energy_wh"] >= e0 + 30, timeout=30, what=f"c{c} energy")
            time.sleep(6)  # a MeterValues sample (every 5 s) is queued; real time, the old build's own clock
            if finish:
                assert sim.post(f"/api/connectors/{c}/ev-state", {"state": "B"})[0] == 200
                wait_for(lambda: not connector(sim, c)["contactor"]["closed"], what=f"c{c} contactor open")
                assert sim.post(f"/api/connectors/{c}/unplug", {"force": True})[0] == 200
                evsed.wait_log(rf"c{c}: session .* ended", timeout=10)

        session(2, finish=True)
        session(1, finish=False)
        evsed.kill9()

        data = work / "data" / "swiftevse.sqlite"
        db = sqlite3.connect(f"file:{data}?mode=ro", uri=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        sessions = db.execute("SELECT count(*) FROM sessions").fetchone()[0]
        queued = db.execute("SELECT count(*) FROM transaction_queue").fetchone()[0]
        db.close()
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal"):
            source = data.with_name(data.name + suffix)
            if source.exists():
                shutil.copyfile(source, out / f"schema-{version}.sqlite{suffix}")
        print(f"schema {version}: {sessions} sessions, {queued} queued messages → {out}/schema-{version}.sqlite")
    except BaseException:
        if evsed:  # what the old build said, for the step that failed
            print("\n".join(["evsed's last log lines:", *evsed.log()[-40:]]), file=sys.stderr)
        raise
    finally:
        if evsed:
            evsed.stop()
        try:
            cs.stop()
        except Exception:  # noqa: BLE001 (already stopped)
            pass
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
