#!/usr/bin/env python3
"""Pilot change → firmware reaction latency, measured from outside through /api/events.

The simulator stamps every event with CLOCK_MONOTONIC microseconds. This script changes the
EV's pilot state (B ↔ C) on a connector, takes the `pilot.state` event the change caused, and
pairs it with the first following reaction event of the firmware: by default a
`firmware.mark` (the firmware's driver saying "I saw it", sent over the HAL socket) or a
`contactor.command` on that connector, whichever comes first. It prints p50/p90/p99/max.

    Hardware-sim/tools/latency.py --url http://127.0.0.1:8088 --connector 1 --count 100
    Hardware-sim/tools/latency.py --passive --duration 60      # just listen and pair

Only the Python standard library is needed.
"""
import argparse
import http.client
import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def get_state(base):
    with urllib.request.urlopen(base + "/api/state", timeout=5) as r:
        return json.loads(r.read())


def read_events(base, out: queue.Queue, stop: threading.Event):
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=None)
    conn.request("GET", "/api/events", headers={"Accept": "text/event-stream"})
    resp = conn.getresponse()
    if resp.status != 200:
        out.put(RuntimeError(f"/api/events answered {resp.status}"))
        return
    out.put({"kind": "_subscribed"})
    while not stop.is_set():
        line = resp.readline()
        if not line:
            out.put(RuntimeError("event stream closed"))
            return
        line = line.decode().rstrip("\r\n")
        if line.startswith("data: "):
            out.put(json.loads(line[6:]))


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def is_reaction(ev, kinds, connector):
    if ev.get("kind") not in kinds:
        return False
    # Marks are station-wide (the firmware says what it saw in the text); others name a connector.
    return ev.get("connector") in (None, connector)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8088")
    ap.add_argument("--connector", type=int, default=1)
    ap.add_argument("--count", type=int, default=50, help="pilot changes to make (active mode)")
    ap.add_argument("--interval", type=float, default=0.3, help="seconds between changes")
    ap.add_argument("--timeout", type=float, default=2.0, help="longest wait for a reaction")
    ap.add_argument("--reaction", default="firmware.mark,contactor.command",
                    help="comma-separated event kinds that count as the firmware's reaction")
    ap.add_argument("--passive", action="store_true", help="do not drive the EV; pair what happens")
    ap.add_argument("--duration", type=float, default=30, help="listening time in passive mode")
    ap.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = ap.parse_args()
    base = args.url.rstrip("/")
    kinds = set(k.strip() for k in args.reaction.split(",") if k.strip())

    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=read_events, args=(base, events, stop), daemon=True).start()
    first = events.get(timeout=5)
    if isinstance(first, Exception):
        sys.exit(f"latency: {first}")

    latencies_us = []
    misses = 0
    reaction_kinds = {}

    def pair_after(pilot_ev, deadline):
        nonlocal misses
        while time.monotonic() < deadline:
            try:
                ev = events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if isinstance(ev, Exception):
                sys.exit(f"latency: {ev}")
            if is_reaction(ev, kinds, args.connector) and ev["t_us"] >= pilot_ev["t_us"]:
                latencies_us.append(ev["t_us"] - pilot_ev["t_us"])
                reaction_kinds[ev["kind"]] = reaction_kinds.get(ev["kind"], 0) + 1
                return
        misses += 1

    def next_pilot_event(deadline):
        while time.monotonic() < deadline:
            try:
                ev = events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if isinstance(ev, Exception):
                sys.exit(f"latency: {ev}")
            if ev.get("kind") == "pilot.state" and ev.get("connector") == args.connector:
                return ev
        return None

    if args.passive:
        end = time.monotonic() + args.duration
        while time.monotonic() < end:
            pev = next_pilot_event(end)
            if pev:
                pair_after(pev, time.monotonic() + args.timeout)
    else:
        state = get_state(base)
        conn = next((c for c in state["connectors"] if c["id"] == args.connector), None)
        if conn is None:
            sys.exit(f"latency: no connector {args.connector}")
        if not conn["ev"]["plugged"]:
            status, body = post(base, f"/api/connectors/{args.connector}/plug", {})
            if status != 200:
                sys.exit(f"latency: plug failed: {body}")
            next_pilot_event(time.monotonic() + 1)
            time.sleep(args.interval)
        target = "C"
        for _ in range(args.count):
            status, body = post(base, f"/api/connectors/{args.connector}/ev-state", {"state": target})
            if status != 200:
                sys.exit(f"latency: ev-state {target} failed: {body}")
            pev = next_pilot_event(time.monotonic() + 1)
            if pev is None:
                misses += 1
            else:
                pair_after(pev, time.monotonic() + args.timeout)
            target = "B" if target == "C" else "C"
            time.sleep(args.interval)
    stop.set()

    values = sorted(v / 1000 for v in latencies_us)
    result = {
        "pairs": len(values), "misses": misses, "reaction_kinds": reaction_kinds,
        "p50_ms": percentile(values, 50), "p90_ms": percentile(values, 90),
        "p99_ms": percentile(values, 99), "max_ms": values[-1] if values else float("nan"),
        "min_ms": values[0] if values else float("nan"),
    }
    print(f"pilot change -> firmware reaction ({', '.join(sorted(kinds))}) on connector {args.connector}")
    print(f"  pairs {result['pairs']}, no reaction {misses}, by kind {reaction_kinds}")
    if values:
        print(f"  min {result['min_ms']:.3f} ms  p50 {result['p50_ms']:.3f} ms  p90 {result['p90_ms']:.3f} ms  "
              f"p99 {result['p99_ms']:.3f} ms  max {result['max_ms']:.3f} ms")
    if args.json:
        print(json.dumps(result))
    return 0 if values else 1


if __name__ == "__main__":
    sys.exit(main())
