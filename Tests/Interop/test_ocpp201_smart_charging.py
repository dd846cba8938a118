"""OCPP 2.0.1 smart charging (K) end to end: a limit the CSMS sets reaches the PWM duty the
simulated EV sees; GetCompositeSchedule and GetChargingProfiles report it; a RequestStartTransaction
with a TxProfile limits its transaction. evse-sim + evsed as processes, a CSMS on the `ocpp`
package's v201 classes."""
from ocpp.v201 import call

from ocpp201_support import IDENTITY, boot_accepted, connector, csms, station, wait_for  # noqa: F401 (fixtures)


def offered(sim, cid=1):
    return connector(sim, cid)["pilot"]["offered_current_a"]


def wait_offered(sim, amps, timeout=20.0):
    wait_for(lambda: abs(offered(sim) - amps) < 0.5, timeout=timeout,
             what=f"{amps} A offered (now {offered(sim)} A, duty {connector(sim)['pilot']['duty_percent']} %)")
    assert abs(connector(sim)["pilot"]["duty_percent"] - amps / 0.6) < 1.0  # IEC 61851-1: 6-51 A → A / 0.6


def profile(pid, purpose, amps, stack_level=0, transaction_id=None):
    p = {"id": pid, "stack_level": stack_level, "charging_profile_purpose": purpose, "charging_profile_kind": "Relative",
         "charging_schedule": [{"id": 1, "charging_rate_unit": "A", "charging_schedule_period": [{"start_period": 0, "limit": amps}]}]}
    if transaction_id is not None:
        p["transaction_id"] = transaction_id
    return p


def test_profiles_change_the_pwm_duty_and_are_reported(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    assert cs.call(IDENTITY, call.SetChargingProfile(evse_id=1, charging_profile=profile(1, "TxProfile", 16))).status == "Rejected"
    assert cs.call(IDENTITY, call.SetChargingProfile(evse_id=0, charging_profile=profile(2, "TxDefaultProfile", 10))).status == "Accepted"

    assert cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": "K-1", "type": "Central"},
                                                          remote_start_id=1, evse_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    tx = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]["transactionInfo"]["transactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: connector(sim)["contactor"]["closed"], what="contactor closed")
    wait_offered(sim, 10)

    assert cs.call(IDENTITY, call.SetChargingProfile(evse_id=1, charging_profile=profile(3, "TxProfile", 16, 1, "other"))).status == "Rejected"
    assert cs.call(IDENTITY, call.SetChargingProfile(evse_id=1, charging_profile=profile(3, "TxProfile", 16, 1, tx))).status == "Accepted"
    wait_offered(sim, 16)
    composite = cs.call(IDENTITY, call.GetCompositeSchedule(duration=600, evse_id=1, charging_rate_unit="A"))
    assert composite.status == "Accepted" and composite.schedule["charging_schedule_period"][0]["limit"] == 16
    assert cs.call(IDENTITY, call.GetChargingProfiles(request_id=9, charging_profile={})).status == "Accepted"
    reports = cs.wait_for("ReportChargingProfiles", count=2)
    assert sorted(r["evseId"] for r in reports) == [0, 1] and all(r["requestId"] == 9 for r in reports)

    assert cs.call(IDENTITY, call.ClearChargingProfile(charging_profile_criteria={"charging_profile_purpose": "TxProfile"})).status == "Accepted"
    wait_offered(sim, 10)
    assert cs.call(IDENTITY, call.ClearChargingProfile(charging_profile_id=3)).status == "Unknown"


def test_a_remote_start_with_a_tx_profile_limits_its_transaction(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    assert cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": "K-2", "type": "Central"}, remote_start_id=2,
                                                          evse_id=1, charging_profile=profile(7, "TxProfile", 8))).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: connector(sim)["contactor"]["closed"], what="contactor closed")
    wait_offered(sim, 8)


def test_a_one_phase_schedule_moves_a_three_phase_ev_to_one_phase_and_the_csms_sees_it(sim, station, csms):
    """Issue 13 on 2.0.1: a TxProfile period with numberPhases 1 pauses the EV, opens the
    contactor, switches the relay and resumes on L1; the periodic TransactionEvents go from
    numberOfPhasesUsed 3 to 1.
    A period with phaseToUse is refused: the relay goes between three phases and L1 only."""
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    phases3to1 = cs.call(IDENTITY, call.GetVariables(get_variable_data=[
        {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "Phases3to1"}},
        {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "ACPhaseSwitchingSupported"}}]))
    assert [r["attribute_value"] for r in phases3to1.get_variable_result] == ["true", "false"]
    interval = cs.call(IDENTITY, call.SetVariables(set_variable_data=[
        {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}, "attribute_value": "1"}]))
    assert interval.set_variable_result[0]["attribute_status"] == "Accepted"

    assert sim.post("/api/connectors/1/plug", {"cable_a": 32, "ev": {"max_current_a": 32, "phases": 3}})[0] == 200
    assert cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": "K-3", "type": "Central"},
                                                          remote_start_id=3, evse_id=1)).status == "Accepted"
    tx = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]["transactionInfo"]["transactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: min(connector(sim)["meter"]["current_a"]) > 31, timeout=20, what="32 A on three phases")
    cs.wait_for("TransactionEvent", timeout=10, where=lambda e: e.get("numberOfPhasesUsed") == 3)

    def one_phase(pid, **period):
        p = profile(pid, "TxProfile", 16, 1, tx)
        p["charging_schedule"][0]["charging_schedule_period"][0].update(period)
        return p
    refused = cs.call(IDENTITY, call.SetChargingProfile(evse_id=1, charging_profile=one_phase(4, number_phases=1, phase_to_use=2)))
    assert refused.status == "Rejected" and refused.status_info["reason_code"] == "UnsupportedParam"
    assert connector(sim)["phases_switched"] == 3, "a refused profile changes nothing"

    assert cs.call(IDENTITY, call.SetChargingProfile(evse_id=1, charging_profile=one_phase(5, number_phases=1))).status == "Accepted"
    wait_for(lambda: connector(sim)["phases_switched"] == 1, timeout=30, what="the relay on one phase")
    wait_for(lambda: connector(sim)["contactor"]["closed"] and connector(sim)["meter"]["current_a"][0] > 15,
             timeout=30, what="charging again on L1")
    c1 = connector(sim)
    assert c1["meter"]["current_a"][1:] == [0, 0] and abs(c1["meter"]["current_a"][0] - 16) < 1, c1["meter"]

    cs.wait_for("TransactionEvent", timeout=10, where=lambda e: e.get("numberOfPhasesUsed") == 1)


def test_data_transfer_switches_the_charging_mode_as_under_ocpp16(sim, station, csms):
    """The org.swiftevse SetChargingMode extension works the same under 2.0.1 (data is JSON
    there, so a string or {"mode": ...}); the mode is kept across a restart."""
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs)

    def set_mode(data, vendor="org.swiftevse", message_id="SetChargingMode"):
        return cs.call(IDENTITY, call.DataTransfer(vendor_id=vendor, message_id=message_id, data=data))

    mark = len(evsed.log())
    answer = set_mode("pv")
    assert answer.status == "Accepted" and answer.data == "pv"
    evsed.wait_log(r"energy: charging mode fast → pv", start=mark)
    assert set_mode({"mode": "min+pv"}).status == "Accepted"
    evsed.wait_log(r"energy: charging mode pv → min\+pv", start=mark)
    assert set_mode("turbo").status == "Rejected"
    assert set_mode("pv", message_id="Nope").status == "UnknownMessageId"
    assert set_mode("pv", vendor="com.example").status == "UnknownVendorId"
    evsed.stop()
    restarted = station(cs.url)
    restarted.wait_log(r"energy: grid meter .* mode min\+pv")


def test_the_stations_own_load_sharing_is_a_charging_limit_the_csms_hears_of(sim, station, csms):
    """K: two EVs share the 50 A connection at 25 A each, below their 32 A: NotifyChargingLimit
    (source EMS) for each EVSE; when one leaves, the other's limit is cleared."""
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    for evse in (1, 2):
        assert cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": f"K-SHARE-{evse}", "type": "Central"},
                                                              remote_start_id=10 + evse, evse_id=evse)).status == "Accepted"
        assert sim.post(f"/api/connectors/{evse}/plug")[0] == 200
        assert sim.post(f"/api/connectors/{evse}/ev-state", {"state": "C"})[0] == 200
        wait_for(lambda: connector(sim, evse)["contactor"]["closed"], what=f"connector {evse} charging")
    notes = {}
    wait_for(lambda: notes.update({n["evseId"]: n for n in cs.received("NotifyChargingLimit")}) or len(notes) == 2,
             timeout=30, what="NotifyChargingLimit for both EVSEs")
    for evse, note in notes.items():
        assert note["chargingLimit"]["chargingLimitSource"] == "EMS", note
        assert offered(sim, evse) < 32
    assert cs.received("ClearedChargingLimit") == []
    assert sim.post("/api/connectors/2/unplug", {"side": "ev"})[0] == 200
    cleared = cs.wait_for("ClearedChargingLimit", where=lambda p: p.get("evseId") == 1, timeout=30)[0]
    assert cleared["chargingLimitSource"] == "EMS"
    wait_offered(sim, 32)
