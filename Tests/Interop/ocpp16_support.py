"""What the OCPP 1.6 end-to-end tests share: evse-sim and evsed as processes, a CSMS on the
`ocpp` package, and the small waits and readings they all need."""
import sqlite3

import pytest
from ocpp.v16 import call

from csms16 import CentralSystem
from evsed_process import EvsedProcess, sim_board_for
from sim_process import connector, wait_for  # noqa: F401 (for the test modules)

CARD = "04A1B2C3"  # in etc/station.demo.yaml's local list; the sim board reads Wiegand 34
IDENTITY = "CP1"


@pytest.fixture()
def station(sim, bin_dir, repo_root, tmp_path):
    """start(csms_url, *flags, config=FILE) → a running evsed connected to that CSMS (with
    csms_url None: to the one the station file's backend section names). Every start of one
    test uses the same data directory, as a restarted charger does."""
    board = sim_board_for(repo_root, sim, tmp_path)
    data = tmp_path / "data"
    started = []

    def start(csms_url, *extra, config=None):
        target = ["--csms", csms_url, "--identity", IDENTITY] if csms_url else []
        p = EvsedProcess(bin_dir, board, config or repo_root / "etc" / "station.demo.yaml", data, *target, *extra)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture()
def csms():
    servers = []

    def make(**kw):
        c = CentralSystem(**kw)
        servers.append(c)
        return c

    yield make
    for c in servers:
        try:
            c.stop()
        except Exception:
            pass


def c1(sim):
    return connector(sim, 1)


def meter_read_by_evsed(evsed):
    """The latest connector-1 register evsed logged (debug log level), or -1."""
    for line in reversed(evsed.log()):
        if "c1: meter " in line:
            return float(line.split("c1: meter ")[1].split(" Wh")[0])
    return -1


def data_dir(evsed):
    return evsed.args[evsed.args.index("--data-dir") + 1]


def journal_session(data):
    db = sqlite3.connect(f"{data}/swiftevse.sqlite")
    try:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT * FROM sessions ORDER BY started_at_ms DESC LIMIT 1").fetchone())
    finally:
        db.close()


def present_card(sim, evsed, card=CARD, start=0):
    # One presentation must be enough: a card lost between the reader and evsed is a bug.
    assert sim.post("/api/rfid", {"uid": card})[0] == 200
    evsed.wait_log(f"card {card} presented", timeout=3, start=start)


def boot_accepted(cs, evsed=None):
    cs.wait_for("BootNotification")
    # Connector 0 and both connectors report after the boot.
    cs.wait_for("StatusNotification", count=3)


def remote_start_on_connector_1(cs, sim, id_tag="REMOTE1"):
    """RemoteStartTransaction for `id_tag`, then the EV plugged in: the StartTransaction."""
    assert cs.call(IDENTITY, call.RemoteStartTransaction(id_tag=id_tag, connector_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    return cs.wait_for("StartTransaction")[0]
