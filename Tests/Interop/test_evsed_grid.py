"""Energy management end to end, with evsed and evse-sim as processes (issue 13): the demo's two
cards start two sessions that share the fuse; a house-load step cuts the offer within 2 s; an
offline grid meter gives the fallback current; a PV day curve in `pv` mode."""
import json
import time

import pytest

from evsed_process import EvsedProcess, sim_board_for
from sim_process import EventStream, connector, wait_for

CARDS = {1: "04A1B2C3", 2: "04D5E6F7"}  # both accepted by etc/station.demo.yaml
FUSE_A = 50  # grid.max_current of Board/sim-2x22kw.yaml
MARGIN_A = 2  # grid.margin
FALLBACK_A = 8  # grid.fallback_current
POLL_S = 1.0  # grid.meter.poll_ms


def start_evsed(sim, bin_dir, repo_root, tmp_path, energy=None):
    """evsed on the sim board with the demo station file (plus an `energy:` section)."""
    board = sim_board_for(repo_root, sim, tmp_path)
    config = repo_root / "etc" / "station.demo.yaml"
    if energy is not None:
        # The demo's own `energy:` section gives way to the test's.
        text = config.read_text()
        assert "energy:\n  mode: fast\n" in text
        text = text.replace("energy:\n  mode: fast\n", energy)
        config = tmp_path / "station.yaml"
        config.write_text(text)
    return EvsedProcess(bin_dir, board, config, tmp_path / "data")


def start_session(sim, evsed, cid, phases=3):
    mark = len(evsed.log())
    assert sim.post(f"/api/connectors/{cid}/plug", {"cable_a": 32, "ev": {"max_current_a": 32, "phases": phases}})[0] == 200
    evsed.wait_log(rf"c{cid}: pilot .*→ B", start=mark)
    assert sim.post("/api/rfid", {"uid": CARDS[cid]})[0] == 200
    evsed.wait_log(rf"c{cid}: session .* started by {CARDS[cid]}", start=mark)
    assert sim.post(f"/api/connectors/{cid}/ev-state", {"state": "C"})[0] == 200


def dump(evsed):
    print("--- evsed, last lines:")
    print("\n".join(evsed.log()[-80:]))


def test_demo_cards_start_two_sessions_that_share_the_fuse(sim, bin_dir, repo_root, tmp_path):
    evsed = start_evsed(sim, bin_dir, repo_root, tmp_path)
    try:
        start_session(sim, evsed, 1)
        wait_for(lambda: all(a > 31 for a in connector(sim, 1)["meter"]["current_a"]), what="EV 1 alone at 3 x 32 A")
        start_session(sim, evsed, 2)
        # 50 A per phase less the 2 A margin for two 3-phase EVs: 24 A each (the second waits
        # the 5 s the first EV is given to follow its reduction).
        share = (FUSE_A - MARGIN_A) / 2
        wait_for(lambda: all(abs(a - share) < 0.6 for cid in (1, 2) for a in connector(sim, cid)["meter"]["current_a"]),
                 timeout=15, what=f"both EVs at 3 x {share} A")
        for cid in (1, 2):
            c = connector(sim, cid)
            assert c["contactor"]["closed"] is True
            assert c["phases_switched"] == 3
        total = [connector(sim, 1)["meter"]["current_a"][p] + connector(sim, 2)["meter"]["current_a"][p] for p in range(3)]
        assert all(t <= FUSE_A + 0.1 for t in total), total
    finally:
        evsed.stop()
        dump(evsed)


def pwm_events(events, cid):
    return [e for e in events if e["kind"] == "pilot.pwm" and e.get("connector") == cid]


def test_house_load_step_cuts_the_offer_within_two_seconds(sim, bin_dir, repo_root, tmp_path):
    evsed = start_evsed(sim, bin_dir, repo_root, tmp_path)
    samples = []
    try:
        start_session(sim, evsed, 1)
        start_session(sim, evsed, 2)
        share = (FUSE_A - MARGIN_A) / 2
        wait_for(lambda: all(abs(a - share) < 0.6 for cid in (1, 2) for a in connector(sim, cid)["meter"]["current_a"]),
                 timeout=15, what="both EVs sharing")
        stream = EventStream(sim)
        assert sim.post("/api/grid", {"house_load_a": [40, 40, 40]})[0] == 200
        step = stream.events(timeout=2, until=lambda e: e["kind"] == "grid")[-1]
        assert step["kind"] == "grid" and step["house_load_a"] == [40, 40, 40]
        evs = stream.events(timeout=4, until=lambda e: e["kind"] == "pilot.pwm")
        cuts = [e for e in evs if e["kind"] == "pilot.pwm"]
        assert cuts, [e["kind"] for e in evs]
        cut_ms = (cuts[0]["t_us"] - step["t_us"]) / 1000
        print(f"house-load step of 40 A/phase -> first PWM reduction after {cut_ms:.0f} ms")
        assert cut_ms <= 2000
        # What is left (8 A) is below two 6 A minimums: one EV charges at 8 A, the other waits.
        wait_for(lambda: sorted(connector(sim, c)["meter"]["current_a"][0] for c in (1, 2)) == [0, 8],
                 timeout=8, what="one EV at 8 A, the other paused")
        # From then on, every grid meter sample stays within the fuse.
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            g = sim.get("/api/grid")[1]
            samples.append(g["current_a"])
            assert all(a <= FUSE_A + 0.05 for a in g["current_a"]), g
            time.sleep(0.2)
        # The display says nothing of a fault, the grid meter is fine.
        assert not [l for l in evsed.log() if "grid meter offline" in l]
        stream.close()
    finally:
        evsed.stop()
        dump(evsed)


def test_offline_grid_meter_gives_the_fallback_within_one_poll(sim, bin_dir, repo_root, tmp_path):
    evsed = start_evsed(sim, bin_dir, repo_root, tmp_path)
    try:
        start_session(sim, evsed, 1)
        wait_for(lambda: all(a > 31 for a in connector(sim, 1)["meter"]["current_a"]), what="EV 1 at 32 A")
        stream = EventStream(sim)
        mark = len(evsed.log())
        assert sim.post("/api/faults", {"kind": "grid-meter-offline", "active": True})[0] == 200
        # (A fault event's own "kind" field, the fault's name, shadows the event kind "fault".)
        fault = stream.events(timeout=2, until=lambda e: e["kind"] == "grid-meter-offline")[-1]
        assert fault["kind"] == "grid-meter-offline" and fault["active"] is True
        evs = stream.events(timeout=5, until=lambda e: e["kind"] == "pilot.pwm" and e["offered_current_a"] <= FALLBACK_A)
        cut = [e for e in evs if e["kind"] == "pilot.pwm" and e["offered_current_a"] <= FALLBACK_A]
        assert cut, [e["kind"] for e in evs]
        ms = (cut[0]["t_us"] - fault["t_us"]) / 1000
        print(f"grid meter offline -> fallback PWM after {ms:.0f} ms (poll {POLL_S * 1000:.0f} ms, timeout 500 ms)")
        # One poll period, plus the bus's 500 ms response timeout the failed read waits for.
        assert ms <= POLL_S * 1000 + 500 + 300
        assert cut[0]["offered_current_a"] == pytest.approx(FALLBACK_A, abs=0.1)
        wait_for(lambda: all(abs(a - FALLBACK_A) < 0.3 for a in connector(sim, 1)["meter"]["current_a"]),
                 what="EV at the fallback current")
        # Logged once, on the display, and the connector keeps charging (a non-blocking fault).
        evsed.wait_log(r"energy: grid meter offline; every connector limited to the fallback of 8", start=mark)
        time.sleep(2.5)
        assert sum(1 for l in evsed.log()[mark:] if "every connector limited to the fallback" in l) == 1
        assert any("Grid meter: limited" in row for row in sim.state()["display"]["rows"])
        assert connector(sim, 1)["contactor"]["closed"] is True
        # Back online: full current again (increases paced by 5 s).
        mark = len(evsed.log())
        assert sim.post("/api/faults", {"kind": "grid-meter-offline", "active": False})[0] == 200
        evsed.wait_log(r"energy: grid meter readings usable again", start=mark, timeout=5)
        wait_for(lambda: all(a > 31 for a in connector(sim, 1)["meter"]["current_a"]), timeout=12, what="back to 32 A")
        stream.close()
    finally:
        evsed.stop()
        dump(evsed)


def test_implausible_grid_reading_gives_the_fallback(sim, bin_dir, repo_root, tmp_path):
    evsed = start_evsed(sim, bin_dir, repo_root, tmp_path)
    try:
        start_session(sim, evsed, 1)
        wait_for(lambda: all(a > 31 for a in connector(sim, 1)["meter"]["current_a"]), what="EV 1 at 32 A")
        mark = len(evsed.log())
        # 150 A on L1 with a 50 A fuse: more than 2 x the fuse cannot be true.
        assert sim.post("/api/grid", {"house_load_a": [150, 0, 0]})[0] == 200
        evsed.wait_log(r"energy: grid meter implausible reading: L1 current", start=mark, timeout=4)
        wait_for(lambda: all(abs(a - FALLBACK_A) < 0.3 for a in connector(sim, 1)["meter"]["current_a"]),
                 what="EV at the fallback current")
    finally:
        evsed.stop()
        dump(evsed)


PV_ENERGY = """energy:
  mode: pv
  pv: {start_delay_s: 2, stop_delay_s: 3, min_on_s: 10, min_off_s: 10, stop_allowance_w: 300}
  phase_switching: {min_interval_s: 10, max_per_session: 6}
"""
# A clear day compressed to 20 s per hour (4 minutes): sunrise 6:00, 10 kW from 9:00 to 15:00, sunset 18:00.
PV_CURVE = {"seconds_per_hour": 20, "start_hour": 6,
            "points": [[6, 0], [7, 5000], [9, 10000], [15, 10000], [17, 5000], [18, 0]]}


def test_pv_day_curve_charges_from_the_surplus(sim, bin_dir, repo_root, tmp_path, request):
    evsed = start_evsed(sim, bin_dir, repo_root, tmp_path, energy=PV_ENERGY)
    stream = EventStream(sim)
    try:
        evsed.wait_log(r"energy: grid meter .* mode pv")
        start_session(sim, evsed, 1)
        time.sleep(3)
        # Night: the surplus is 0, the EV waits (SuspendedEVSE), nothing is imported.
        assert all(a == 0 for a in connector(sim, 1)["meter"]["current_a"])
        before = sim.get("/api/grid")[1]
        e0 = connector(sim, 1)["meter"]["energy_wh"]
        assert sim.post("/api/grid", {"pv_curve": PV_CURVE})[0] == 200
        day_s = (18 - 6) * PV_CURVE["seconds_per_hour"] + 8
        time.sleep(day_s)
        after = sim.get("/api/grid")[1]
        charged = connector(sim, 1)["meter"]["energy_wh"] - e0
        imported = after["import_wh"] - before["import_wh"]
        exported = after["export_wh"] - before["export_wh"]
        pv = after["pv_wh"] - before["pv_wh"]
        evs = stream.events(timeout=0.5)
        closes = [e for e in evs if e["kind"] == "contactor.state" and e.get("connector") == 1 and e["closed"]]
        switches = [e for e in evs if e["kind"] == "output" and e.get("line") == "c1.phase.switch"]
        from_pv = charged - imported
        figures = {"pv_wh": round(pv, 1), "charged_wh": round(charged, 1), "from_pv_wh": round(from_pv, 1),
                   "imported_wh": round(imported, 1), "exported_wh": round(exported, 1),
                   "pv_used_percent": round(100 * from_pv / pv, 1), "import_percent": round(100 * imported / charged, 1),
                   "contactor_closes": len(closes), "phase_switches": len(switches)}
        print("PV day curve figures:", json.dumps(figures))
        (tmp_path / "pv-figures.json").write_text(json.dumps(figures))
        assert from_pv >= 0.90 * pv, figures
        assert imported <= 0.03 * charged, figures
        assert len(closes) <= 3, figures
        assert len(switches) <= 4, figures
    finally:
        stream.close()
        evsed.stop()
        dump(evsed)
