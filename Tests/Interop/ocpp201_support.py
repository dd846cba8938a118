"""What the OCPP 2.0.1 end-to-end tests share: evse-sim and evsed (--ocpp-version 2.0.1 or auto)
as processes, a CSMS on the `ocpp` package's v201 classes, and the small waits they need."""
import pytest

from csms16 import CentralSystem
from csms201 import Csms201
from evsed_process import EvsedProcess, sim_board_for
from sim_process import connector, wait_for  # noqa: F401 (for the test modules)

CARD = "04A1B2C3"  # in etc/station.demo.yaml's local list; the sim board reads Wiegand 34
IDENTITY = "CS1"


@pytest.fixture()
def station(sim, bin_dir, repo_root, tmp_path):
    """start(csms_url, *flags, version="2.0.1", config=None) → a running evsed connected to that
    CSMS (`config`: another station file than the demo's). Every
    start of one test uses the same data directory, as a restarted charger does."""
    board = sim_board_for(repo_root, sim, tmp_path)
    data = tmp_path / "data"
    started = []

    def start(csms_url, *extra, version="2.0.1", config=None):
        p = EvsedProcess(bin_dir, board, config or repo_root / "etc" / "station.demo.yaml", data,
                         "--csms", csms_url, "--identity", IDENTITY, "--ocpp-version", version, *extra)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture()
def csms():
    """make(**kw) → a Csms201; make16(**kw) → a 1.6 CentralSystem (for "auto")."""
    servers = []

    def make(**kw):
        c = Csms201(**kw)
        servers.append(c)
        return c

    def make16(**kw):
        c = CentralSystem(**kw)
        servers.append(c)
        return c

    make.v16 = make16
    yield make
    for c in servers:
        try:
            c.stop()
        except Exception:
            pass


def c1(sim):
    return connector(sim, 1)


def boot_accepted(cs):
    cs.wait_for("BootNotification")
    cs.wait_for("StatusNotification", count=2)  # one per EVSE


def present_card(sim, evsed, card=CARD, start=0):
    assert sim.post("/api/rfid", {"uid": card})[0] == 200
    evsed.wait_log(f"card {card} presented", timeout=3, start=start)


def seq_nos(events):
    return [e["seqNo"] for e in events]


def events_of(cs, transaction_id):
    return [e for e in cs.received("TransactionEvent") if e["transactionInfo"]["transactionId"] == transaction_id]
