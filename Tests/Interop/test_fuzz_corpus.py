"""Every committed fuzz input (Tests/Fuzz/corpus: the seeds and every input that ever crashed a
parser) through its parser once, with the plain build of the Fuzz executable. scripts/fuzz is
the libFuzzer run itself."""
import subprocess


def test_every_corpus_input_parses_without_a_crash(bin_dir):
    r = subprocess.run([str(bin_dir / "Fuzz"), "all"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for target in ("json", "rpc", "ocpp16", "ocpp201", "board", "meter-map", "station", "sim-line", "modbus", "ftp",
                   "url", "x509"):
        assert f"{target}: " in r.stdout and "no crash" in r.stdout.split(f"{target}: ")[1].splitlines()[0], r.stdout


def test_an_unknown_target_is_refused(bin_dir):
    r = subprocess.run([str(bin_dir / "Fuzz"), "nonsense"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "unknown target" in r.stdout
