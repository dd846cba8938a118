"""OCPP 2.0.1 operations end to end: Reset (the station restarts and boots again; a running
transaction ends with ImmediateReset), reservations with their status updates, the local list,
TriggerMessage per EVSE and UnlockConnector. evse-sim + evsed as processes, a CSMS on the `ocpp`
package's v201 classes."""
from datetime import datetime, timedelta, timezone

from ocpp.v201 import call

from ocpp201_support import IDENTITY, boot_accepted, c1, csms, station, wait_for  # noqa: F401 (fixtures)


def iso_in(seconds):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def test_reset_immediate_ends_the_transaction_and_the_station_boots_again(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs)
    assert cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": "R-1", "type": "Central"},
                                                          remote_start_id=5, evse_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    started = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]
    pid = evsed.proc.pid
    assert cs.call(IDENTITY, call.Reset(type="Immediate")).status == "Accepted"
    boots = cs.wait_for("BootNotification", count=2, timeout=30)
    assert len(boots) == 2 and evsed.proc.pid == pid and evsed.proc.poll() is None, "restarted in place"
    ended = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended", timeout=20)[0]
    assert ended["transactionInfo"]["transactionId"] == started["transactionInfo"]["transactionId"]
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset" and ended["triggerReason"] == "ResetCommand"
    assert any(e["type"] == "ResetOrReboot" for e in cs.wait_for("SecurityEventNotification", count=2))


def test_reset_on_idle_while_a_transaction_runs_is_scheduled(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    assert cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": "R-2", "type": "Central"},
                                                          remote_start_id=6, evse_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    started = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]
    assert cs.call(IDENTITY, call.Reset(type="OnIdle")).status == "Scheduled"
    assert cs.call(IDENTITY, call.RequestStopTransaction(transaction_id=started["transactionInfo"]["transactionId"])).status == "Accepted"
    cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")
    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    cs.wait_for("BootNotification", count=2, timeout=30)  # idle: the scheduled reset runs


def test_reservation_status_and_its_expiry_and_cancel(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    assert cs.call(IDENTITY, call.ReserveNow(id=11, expiry_date_time=iso_in(600), id_token={"id_token": "RES", "type": "ISO14443"},
                                             evse_id=2)).status == "Accepted"
    cs.wait_for("StatusNotification", where=lambda p: p["evseId"] == 2 and p["connectorStatus"] == "Reserved")
    assert cs.call(IDENTITY, call.CancelReservation(reservation_id=11)).status == "Accepted"
    cs.wait_for("StatusNotification", where=lambda p: p["evseId"] == 2 and p["connectorStatus"] == "Available")
    assert cs.call(IDENTITY, call.CancelReservation(reservation_id=11)).status == "Rejected"
    # Without an EVSE: the first available one is held; it expires and the CSMS hears of it.
    assert cs.call(IDENTITY, call.ReserveNow(id=12, expiry_date_time=iso_in(2), id_token={"id_token": "RES", "type": "ISO14443"})).status == "Accepted"
    update = cs.wait_for("ReservationStatusUpdate", timeout=15)[0]
    assert update == {"reservationId": 12, "reservationUpdateStatus": "Expired"}


def test_local_list_trigger_and_unlock(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    entries = [{"id_token": {"id_token": "LL-1", "type": "ISO14443"}, "id_token_info": {"status": "Accepted"}}]
    assert cs.call(IDENTITY, call.SendLocalList(version_number=7, update_type="Full", local_authorization_list=entries)).status == "Accepted"
    assert cs.call(IDENTITY, call.GetLocalListVersion()).version_number == 7
    assert cs.call(IDENTITY, call.SendLocalList(version_number=6, update_type="Differential",
                                                local_authorization_list=entries)).status == "VersionMismatch"
    before = len(cs.received("StatusNotification"))
    assert cs.call(IDENTITY, call.TriggerMessage(requested_message="StatusNotification", evse={"id": 2, "connector_id": 1})).status == "Accepted"
    triggered = cs.wait_for("StatusNotification", count=before + 1)[-1]
    assert triggered["evseId"] == 2
    assert cs.call(IDENTITY, call.UnlockConnector(evse_id=1, connector_id=1)).status == "Unlocked"
    assert cs.call(IDENTITY, call.UnlockConnector(evse_id=9, connector_id=1)).status == "UnknownConnector"
