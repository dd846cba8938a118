"""From OCPP 1.6 to 2.0.1 on the same data directory: a session still open when the station
switches is closed cleanly under 2.0.1 (its Started event first, then its Ended), and nothing
is sent twice: the 1.6 CSMS heard its StartTransaction once, the 2.0.1 CSMS hears each event once."""
import time

from ocpp.v16 import call as call16
from ocpp.v201 import call

from ocpp201_support import IDENTITY, boot_accepted, c1, csms, events_of, station, wait_for  # noqa: F401 (fixtures)


def test_a_session_open_at_the_switch_ends_cleanly_under_201(sim, station, csms):
    old = csms.v16()
    evsed = station(old.url, version="1.6")
    old.wait_for("BootNotification")
    old.wait_for("StatusNotification", count=3)
    assert old.call(IDENTITY, call16.RemoteStartTransaction(id_tag="SWITCH-1", connector_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    old.wait_for("StartTransaction")
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="charging under 1.6")
    evsed.kill9()  # as a power cut: the session is still open in the journal
    old.stop()

    new = csms()
    station(new.url, version="2.0.1")  # same data directory
    started = new.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started", timeout=30)[0]
    tx = started["transactionInfo"]["transactionId"]
    assert started["seqNo"] == 0 and started["idToken"]["idToken"] == "SWITCH-1"
    assert new.call(IDENTITY, call.RequestStopTransaction(transaction_id=tx)).status == "Accepted"
    new.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended", timeout=20)
    time.sleep(2)  # anything sent twice would arrive by now
    events = events_of(new, tx)
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert [e["eventType"] for e in events].count("Started") == 1 and [e["eventType"] for e in events].count("Ended") == 1
    assert len(old.received("StartTransaction")) == 1 and old.received("StopTransaction") == []
    assert "StartTransaction" not in new.actions() and "StopTransaction" not in new.actions()
