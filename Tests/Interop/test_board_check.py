"""`evsectl board check` on the shipped board files and on broken copies of them.

A broken file must make evsectl exit non-zero and name FILE:LINE and the field path, so a
hardware engineer can jump straight to the mistake.
"""
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOARDS = sorted((ROOT / "Board").glob("*.yaml"))


def board_check(bin_dir, path):
    return subprocess.run([str(bin_dir / "evsectl"), "board", "check", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_boards_are_shipped():
    names = {p.name for p in BOARDS}
    assert {"sim-2x22kw.yaml", "cm4-1x11kw.yaml", "2x22kw-rs485.yaml"} <= names


@pytest.mark.parametrize("board", BOARDS, ids=lambda p: p.name)
def test_shipped_board_checks_ok(bin_dir, board):
    result = board_check(bin_dir, board)
    assert result.returncode == 0, result.stderr
    assert "board: " in result.stdout
    assert f"ok: {board}" in result.stdout


def test_sim_board_prints_the_resolved_hardware_map(bin_dir):
    result = board_check(bin_dir, ROOT / "Board" / "sim-2x22kw.yaml")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "backend: sim (127.0.0.1:8089)" in lines
    assert any(l.split()[:2] == ["c1.contactor.coil", "gpio"] and 'line "c1.contactor.coil"' in l for l in lines)
    assert any(l.split()[:1] == ["c2.meter"] and "bus sim-meters unit 2, map sdm630" in l for l in lines)
    assert any(l.split()[:1] == ["station.display"] and "sim address 0x27" in l for l in lines)


def line_of(text, marker, after=None):
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, l in enumerate(lines) if after in l)
    return next(i for i, l in enumerate(lines) if i >= start and marker in l) + 1


# (description, original text, replacement, field path, marker of the line to expect, marker after which to look)
BREAKAGES = [
    ("unknown key", "    max_current: 32\n", "    max_current: 32\n    max_curent: 16\n",
     "connectors[0].max_curent", "max_curent", None),
    ("wrong type", "  phases: 3\n  # The simulator's grid meter", "  phases: three\n  # The simulator's grid meter",
     "grid.phases", "phases: three", None),
    ("grid meter on a bus that does not exist", "meter: {bus: sim-meters, unit: 10", "meter: {bus: rs485-9, unit: 10",
     "grid.meter.bus", "rs485-9", None),
    ("grid margin of 0 A", "  margin: 2 ", "  margin: 0 ", "grid.margin", "margin: 0", None),
    ("current above 80 A", "    max_current: 32\n", "    max_current: 96\n", "connectors[0].max_current", "max_current: 96", None),
    ("current above the grid limit", "max_current: 50", "max_current: 20", "connectors[0].max_current",
     "max_current: 32", "- id: 1"),
    ("gpio line used twice", "coil:     {name: c2.contactor.coil}", "coil:     {name: c1.contactor.coil}",
     "connectors[1].contactor.coil", "coil:     {name: c1.contactor.coil}", "- id: 2"),
    ("pwm reused", "pwm:  {name: c2.cp.pwm}", "pwm:  {name: c1.cp.pwm}", "connectors[1].pilot.pwm",
     "pwm:  {name: c1.cp.pwm}", "- id: 2"),
    ("meter map missing", "unit: 2, map: sdm630", "unit: 2, map: sdm631", "connectors[1].meter.map", "sdm631", None),
    # A missing top-level field is reported where the document starts (its first key).
    ("missing required field", "model: SwiftEVSE Sim 2x22kW\n", "", "model", "backend: sim", None),
]


@pytest.mark.parametrize("what,old,new,field,marker,after", BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_broken_board_names_file_line_and_field(bin_dir, tmp_path, what, old, new, field, marker, after):
    original = (ROOT / "Board" / "sim-2x22kw.yaml").read_text()
    assert old in original, f"test bug: {old!r} not in the sim board"
    broken_text = original.replace(old, new, 1)
    broken = tmp_path / "broken.yaml"
    broken.write_text(broken_text)
    # The meter maps are found beside the board file.
    (tmp_path / "meters").symlink_to(ROOT / "Board" / "meters")

    result = board_check(bin_dir, broken)
    assert result.returncode != 0, f"{what}: evsectl accepted the broken board\n{result.stdout}"
    line = line_of(broken_text, marker, after) if marker else 1
    assert f"{broken}:{line}: {field}: " in result.stderr, result.stderr
    assert result.stdout == ""


def test_syntax_error_names_file_and_line(bin_dir, tmp_path):
    broken = tmp_path / "tabs.yaml"
    broken.write_text("model: X\nbackend: sim\ngrid:\n\tmax_current: 16\n")
    result = board_check(bin_dir, broken)
    assert result.returncode != 0
    assert f"{broken}:4: tab in indentation" in result.stderr


def test_missing_file(bin_dir, tmp_path):
    result = board_check(bin_dir, tmp_path / "nope.yaml")
    assert result.returncode != 0
    assert f"{tmp_path / 'nope.yaml'}: cannot read the file" in result.stderr
