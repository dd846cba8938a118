"""Upgrades from databases written by earlier firmware (issue 14, item 3): each
`upgrade_databases/schema-<N>.sqlite` (+ its -wal) was left by that schema version's evsed killed
mid-session with a backlog (see upgrade_databases/make_database.py, which makes them). Today's evsed
starts on a copy, with the station file the charger kept (its demo cards as the old firmware
seeded them), migrates it, keeps the configuration and the local list, ends the session the kill
left open, and delivers every queued message, billed once, to a CSMS on the `ocpp` package.
The seeded migration tests (MigrationTests) cover every schema version; these cover files a real
old build wrote, WAL and all."""
import pathlib
import shutil
import sqlite3

import pytest
from ocpp.v16 import call

from ocpp16_support import IDENTITY, station, csms, wait_for  # noqa: F401

FIXTURES = pathlib.Path(__file__).resolve().parent / "upgrade_databases"
DATABASES = sorted(FIXTURES.glob("schema-*.sqlite"))


def read(path, sql):
    db = sqlite3.connect(str(path))
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql).fetchall()]
    finally:
        db.close()


def copy_database(fixture, directory):
    directory.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):
        source = fixture.with_name(fixture.name + suffix)
        if source.exists():
            shutil.copyfile(source, directory / ("swiftevse.sqlite" + suffix))
    return directory / "swiftevse.sqlite"


def station_file_as_kept(database, repo_root, directory):
    """Today's demo station file with the demo cards the old firmware last seeded: a charger keeps
    its station file across a firmware update. The cards are read back from their fingerprint in
    the config table (`station.local_list.cards`, "ID=status,..."). Without this, a fixture made
    with an older demo file (other cards) would have today's evsed replace the local list the
    CSMS sent by the file's cards, as it does by design when the file's cards change."""
    demo = repo_root / "etc" / "station.demo.yaml"
    rows = read(database, "SELECT value FROM config WHERE key = 'station.local_list.cards'")
    if not rows:
        return demo
    cards = [f"    - {{id: {card.split('=')[0]}, status: {card.split('=')[1]}}}" for card in rows[0]["value"].split(",")]
    out, skipping = [], False
    for line in demo.read_text().splitlines():
        if skipping and line.startswith("    "):
            continue  # today's cards and their comments
        skipping = False
        out.append(line)
        if line == "  cards:":
            out += cards
            skipping = True
    assert "  cards:" in out, "the demo station file lists its cards under authorization.cards"
    path = directory / "station.yaml"
    path.write_text("\n".join(out) + "\n")
    return path


def test_there_is_a_fixture():
    assert DATABASES, "no upgrade fixture: make one with upgrade_databases/make_database.py"


@pytest.mark.parametrize("fixture", DATABASES, ids=[p.stem for p in DATABASES])
def test_a_database_written_by_an_earlier_firmware_is_upgraded_and_billed_once(fixture, station, csms, tmp_path, repo_root):
    # What the old firmware left, read from a copy of its own (reading checkpoints the WAL).
    before = copy_database(fixture, tmp_path / "before")
    old_version = read(before, "PRAGMA user_version")[0]["user_version"]
    old_sessions = {s["id"]: s for s in read(before, "SELECT * FROM sessions")}
    queued = read(before, "SELECT kind, session_id, payload FROM transaction_queue ORDER BY seq")
    last_sample = {s["session_id"]: s["energy_wh"] for s in read(
        before, "SELECT session_id, energy_wh FROM session_meter_samples ORDER BY seq")}
    local_list = read(before, "SELECT * FROM local_list ORDER BY id_token")
    left_open = [s for s in old_sessions.values() if s["ended_at_ms"] is None]
    assert left_open and any(q["kind"] == "StopTransaction" for q in queued), "the fixture holds a backlog and an open session"

    # Today's evsed on the old data directory (the station fixture's data dir is tmp_path/data).
    copy_database(fixture, tmp_path / "data")
    cs = csms()
    evsed = station(cs.url, config=station_file_as_kept(before, repo_root, tmp_path))
    cs.wait_for("BootNotification", timeout=20)
    starts = cs.wait_for("StartTransaction", count=len(old_sessions), timeout=30)
    stops = cs.wait_for("StopTransaction", count=len(old_sessions), timeout=30)

    # Every session of the old journal: one StartTransaction as the old firmware queued it and
    # one StopTransaction for the transaction id the CSMS gave it.
    queued_starts = [q for q in queued if q["kind"] == "StartTransaction"]
    assert [(p["connectorId"], p["idTag"], p["meterStart"]) for p in starts] == \
        [(old_sessions[q["session_id"]]["connector_id"], old_sessions[q["session_id"]]["id_token"],
          round(old_sessions[q["session_id"]]["meter_start_wh"])) for q in queued_starts]
    assigned = [p["assignedTransactionId"] for p in starts]
    assert sorted(p["transactionId"] for p in stops) == sorted(assigned)
    wait_for(lambda: len(cs.received("StopTransaction")) == len(old_sessions), timeout=3, what="no second stop")
    meter_values = [p for _, _, p in cs.received("MeterValues")]
    assert len(meter_values) >= sum(1 for q in queued if q["kind"] == "MeterValues"), "queued MeterValues delivered"
    for p in meter_values:
        assert p["transactionId"] in assigned, p

    # (HeartbeatInterval the old firmware also stored is overwritten by every BootNotification answer.)
    assert cs.call(IDENTITY, call.GetConfiguration(key=["MeterValueSampleInterval"])).configuration_key[0]["value"] == "5"
    assert cs.call(IDENTITY, call.GetLocalListVersion()).list_version == 5
    assert evsed.terminate() == 0

    after = tmp_path / "data" / "swiftevse.sqlite"
    assert read(after, "PRAGMA user_version")[0]["user_version"] > old_version
    journal = {s["id"]: s for s in read(after, "SELECT * FROM sessions")}
    assert set(journal) == set(old_sessions), "no session lost or added"
    by_tx = {p["transactionId"]: p for p in stops}
    for s in journal.values():
        assert s["ended_at_ms"] is not None, s
        stop = by_tx[int(s["transaction_id"])]
        assert stop["meterStop"] == round(s["meter_stop_wh"])
    for s in left_open:
        # The register of the new simulator starts at 0: the session ends on its last known reading.
        assert journal[s["id"]]["meter_stop_wh"] >= last_sample.get(s["id"], s["meter_start_wh"]) - 0.001
    assert not read(after, "SELECT * FROM transaction_queue"), "the backlog is delivered"
    assert read(after, "SELECT * FROM local_list ORDER BY id_token") == local_list, "the CSMS's local list is kept"
