"""Secrets at rest and in logs, end to end: evsed under umask 022 with security profile 2 and the
frame log on; the CSMS sets a new AuthorizationKey and asks for diagnostics. Neither key, in any
form, is in evsed's log, the frame log, the diagnostics archive or the database; the files that
hold secrets or card UIDs are 0600. And a key an earlier version kept in the database moves out."""
import base64
import io
import secrets
import sqlite3
import stat
import tarfile

import pytest

from evsed_process import EvsedProcess, sim_board_for
from file_servers import HTTPFileServer
from ocpp16_support import IDENTITY, wait_for
from openssl_pki import PKI
from test_ocpp16_security import TLSCentralSystem, basic, servers  # noqa: F401 (fixture)

DB = "swiftevse.sqlite"
FRAME_LOG = "ocpp-frames.log"


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def needles(key_hex):
    """Every form a key could leak in: its hex (either case), its bytes, the Basic-auth header
    value (base64 of identity:key) and the base64 of the key alone."""
    raw = bytes.fromhex(key_hex)
    header = basic(IDENTITY, key_hex)
    return {
        "hex": key_hex.lower().encode(),
        "HEX": key_hex.upper().encode(),
        "bytes": raw,
        "Basic-auth header": header.split(" ", 1)[1].encode(),
        "base64 of the key": base64.b64encode(raw).rstrip(b"="),
    }


def assert_nowhere(haystacks, keys):
    """`haystacks`: name → bytes. No key in any form is in any of them."""
    found = [f"{form} of key {k[:6]}… in {name}" for k in keys for form, needle in needles(k).items()
             for name, data in haystacks.items() if needle in data]
    assert not found, found


def config_table(data):
    db = sqlite3.connect(f"file:{data / DB}?mode=ro", uri=True)
    try:
        return db.execute("SELECT key, value FROM config").fetchall()
    finally:
        db.close()


@pytest.fixture()
def secure_station(sim, bin_dir, repo_root, tmp_path):
    """start(csms, key_file, *flags) → evsed under umask 022 on profile 2 against `csms`; every
    start uses the same data directory."""
    board = sim_board_for(repo_root, sim, tmp_path)
    pki = PKI(tmp_path / "pki-test")
    data = tmp_path / "data"
    started = []

    def start(csms, key_file, *extra):
        p = EvsedProcess(bin_dir, board, repo_root / "etc" / "station.demo.yaml", data,
                         "--csms", csms.url, "--identity", IDENTITY, "--security-profile", "2",
                         "--authorization-key-file", str(key_file), "--csms-root-certificate", pki.path("root.pem"),
                         "--frame-log", *extra, umask=0o022)
        started.append(p)
        return p

    start.pki = pki
    start.data = data
    start.runs = started
    yield start
    for p in started:
        p.stop()


def key_file(tmp_path, key_hex):
    path = tmp_path / "provisioned-authorization-key"
    path.write_text(key_hex + "\n")
    return path


def test_no_key_in_any_log_archive_or_database_and_private_files_under_umask_022(tmp_path, secure_station, servers):
    provisioned = secrets.token_hex(20)
    changed = secrets.token_hex(16)
    data = secure_station.data
    csms = TLSCentralSystem(secure_station.pki.server_context(), expected_auth=basic(IDENTITY, provisioned))
    servers.append(csms)
    http_files = HTTPFileServer()
    servers.append(http_files)

    evsed = secure_station(csms, key_file(tmp_path, provisioned))
    csms.wait_for("BootNotification", timeout=20)
    assert csms.auth_seen[-1] == basic(IDENTITY, provisioned)
    # Files made under umask 022 while it runs: the database, its WAL, the frame log.
    wait_for(lambda: (data / f"{DB}-wal").exists() and (data / FRAME_LOG).exists(), what="WAL and frame log")
    for name in (DB, f"{DB}-wal", f"{DB}-shm", FRAME_LOG):
        assert mode(data / name) == 0o600, f"{name} is {oct(mode(data / name))}"

    _, answer = csms.raw_call(IDENTITY, "ChangeConfiguration", {"key": "AuthorizationKey", "value": changed})
    assert answer["status"] == "Accepted"
    stored = data / "authorization-key"
    assert stored.read_text() == changed + "\n"
    assert mode(stored) == 0o600
    _, answer = csms.raw_call(IDENTITY, "GetConfiguration", {})
    assert "AuthorizationKey" not in {k["key"] for k in answer["configurationKey"]}

    # The next start connects with the key the CSMS set.
    evsed.terminate()
    csms.expected_auth = basic(IDENTITY, changed)
    evsed = secure_station(csms, key_file(tmp_path, provisioned))
    csms.wait_for("BootNotification", count=2, timeout=20)
    assert csms.auth_seen[-1] == basic(IDENTITY, changed)

    _, answer = csms.raw_call(IDENTITY, "GetDiagnostics", {"location": http_files.url("/diagnostics/")})
    file_name = answer["fileName"]
    wait_for(lambda: "Uploaded" in [p["status"] for (_, _, p) in csms.received("DiagnosticsStatusNotification")],
             timeout=30, what="diagnostics Uploaded")
    for name in (DB, f"{DB}-wal", FRAME_LOG):
        assert mode(data / name) == 0o600, f"{name} is {oct(mode(data / name))}"
    evsed.terminate()

    haystacks = {}
    for i, run in enumerate(secure_station.runs):
        haystacks[f"evsed stderr (run {i + 1})"] = "\n".join(run.log()).encode("utf-8", "surrogateescape")
    frame_logs = sorted(data.glob(FRAME_LOG + "*"))
    assert frame_logs
    for path in frame_logs:
        haystacks[path.name] = path.read_bytes()
    assert b'"key":"AuthorizationKey","value":"***"' in (data / FRAME_LOG).read_bytes(), "the change is logged, redacted"
    archive = tarfile.open(fileobj=io.BytesIO(http_files.files[f"/diagnostics/{file_name}"]))
    members = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    assert {"evsed.log", "configuration.txt", FRAME_LOG} <= set(members), sorted(members)
    for name, content in members.items():
        haystacks[f"diagnostics archive: {name}"] = content
    rows = config_table(data)
    assert rows, "the configuration table is read"
    assert not [k for (k, _) in rows if "authorizationkey" in k.lower()], rows
    haystacks["config table"] = "\n".join(f"{k}={v}" for (k, v) in rows).encode()
    for suffix in ("", "-wal"):
        if (data / f"{DB}{suffix}").exists():
            haystacks[f"{DB}{suffix} (raw)"] = (data / f"{DB}{suffix}").read_bytes()
    assert_nowhere(haystacks, [provisioned, changed])


def test_a_key_an_earlier_version_kept_in_the_database_moves_to_its_own_file(tmp_path, secure_station, servers):
    provisioned = secrets.token_hex(20)
    earlier = secrets.token_hex(20)
    data = secure_station.data
    csms = TLSCentralSystem(secure_station.pki.server_context(), expected_auth=basic(IDENTITY, provisioned))
    servers.append(csms)
    secure_station(csms, key_file(tmp_path, provisioned))
    csms.wait_for("BootNotification", timeout=20)
    secure_station.runs[-1].terminate()

    # What an earlier version left: the key the CSMS set in the configuration table, every file 0644.
    db = sqlite3.connect(data / DB)
    db.execute("INSERT INTO config (key, value) VALUES ('ocpp16.AuthorizationKey', ?)", (earlier,))
    db.commit()
    db.close()
    for path in [data / DB, *data.glob(FRAME_LOG + "*")]:
        path.chmod(0o644)
    (data / f"{FRAME_LOG}.3").write_text("an old rotation\n")
    (data / f"{FRAME_LOG}.3").chmod(0o644)

    csms.expected_auth = basic(IDENTITY, earlier)
    evsed = secure_station(csms, key_file(tmp_path, provisioned))
    csms.wait_for("BootNotification", count=2, timeout=20)
    assert csms.auth_seen[-1] == basic(IDENTITY, earlier), "the moved key is the one in use"
    assert (data / "authorization-key").read_text() == earlier + "\n"
    assert mode(data / "authorization-key") == 0o600
    assert not [k for (k, _) in config_table(data) if "authorizationkey" in k.lower()]
    for path in [data / DB, data / f"{DB}-wal", *data.glob(FRAME_LOG + "*")]:
        assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}"
    evsed.terminate()
    haystacks = {"evsed stderr": "\n".join(evsed.log()).encode("utf-8", "surrogateescape"),
                 DB: (data / DB).read_bytes()}
    if (data / f"{DB}-wal").exists():
        haystacks[f"{DB}-wal"] = (data / f"{DB}-wal").read_bytes()
    assert_nowhere(haystacks, [earlier, provisioned])
