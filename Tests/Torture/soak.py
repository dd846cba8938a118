#!/usr/bin/env python3
"""Real-time soak (issue 14, item 10): evse-sim and evsed as processes against the torture CSMS,
a charging session every few seconds on each connector for --duration seconds (no kills, no
outages), with evsed's resident memory, anonymous memory, open file descriptors, threads and the
database's size sampled every --sample-every seconds. Every invariant of torture.py is checked
after each pair of sessions (every transaction billed once, energy matching the meter).

    SWIFTEVSE_BIN=$(swift build --show-bin-path) .venv/bin/python Tests/Torture/soak.py --duration 3600

Prints the samples as a table and a verdict: memory and descriptors must be flat over the second
half of the run (growth within --rss-slack-kib and 0 descriptors), the database may grow only by
the sessions it keeps (sessions.history_days). Exit status 0 when everything held."""
import argparse
import json
import os
import pathlib
import random
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import torture  # noqa: E402


def proc_figures(pid):
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)

    def kib(name):
        return int(fields[name].split()[0])
    return {"rss_kib": kib("VmRSS"), "anon_kib": kib("RssAnon"), "threads": int(fields["Threads"].strip()),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def database_bytes(data_dir):
    """(the database file, its WAL): the WAL grows to about 1,000 pages (SQLite's automatic
    checkpoint) and is then reused from its start, so it is bounded but not small."""
    def size(name):
        p = pathlib.Path(data_dir) / name
        return p.stat().st_size if p.exists() else 0
    return size("swiftevse.sqlite"), size("swiftevse.sqlite-wal")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("SWIFTEVSE_BIN"))
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--sample-every", type=float, default=60)
    ap.add_argument("--ocpp-version", choices=sorted(torture.HOLD), default="1.6")
    # 512: the debug-level log ring (256 KB of text) may still be filling in the second half of
    # a short run; 1,024 let the thunk-chain stack growth (about 17 KB a transaction) pass a
    # 7-minute run.
    ap.add_argument("--rss-slack-kib", type=int, default=512,
                    help="growth of RSS allowed over the second half of the run (log ring, allocator noise)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the samples and the verdict to this file")
    args = ap.parse_args(argv)
    if not args.bin:
        ap.error("give --bin or set SWIFTEVSE_BIN")
    t = torture.Torture(args.bin, args.seed, version=args.ocpp_version)
    rng = random.Random(args.seed)
    samples, violations = [], []
    pairs = 0
    ok = False
    try:
        t.configure()
        t.quiesce()
        started = time.monotonic()
        next_sample = started

        def sample():
            pid = t.fw.proc.proc.pid
            row = {"t_s": round(time.monotonic() - started), "sessions": len(t.started_transactions()),
                   **proc_figures(pid)}
            row["db_bytes"], row["wal_bytes"] = database_bytes(t.fw.data_dir)
            samples.append(row)
            print(json.dumps(row), flush=True)

        while time.monotonic() - started < args.duration:
            if time.monotonic() >= next_sample:
                sample()
                next_sample += args.sample_every
            e_before = {c: t.energy(c) for c in torture.CONNECTORS}
            tx_before = t.started_transactions()
            t.round = pairs + 1
            for c in torture.CONNECTORS:
                t.start_session(c, rng.choice(("card", "remote")))
            for c in torture.CONNECTORS:
                if t.fw.open_session(c):
                    t.charge(c)
            time.sleep(rng.uniform(1.0, 4.0))  # real time is what this run is about
            for c in torture.CONNECTORS:
                t.post(f"/api/connectors/{c}/ev-state", {"state": "B"})
                t.stop_session(c, rng.choice(("card", "remote", "ev_unplug")))
            t.unplug_all()
            t.quiesce()
            v, lost, dup, _, _ = t.check(e_before, tx_before)
            for text in v + lost + dup:
                if (pairs, text) not in violations:
                    violations.append((pairs, text))
                    print(f"VIOLATION after {pairs} pairs: {text}", flush=True)
            pairs += 1
        sample()
        half = [s for s in samples if s["t_s"] >= args.duration / 2] or samples[-2:]
        rss_growth = half[-1]["rss_kib"] - half[0]["rss_kib"]
        fd_growth = half[-1]["fds"] - half[0]["fds"]
        db_per_session = ((samples[-1]["db_bytes"] - samples[0]["db_bytes"]) / max(1, samples[-1]["sessions"] - samples[0]["sessions"]))
        verdict = {"ocpp_version": args.ocpp_version, "seconds": round(time.monotonic() - started),
                   "session_pairs": pairs, "transactions": samples[-1]["sessions"],
                   "rss_kib_first_last": [samples[0]["rss_kib"], samples[-1]["rss_kib"]],
                   "anon_kib_first_last": [samples[0]["anon_kib"], samples[-1]["anon_kib"]],
                   "rss_growth_second_half_kib": rss_growth, "fd_growth_second_half": fd_growth,
                   "fds_first_last": [samples[0]["fds"], samples[-1]["fds"]],
                   "threads_first_last": [samples[0]["threads"], samples[-1]["threads"]],
                   "db_bytes_first_last": [samples[0]["db_bytes"], samples[-1]["db_bytes"]],
                   "wal_bytes_first_last": [samples[0]["wal_bytes"], samples[-1]["wal_bytes"]],
                   "db_bytes_per_session": round(db_per_session), "violations": len(violations),
                   "story_failures": len(t.story_failures)}
        print(json.dumps(verdict, indent=2))
        ok = not violations and rss_growth <= args.rss_slack_kib and fd_growth <= 0
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps({"samples": samples, "verdict": verdict}, indent=2))
    finally:
        t.close(keep=not ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
