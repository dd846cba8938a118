"""Energy management seen from a CSMS (the `ocpp` package): the charging mode switched by
DataTransfer org.swiftevse / SetChargingMode and by `evsectl energy mode`, kept across a
restart; per-phase Current.Import in MeterValues; the grid meter's fallback reported as a
connector error status."""
import subprocess

from ocpp.v16 import call

from ocpp16_support import (CARD, IDENTITY, boot_accepted, c1, csms, data_dir, present_card,  # noqa: F401
                            station, wait_for)

VENDOR = "org.swiftevse"


def set_mode(cs, data):
    return cs.call(IDENTITY, call.DataTransfer(vendor_id=VENDOR, message_id="SetChargingMode", data=data))


def test_data_transfer_switches_the_mode_and_it_survives_a_restart(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    mark = len(evsed.log())
    answer = set_mode(cs, "pv")
    assert answer.status == "Accepted" and answer.data == "pv"
    evsed.wait_log(r"energy: charging mode fast → pv", start=mark)
    assert set_mode(cs, "turbo").status == "Rejected"
    assert cs.call(IDENTITY, call.DataTransfer(vendor_id=VENDOR, message_id="Nope")).status == "UnknownMessageId"
    assert cs.call(IDENTITY, call.DataTransfer(vendor_id="com.example", message_id="SetChargingMode", data="pv")).status == "UnknownVendorId"
    # In pv mode at night (no export), a session waits instead of importing.
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug", {"cable_a": 32})[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    cs.wait_for("StartTransaction")
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    cs.wait_for("StatusNotification", where=lambda p: p["connectorId"] == 1 and p["status"] == "SuspendedEVSE")
    assert c1(sim)["meter"]["current_a"] == [0, 0, 0]
    data = data_dir(evsed)
    evsed.stop()
    # The restarted daemon is still in pv mode.
    evsed = station(cs.url)
    evsed.wait_log(r"energy: grid meter .* mode pv")
    # evsectl writes the mode into the station's database; the running daemon follows.
    mark = len(evsed.log())
    bin_dir = evsed.args[0].rsplit("/", 1)[0]
    out = subprocess.run([f"{bin_dir}/evsectl", "energy", "mode", "fast", "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert "charging mode: fast" in out.stdout
    evsed.wait_log(r"energy: charging mode pv → fast \(set by evsectl\)", start=mark, timeout=5)
    wait_for(lambda: min(c1(sim)["meter"]["current_a"]) > 31, timeout=15, what="fast mode: 32 A on three phases")
    shown = subprocess.run([f"{bin_dir}/evsectl", "energy", "mode", "--data-dir", str(data)], capture_output=True, text=True, timeout=20)
    assert shown.returncode == 0 and "charging mode: fast" in shown.stdout
    bad = subprocess.run([f"{bin_dir}/evsectl", "energy", "mode", "turbo", "--data-dir", str(data)], capture_output=True, text=True, timeout=20)
    assert bad.returncode == 64 and "unknown mode" in bad.stderr


def test_meter_values_carry_per_phase_currents_and_the_grid_fallback_is_a_status(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="MeterValueSampleInterval", value="1")).status == "Accepted"
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug", {"cable_a": 32})[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    tx = cs.wait_for("StartTransaction")[0]["assignedTransactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: min(c1(sim)["meter"]["current_a"]) > 31, timeout=15, what="32 A on three phases")

    def phases_in(p):
        sampled = [s for mv in p["meterValue"] for s in mv["sampled_value"] if s.get("measurand") == "Current.Import"]
        return {s["phase"]: float(s["value"]) for s in sampled}
    mv = cs.wait_for("MeterValues", timeout=10, where=lambda p: p.get("transactionId") == tx
                     and all(v > 31 for v in phases_in(p).values()) and len(phases_in(p)) == 3)[0]
    assert set(phases_in(mv)) == {"L1", "L2", "L3"}

    assert sim.post("/api/faults", {"kind": "grid-meter-offline", "active": True})[0] == 200
    faulted = cs.wait_for("StatusNotification", timeout=5,
                          where=lambda p: p["connectorId"] == 1 and p["errorCode"] == "OtherError")[0]
    assert faulted["vendor_error_code"] == "gridMeterFailure" and faulted["vendor_id"] == "SwiftEVSE"
    assert faulted["status"] == "Charging"
    wait_for(lambda: max(c1(sim)["meter"]["current_a"]) < 8.3, timeout=5, what="the 8 A fallback")
    assert sim.post("/api/faults", {"kind": "grid-meter-offline", "active": False})[0] == 200
    cs.wait_for("StatusNotification", timeout=5,
                where=lambda p: p["connectorId"] == 1 and p["errorCode"] == "NoError" and p["status"] == "Charging")


def test_a_one_phase_charging_schedule_moves_a_three_phase_ev_to_l1(sim, station, csms):
    """Issue 13: a TxProfile period with numberPhases 1 pauses the EV, opens the contactor,
    switches the relay and resumes on L1; MeterValues then carry current on L1 only."""
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="MeterValueSampleInterval", value="1")).status == "Accepted"
    mark = len(evsed.log())
    assert sim.post("/api/connectors/1/plug", {"cable_a": 32, "ev": {"max_current_a": 32, "phases": 3}})[0] == 200
    evsed.wait_log(r"c1: pilot .*→ B", start=mark)
    present_card(sim, evsed, start=mark)
    tx = cs.wait_for("StartTransaction")[0]["assignedTransactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: min(c1(sim)["meter"]["current_a"]) > 31, timeout=15, what="32 A on three phases")

    profile = {"charging_profile_id": 1, "stack_level": 0, "charging_profile_purpose": "TxProfile",
               "charging_profile_kind": "Relative", "transaction_id": tx,
               "charging_schedule": {"charging_rate_unit": "A",
                                     "charging_schedule_period": [{"start_period": 0, "limit": 16, "number_phases": 1}]}}
    assert cs.call(IDENTITY, call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)).status == "Accepted"
    wait_for(lambda: c1(sim)["phases_switched"] == 1, timeout=30, what="the relay on one phase")
    wait_for(lambda: c1(sim)["contactor"]["closed"] and c1(sim)["meter"]["current_a"][0] > 15, timeout=30,
             what="charging again on L1")
    assert c1(sim)["meter"]["current_a"][1:] == [0, 0]

    def l1_only(p):
        sampled = {s.get("phase"): float(s["value"]) for mv in p["meterValue"] for s in mv["sampled_value"]
                   if s.get("measurand") == "Current.Import"}
        return sampled.get("L1", 0) > 15 and sampled.get("L2", 0) == 0 and sampled.get("L3", 0) == 0
    cs.wait_for("MeterValues", timeout=10, where=lambda p: p.get("transactionId") == tx and l1_only(p))
