"""OCPP 2.0.1 blocks L and N end to end: a signed UpdateFirmware over HTTP, through the installer and
the restart, to Installed, with every FirmwareStatusNotification carrying the requestId; a
signing certificate of another root refused on receipt; a tampered image refused after the
download; GetLog of the security log and of the diagnostics archive (the same firmware and
upload services as 1.6 run them); CustomerInformation for a token on the local list. A CSMS on the `ocpp` package's v201
classes, files served by Python's http.server, certificates and signatures made with openssl."""
import io
import tarfile

import pytest

from file_servers import firmware_station_file, http_files, now_iso  # noqa: F401 (fixture)
from ocpp201_support import IDENTITY, boot_accepted, csms, station  # noqa: F401 (fixtures)
from openssl_pki import manufacturer  # noqa: F401 (fixture)
from sim_process import wait_for

IMAGE = b"SwiftEVSE firmware 2.0.1-test\n" + bytes(range(256)) * 400
NEW_VERSION = "2.0.1-test"


@pytest.fixture()
def firmware_station(tmp_path, repo_root, station):
    """start(csms_url) → evsed (2.0.1) with a firmware section (`firmware_station_file`)."""
    config = firmware_station_file(tmp_path, repo_root, NEW_VERSION)
    return lambda csms_url: station(csms_url, config=config)


def call(cs, action, payload):
    kind, answer = cs.raw_call(IDENTITY, action, payload)
    assert kind == 3, f"{action}: {answer}"
    return answer


def update(cs, http_files, pki, request_id, signer, image, served=None):
    path = pki.dir / f"image-{request_id}.bin"
    path.write_bytes(image)
    http_files.files[f"/fw/{request_id}.bin"] = served if served is not None else image
    return call(cs, "UpdateFirmware", {"requestId": request_id, "retries": 0, "firmware": {
        "location": http_files.url(f"/fw/{request_id}.bin"), "retrieveDateTime": now_iso(),
        "signingCertificate": (pki.dir / f"{signer}.pem").read_text(), "signature": pki.sign_file(signer, path)}})


def statuses(cs, request_id):
    return [p["status"] for p in cs.received("FirmwareStatusNotification") if p.get("requestId") == request_id]


def test_signed_update_firmware_verified_installed_after_the_restart(tmp_path, firmware_station, csms, http_files, manufacturer):
    manufacturer.firmware_signer("signer", "manufacturer")
    cs = csms()
    firmware_station(cs.url)
    boot_accepted(cs)
    assert call(cs, "InstallCertificate", {"certificateType": "ManufacturerRootCertificate",
                                           "certificate": (manufacturer.dir / "manufacturer.pem").read_text()})["status"] == "Accepted"
    unsigned = call(cs, "UpdateFirmware", {"requestId": 40, "firmware": {"location": http_files.url("/fw/x.bin"),
                                                                         "retrieveDateTime": now_iso()}})
    assert unsigned["status"] == "Rejected" and unsigned["statusInfo"]["reasonCode"] == "SignatureRequired"
    assert update(cs, http_files, manufacturer, 41, "signer", IMAGE)["status"] == "Accepted"
    wait_for(lambda: "Installed" in statuses(cs, 41), timeout=60, what=f"Installed; got {statuses(cs, 41)}")
    assert statuses(cs, 41) == ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"]
    assert (tmp_path / "installed.bin").read_bytes() == IMAGE, "the installer got the downloaded image"
    boots = cs.received("BootNotification")
    assert len(boots) == 2, "evsed restarted into the new firmware and registered again"
    assert boots[1]["chargingStation"].get("firmwareVersion") == NEW_VERSION
    cs.wait_for("SecurityEventNotification", where=lambda p: p["type"] == "FirmwareUpdated", timeout=15)


def test_a_foreign_signing_certificate_and_a_tampered_image_are_refused(tmp_path, firmware_station, csms, http_files, manufacturer):
    manufacturer.firmware_signer("signer", "manufacturer")
    manufacturer.firmware_signer("impostor", "stranger")
    cs = csms()
    firmware_station(cs.url)
    boot_accepted(cs)
    call(cs, "InstallCertificate", {"certificateType": "ManufacturerRootCertificate",
                                    "certificate": (manufacturer.dir / "manufacturer.pem").read_text()})
    assert update(cs, http_files, manufacturer, 51, "impostor", IMAGE)["status"] == "InvalidCertificate"
    cs.wait_for("SecurityEventNotification", where=lambda p: p["type"] == "InvalidFirmwareSigningCertificate", timeout=15)
    tampered = IMAGE[:-1] + b"\x00"
    assert update(cs, http_files, manufacturer, 52, "signer", IMAGE, served=tampered)["status"] == "Accepted"
    wait_for(lambda: "InvalidSignature" in statuses(cs, 52), timeout=30, what=f"InvalidSignature; got {statuses(cs, 52)}")
    assert statuses(cs, 52) == ["Downloading", "Downloaded", "InvalidSignature"]
    assert [p for (m, p, _) in http_files.requests if m == "GET"] == ["/fw/52.bin"], "the refused one was never fetched"
    assert not (tmp_path / "installed.bin").exists(), "nothing installed"
    triggered = call(cs, "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    assert triggered["status"] == "Accepted"


def test_get_log_uploads_the_security_log_and_the_archive_with_the_request_id(tmp_path, firmware_station, csms, http_files):
    cs = csms()
    firmware_station(cs.url)
    boot_accepted(cs)
    cs.wait_for("SecurityEventNotification", where=lambda p: p["type"] == "StartupOfTheDevice", timeout=10)
    bad = call(cs, "GetLog", {"logType": "SecurityLog", "requestId": 70, "log": {"remoteLocation": "gopher://x/logs"}})
    assert bad["status"] == "Rejected"
    answer = call(cs, "GetLog", {"logType": "SecurityLog", "requestId": 77, "log": {"remoteLocation": http_files.url("/logs")}})
    assert answer["status"] == "Accepted"
    name = answer["filename"]
    wait_for(lambda: "Uploaded" in [p["status"] for p in cs.received("LogStatusNotification") if p.get("requestId") == 77],
             timeout=20, what="log Uploaded")
    assert [(p["status"], p["requestId"]) for p in cs.received("LogStatusNotification")] == [("Uploading", 77), ("Uploaded", 77)]
    assert "StartupOfTheDevice" in http_files.files[f"/logs/{name}"].decode()

    archive = call(cs, "GetLog", {"logType": "DiagnosticsLog", "requestId": 78, "log": {"remoteLocation": http_files.url("/logs")}})
    assert archive["status"] == "Accepted" and archive["filename"].endswith(".tar")
    wait_for(lambda: "Uploaded" in [p["status"] for p in cs.received("LogStatusNotification") if p.get("requestId") == 78],
             timeout=20, what="archive Uploaded")
    with tarfile.open(fileobj=io.BytesIO(http_files.files[f"/logs/{archive['filename']}"])) as tar:
        names = set(tar.getnames())
        station_txt = tar.extractfile("station.txt").read().decode()
        configuration = tar.extractfile("configuration.txt").read().decode()
    assert {"station.txt", "configuration.txt", "security-events.log", "sessions.csv"} <= names
    assert "ocpp_version = 2.0.1" in station_txt
    assert "OCPPCommCtrlr" in configuration and "BasicAuthPassword" not in configuration


def test_customer_information_reports_and_clears_what_the_station_holds_for_a_token(station, csms):
    cs = csms()
    station(cs.url)
    boot_accepted(cs)
    token = {"idToken": "CUST0001", "type": "ISO14443"}
    assert call(cs, "SendLocalList", {"versionNumber": 5, "updateType": "Full", "localAuthorizationList": [
        {"idToken": token, "idTokenInfo": {"status": "Accepted"}}]})["status"] == "Accepted"
    assert call(cs, "CustomerInformation", {"requestId": 31, "report": True, "clear": True, "idToken": token})["status"] == "Accepted"
    pages = cs.wait_for("NotifyCustomerInformation", where=lambda p: p["requestId"] == 31, timeout=10)
    text = "\n".join(p["data"] for p in pages)
    assert "local list: Accepted" in text and "cleared: authorization cache entry" in text
    assert pages[0]["seqNo"] == 0
    assert call(cs, "CustomerInformation", {"requestId": 32, "report": False, "clear": False, "idToken": token})["status"] == "Invalid"
