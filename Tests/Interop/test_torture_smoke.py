"""A short crash-torture run (Tests/Torture/torture.py) for CI: a few rounds of random charging
stories with kill -9 of evsed and CSMS outages; every invariant must hold. The full run is by hand
(Tests/Torture/README.md)."""
import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Torture"))

import torture  # noqa: E402


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_torture_smoke(bin_dir, version):
    seed = int(os.environ.get("TORTURE_SEED", "14"))
    rounds = int(os.environ.get("TORTURE_ROUNDS", "8"))
    t = torture.Torture(bin_dir, seed, version=version)
    ok = False
    try:
        s = t.run(rounds, time_budget=float(os.environ.get("TORTURE_BUDGET_S", "75")))
        torture.print_summary(t, s)
        assert s["rounds"] >= 3, s
        assert s["kills"] >= s["rounds"] * 0.8, f"too few kills landed: {s}"
        assert s["transactions"] > 0
        assert s["lost"] == 0 and s["duplicated"] == 0 and s["energy_mismatch"] == 0, t.violations
        assert s["violations"] == 0, t.violations
        assert s["ocpp_version"] == version
        ok = True
    finally:
        t.close(keep=not ok)
