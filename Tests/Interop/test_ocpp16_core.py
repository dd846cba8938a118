"""OCPP 1.6J Core profile end to end: evse-sim + evsed as processes, a CSMS on the `ocpp` package."""
import statistics
import time

from ocpp.v16 import call
from ocpp.v16.enums import RegistrationStatus

from ocpp16_support import (CARD, IDENTITY, boot_accepted, c1, csms, data_dir, journal_session,  # noqa: F401 (fixtures)
                            meter_read_by_evsed, present_card, remote_start_on_connector_1, station, wait_for)


def test_cold_boot_accepted_and_get_configuration_latency(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    boot = cs.received("BootNotification")[0][2]
    assert boot["chargePointVendor"] == "SwiftEVSE"
    statuses = cs.received("StatusNotification")
    assert [p["connectorId"] for (_, _, p) in statuses[:3]] == [0, 1, 2]
    assert all(p["status"] == "Available" and p["errorCode"] == "NoError" for (_, _, p) in statuses[:3])

    assert cs.call(IDENTITY, call.ChangeConfiguration(key="HeartbeatInterval", value="1")).status == "Accepted"
    cs.wait_for("Heartbeat", count=2, timeout=5)

    seconds = []
    for _ in range(50):
        response, s = cs.timed_raw_call(IDENTITY, "GetConfiguration", {"key": ["HeartbeatInterval"]})
        assert response.message_type_id == 3
        assert response.payload["configurationKey"][0]["key"] == "HeartbeatInterval"
        seconds.append(s)
    median_ms = statistics.median(seconds) * 1000
    print(f"\nGetConfiguration answered, median as seen by the CSMS: {median_ms:.2f} ms "
          f"(min {min(seconds) * 1000:.2f}, max {max(seconds) * 1000:.2f}, n={len(seconds)})")
    assert median_ms < 100


def test_pending_then_accepted_nothing_but_boot_before(sim, station, csms):
    cs = csms(boot_answers=[(RegistrationStatus.pending, 2), (RegistrationStatus.accepted, 300)])
    evsed = station(cs.url)
    cs.wait_for("BootNotification")
    # The CSMS may talk to a pending charge point.
    kind, answer = cs.raw_call(IDENTITY, "GetConfiguration", {"key": ["NumberOfConnectors"]})
    assert kind == 3 and answer["configurationKey"][0]["value"] == "2"
    cs.wait_for("BootNotification", count=2, timeout=10)
    cs.wait_for("StatusNotification", count=3)
    boots = [t for (t, _, _) in cs.received("BootNotification")]
    assert boots[1] - boots[0] >= 1.8, "the second boot respects the Pending interval"
    first_other = min(t for (t, a, _) in cs.received() if a != "BootNotification")
    assert first_other >= boots[1], "nothing but BootNotification before Accepted"


def test_rejected_then_accepted(sim, station, csms):
    cs = csms(boot_answers=[(RegistrationStatus.rejected, 2), (RegistrationStatus.accepted, 300)])
    evsed = station(cs.url)
    cs.wait_for("BootNotification", count=2, timeout=10)
    cs.wait_for("StatusNotification", count=3)
    boots = [t for (t, _, _) in cs.received("BootNotification")]
    assert boots[1] - boots[0] >= 1.8
    assert min(t for (t, a, _) in cs.received() if a != "BootNotification") >= boots[1]


def test_session_by_local_card_with_meter_values(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="MeterValueSampleInterval", value="1")).status == "Accepted"

    e0 = c1(sim)["meter"]["energy_wh"]
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    assert cs.wait_for("Authorize")[0]["idTag"] == CARD
    start = cs.wait_for("StartTransaction")[0]
    assert start["connectorId"] == 1 and start["idTag"] == CARD
    assert abs(start["meterStart"] - e0) <= 1
    tx = start["assignedTransactionId"]

    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e0 + 5, timeout=20, what="energy counted")
    mv = cs.wait_for("MeterValues", timeout=10, where=lambda p: p.get("transactionId") == tx)[0]
    sampled = mv["meterValue"][0]["sampled_value"]
    assert any(s.get("measurand") == "Energy.Active.Import.Register" and s.get("unit") == "Wh" for s in sampled)

    wait_for(lambda: meter_read_by_evsed(evsed) >= e0 + 5, timeout=10, what="evsed read the energy")
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    evsed.wait_log(r"c1: session .* ended \(EVDisconnected\)", start=mark)
    stop = cs.wait_for("StopTransaction")[0]
    e1 = c1(sim)["meter"]["energy_wh"]
    assert stop["transactionId"] == tx and stop["reason"] == "EVDisconnected"
    assert stop["meterStop"] >= start["meterStart"] + 5
    assert stop["meterStop"] <= e1 + 1
    row = journal_session(data_dir(evsed))
    assert stop["meterStop"] == round(row["meter_stop_wh"]) and start["meterStart"] == round(row["meter_start_wh"])
    # The charging connector's status changes were reported.
    reported = [p["status"] for (_, _, p) in cs.received("StatusNotification") if p["connectorId"] == 1]
    assert "Preparing" in reported and "Charging" in reported
    # MeterValues of the transaction came between its start and its stop.
    order = [a for (_, a, p) in cs.received() if a in ("StartTransaction", "StopTransaction")
             or (a == "MeterValues" and p.get("transactionId") == tx)]
    assert order[0] == "StartTransaction" and order[-1] == "StopTransaction"
    assert order.count("StopTransaction") == 1


def test_remote_start_and_remote_stop(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert cs.call(IDENTITY, call.RemoteStartTransaction(id_tag="REMOTE1", connector_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    start = cs.wait_for("StartTransaction")[0]
    assert start["idTag"] == "REMOTE1" and start["connectorId"] == 1
    tx = start["assignedTransactionId"]
    # A second remote start on the busy connector is refused.
    assert cs.call(IDENTITY, call.RemoteStartTransaction(id_tag="REMOTE2", connector_id=1)).status == "Rejected"
    assert cs.call(IDENTITY, call.RemoteStopTransaction(transaction_id=tx + 1000)).status == "Rejected"
    assert cs.call(IDENTITY, call.RemoteStopTransaction(transaction_id=tx)).status == "Accepted"
    stop = cs.wait_for("StopTransaction")[0]
    assert stop["transactionId"] == tx and stop["reason"] == "Remote"


def test_configuration_unknown_action_and_malformed_payloads(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="HeartbeatInterval", value="42")).status == "Accepted"
    got = cs.call(IDENTITY, call.GetConfiguration(key=["HeartbeatInterval", "NoSuchKey"]))
    assert got.configuration_key == [{"key": "HeartbeatInterval", "readonly": False, "value": "42"}]
    assert got.unknown_key == ["NoSuchKey"]
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="HeartbeatInterval", value="soon")).status == "Rejected"
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="NumberOfConnectors", value="3")).status == "Rejected"
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="NoSuchKey", value="1")).status == "NotSupported"
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="WebSocketPingInterval", value="30")).status == "Accepted"
    everything = cs.call(IDENTITY, call.GetConfiguration())
    names = {k["key"] for k in everything.configuration_key}
    assert {"HeartbeatInterval", "MeterValueSampleInterval", "TransactionMessageAttempts",
            "SupportedFeatureProfiles", "NumberOfConnectors"} <= names

    assert cs.raw_call(IDENTITY, "NoSuchAction", {})[1][0] == "NotImplemented"
    assert cs.raw_call(IDENTITY, "ChangeConfiguration", {"key": 5, "value": "1"})[1][0] == "TypeConstraintViolation"
    assert cs.raw_call(IDENTITY, "ChangeConfiguration", {"key": "HeartbeatInterval"})[1][0] == "OccurenceConstraintViolation"
    assert cs.raw_call(IDENTITY, "Reset", {"type": "Sideways"})[1][0] == "PropertyConstraintViolation"
    assert cs.raw_call(IDENTITY, "ClearCache", {"extra": 1})[1][0] == "FormationViolation"
    assert cs.raw_call(IDENTITY, "DataTransfer", {"vendorId": "acme"})[1]["status"] == "UnknownVendorId"
    # Still alive and answering after all that.
    assert cs.call(IDENTITY, call.GetConfiguration(key=["HeartbeatInterval"])).configuration_key[0]["value"] == "42"


def test_offline_session_delivered_in_order_once_after_reconnect(sim, station, csms):
    cs = csms()
    port = cs.port
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    cs.stop()  # the CSMS goes away; the charger goes on alone

    e0 = c1(sim)["meter"]["energy_wh"]
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    evsed.wait_log(r"c1: session .* started by " + CARD, start=mark)
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e0 + 3, timeout=20, what="energy counted offline")
    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    evsed.wait_log(r"c1: session .* ended \(EVDisconnected\)", start=mark)

    back = csms(port=port)
    start = back.wait_for("StartTransaction", timeout=30)[0]
    stop = back.wait_for("StopTransaction", timeout=15)[0]
    assert start["idTag"] == CARD and abs(start["meterStart"] - e0) <= 1
    assert stop["transactionId"] == start["assignedTransactionId"], "the offline transaction's id is mapped"
    order = [a for (_, a, _) in back.received() if a in ("StartTransaction", "StopTransaction")]
    assert order == ["StartTransaction", "StopTransaction"]
    time.sleep(2)  # nothing is sent twice
    assert len(back.received("StartTransaction")) == 1 and len(back.received("StopTransaction")) == 1


def test_soft_reset_ends_the_session_then_restarts_and_boots_again(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    start = remote_start_on_connector_1(cs, sim)
    pid = evsed.proc.pid
    assert cs.call(IDENTITY, call.Reset(type="Soft")).status == "Accepted"
    stop = cs.wait_for("StopTransaction")[0]
    assert stop["transactionId"] == start["assignedTransactionId"] and stop["reason"] == "SoftReset"
    cs.wait_for("BootNotification", count=2, timeout=20)
    assert cs.received("StopTransaction")[0][0] < cs.received("BootNotification")[1][0], \
        "a soft reset delivers the stop before it restarts"
    assert evsed.proc.pid == pid and evsed.proc.poll() is None, "restarted in place"
    time.sleep(1)
    assert len(cs.received("StopTransaction")) == 1, "no second StopTransaction after the restart"


def test_remote_start_cable_first_and_availability_scheduled_while_charging(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 1 and p["status"] == "Preparing")
    assert cs.call(IDENTITY, call.RemoteStartTransaction(id_tag="REMOTE1")).status == "Accepted"
    start = cs.wait_for("StartTransaction")[0]
    assert start["connectorId"] == 1 and start["idTag"] == "REMOTE1"

    # Busy connector: the change waits for the session's end; the idle one changes now.
    assert cs.call(IDENTITY, call.ChangeAvailability(connector_id=1, type="Inoperative")).status == "Scheduled"
    assert cs.call(IDENTITY, call.ChangeAvailability(connector_id=2, type="Inoperative")).status == "Accepted"
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 2 and p["status"] == "Unavailable")
    assert cs.call(IDENTITY, call.ChangeAvailability(connector_id=9, type="Inoperative")).status == "Rejected"

    assert cs.call(IDENTITY, call.UnlockConnector(connector_id=1)).status == "Unlocked"
    stop = cs.wait_for("StopTransaction")[0]
    assert stop["transactionId"] == start["assignedTransactionId"] and stop["reason"] == "UnlockCommand"
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 1 and p["status"] == "Unavailable",
                timeout=15)


def test_kill_minus_9_during_an_offline_session_then_reconnect_delivers_each_message_once(sim, station, csms):
    cs = csms()
    port = cs.port
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    cs.stop()

    e0 = c1(sim)["meter"]["energy_wh"]
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    evsed.wait_log(r"c1: session .* started by " + CARD, start=mark)
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: meter_read_by_evsed(evsed) >= e0 + 3, timeout=20, what="energy read offline")
    evsed.kill9()

    back = csms(port=port)
    again = station(back.url)  # same data directory: the session resumes, the queue is there
    start = back.wait_for("StartTransaction", timeout=30)[0]
    assert start["idTag"] == CARD and abs(start["meterStart"] - e0) <= 1
    mark = len(again.log())
    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    again.wait_log(r"c1: session .* ended", start=mark)
    stop = back.wait_for("StopTransaction", timeout=15)[0]
    assert stop["transactionId"] == start["assignedTransactionId"]
    assert stop["meterStop"] >= start["meterStart"] + 3
    time.sleep(2)
    assert len(back.received("StartTransaction")) == 1 and len(back.received("StopTransaction")) == 1


def test_card_refused_by_the_csms_starts_nothing(sim, station, csms):
    cs = csms()
    cs.unknown_tags.add(CARD)
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    assert cs.wait_for("Authorize")[0]["idTag"] == CARD
    evsed.wait_log(f"{CARD} refused", start=mark)
    time.sleep(1)
    assert cs.received("StartTransaction") == []
    assert not c1(sim)["contactor"]["closed"]


def test_offline_a_card_whose_cached_authorization_expired_is_refused(sim, station, csms):
    card = "12345678"  # not in the demo list: the cache decides for it offline
    cs = csms()
    cs.expires_in[card] = 8  # Authorize and StartTransaction answer Accepted, valid for 8 s from then
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, card=card, start=mark)
    start = cs.wait_for("StartTransaction")[0]
    assert start["idTag"] == card
    assert sim.post("/api/connectors/1/unplug", {"force": True})[0] == 200
    cs.wait_for("StopTransaction")
    expired_after = time.monotonic() + 8
    cs.stop()  # offline: the authorization cache decides

    wait_for(lambda: time.monotonic() > expired_after + 1, timeout=30, what="the cached entry's expiry has passed")
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, card=card, start=mark)
    evsed.wait_log(f"card {card}: expired by cache", start=mark)
    evsed.wait_log(f"{card} refused", start=mark)
    time.sleep(1)
    assert all(f"started by {card}" not in line for line in evsed.log()[mark:])
    assert not c1(sim)["contactor"]["closed"]


def test_change_availability_of_connector_0_reports_connector_0_once_each_way(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)

    def reported(since):
        return [(p["connectorId"], p["status"]) for (_, _, p) in cs.received("StatusNotification")[since:]]

    before = len(cs.received("StatusNotification"))
    assert cs.call(IDENTITY, call.ChangeAvailability(connector_id=0, type="Inoperative")).status == "Accepted"
    wait_for(lambda: {(1, "Unavailable"), (2, "Unavailable"), (0, "Unavailable")} <= set(reported(before)),
             timeout=15, what="connectors 1, 2 and 0 Unavailable")
    off = reported(before)
    assert off.count((0, "Unavailable")) == 1
    assert off.index((0, "Unavailable")) > max(off.index((1, "Unavailable")), off.index((2, "Unavailable"))), \
        "connector 0 turns Unavailable with the last connector"

    before = len(cs.received("StatusNotification"))
    assert cs.call(IDENTITY, call.ChangeAvailability(connector_id=0, type="Operative")).status == "Accepted"
    wait_for(lambda: {(1, "Available"), (2, "Available"), (0, "Available")} <= set(reported(before)),
             timeout=15, what="connectors 1, 2 and 0 Available")
    on = reported(before)
    assert on.count((0, "Available")) == 1
    assert on.index((0, "Available")) > min(on.index((1, "Available")), on.index((2, "Available"))), \
        "connector 0 is Available again with the first connector"
