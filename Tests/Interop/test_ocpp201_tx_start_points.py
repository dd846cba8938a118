"""OCPP 2.0.1 TxStartPoint EVConnected and Authorized end to end: a transaction that begins
when the EV is plugged in (or a token authorized) before the station's session opens, goes on
under the same transactionId when the other half comes (also across kill -9), and ends when
no session follows (the EV leaves, RequestStopTransaction). evse-sim + evsed as processes, a
CSMS on the `ocpp` package's v201 classes."""
import time

from ocpp201_support import (CARD, IDENTITY, boot_accepted, c1, csms, events_of, present_card,  # noqa: F401 (fixtures)
                             seq_nos, station, wait_for)
from ocpp.v201 import call


def registered_with_start_point(csms, station, value):
    """A CSMS, evsed registered with it, and TxCtrlr.TxStartPoint set to `value`."""
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs)
    set_tx_start_point(cs, value)
    return cs, evsed


def set_tx_start_point(cs, value):
    kind, answer = cs.raw_call(IDENTITY, "SetVariables", {"setVariableData": [
        {"component": {"name": "TxCtrlr"}, "variable": {"name": "TxStartPoint"}, "attributeValue": value}]})
    assert kind == 3 and answer["setVariableResult"][0]["attributeStatus"] == "Accepted", answer


def started(cs):
    return cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]


def test_plugged_in_first_begins_the_transaction_and_the_card_continues_it(sim, station, csms):
    cs, evsed = registered_with_start_point(csms, station, "EVConnected,Authorized")
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    first = started(cs)
    tx = first["transactionInfo"]["transactionId"]
    assert first["triggerReason"] == "CablePluggedIn" and first["seqNo"] == 0
    assert first["transactionInfo"]["chargingState"] == "EVConnected"
    assert "idToken" not in first, "no token yet"
    assert first["evse"] == {"id": 1, "connectorId": 1}
    assert cs.call(IDENTITY, call.GetTransactionStatus(transaction_id=tx)).ongoing_indicator is True

    present_card(sim, evsed, start=mark)
    authorized = cs.wait_for("TransactionEvent", where=lambda e: e["triggerReason"] == "Authorized")[0]
    assert authorized["eventType"] == "Updated"
    assert authorized["transactionInfo"]["transactionId"] == tx, "the session continues the transaction"
    assert authorized["idToken"]["idToken"] == CARD
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    mark = len(evsed.log())
    present_card(sim, evsed, start=mark)  # the same card ends it
    ended = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")[0]
    assert ended["transactionInfo"]["transactionId"] == tx and ended["transactionInfo"]["stoppedReason"] == "Local"
    events = events_of(cs, tx)
    assert seq_nos(events) == list(range(len(events))), "seqNo 0, 1, 2, … without gaps"
    assert sum(1 for e in events if e["eventType"] == "Started") == 1


def test_the_ev_leaving_before_a_card_ends_the_transaction_ev_disconnected(sim, station, csms):
    cs, _ = registered_with_start_point(csms, station, "EVConnected")
    assert sim.post("/api/connectors/1/plug")[0] == 200
    tx = started(cs)["transactionInfo"]["transactionId"]
    assert sim.post("/api/connectors/1/unplug")[0] == 200
    ended = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")[0]
    assert ended["transactionInfo"]["transactionId"] == tx
    assert ended["triggerReason"] == "EVCommunicationLost"
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert ended["seqNo"] == 1
    assert cs.call(IDENTITY, call.GetTransactionStatus(transaction_id=tx)).ongoing_indicator is False


def test_a_card_before_the_ev_begins_it_the_ev_continues_it_and_a_stop_ends_the_next(sim, station, csms):
    cs, evsed = registered_with_start_point(csms, station, "Authorized")
    mark = len(evsed.log())
    present_card(sim, evsed, start=mark)  # no EV on either EVSE: the card is granted on EVSE 1
    first = started(cs)
    tx = first["transactionInfo"]["transactionId"]
    assert first["triggerReason"] == "Authorized" and first["idToken"]["idToken"] == CARD
    assert first["transactionInfo"]["chargingState"] == "Idle"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    plugged = cs.wait_for("TransactionEvent", where=lambda e: e["triggerReason"] == "CablePluggedIn")[0]
    assert plugged["eventType"] == "Updated" and plugged["transactionInfo"]["transactionId"] == tx
    assert "idToken" not in plugged, "the token went with the Started event"

    # A remote start before the EV (EVSE 2): the transaction begins at once and the CSMS can stop it.
    answer = cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": "APP-2", "type": "Central"},
                                                            remote_start_id=202, evse_id=2))
    assert answer.status == "Accepted"
    remote = cs.wait_for("TransactionEvent", where=lambda e: e["triggerReason"] == "RemoteStart")[0]
    assert remote["eventType"] == "Started" and remote["transactionInfo"]["remoteStartId"] == 202
    remote_tx = remote["transactionInfo"]["transactionId"]
    assert remote_tx != tx and remote["evse"]["id"] == 2
    assert cs.call(IDENTITY, call.RequestStopTransaction(transaction_id=remote_tx)).status == "Accepted"
    ended = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")[0]
    assert ended["transactionInfo"]["transactionId"] == remote_tx
    assert ended["triggerReason"] == "RemoteStop" and ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert "Ended" not in [e["eventType"] for e in events_of(cs, tx)], "EVSE 1's goes on"


def test_a_transaction_begun_at_the_plug_in_survives_kill_minus_9(sim, station, csms):
    cs, evsed = registered_with_start_point(csms, station, "EVConnected")
    port = cs.port
    assert sim.post("/api/connectors/1/plug")[0] == 200
    tx = started(cs)["transactionInfo"]["transactionId"]
    evsed.kill9()
    cs.stop()

    back = csms(port=port)
    again = station(back.url)  # same data directory, the EV still plugged in
    boot_accepted(back)
    mark = len(again.log())
    present_card(sim, again, start=mark)
    authorized = back.wait_for("TransactionEvent", where=lambda e: e["triggerReason"] == "Authorized")[0]
    assert authorized["transactionInfo"]["transactionId"] == tx, "the same transaction after the restart"
    assert authorized["seqNo"] == 1
    time.sleep(1)  # a second transaction's Started would arrive by now
    # The Started may come again (kill -9 may have struck before its answer was recorded), but
    # only this transaction's: no new one began.
    again_started = [e for e in back.received("TransactionEvent") if e["eventType"] == "Started"]
    assert all(e["transactionInfo"]["transactionId"] == tx and e["seqNo"] == 0 for e in again_started), again_started
