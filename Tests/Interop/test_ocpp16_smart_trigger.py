"""OCPP 1.6J SmartCharging and RemoteTrigger end to end: a limit the CSMS sets reaches the PWM
duty the simulated EV sees; GetCompositeSchedule reports it; every TriggerMessage arrives."""
import time

from ocpp.v16 import call

from ocpp16_support import IDENTITY, boot_accepted, connector, csms, station, wait_for  # noqa: F401 (fixtures)


def offered(sim, cid=1):
    return connector(sim, cid)["pilot"]["offered_current_a"]


def wait_offered(sim, amps, timeout=20.0):
    wait_for(lambda: abs(offered(sim) - amps) < 0.5, timeout=timeout,
             what=f"{amps} A offered (now {offered(sim)} A, duty {connector(sim)['pilot']['duty_percent']} %)")
    # IEC 61851-1: 6-51 A → duty % = A / 0.6.
    assert abs(connector(sim)["pilot"]["duty_percent"] - amps / 0.6) < 1.0


def profile(pid, purpose, amps, stack_level=0, kind="Relative", transaction_id=None, start=None):
    schedule = {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}]}
    if start:
        schedule["startSchedule"] = start
    p = {"chargingProfileId": pid, "stackLevel": stack_level, "chargingProfilePurpose": purpose,
         "chargingProfileKind": kind, "chargingSchedule": schedule}
    if transaction_id is not None:
        p["transactionId"] = transaction_id
    return p


def first_limit(result):
    periods = result.charging_schedule["charging_schedule_period"]
    return periods[0]["limit"]


def test_tx_default_and_tx_profile_change_the_pwm_duty(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    # A TxProfile needs a running transaction.
    assert cs.call(IDENTITY, call.SetChargingProfile(
        connector_id=1, cs_charging_profiles=profile(1, "TxProfile", 16))).status == "Rejected"
    assert cs.call(IDENTITY, call.SetChargingProfile(
        connector_id=0, cs_charging_profiles=profile(2, "TxDefaultProfile", 10))).status == "Accepted"

    assert cs.call(IDENTITY, call.RemoteStartTransaction(id_tag="REMOTE1", connector_id=1)).status == "Accepted"
    assert sim.post("/api/connectors/1/plug")[0] == 200
    tx = cs.wait_for("StartTransaction")[0]["assignedTransactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: connector(sim)["contactor"]["closed"], what="contactor closed")
    wait_offered(sim, 10)

    assert cs.call(IDENTITY, call.SetChargingProfile(
        connector_id=1, cs_charging_profiles=profile(3, "TxProfile", 16, stack_level=1, transaction_id=tx + 99))
    ).status == "Rejected"
    assert cs.call(IDENTITY, call.SetChargingProfile(
        connector_id=1, cs_charging_profiles=profile(3, "TxProfile", 16, stack_level=1, transaction_id=tx))
    ).status == "Accepted"
    wait_offered(sim, 16)
    composite = cs.call(IDENTITY, call.GetCompositeSchedule(connector_id=1, duration=600, charging_rate_unit="A"))
    assert composite.status == "Accepted" and first_limit(composite) == 16

    # Clearing the TxProfile falls back to the default.
    assert cs.call(IDENTITY, call.ClearChargingProfile(charging_profile_purpose="TxProfile")).status == "Accepted"
    wait_offered(sim, 10)
    assert cs.call(IDENTITY, call.ClearChargingProfile(id=3)).status == "Unknown"
    assert cs.call(IDENTITY, call.ClearChargingProfile(id=2)).status == "Accepted"
    wait_for(lambda: offered(sim) > 16, timeout=30, what="the board maximum again")


def test_get_composite_schedule_returns_the_installed_limit_and_survives_a_restart(sim, station, csms):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs)
    empty = cs.call(IDENTITY, call.GetCompositeSchedule(connector_id=1, duration=300))
    assert empty.status == "Accepted" and empty.charging_schedule is None
    assert cs.call(IDENTITY, call.SetChargingProfile(
        connector_id=0, cs_charging_profiles=profile(7, "ChargePointMaxProfile", 20, kind="Absolute",
                                                     start="2020-01-01T00:00:00Z"))).status == "Accepted"
    assert cs.call(IDENTITY, call.SetChargingProfile(
        connector_id=1, cs_charging_profiles=profile(8, "TxDefaultProfile", 12))).status == "Accepted"
    zero = cs.call(IDENTITY, call.GetCompositeSchedule(connector_id=0, duration=300, charging_rate_unit="A"))
    assert zero.status == "Accepted" and zero.connector_id == 0 and first_limit(zero) == 20
    one = cs.call(IDENTITY, call.GetCompositeSchedule(connector_id=1, duration=300, charging_rate_unit="W"))
    assert one.charging_schedule["charging_rate_unit"] == "W" and first_limit(one) == 12 * 230 * 3
    assert cs.call(IDENTITY, call.GetCompositeSchedule(connector_id=9, duration=300)).status == "Rejected"
    keys = {k["key"]: k["value"] for k in cs.call(IDENTITY, call.GetConfiguration(key=[
        "ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit", "ChargingScheduleMaxPeriods",
        "MaxChargingProfilesInstalled"])).configuration_key}
    assert set(keys) == {"ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit",
                         "ChargingScheduleMaxPeriods", "MaxChargingProfilesInstalled"}

    evsed.stop()
    station(cs.url)
    cs.wait_for("BootNotification", count=2)
    again = cs.call(IDENTITY, call.GetCompositeSchedule(connector_id=1, duration=300, charging_rate_unit="A"))
    assert again.status == "Accepted" and first_limit(again) == 12


def test_trigger_message_of_each_kind_arrives(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    for kind in ("BootNotification", "Heartbeat", "DiagnosticsStatusNotification", "FirmwareStatusNotification"):
        before = len(cs.received(kind))
        assert cs.call(IDENTITY, call.TriggerMessage(requested_message=kind)).status == "Accepted"
        cs.wait_for(kind, count=before + 1, timeout=5)
    assert cs.received("DiagnosticsStatusNotification")[-1][2]["status"] == "Idle"
    assert cs.received("FirmwareStatusNotification")[-1][2]["status"] == "Idle"

    before = len(cs.received("StatusNotification"))
    assert cs.call(IDENTITY, call.TriggerMessage(requested_message="StatusNotification", connector_id=2)).status == "Accepted"
    assert cs.wait_for("StatusNotification", count=before + 1, timeout=5)[-1]["connectorId"] == 2
    assert cs.call(IDENTITY, call.TriggerMessage(requested_message="StatusNotification")).status == "Accepted"
    reported = cs.wait_for("StatusNotification", count=before + 4, timeout=5)[before + 1:]
    assert sorted(p["connectorId"] for p in reported) == [0, 1, 2]

    assert cs.call(IDENTITY, call.TriggerMessage(requested_message="MeterValues", connector_id=1)).status == "Accepted"
    mv = cs.wait_for("MeterValues", timeout=5)[0]
    assert mv["connectorId"] == 1
    assert mv["meterValue"][0]["sampled_value"][0]["context"] == "Trigger"
    assert cs.call(IDENTITY, call.TriggerMessage(requested_message="StatusNotification",
                                                 connector_id=7)).status == "Rejected"


def test_a_triggered_message_never_arrives_before_the_trigger_message_conf(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    # The order showed up once in a while only: ask many times, check every one on the wire.
    for i in range(40):
        trigger_id = f"trigger-{i}"
        before = len(cs.received("FirmwareStatusNotification"))
        kind, answer = cs.raw_call(IDENTITY, "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"},
                                   unique_id=trigger_id)
        assert (kind, answer) == (3, {"status": "Accepted"})
        cs.wait_for("FirmwareStatusNotification", count=before + 1, timeout=5)
        frames = cs.inbound_frames()
        conf_at = next(n for (n, f) in enumerate(frames) if f[0] == 3 and f[1] == trigger_id)
        sent_at = [n for (n, f) in enumerate(frames) if f[0] == 2 and f[2] == "FirmwareStatusNotification"][before]
        assert conf_at < sent_at, f"FirmwareStatusNotification {i} arrived before its TriggerMessage.conf"
