"""Billing integrity end to end: the defects a crash-torture run found, each replayed against the
real processes (evse-sim, evsed, a CSMS on the `ocpp` package). A stop the CSMS heard accepted
survives a kill -9; a session the journal holds without its StartTransaction gets one before its
stop; a card stops the session a remote start opened for its idTag and arms no other connector;
the meter stop is the register when the contactor opened, not the last 1-second poll."""
import sqlite3

from ocpp.v16 import call

from ocpp16_support import (CARD, IDENTITY, boot_accepted, c1, csms, data_dir, present_card,  # noqa: F401 (fixtures)
                            remote_start_on_connector_1, station, wait_for)


def charging_on_connector_1(cs, sim, evsed, id_tag):
    """RemoteStartTransaction for id_tag, the EV plugged in and in C: the StartTransaction."""
    start = remote_start_on_connector_1(cs, sim, id_tag)
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    return start


def test_an_accepted_remote_stop_survives_a_kill_before_the_contactor_opens(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    start = charging_on_connector_1(cs, sim, evsed, "REMOTE1")
    tx = start["assignedTransactionId"]
    e0 = c1(sim)["meter"]["energy_wh"]
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e0 + 2, timeout=20, what="energy flowing")
    # The EV stays in C: after the PWM is withdrawn it has 6 s before the contactor opens under
    # load. The daemon dies right after the CSMS heard Accepted.
    assert cs.call(IDENTITY, call.RemoteStopTransaction(transaction_id=tx)).status == "Accepted"
    evsed.kill9()
    again = station(cs.url)
    stop = cs.wait_for("StopTransaction", timeout=30)[0]
    assert stop["transactionId"] == tx and stop["reason"] == "Remote"
    cs.wait_for("BootNotification", count=2)
    # Connector 1 reports its state after the new boot; the contactor is open and stays open.
    cs.wait_for("StatusNotification", count=6)
    assert not c1(sim)["contactor"]["closed"]
    e_stop = c1(sim)["meter"]["energy_wh"]
    again.wait_log(r"c1: session .* ended", timeout=5)
    assert not c1(sim)["contactor"]["closed"], "no energy after a stop the CSMS heard accepted"
    assert c1(sim)["meter"]["energy_wh"] == e_stop
    assert len(cs.received("StopTransaction")) == 1
    assert len(cs.received("StartTransaction")) == 1


def test_a_session_journaled_without_its_start_message_gets_one_before_its_stop(sim, station, csms, tmp_path):
    """The journal state a kill between the session write and the StartTransaction queueing left
    behind in earlier versions: the restart queues the StartTransaction, then the StopTransaction
    carries the transactionId the CSMS gave it. Nothing is dropped, nothing is free."""
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert evsed.terminate() == 0
    data = data_dir(evsed)
    e0 = c1(sim)["meter"]["energy_wh"]
    db = sqlite3.connect(f"{data}/swiftevse.sqlite")
    try:
        db.execute("""INSERT INTO sessions (id, connector_id, id_token, state, start_reason, started_at_ms,
                                            meter_start_wh, updated_at_ms)
                      VALUES ('orphan-1', 1, ?, 'Charging', 'local', 1767225600000, ?, 1767225600000)""", (CARD, e0))
        db.commit()
    finally:
        db.close()
    # Nothing is plugged in: the restart ends the session (PowerLoss).
    again = station(cs.url)
    start = cs.wait_for("StartTransaction", timeout=20)[0]
    assert start["idTag"] == CARD and abs(start["meterStart"] - e0) <= 1
    stop = cs.wait_for("StopTransaction", timeout=20)[0]
    assert stop["transactionId"] == start["assignedTransactionId"] and stop["reason"] == "PowerLoss"
    assert cs.received("StartTransaction")[0][0] <= cs.received("StopTransaction")[0][0]
    assert not any("never got an id" in line for line in again.log())


def test_a_card_stops_the_session_started_remotely_for_it_and_arms_no_other_connector(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    start = charging_on_connector_1(cs, sim, evsed, CARD)
    mark = len(evsed.log())
    statuses_before = len(cs.received("StatusNotification"))
    present_card(sim, evsed, start=mark)
    stop = cs.wait_for("StopTransaction", timeout=15)[0]
    assert stop["transactionId"] == start["assignedTransactionId"] and stop["reason"] == "Local"
    assert cs.received("Authorize") == [], "the card is the session's own: no Authorize"
    # Connector 1 reports Finishing after the stop; connector 2 never left Available.
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 1 and p["status"] == "Finishing")
    later = [p for _, _, p in cs.received("StatusNotification")[statuses_before:]]
    assert all(p["connectorId"] != 2 for p in later), f"connector 2 was armed: {later}"
    # An EV plugged into connector 2 now waits for its own card.
    mark = len(evsed.log())
    assert sim.post("/api/connectors/2/plug")[0] == 200
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 2 and p["status"] == "Preparing")
    assert len(cs.received("StartTransaction")) == 1


def test_the_meter_stop_is_the_register_when_the_ev_unplugs_under_load(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    start = charging_on_connector_1(cs, sim, evsed, "REMOTE1")
    e0 = c1(sim)["meter"]["energy_wh"]
    wait_for(lambda: c1(sim)["meter"]["energy_wh"] >= e0 + 5, timeout=20, what="energy flowing")
    assert sim.post("/api/connectors/1/unplug", {"side": "ev"})[0] == 200
    stop = cs.wait_for("StopTransaction", timeout=15)[0]
    assert stop["transactionId"] == start["assignedTransactionId"] and stop["reason"] == "EVDisconnected"
    final = c1(sim)["meter"]["energy_wh"]
    assert not c1(sim)["contactor"]["closed"]
    # One 1-second poll period under load is several Wh; the register read at the end is within rounding.
    assert abs(stop["meterStop"] - final) <= 0.6, f"meterStop {stop['meterStop']} vs register {final}"


def test_a_hard_reset_while_charging_ends_the_transaction_once_and_it_stays_ended(sim, station, csms):
    """The EV stays in C through a hard reset: the transaction ends (HardReset) with one
    StopTransaction after the new boot; the connector does not come back Charging and no
    MeterValues follow for the old transaction."""
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    for key, value in (("MeterValueSampleInterval", "1"),):
        assert cs.call(IDENTITY, call.ChangeConfiguration(key=key, value=value)).status == "Accepted"
    start = charging_on_connector_1(cs, sim, evsed, "REMOTE1")
    tx = start["assignedTransactionId"]
    cs.wait_for("MeterValues", where=lambda p: p.get("transactionId") == tx)
    assert cs.call(IDENTITY, call.Reset(type="Hard")).status == "Accepted"
    cs.wait_for("BootNotification", count=2, timeout=20)
    stop = cs.wait_for("StopTransaction", timeout=15)[0]
    assert stop["transactionId"] == tx and stop["reason"] == "HardReset"
    stop_at = cs.received("StopTransaction")[0][0]
    # What connector 1 reports after the new boot: never Charging, and the contactor stays open.
    boot_at = cs.received("BootNotification")[1][0]
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 1)
    later = [p for t, _, p in cs.received("StatusNotification") if t > boot_at and p["connectorId"] == 1]
    assert later and all(p["status"] != "Charging" for p in later), later
    assert not c1(sim)["contactor"]["closed"]
    assert len(cs.received("StopTransaction")) == 1
    stale = [p for t, _, p in cs.received("MeterValues") if t > stop_at and p.get("transactionId") == tx]
    assert stale == [], "MeterValues for the ended transaction"


def test_a_start_answered_blocked_with_stop_on_invalid_id_false_keeps_the_transaction_without_energy(sim, station, csms):
    """OCPP 1.6: with StopTransactionOnInvalidId false, a transaction whose StartTransaction is
    answered Blocked stays open, but the charger stops delivering energy."""
    cs = csms()
    cs.blocked_at_start.add("REMOTE9")
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="StopTransactionOnInvalidId", value="false")).status == "Accepted"
    assert cs.call(IDENTITY, call.RemoteStartTransaction(id_tag="REMOTE9", connector_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    cs.wait_for("StartTransaction")
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 1 and p["status"] == "SuspendedEVSE", timeout=20)
    wait_for(lambda: not c1(sim)["contactor"]["closed"], timeout=10, what="no energy for a blocked token")
    e = c1(sim)["meter"]["energy_wh"]
    evsed.wait_log(r"deauthorized by the backend", timeout=5)
    assert cs.received("StopTransaction") == [], "the transaction stays open"
    assert not c1(sim)["contactor"]["closed"] and c1(sim)["meter"]["energy_wh"] == e
    # The CSMS ends it when it likes.
    tx = cs.received("StartTransaction")[0][2]["assignedTransactionId"]
    assert cs.call(IDENTITY, call.RemoteStopTransaction(transaction_id=tx)).status == "Accepted"
    stop = cs.wait_for("StopTransaction")[0]
    assert stop["transactionId"] == tx and stop["reason"] == "Remote"


def test_max_energy_on_invalid_id_lets_a_refused_transaction_draw_that_much_more_then_none(sim, station, csms):
    """OCPP 1.6: StopTransactionOnInvalidId false and MaxEnergyOnInvalidId 30 Wh: a transaction
    whose StartTransaction is answered Blocked goes on charging until 30 Wh more have flowed
    (counted from the refusal), then stays open without energy."""
    cs = csms()
    cs.blocked_at_start.add("REMOTE8")
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    for key, value in (("StopTransactionOnInvalidId", "false"), ("MaxEnergyOnInvalidId", "30")):
        assert cs.call(IDENTITY, call.ChangeConfiguration(key=key, value=value)).status == "Accepted"
    conf = cs.call(IDENTITY, call.GetConfiguration(key=["MaxEnergyOnInvalidId"]))
    assert conf.configuration_key == [{"key": "MaxEnergyOnInvalidId", "readonly": False, "value": "30"}]
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="MaxEnergyOnInvalidId", value="-1")).status == "Rejected"
    assert cs.call(IDENTITY, call.RemoteStartTransaction(id_tag="REMOTE8", connector_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    start = cs.wait_for("StartTransaction")[0]
    evsed.wait_log(r"deauthorized by the backend: 30 Wh more", timeout=10)
    wait_for(lambda: c1(sim)["contactor"]["closed"], timeout=10, what="charging within the allowance")
    # 30 Wh at 22 kW take about 5 s; then the PWM is withdrawn and the contactor opens.
    wait_for(lambda: not c1(sim)["contactor"]["closed"], timeout=30, what="no energy once the allowance is used")
    last = lambda: [p for _, _, p in cs.received("StatusNotification") if p["connectorId"] == 1][-1]["status"]  # noqa: E731
    wait_for(lambda: last() == "SuspendedEVSE", timeout=10, what="SuspendedEVSE after the allowance")
    drawn = c1(sim)["meter"]["energy_wh"] - start["meterStart"]
    # At least the allowance (it counts from the refusal, after the start); at most the
    # allowance plus what flows between a meter poll (1 s at 22 kW: about 6 Wh), the PWM
    # withdrawal and the EV's stop.
    assert 30 <= drawn <= 30 + 25, f"{drawn} Wh drawn"
    assert cs.received("StopTransaction") == [], "the transaction stays open"
    tx = start["assignedTransactionId"]
    assert cs.call(IDENTITY, call.RemoteStopTransaction(transaction_id=tx)).status == "Accepted"
    stop = cs.wait_for("StopTransaction")[0]
    assert stop["transactionId"] == tx and stop["reason"] == "Remote"
