"""OCPP 2.0.1 transactions end to end: a session by card and one by RequestStartTransaction,
TransactionEvent Started/Updated/Ended with increasing seqNo, and an offline session with
kill -9 while offline delivered once, in order, with offline: true. evse-sim + evsed as
processes, a CSMS on the `ocpp` package's v201 classes."""
import time

from ocpp.v201 import call

from ocpp201_support import (CARD, IDENTITY, boot_accepted, c1, csms, events_of, present_card,  # noqa: F401 (fixtures)
                             seq_nos, station, wait_for)


def test_a_card_session_is_started_updated_and_ended_with_increasing_seq_no(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs)
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    started = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]
    tx = started["transactionInfo"]["transactionId"]
    assert started["idToken"]["idToken"] == CARD and started["evse"] == {"id": 1, "connectorId": 1}
    assert started["seqNo"] == 0 and "offline" not in started
    assert started.get("cableMaxCurrent") == 32, "the simulator's cable is rated 32 A (its PP resistor)"
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    cs.wait_for("TransactionEvent", where=lambda e: e["triggerReason"] == "ChargingStateChanged"
                and e["transactionInfo"].get("chargingState") == "Charging")
    mark = len(evsed.log())
    present_card(sim, evsed, start=mark)  # the same card ends it
    ended = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")[0]
    assert ended["triggerReason"] == "StopAuthorized" and ended["transactionInfo"]["stoppedReason"] == "Local"
    contexts = [mv["sampledValue"][0]["context"] for mv in ended["meterValue"]]
    assert contexts == ["Transaction.Begin", "Transaction.End"]
    events = events_of(cs, tx)
    assert seq_nos(events) == list(range(len(events))), "seqNo 0, 1, 2, … without gaps"
    assert [e["eventType"] for e in events][0] == "Started" and events[-1]["eventType"] == "Ended"
    assert cs.call(IDENTITY, call.GetTransactionStatus(transaction_id=tx)).ongoing_indicator is False


def test_remote_start_and_stop(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    answer = cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": "APP-1", "type": "Central"},
                                                            remote_start_id=42, evse_id=1))
    assert answer.status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    started = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]
    assert started["triggerReason"] == "RemoteStart" and started["transactionInfo"]["remoteStartId"] == 42
    tx = started["transactionInfo"]["transactionId"]
    status = cs.call(IDENTITY, call.GetTransactionStatus(transaction_id=tx))
    assert status.ongoing_indicator is True
    assert cs.call(IDENTITY, call.RequestStopTransaction(transaction_id="not-here")).status == "Rejected"
    assert cs.call(IDENTITY, call.RequestStopTransaction(transaction_id=tx)).status == "Accepted"
    ended = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")[0]
    assert ended["triggerReason"] == "RemoteStop" and ended["transactionInfo"]["stoppedReason"] == "Remote"
    events = events_of(cs, tx)
    assert seq_nos(events) == list(range(len(events)))


def test_an_offline_session_survives_kill_minus_9_and_is_delivered_once_in_order_marked_offline(sim, station, csms):
    cs = csms()
    port = cs.port
    evsed = station(cs.url)
    boot_accepted(cs)
    cs.stop()
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)  # the local list authorizes offline
    evsed.wait_log(r"c1: session .* started by " + CARD, start=mark)
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="charging offline")
    time.sleep(1)
    mark = len(evsed.log())
    present_card(sim, evsed, start=mark)
    evsed.wait_log(r"c1: session .* ended", start=mark)
    evsed.kill9()

    back = csms(port=port)
    station(back.url)  # same data directory: the queue is there
    ended = back.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended", timeout=30)[0]
    tx = ended["transactionInfo"]["transactionId"]
    time.sleep(2)  # anything sent twice would arrive by now
    events = events_of(back, tx)
    assert events[0]["eventType"] == "Started" and events[0]["idToken"]["idToken"] == CARD
    assert seq_nos(events) == list(range(len(events))), "every event once, in order"
    assert all(e.get("offline") is True for e in events), "queued while offline"
    assert events[-1]["eventType"] == "Ended" and events[-1]["triggerReason"] == "StopAuthorized"
    assert sum(1 for e in events if e["eventType"] == "Ended") == 1


def test_an_unlisted_card_is_authorized_by_the_csms_and_a_refused_one_starts_nothing(sim, station, csms):
    cs = csms()
    cs.unknown_tokens.add("0BADCA7D")
    evsed = station(cs.url)
    boot_accepted(cs)
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, card="0BADCA7D", start=mark)
    asked = cs.wait_for("Authorize")[0]
    assert asked["idToken"] == {"idToken": "0BADCA7D", "type": "ISO14443"}
    time.sleep(1.5)
    assert cs.received("TransactionEvent") == [], "Invalid: no transaction"
    mark = len(evsed.log())
    present_card(sim, evsed, card="600DCA7D", start=mark)
    cs.wait_for("Authorize", count=2)
    started = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]
    assert started["idToken"]["idToken"] == "600DCA7D" and started["triggerReason"] == "Authorized"


def test_a_card_of_the_same_group_stops_the_transaction(sim, station, csms):
    cs = csms()
    cs.groups.update({"A1A1A1A1": "FLEET-7", "B2B2B2B2": "FLEET-7"})
    evsed = station(cs.url)
    boot_accepted(cs)
    # One reader for two EVSEs: a card that is not the session's goes to a free EVSE first, so
    # EVSE 2 is out of service here and the fleet's second card reaches the running session.
    assert cs.call(IDENTITY, call.ChangeAvailability(operational_status="Inoperative", evse={"id": 2})).status == "Accepted"
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, card="A1A1A1A1", start=mark)
    started = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]
    assert started["idToken"]["idToken"] == "A1A1A1A1"
    time.sleep(0.5)
    mark = len(evsed.log())
    present_card(sim, evsed, card="B2B2B2B2", start=mark)  # another card of the fleet
    ended = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended", timeout=15)[0]
    assert ended["triggerReason"] == "StopAuthorized" and ended["idToken"]["idToken"] == "B2B2B2B2"
