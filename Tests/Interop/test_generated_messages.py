"""The committed OCPP message types and their test cases match the ocpp package's schemas."""
import subprocess
import sys


def test_generated_ocpp16_messages_are_up_to_date(repo_root):
    result = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "generate-ocpp-messages.py"), "--check"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "OCPP 1.6:" in result.stdout and "OCPP 2.0.1:" in result.stdout


def test_check_notices_a_stale_file(repo_root, tmp_path):
    """--check must fail when a generated file differs (here: a schema folder with one change)."""
    import json
    import pathlib
    import shutil

    import ocpp
    schemas = pathlib.Path(ocpp.__file__).parent / "v16" / "schemas"
    changed = tmp_path / "schemas"
    shutil.copytree(schemas, changed)
    boot = json.loads((changed / "BootNotification.json").read_text())
    boot["properties"]["chargePointModel"]["maxLength"] = 21
    (changed / "BootNotification.json").write_text(json.dumps(boot))
    result = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "generate-ocpp-messages.py"), "--check",
         "--version", "1.6", "--schemas", str(changed)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "BootNotification.swift" in result.stderr
