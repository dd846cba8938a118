"""OCPP 1.6J transactions end to end: the EV side unplugged with StopTransactionOnEVSideDisconnect
both ways, hard reset (sessions end at once, their stops after the restart; soft reset is in
test_ocpp16_core), UnlockConnector
answered from the lock's feedback, clock-aligned MeterValues and StopTransaction.transactionData.
evse-sim + evsed as processes, a CSMS on the `ocpp` package."""
from datetime import datetime

from ocpp.v16 import call

from ocpp16_support import (CARD, IDENTITY, boot_accepted, c1, csms, present_card,  # noqa: F401 (fixtures)
                            remote_start_on_connector_1, station, wait_for)


def start_card_session(sim, evsed, cs):
    """Plug in on connector 1, present the demo card, EV to C: charging. Returns the StartTransaction."""
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug")[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    start = cs.wait_for("StartTransaction")[-1]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    return start


def test_ev_side_unplug_stops_the_transaction_and_releases_the_lock(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    start = start_card_session(sim, evsed, cs)
    assert c1(sim)["lock"]["locked"]
    assert sim.post("/api/connectors/1/unplug", {"side": "ev"})[0] == 200
    stop = cs.wait_for("StopTransaction")[0]
    assert stop["transactionId"] == start["assignedTransactionId"] and stop["reason"] == "EVDisconnected"
    assert not c1(sim)["contactor"]["closed"]
    wait_for(lambda: not c1(sim)["lock"]["locked"], what="UnlockConnectorOnEVSideDisconnect releases the lock")
    # The cable can now come out of the socket.
    assert sim.post("/api/connectors/1/unplug")[0] == 200


def test_ev_side_unplug_keeps_the_transaction_when_told_and_the_ev_charges_again(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    # Both apply at once: no restart, no session ended to change an authorization rule.
    for key in ("StopTransactionOnEVSideDisconnect", "UnlockConnectorOnEVSideDisconnect"):
        assert cs.call(IDENTITY, call.ChangeConfiguration(key=key, value="false")).status == "Accepted"

    start = start_card_session(sim, evsed, cs)
    tx = start["assignedTransactionId"]
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/unplug", {"side": "ev"})[0] == 200
    evsed.wait_log(r"c1: pilot .*→ A", start=mark)
    wait_for(lambda: not c1(sim)["contactor"]["closed"], what="no energy without the EV")
    assert c1(sim)["lock"]["locked"], "UnlockConnectorOnEVSideDisconnect false: the socket keeps the cable"

    # The EV comes back on the same cable: the same transaction goes on.
    e_back = c1(sim)["meter"]["energy_wh"]
    assert sim.post("/api/connectors/1/plug")[0] == 200
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], timeout=15, what="charging again in the same transaction")
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e_back + 2, timeout=20, what="energy after the re-plug")
    assert cs.received("StopTransaction") == [], "the EV-side unplug did not stop the transaction"
    assert len(cs.received("StartTransaction")) == 1

    mark = len(evsed.log())
    present_card(sim, evsed, start=mark)  # the same card ends it
    stop = cs.wait_for("StopTransaction")[0]
    assert stop["transactionId"] == tx and stop["reason"] == "Local"
    assert stop["meterStop"] >= e_back + 2 - 1


def test_hard_reset_ends_the_session_at_once_and_its_stop_follows_the_new_boot(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    start = remote_start_on_connector_1(cs, sim)
    pid = evsed.proc.pid
    assert cs.call(IDENTITY, call.Reset(type="Hard")).status == "Accepted"
    boots = cs.wait_for("BootNotification", count=2, timeout=20)
    stop = cs.wait_for("StopTransaction", timeout=15)[0]
    assert stop["transactionId"] == start["assignedTransactionId"] and stop["reason"] == "HardReset"
    second_boot_at = cs.received("BootNotification")[1][0]
    stop_at = cs.received("StopTransaction")[0][0]
    assert stop_at > second_boot_at, "a hard reset does not wait to deliver: the stop goes after the restart"
    assert evsed.proc.pid == pid and evsed.proc.poll() is None, "restarted in place (no reboot command configured)"
    assert not c1(sim)["contactor"]["closed"]
    reset = cs.wait_for("SecurityEventNotification", where=lambda p: p["type"] == "ResetOrReboot")[0]
    assert reset["tech_info"] == "Hard reset by the Central System"
    assert len(boots) == 2


def test_unlock_connector_is_answered_from_the_lock_feedback(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    # A jammed lock during a session: the session ends, the lock stays shut: UnlockFailed.
    start = start_card_session(sim, evsed, cs)
    assert sim.post("/api/faults", {"connector": 1, "kind": "lock-jam", "active": True})[0] == 200
    assert cs.call(IDENTITY, call.UnlockConnector(connector_id=1)).status == "UnlockFailed"
    stop = cs.wait_for("StopTransaction")[0]
    assert stop["transactionId"] == start["assignedTransactionId"] and stop["reason"] == "UnlockCommand"
    assert c1(sim)["lock"]["locked"]
    # Freed, it opens: Unlocked, and the cable comes out.
    assert sim.post("/api/faults", {"connector": 1, "kind": "lock-jam", "active": False})[0] == 200
    assert cs.call(IDENTITY, call.UnlockConnector(connector_id=1)).status == "Unlocked"
    assert not c1(sim)["lock"]["locked"]
    assert sim.post("/api/connectors/1/unplug")[0] == 200
    assert cs.call(IDENTITY, call.UnlockConnector(connector_id=3)).status == "NotSupported"


def test_clock_aligned_values_and_the_stop_transaction_data(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    for key, value in (("ClockAlignedDataInterval", "2"), ("MeterValueSampleInterval", "3"),
                       ("StopTxnAlignedData", "Energy.Active.Import.Register,Current.Import"),
                       ("StopTxnSampledData", "Energy.Active.Import.Register")):
        assert cs.call(IDENTITY, call.ChangeConfiguration(key=key, value=value)).status == "Accepted", key
    start = start_card_session(sim, evsed, cs)
    tx = start["assignedTransactionId"]
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= start["meterStart"] + 3, timeout=20, what="energy")

    def clock_values(p):
        return [mv for mv in p["meterValue"] if mv["sampled_value"][0].get("context") == "Sample.Clock"]
    aligned = cs.wait_for("MeterValues", count=2, timeout=10, where=lambda p: p.get("transactionId") == tx and clock_values(p))
    idle = cs.wait_for("MeterValues", timeout=10, where=lambda p: p["connectorId"] == 2 and clock_values(p))[0]
    assert idle.get("transactionId") is None, "connector 2 has no transaction"
    for p in aligned + [idle]:
        stamp = datetime.fromisoformat(clock_values(p)[0]["timestamp"].replace("Z", "+00:00"))
        assert stamp.second % 2 == 0 and stamp.microsecond == 0, f"on a 2 s boundary: {stamp}"

    mark = len(evsed.log())
    present_card(sim, evsed, start=mark)
    stop = cs.wait_for("StopTransaction")[0]
    data = stop["transaction_data"]
    contexts = [mv["sampled_value"][0]["context"] for mv in data]
    assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
    assert "Sample.Clock" in contexts and "Sample.Periodic" in contexts
    # meterStart/meterStop are whole Wh; the register values keep the meter's 0.1 Wh.
    assert abs(float(data[0]["sampled_value"][0]["value"]) - start["meterStart"]) <= 0.5
    assert abs(float(data[-1]["sampled_value"][0]["value"]) - stop["meterStop"]) <= 0.5
    energies = [float(s["value"]) for mv in data for s in mv["sampled_value"]
                if s.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"]
    assert energies == sorted(energies), "the register only counts up"
    currents = [s for mv in data if mv["sampled_value"][0]["context"] == "Sample.Clock" for s in mv["sampled_value"]
                if s.get("measurand") == "Current.Import"]
    assert {s["phase"] for s in currents} == {"L1", "L2", "L3"}
