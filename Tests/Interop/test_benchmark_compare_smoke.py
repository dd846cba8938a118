"""A one-minute smoke of Benchmarks/compare.py for CI: evsed and the reference charge point on the
`ocpp` package against one CSMS, every figure measured on both. The figures of a debug build on a
shared CI machine say nothing; the full run with the firmware build is for the issue notes."""
import re
import subprocess
import sys


def test_compare_measures_every_figure_on_both(bin_dir, repo_root):
    r = subprocess.run([sys.executable, str(repo_root / "Benchmarks" / "compare.py"), str(bin_dir / "evsed"),
                        str(bin_dir), "--smoke"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {m.group(1): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"^\| ([^|]+?) \| ([\d.]+) [^|]*\| ([\d.]+) [^|]*\|", r.stdout, re.M)}
    for figure in ("CPU idle, connected", "CPU per GetConfiguration, all keys", "CPU per GetConfiguration, one key",
                   "CPU while one connector charges (MeterValues every 5 s)", "threads", "anonymous memory (RssAnon), while charging"):
        assert figure in rows, (figure, r.stdout)
    evsed_threads, reference_threads = rows["threads"]
    assert evsed_threads >= 1 and reference_threads >= 1
    assert rows["anonymous memory (RssAnon), while charging"][0] > 0
    assert "MeterValues received by the CSMS while both charged" in r.stdout
