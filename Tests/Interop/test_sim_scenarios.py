"""`evse-sim run SCENARIO`: shipped scenarios, failures that name the step, parse errors."""
import pathlib
import subprocess

SCENARIOS = pathlib.Path(__file__).resolve().parents[2] / "Hardware-sim" / "scenarios"
PORTS = ["--http", "127.0.0.1:0", "--hal", "127.0.0.1:0", "--modbus", "127.0.0.1:0"]


def run(bin_dir, scenario, *extra, timeout=60):
    return subprocess.run([str(bin_dir / "evse-sim"), "run", str(scenario), *PORTS, *extra],
                          capture_output=True, text=True, timeout=timeout)


def test_simulator_only_scenario_passes(bin_dir, repo_root):
    r = run(bin_dir, SCENARIOS / "pilot-and-faults.scenario", "--board", str(repo_root / "Board" / "sim-2x22kw.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "scenario passed" in r.stdout


def test_every_shipped_scenario_parses(bin_dir, tmp_path):
    # Scenarios that need a firmware fail at their first wait, never on their syntax.
    for path in SCENARIOS.glob("*.scenario"):
        text = path.read_text().replace("wait 30s firmware connected", "wait 10ms firmware connected")
        copy = tmp_path / path.name
        copy.write_text(text)
        r = run(bin_dir, copy)
        assert r.returncode in (0, 1), (path.name, r.stdout, r.stderr)
        assert "unknown" not in r.stderr, r.stderr


def test_failed_expectation_names_step_and_what_it_saw(bin_dir, tmp_path):
    s = tmp_path / "fail.scenario"
    s.write_text("plug 1\n# nobody closes the contactor\nwait 200ms contactor 1 closed\nexpect pilot 1 B\n")
    r = run(bin_dir, s)
    assert r.returncode == 1
    assert "FAIL step 2 (line 3): wait 200ms contactor 1 closed" in r.stdout
    assert "contactor 1 is open" in r.stdout
    assert "step 3" not in r.stdout  # stops at the first failure


def test_refused_action_fails_the_step(bin_dir, tmp_path):
    s = tmp_path / "refused.scenario"
    s.write_text("ev-state 2 C\n")
    r = run(bin_dir, s)
    assert r.returncode == 1
    assert "no EV plugged in" in r.stdout


def test_syntax_error_names_file_and_line(bin_dir, tmp_path):
    s = tmp_path / "bad.scenario"
    s.write_text("plug 1\nwait soon contactor 1 closed\n")
    r = run(bin_dir, s)
    assert r.returncode == 2
    assert f"{s}:2:" in r.stderr and "duration" in r.stderr
