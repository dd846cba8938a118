"""OCPP 2.0.1 metering (block J) and monitoring basics end to end: sampled meter values in
TransactionEvent Updated (MeterValuePeriodic), clock-aligned ones (MeterValueClock during a
transaction, MeterValues outside one), TxEnded data; SetMonitoringBase, SetMonitoringLevel,
ClearVariableMonitoring and the monitoring report. evse-sim + evsed as processes, a CSMS on
the `ocpp` package's v201 classes."""
from ocpp201_support import (IDENTITY, boot_accepted, c1, csms, present_card, station,  # noqa: F401 (fixtures)
                             wait_for)


def set_variables(cs, *triples):
    kind, answer = cs.raw_call(IDENTITY, "SetVariables", {"setVariableData": [
        {"component": {"name": c}, "variable": {"name": v}, "attributeValue": value} for c, v, value in triples]})
    assert kind == 3, answer
    assert [r["attributeStatus"] for r in answer["setVariableResult"]] == ["Accepted"] * len(triples), answer


def measurands(meter_value):
    return {(s.get("measurand", "Energy.Active.Import.Register"), s.get("phase")) for s in meter_value["sampledValue"]}


def test_sampled_and_clock_aligned_meter_values_with_the_measurands_asked_for(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs)
    wanted = "Energy.Active.Import.Register,Power.Active.Import,Current.Import"
    set_variables(cs, ("SampledDataCtrlr", "TxUpdatedInterval", "1"),
                  ("SampledDataCtrlr", "TxUpdatedMeasurands", wanted),
                  ("AlignedDataCtrlr", "Interval", "2"),
                  ("AlignedDataCtrlr", "Measurands", "Energy.Active.Import.Register"))
    # Outside a transaction the aligned value is a MeterValues message of the EVSE.
    idle = cs.wait_for("MeterValues", timeout=10)[0]
    assert idle["evseId"] in (1, 2)
    assert idle["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"

    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    tx = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]["transactionInfo"]["transactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="charging")

    def periodic_with_power(e):
        return (e["triggerReason"] == "MeterValuePeriodic" and e["transactionInfo"]["transactionId"] == tx
                and any(s.get("measurand") == "Power.Active.Import" and s["value"] > 1000
                        for mv in e.get("meterValue", []) for s in mv["sampledValue"]))
    sampled = cs.wait_for("TransactionEvent", timeout=15, where=periodic_with_power)[0]
    got = measurands(sampled["meterValue"][0])
    assert ("Energy.Active.Import.Register", None) in got and ("Power.Active.Import", None) in got
    assert {("Current.Import", p) for p in ("L1", "L2", "L3")} <= got, got
    assert all(s["context"] == "Sample.Periodic" for s in sampled["meterValue"][0]["sampledValue"])

    clock = cs.wait_for("TransactionEvent", timeout=10,
                        where=lambda e: e["triggerReason"] == "MeterValueClock" and e["transactionInfo"]["transactionId"] == tx)[0]
    assert clock["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
    assert measurands(clock["meterValue"][0]) == {("Energy.Active.Import.Register", None)}, "the aligned measurands only"

    energies = [s["value"] for e in cs.received("TransactionEvent") if e["transactionInfo"]["transactionId"] == tx
                for mv in e.get("meterValue", []) for s in mv["sampledValue"]
                if s.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"]
    assert energies == sorted(energies), "the register never goes back"

    mark = len(evsed.log())
    present_card(sim, evsed, start=mark)
    ended = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")[0]
    contexts = [mv["sampledValue"][0]["context"] for mv in ended["meterValue"]]
    assert contexts == ["Transaction.Begin", "Transaction.End"]
    begin, end = (mv["sampledValue"][0]["value"] for mv in ended["meterValue"])
    assert end > begin, "energy was billed"


def test_monitoring_base_level_and_clearing_a_monitor(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    for base in ("All", "FactoryDefault", "HardWiredOnly"):
        kind, answer = cs.raw_call(IDENTITY, "SetMonitoringBase", {"monitoringBase": base})
        assert kind == 3 and answer["status"] == "Accepted", (base, answer)
    kind, answer = cs.raw_call(IDENTITY, "SetMonitoringLevel", {"severity": 9})
    assert kind == 3 and answer["status"] == "Accepted", answer
    kind, answer = cs.raw_call(IDENTITY, "SetMonitoringLevel", {"severity": 10})
    assert kind == 4 or answer["status"] == "Rejected", "severity runs 0–9"

    kind, answer = cs.raw_call(IDENTITY, "SetVariableMonitoring", {"setMonitoringData": [
        {"value": 500, "type": "Delta", "severity": 4, "component": {"name": "EVSE", "evse": {"id": 2}},
         "variable": {"name": "Power"}}]})
    assert kind == 3 and answer["setMonitoringResult"][0]["status"] == "Accepted", answer
    monitor_id = answer["setMonitoringResult"][0]["id"]

    def reported_ids(request_id):
        kind, answer = cs.raw_call(IDENTITY, "GetMonitoringReport", {"requestId": request_id})
        assert kind == 3, answer
        if answer["status"] == "EmptyResultSet":
            return set()
        assert answer["status"] == "Accepted", answer
        pages = cs.wait_for("NotifyMonitoringReport", where=lambda r: r["requestId"] == request_id)
        return {m["id"] for p in pages for d in p.get("monitor", []) for m in d["variableMonitoring"]}
    assert monitor_id in reported_ids(11)

    kind, answer = cs.raw_call(IDENTITY, "ClearVariableMonitoring", {"id": [monitor_id, 987654]})
    assert kind == 3, answer
    statuses = {r["id"]: r["status"] for r in answer["clearMonitoringResult"]}
    assert statuses == {monitor_id: "Accepted", 987654: "NotFound"}
    assert monitor_id not in reported_ids(12), "the cleared monitor is gone"
