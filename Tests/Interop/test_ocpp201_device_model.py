"""The OCPP 2.0.1 device model end to end: GetVariables and SetVariables with every status,
a setting taking effect and surviving a restart, paged reports, a 1.6 → 2.0.1 switch keeping the
operator's settings, and a threshold monitor on EVSE Power raising NotifyEvent on real readings.
evse-sim and evsed as processes, a CSMS on the `ocpp` package's v201 classes."""
import time

from ocpp.v16 import call as call16

from ocpp201_support import CARD, IDENTITY, boot_accepted, c1, csms, present_card, station, wait_for  # noqa: F401 (fixtures)


def item(component, variable, evse=None, **kw):
    c = {"name": component}
    if evse is not None:
        c["evse"] = {"id": evse}
    return {"component": c, "variable": {"name": variable}, **kw}


def get(cs, *items):
    kind, answer = cs.raw_call(IDENTITY, "GetVariables", {"getVariableData": list(items)})
    assert kind == 3, answer
    return answer["getVariableResult"]


def set_(cs, *items):
    kind, answer = cs.raw_call(IDENTITY, "SetVariables", {"setVariableData": list(items)})
    assert kind == 3, answer
    return answer["setVariableResult"]


def test_get_variables_answers_every_status(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    results = get(cs, item("OCPPCommCtrlr", "HeartbeatInterval"), item("NoSuchCtrlr", "Enabled"),
                  item("OCPPCommCtrlr", "NoSuchVariable"),
                  item("OCPPCommCtrlr", "HeartbeatInterval", attributeType="MaxSet"),
                  item("SecurityCtrlr", "BasicAuthPassword"), item("EVSE", "AvailabilityState", evse=1))
    assert [r["attributeStatus"] for r in results] == [
        "Accepted", "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType", "Rejected", "Accepted"]
    assert results[0]["attributeValue"] == "300"  # the BootNotification answer's interval
    assert "attributeValue" not in results[4], "a write-only value is never read back"
    assert results[5]["attributeValue"] == "Available"
    # More items than ItemsPerMessage[GetVariables] (50): the whole CALL is refused.
    kind, error = cs.raw_call(IDENTITY, "GetVariables", {"getVariableData": [item("OCPPCommCtrlr", "HeartbeatInterval")] * 51})
    assert kind == 4 and error[0] == "OccurrenceConstraintViolation"


def test_set_heartbeat_interval_takes_effect_and_bad_values_change_nothing(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    results = set_(cs, item("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="2"),
                   item("ChargingStation", "Model", attributeValue="Other"),
                   item("TxCtrlr", "EVConnectionTimeOut", attributeValue="999999"),
                   item("TxCtrlr", "TxStartPoint", attributeValue="ParkingBayOccupancy"))
    assert [r["attributeStatus"] for r in results] == ["Accepted", "Rejected", "Rejected", "Rejected"]
    assert all(r.get("attributeStatusInfo", {}).get("reasonCode") for r in results[1:])
    assert [r["attributeValue"] for r in get(cs, item("TxCtrlr", "EVConnectionTimeOut"), item("TxCtrlr", "TxStartPoint"))] == [
        "60", "PowerPathClosed"]
    first = len(cs.received("Heartbeat"))
    cs.wait_for("Heartbeat", count=first + 3, timeout=10)
    times = [t for (t, _, a, _) in cs.messages if a == "Heartbeat"][first:first + 3]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(1.5 <= g <= 3.0 for g in gaps), f"heartbeats every 2 s, gaps {gaps}"


def test_a_setting_survives_a_restart(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs)
    assert set_(cs, item("TxCtrlr", "EVConnectionTimeOut", attributeValue="123"))[0]["attributeStatus"] == "Accepted"
    evsed.stop()
    station(cs.url)
    cs.wait_for("BootNotification", count=2)
    cs.wait_for("StatusNotification", count=4)
    assert get(cs, item("TxCtrlr", "EVConnectionTimeOut"))[0]["attributeValue"] == "123"


def test_base_reports_are_paged_after_the_answer(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    kind, answer = cs.raw_call(IDENTITY, "GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"})
    assert kind == 3 and answer["status"] == "Accepted"
    cs.wait_for("NotifyReport", where=lambda p: p["requestId"] == 7 and not p.get("tbc", False))
    pages = [p for p in cs.received("NotifyReport") if p["requestId"] == 7]
    assert len(pages) >= 2
    assert [p["seqNo"] for p in pages] == list(range(len(pages)))
    assert all(p["tbc"] for p in pages[:-1]) and not pages[-1].get("tbc", False)
    assert all(len(p["reportData"]) <= 100 for p in pages)  # ItemsPerMessage[GetReport]
    reported = [(d["component"]["name"], d["variable"]["name"]) for p in pages for d in p["reportData"]]
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in reported and ("EVSE", "Power") in reported
    password = next(d for p in pages for d in p["reportData"] if d["variable"]["name"] == "BasicAuthPassword")
    assert all("value" not in a for a in password["variableAttribute"]), "a write-only value is not reported"

    kind, answer = cs.raw_call(IDENTITY, "GetBaseReport", {"requestId": 8, "reportBase": "ConfigurationInventory"})
    assert kind == 3 and answer["status"] == "Accepted"
    cs.wait_for("NotifyReport", where=lambda p: p["requestId"] == 8 and not p.get("tbc", False))
    data = [d for p in cs.received("NotifyReport") if p["requestId"] == 8 for d in p["reportData"]]
    assert data and all(any(a.get("mutability", "ReadWrite") != "ReadOnly" for a in d["variableAttribute"]) for d in data)
    assert ("ChargingStation", "Model") not in [(d["component"]["name"], d["variable"]["name"]) for d in data]

    kind, answer = cs.raw_call(IDENTITY, "GetBaseReport", {"requestId": 11, "reportBase": "SummaryInventory"})
    assert kind == 3 and answer["status"] == "Accepted"
    cs.wait_for("NotifyReport", where=lambda p: p["requestId"] == 11 and not p.get("tbc", False))
    summary = {(d["component"]["name"], d["component"].get("evse", {}).get("id"), d["variable"]["name"]):
               d["variableAttribute"][0].get("value")
               for p in cs.received("NotifyReport") if p["requestId"] == 11 for d in p["reportData"]}
    assert summary[("EVSE", 1, "AvailabilityState")] == "Available" and summary[("EVSE", 2, "AvailabilityState")] == "Available"
    assert ("OCPPCommCtrlr", None, "HeartbeatInterval") not in summary


def test_get_report_with_a_criterion_and_a_component(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    kind, answer = cs.raw_call(IDENTITY, "GetReport", {"requestId": 9, "componentCriteria": ["Available"],
                                                        "componentVariable": [{"component": {"name": "SampledDataCtrlr"}}]})
    assert kind == 3 and answer["status"] == "Accepted"
    pages = cs.wait_for("NotifyReport", where=lambda p: p["requestId"] == 9 and not p.get("tbc", False))
    data = [d for p in cs.received("NotifyReport") if p["requestId"] == 9 for d in p["reportData"]]
    assert pages and data and {d["component"]["name"] for d in data} == {"SampledDataCtrlr"}
    kind, answer = cs.raw_call(IDENTITY, "GetReport", {"requestId": 10, "componentVariable": [{"component": {"name": "NoSuchCtrlr"}}]})
    assert kind == 3 and answer["status"] == "EmptyResultSet"


def test_a_switch_from_16_keeps_the_heartbeat_interval(sim, station, csms):
    old = csms.v16()
    evsed = station(old.url, version="1.6")
    old.wait_for("BootNotification")
    assert old.call(IDENTITY, call16.ChangeConfiguration(key="HeartbeatInterval", value="77")).status == "Accepted"
    evsed.stop()
    old.stop()
    new = csms(boot_answers=[("Accepted", 0)])  # no interval of its own: the station keeps its setting
    station(new.url, version="2.0.1")
    boot_accepted(new)
    assert get(new, item("OCPPCommCtrlr", "HeartbeatInterval"))[0]["attributeValue"] == "77"


def test_a_threshold_monitor_on_evse_power_raises_notify_event_when_charging_starts(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs)
    kind, answer = cs.raw_call(IDENTITY, "SetVariableMonitoring", {"setMonitoringData": [
        {"value": 1000, "type": "UpperThreshold", "severity": 5,
         "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}]})
    assert kind == 3 and answer["setMonitoringResult"][0]["status"] == "Accepted", answer
    time.sleep(1.5)
    assert cs.received("NotifyEvent") == [], "no event while idle"
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    event = cs.wait_for("NotifyEvent", timeout=20)[0]["eventData"][0]
    assert event["trigger"] == "Alerting" and event["component"] == {"name": "EVSE", "evse": {"id": 1}}
    assert event["variable"]["name"] == "Power" and float(event["actualValue"]) > 1000
    kind, answer = cs.raw_call(IDENTITY, "GetMonitoringReport", {"requestId": 3})
    assert kind == 3 and answer["status"] == "Accepted"
    cs.wait_for("NotifyMonitoringReport")
