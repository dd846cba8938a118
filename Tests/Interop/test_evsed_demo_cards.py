"""The demo station file has two cards the sim board's reader really reads (Wiegand 34: every
card arrives as 4 bytes), so two EVs can charge at once (issue 13: the 3-byte demo card read as
00A1B2C3 and was refused)."""
from evsed_process import EvsedProcess, sim_board_for
from sim_process import connector, wait_for


def test_each_demo_card_starts_a_session_on_the_sim_board(sim, bin_dir, repo_root, tmp_path):
    board = sim_board_for(repo_root, sim, tmp_path)
    evsed = EvsedProcess(bin_dir, board, repo_root / "etc" / "station.demo.yaml", tmp_path / "data")
    try:
        for cid, card in ((1, "04A1B2C3"), (2, "04D5E6F7")):
            mark = len(evsed.log())
            assert sim.post(f"/api/connectors/{cid}/plug", {"cable_a": 32, "ev": {"max_current_a": 32, "phases": 3}})[0] == 200
            evsed.wait_log(rf"c{cid}: pilot .*→ B", start=mark)
            status, answer = sim.post("/api/rfid", {"uid": card})
            assert status == 200 and answer["wiegand_bits"] == 34
            evsed.wait_log(rf"c{cid}: session .* started by {card}", start=mark)
            assert sim.post(f"/api/connectors/{cid}/ev-state", {"state": "C"})[0] == 200
        wait_for(lambda: all(connector(sim, c)["contactor"]["closed"] and min(connector(sim, c)["meter"]["current_a"]) >= 6
                             for c in (1, 2)), timeout=15, what="both EVs charging")
        # A 3-byte card is padded to 34 bits by the reader: it reads as 00A1B2C3, which the demo
        # list does not hold (A1B2C3 is for Wiegand-26 and HID boards).
        mark = len(evsed.log())
        assert sim.post("/api/rfid", {"uid": "A1B2C3"})[0] == 200
        evsed.wait_log(r"card 00A1B2C3 presented", start=mark)
    finally:
        evsed.stop()
        print("--- evsed, last lines:")
        print("\n".join(evsed.log()[-60:]))
