"""OCPP 1.6J LocalAuthListManagement and Reservation end to end: evse-sim + evsed as processes,
a CSMS on the `ocpp` package (fixtures as in test_ocpp16_core)."""
import time
from datetime import datetime, timedelta, timezone

from ocpp16_support import (IDENTITY, boot_accepted, c1, csms, present_card,  # noqa: F401 (fixtures)
                            station, wait_for)

LIST_CARD = "0A0B0C0D"  # card uids are hex for the simulated reader
RESERVED_CARD = "5EEDF00D"
OTHER_CARD = "11223344"  # the reader reports 4-byte uids as 8 hex digits


def iso_in(seconds):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def entry(tag, status="Accepted"):
    return {"idTag": tag, "idTagInfo": {"status": status}}


def send_list(cs, version, kind, entries):
    kind_id, answer = cs.raw_call(IDENTITY, "SendLocalList",
                                  {"listVersion": version, "updateType": kind, "localAuthorizationList": entries},
                                  timeout=30)
    assert kind_id == 3, answer
    return answer["status"]


def list_version(cs):
    kind_id, answer = cs.raw_call(IDENTITY, "GetLocalListVersion", {})
    assert kind_id == 3, answer
    return answer["listVersion"]


def test_full_list_of_10000_then_a_card_from_it_starts_offline_and_differential_updates(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    full = [entry(f"{i:08X}") for i in range(1, 10_000)] + [entry(LIST_CARD)]
    assert send_list(cs, 5, "Full", full) == "Accepted"
    assert list_version(cs) == 5
    # A differential update at or below the installed version is refused and changes nothing.
    assert send_list(cs, 5, "Differential", [entry("LATE")]) == "VersionMismatch"
    assert list_version(cs) == 5
    # Add one card, block another, remove one (no idTagInfo).
    assert send_list(cs, 6, "Differential",
                     [entry("NEW00001"), entry("00000001", "Blocked"), {"idTag": "00000002"}]) == "Accepted"
    assert list_version(cs) == 6
    # More than SendLocalListMaxLength entries in one message fails.
    assert send_list(cs, 7, "Full", [entry(f"X{i}") for i in range(10_001)]) == "Failed"
    assert list_version(cs) == 6

    cs.stop()  # offline: only the local list can say yes
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, card=LIST_CARD, start=mark)
    evsed.wait_log(r"c1: session .* started by " + LIST_CARD, start=mark, timeout=10)
    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    evsed.wait_log(r"c1: session .* ended", start=mark)

    # The card the differential update blocked is refused offline.
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, card="00000001", start=mark)
    evsed.wait_log("00000001 refused", start=mark)
    time.sleep(1)
    assert all("started by 00000001" not in line for line in evsed.log()[mark:])


def test_reservation_honoured_other_card_refused_reserved_card_starts(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    kind_id, answer = cs.raw_call(IDENTITY, "ReserveNow", {"connectorId": 1, "expiryDate": iso_in(120),
                                                           "idTag": RESERVED_CARD, "reservationId": 42})
    assert (kind_id, answer) == (3, {"status": "Accepted"})
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 1 and p["status"] == "Reserved")
    # The same connector cannot be reserved for someone else.
    kind_id, answer = cs.raw_call(IDENTITY, "ReserveNow", {"connectorId": 1, "expiryDate": iso_in(120),
                                                           "idTag": OTHER_CARD, "reservationId": 43})
    assert answer == {"status": "Occupied"}
    # Connector 0 is not reservable (ReserveConnectorZeroSupported is false).
    assert cs.raw_call(IDENTITY, "ReserveNow", {"connectorId": 0, "expiryDate": iso_in(120),
                                                "idTag": OTHER_CARD, "reservationId": 44})[1] == {"status": "Rejected"}

    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, card=OTHER_CARD, start=mark)
    evsed.wait_log(f"{OTHER_CARD} refused", start=mark)
    time.sleep(1)
    assert cs.received("StartTransaction") == []

    present_card(sim, evsed, card=RESERVED_CARD, start=mark)
    start = cs.wait_for("StartTransaction")[0]
    assert start["connectorId"] == 1 and start["idTag"] == RESERVED_CARD
    evsed.wait_log("reservation 42 ended: used", start=mark)
    # A used reservation cannot be cancelled any more.
    assert cs.raw_call(IDENTITY, "CancelReservation", {"reservationId": 42})[1] == {"status": "Rejected"}


def test_reservation_expires_and_cancel(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert cs.raw_call(IDENTITY, "ReserveNow", {"connectorId": 2, "expiryDate": iso_in(3),
                                                "idTag": RESERVED_CARD, "reservationId": 7})[1] == {"status": "Accepted"}
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 2 and p["status"] == "Reserved")
    evsed.wait_log("reservation 7 ended: expired", timeout=10)
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 2 and p["status"] == "Available", timeout=10)
    assert cs.raw_call(IDENTITY, "CancelReservation", {"reservationId": 7})[1] == {"status": "Rejected"}

    assert cs.raw_call(IDENTITY, "ReserveNow", {"connectorId": 2, "expiryDate": iso_in(120),
                                                "idTag": RESERVED_CARD, "reservationId": 8})[1] == {"status": "Accepted"}
    assert cs.raw_call(IDENTITY, "CancelReservation", {"reservationId": 8})[1] == {"status": "Accepted"}
    evsed.wait_log("reservation 8 ended: cancelled", timeout=10)


def test_an_emptied_list_reports_version_0(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert send_list(cs, 3, "Full", [entry(LIST_CARD), entry(OTHER_CARD)]) == "Accepted"
    assert list_version(cs) == 3
    # "If the list is empty, the version shall be 0" (GetLocalListVersion): a Full update without entries...
    assert send_list(cs, 4, "Full", []) == "Accepted"
    assert list_version(cs) == 0
    # ...from which any differential version goes again...
    assert send_list(cs, 1, "Differential", [entry(LIST_CARD)]) == "Accepted"
    assert list_version(cs) == 1
    # ...and a differential update that removes the last entry.
    assert send_list(cs, 2, "Differential", [{"idTag": LIST_CARD}]) == "Accepted"
    assert list_version(cs) == 0
