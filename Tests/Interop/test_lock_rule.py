"""Every lock in the Swift code goes through Mutex.locked (Sources/Locking), never a bare
Mutex.withLock: on Linux ThreadSanitizer cannot see Mutex's futex, and a bare withLock makes
`scripts/sanitize thread` report the accesses the lock guards (docs/ROBUSTNESS.md, "Sanitizers").
Only Sources/Locking itself and the probe that demonstrates the blind spot may call withLock;
Foundation's NSLock (pthread-based, visible to TSan) in test helpers is allowed."""
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
ALLOWED = {ROOT / "Sources" / "Locking" / "Locked.swift", ROOT / "Tests" / "Sanitizers" / "MutexVisibilityProbe.swift"}


def test_no_bare_mutex_with_lock():
    offenders = []
    tracked = subprocess.run(["git", "ls-files", "*.swift"], cwd=ROOT, capture_output=True, text=True, check=True)
    swift_files = [ROOT / name for name in tracked.stdout.split()]
    assert len(swift_files) > 300, "git ls-files found the Swift sources"
    for path in swift_files:
        if path in ALLOWED or not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        nslocks = set(re.findall(r"(\w+)\s*=\s*NSLock\(\)", text))
        for number, line in enumerate(text.splitlines(), 1):
            for receiver in re.findall(r"(\w+)\.withLock\b", line):
                if receiver not in nslocks:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "use Mutex.locked, not withLock:\n" + "\n".join(offenders)
