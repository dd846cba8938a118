"""One 3-phase EV alone on a 3-phase connector draws on all three phases (the issue: on
Board/sim-2x22kw.yaml evsed left the phase-switch relay at one phase, 7.4 kW instead of 22 kW)."""
import pytest

from evsed_process import EvsedProcess, sim_board_for
from sim_process import connector, wait_for

CARD = "04A1B2C3"  # accepted by etc/station.demo.yaml
VOLTS = 230  # the simulator's nominal voltage per phase


def test_three_phase_ev_alone_draws_on_all_three_phases(sim, bin_dir, repo_root, tmp_path):
    # Nobody drives the relay yet: it rests where the board file says (unpowered: one).
    assert connector(sim, 1)["phases_switched"] == 1
    board = sim_board_for(repo_root, sim, tmp_path)
    evsed = EvsedProcess(bin_dir, board, repo_root / "etc" / "station.demo.yaml", tmp_path / "data")
    try:
        mark = len(evsed.log())
        assert sim.post("/api/connectors/1/plug", {"cable_a": 32, "ev": {"max_current_a": 32, "phases": 3}})[0] == 200
        evsed.wait_log(r"c1: pilot .*→ B", start=mark)
        assert sim.post("/api/rfid", {"uid": CARD})[0] == 200
        evsed.wait_log(r"c1: session .* started by " + CARD, start=mark)
        assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200

        try:
            wait_for(lambda: all(a > 31 for a in connector(sim, 1)["meter"]["current_a"]),
                     what="32 A drawn on L1, L2 and L3")
        except AssertionError:
            c1 = connector(sim, 1)
            raise AssertionError(f"not 32 A on three phases: phases_switched {c1['phases_switched']}, "
                                 f"current {c1['meter']['current_a']} A, power {c1['meter']['power_w']} W") from None
        c1 = connector(sim, 1)
        assert c1["contactor"]["closed"] is True
        assert c1["phases_switched"] == 3
        assert c1["meter"]["current_a"] == pytest.approx([32, 32, 32], abs=0.5)
        assert c1["meter"]["power_w"] == pytest.approx(3 * VOLTS * 32, rel=0.02)  # 22 kW, not 7.4
        # Set at start, before the session began, and said so.
        log = evsed.log()
        set_at = [i for i, line in enumerate(log) if "c1: phase switch set to 3 phases (line high)" in line]
        started_at = [i for i, line in enumerate(log) if "c1: session " in line and "started by" in line]
        assert len(set_at) == 1 and started_at and set_at[0] < started_at[0]
        assert not [line for line in log if "cannot set the phase switch" in line]
    finally:
        evsed.stop()
        # Shown by pytest only when the test failed.
        print("--- evsed, last lines:")
        print("\n".join(evsed.log()[-60:]))
