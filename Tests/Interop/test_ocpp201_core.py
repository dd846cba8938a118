"""OCPP 2.0.1 provisioning, availability and the CALLERRORs end to end: evse-sim and evsed
(--ocpp-version 2.0.1 or auto) as processes, a CSMS on the `ocpp` package's v201 classes."""
import json
import subprocess
import time

from ocpp.v201 import call

from ocpp201_support import IDENTITY, boot_accepted, csms, station, wait_for  # noqa: F401 (fixtures)


def test_boot_accepted_then_a_status_per_evse_and_the_heartbeat_interval(sim, station, csms):
    cs = csms(boot_answers=[("Accepted", 2)])
    evsed = station(cs.url)
    boot = cs.wait_for("BootNotification")[0]
    assert boot["reason"] == "PowerUp"
    assert boot["chargingStation"]["vendorName"] == "SwiftEVSE" and boot["chargingStation"]["model"]
    statuses = cs.wait_for("StatusNotification", count=2)
    assert sorted(s["evseId"] for s in statuses) == [1, 2]
    assert all(s["connectorId"] == 1 and s["connectorStatus"] == "Available" for s in statuses)
    cs.wait_for("Heartbeat", timeout=6)  # every 2 s, as the BootNotification answer said
    assert evsed.proc.poll() is None


def test_boot_pending_sends_nothing_else_until_accepted_and_calls_are_answered_meanwhile(sim, station, csms):
    cs = csms(boot_answers=[("Pending", 3), ("Accepted", 300)])
    station(cs.url)
    cs.wait_for("BootNotification")
    # While Pending the CSMS may ask; a remote start is refused.
    assert cs.call(IDENTITY, call.GetTransactionStatus()).messages_in_queue is False
    answer = cs.call(IDENTITY, call.RequestStartTransaction(id_token={"id_token": "X", "type": "Central"}, remote_start_id=1))
    assert answer.status == "Rejected"
    assert cs.actions() == ["BootNotification"], "nothing but BootNotification while Pending"
    cs.wait_for("BootNotification", count=2, timeout=8)  # after the 3 s interval
    cs.wait_for("StatusNotification", count=2)


def test_boot_rejected_answers_nothing_but_security_error_and_boots_again_after_the_interval(sim, station, csms):
    cs = csms(boot_answers=[("Rejected", 3), ("Accepted", 300)])
    station(cs.url)
    cs.wait_for("BootNotification")
    assert cs.raw_call(IDENTITY, "GetTransactionStatus", {})[1][0] == "SecurityError"
    assert cs.actions() == ["BootNotification"], "nothing else while Rejected"
    boots = cs.wait_for("BootNotification", count=2, timeout=8)
    assert len(boots) == 2
    cs.wait_for("StatusNotification", count=2)
    assert cs.call(IDENTITY, call.GetTransactionStatus()).messages_in_queue is False


def test_status_follows_the_plug_and_change_availability(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    assert sim.post("/api/connectors/1/plug")[0] == 200
    cs.wait_for("StatusNotification", where=lambda p: p["evseId"] == 1 and p["connectorStatus"] == "Occupied")
    assert cs.call(IDENTITY, call.ChangeAvailability(operational_status="Inoperative", evse={"id": 2})).status == "Accepted"
    cs.wait_for("StatusNotification", where=lambda p: p["evseId"] == 2 and p["connectorStatus"] == "Unavailable")
    assert cs.call(IDENTITY, call.ChangeAvailability(operational_status="Operative", evse={"id": 2})).status == "Accepted"
    cs.wait_for("StatusNotification", where=lambda p: p["evseId"] == 2 and p["connectorStatus"] == "Available")
    assert cs.call(IDENTITY, call.DataTransfer(vendor_id="com.example")).status == "UnknownVendorId"


def test_malformed_calls_get_the_201_callerror_codes(sim, station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    assert cs.raw_call(IDENTITY, "Dance", {})[1][0] == "NotImplemented"
    assert cs.raw_call(IDENTITY, "UnpublishFirmware", {"checksum": "0" * 32})[1][0] == "NotImplemented"  # local controllers only
    assert cs.raw_call(IDENTITY, "Reset", {"type": 1})[1][0] == "TypeConstraintViolation"
    assert cs.raw_call(IDENTITY, "Reset", {})[1][0] == "OccurrenceConstraintViolation"
    assert cs.raw_call(IDENTITY, "Reset", {"type": "Later"})[1][0] == "PropertyConstraintViolation"
    assert cs.raw_call(IDENTITY, "ClearCache", {"unexpected": 1})[1][0] == "FormatViolation"
    assert cs.raw_frame(IDENTITY, lambda uid: json.dumps([2, uid, "Heartbeat", "text"]))[1][0] == "FormatViolation"
    assert cs.raw_frame(IDENTITY, lambda uid: json.dumps([2, uid, 5, {}]))[1][0] == "RpcFrameworkError"
    # Still registered and answering after all that.
    assert cs.call(IDENTITY, call.GetTransactionStatus()).messages_in_queue is False


def test_auto_speaks_201_with_a_201_csms(sim, station, csms):
    cs = csms(subprotocols=("ocpp2.0.1", "ocpp1.6"))
    evsed = station(cs.url, version="auto")
    boot_accepted(cs)
    assert cs.selected[0] == "ocpp2.0.1"
    assert evsed.proc.poll() is None


def test_auto_switches_to_16_when_the_csms_selects_it(sim, station, csms):
    cs = csms.v16()
    evsed = station(cs.url, version="auto")
    # The first connection offered both; the 1.6 CSMS selected ocpp1.6: evsed restarts (same
    # process image, same pid) with the 1.6 adapter and boots as a 1.6 charge point.
    evsed.wait_log(r"the CSMS selected OCPP 1\.6", timeout=15)
    boot = cs.wait_for("BootNotification", timeout=20)[0]
    assert boot["chargePointVendor"] == "SwiftEVSE"
    cs.wait_for("StatusNotification", count=3)
    time.sleep(1)
    assert evsed.proc.poll() is None


def test_a_bad_version_is_refused_naming_the_option_or_the_file_line(bin_dir, repo_root, tmp_path):
    evsed = str(bin_dir / "evsed")
    board = str(repo_root / "Board" / "sim-2x22kw.yaml")
    flag = subprocess.run([evsed, "--board", board, "--ocpp-version", "2.0"], capture_output=True, text=True, timeout=20)
    assert flag.returncode == 64
    assert "--ocpp-version must be one of 1.6, 2.0.1, auto" in flag.stderr
    station_file = tmp_path / "station.yaml"
    station_file.write_text('identity: X\nbackend:\n  url: ws://127.0.0.1:1/o\n  ocpp_version: "2.1"\n')
    file = subprocess.run([evsed, "--board", board, "--config", str(station_file), "--data-dir", str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=20)
    assert file.returncode == 78
    assert f"{station_file}:4: backend.ocpp_version: expected one of 1.6, 2.0.1, auto, found 2.1" in file.stderr
