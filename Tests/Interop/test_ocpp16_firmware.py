"""OCPP 1.6J FirmwareManagement and the security whitepaper's firmware and log messages end
to end: evse-sim + evsed as processes, a CSMS on the `ocpp` package, files served by Python's
http.server and by pyftpdlib, certificates and signatures made with the openssl command."""
import io
import tarfile

import pytest

from file_servers import FTPFileServer, firmware_station_file, http_files, now_iso  # noqa: F401 (fixture)
from ocpp16_support import IDENTITY, boot_accepted, csms, station, wait_for  # noqa: F401 (fixtures)
from openssl_pki import manufacturer  # noqa: F401 (fixture)

IMAGE = b"SwiftEVSE firmware 2.0.0-test\n" + bytes(range(256)) * 400
NEW_VERSION = "2.0.0-test"
ARCHIVE_MEMBERS = {"station.txt", "evsed.log", "configuration.txt", "security-events.log", "sessions.csv", "board.yaml"}


@pytest.fixture()
def firmware_station(tmp_path, repo_root):
    return firmware_station_file(tmp_path, repo_root, NEW_VERSION)


def statuses(cs, action):
    return [p["status"] for (_, _, p) in cs.received(action)]


def wait_status(cs, action, status, timeout=30.0):
    return wait_for(lambda: status in statuses(cs, action), timeout=timeout,
                    what=f"{action} {status}; got {statuses(cs, action)}")


def test_update_firmware_over_http_through_the_restart_to_installed(tmp_path, station, csms, http_files, firmware_station):
    http_files.files["/fw/image.bin"] = IMAGE
    cs = csms()
    evsed = station(cs.url, config=firmware_station)
    boot_accepted(cs, evsed)
    first_boot = cs.received("BootNotification")[0][2]
    assert first_boot.get("firmware_version") not in (None, "", "SwiftEVSE-dev", NEW_VERSION), "the built-in version"

    kind, answer = cs.raw_call(IDENTITY, "UpdateFirmware", {"location": http_files.url("/fw/image.bin"),
                                                            "retrieveDate": now_iso()})
    assert (kind, answer) == (3, {})
    wait_status(cs, "FirmwareStatusNotification", "Installed", timeout=60)
    assert statuses(cs, "FirmwareStatusNotification") == ["Downloading", "Downloaded", "Installing", "Installed"]
    assert (tmp_path / "installed.bin").read_bytes() == IMAGE, "the installer got the downloaded image"
    boots = cs.received("BootNotification")
    assert len(boots) == 2, "evsed restarted into the new firmware and registered again"
    assert boots[1][2].get("firmware_version") == NEW_VERSION
    installed_at = [t for (t, _, p) in cs.received("FirmwareStatusNotification") if p["status"] == "Installed"][0]
    assert installed_at > boots[1][0], "Installed comes after the new boot"
    evsed.wait_log(r"firmware: installed; running again after the restart")

    # The connectors made Unavailable for the installation are Available again.
    def available_again():
        last = {}
        for (_, _, p) in cs.received("StatusNotification"):
            last[p["connectorId"]] = p["status"]
        return last.get(1) == "Available" and last.get(2) == "Available"
    wait_for(available_again, timeout=15, what="connectors Available after the installation")
    unavailable = [p for (_, _, p) in cs.received("StatusNotification") if p["status"] == "Unavailable"]
    assert {p["connectorId"] for p in unavailable} >= {1, 2}, "no session could start while it installed"
    events = wait_for(lambda: [p for (_, _, p) in cs.received("SecurityEventNotification") if p["type"] == "FirmwareUpdated"],
                      timeout=15, what="FirmwareUpdated security event")
    assert len(events) == 1
    # Reported once: a trigger now says Idle, and Installed was not sent again.
    assert cs.raw_call(IDENTITY, "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})[1]["status"] == "Accepted"
    wait_for(lambda: statuses(cs, "FirmwareStatusNotification")[-1] == "Idle", what="triggered Idle")
    assert statuses(cs, "FirmwareStatusNotification").count("Installed") == 1


@pytest.mark.parametrize("failure", ["not-found", "unreachable"])
def test_a_download_that_fails_is_download_failed_after_the_retries(station, csms, http_files, firmware_station, failure):
    location = http_files.url("/fw/missing.bin")
    if failure == "unreachable":
        http_files.stop()
    cs = csms()
    evsed = station(cs.url, config=firmware_station)
    boot_accepted(cs, evsed)
    cs.raw_call(IDENTITY, "UpdateFirmware", {"location": location, "retrieveDate": now_iso(), "retries": 2, "retryInterval": 1})
    wait_status(cs, "FirmwareStatusNotification", "DownloadFailed", timeout=30)
    assert statuses(cs, "FirmwareStatusNotification") == ["Downloading"] * 3 + ["DownloadFailed"]
    if failure == "not-found":
        assert len(http_files.received("GET")) == 3, "1 + retries attempts"
        evsed.wait_log(r"download failed: HTTP 404")
    else:
        evsed.wait_log(r"download failed: cannot connect")
    assert len(cs.received("BootNotification")) == 1, "nothing installed, no restart"


def open_archive(data):
    archive = tarfile.open(fileobj=io.BytesIO(data))
    return {m.name: archive.extractfile(m).read().decode() for m in archive.getmembers()}


def check_archive(members):
    assert ARCHIVE_MEMBERS <= set(members), sorted(members)
    assert "BootNotification accepted" in members["evsed.log"]
    assert "HeartbeatInterval = " in members["configuration.txt"]
    assert "AuthorizationKey" not in members["configuration.txt"]
    assert "StartupOfTheDevice" in members["security-events.log"]
    assert members["sessions.csv"].startswith("id,connector,id_token")
    assert "model:" in members["board.yaml"]
    assert f"serial_number = " in members["station.txt"]


def test_get_diagnostics_uploaded_by_http_put(station, csms, http_files):
    cs = csms()
    evsed = station(cs.url)
    boot_accepted(cs, evsed)
    kind, answer = cs.raw_call(IDENTITY, "GetDiagnostics", {"location": http_files.url("/diagnostics/")})
    file_name = answer["fileName"]
    assert file_name.startswith("diagnostics-") and file_name.endswith(".tar")
    wait_status(cs, "DiagnosticsStatusNotification", "Uploaded")
    assert statuses(cs, "DiagnosticsStatusNotification") == ["Uploading", "Uploaded"]
    method, path, headers = http_files.received("PUT")[0]
    assert path == f"/diagnostics/{file_name}"
    data = http_files.files[path]
    print(f"\ndiagnostics archive: {len(data)} bytes")
    check_archive(open_archive(data))


def test_get_diagnostics_uploaded_by_ftp(tmp_path, station, csms):
    ftp = FTPFileServer(tmp_path / "ftp-root")
    (tmp_path / "ftp-root" / "diag").mkdir()
    try:
        cs = csms()
        evsed = station(cs.url)
        boot_accepted(cs, evsed)
        _, answer = cs.raw_call(IDENTITY, "GetDiagnostics", {"location": ftp.url("/diag/"), "retries": 1, "retryInterval": 1})
        file_name = answer["fileName"]
        wait_status(cs, "DiagnosticsStatusNotification", "Uploaded")
        assert statuses(cs, "DiagnosticsStatusNotification") == ["Uploading", "Uploaded"]
        check_archive(open_archive((tmp_path / "ftp-root" / "diag" / file_name).read_bytes()))
        assert ftp.password not in "\n".join(evsed.log()), "the location's password is never logged"
        assert cs.raw_call(IDENTITY, "TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"})[1]["status"] == "Accepted"
        wait_for(lambda: statuses(cs, "DiagnosticsStatusNotification")[-1] == "Idle", what="triggered Idle")
    finally:
        ftp.stop()


def signed_update(cs, http_files, pki, request_id, signer, image, served=None):
    path = pki.dir / f"image-{request_id}.bin"
    path.write_bytes(image)
    http_files.files[f"/fw/{request_id}.bin"] = served if served is not None else image
    return cs.raw_call(IDENTITY, "SignedUpdateFirmware", {"requestId": request_id, "retries": 0, "firmware": {
        "location": http_files.url(f"/fw/{request_id}.bin"), "retrieveDateTime": now_iso(),
        "signingCertificate": (pki.dir / f"{signer}.pem").read_text(), "signature": pki.sign_file(signer, path)}})[1]


def install_manufacturer_root(cs, pki):
    _, answer = cs.raw_call(IDENTITY, "InstallCertificate", {"certificateType": "ManufacturerRootCertificate",
                                                             "certificate": (pki.dir / "manufacturer.pem").read_text()})
    assert answer["status"] == "Accepted"


def signed_statuses(cs, request_id):
    return [p["status"] for (_, _, p) in cs.received("SignedFirmwareStatusNotification") if p["requestId"] == request_id]


def test_signed_update_firmware_verified_installed_after_the_restart(tmp_path, station, csms, http_files, firmware_station, manufacturer):
    manufacturer.firmware_signer("signer", "manufacturer")
    cs = csms()
    evsed = station(cs.url, config=firmware_station)
    boot_accepted(cs, evsed)
    install_manufacturer_root(cs, manufacturer)
    assert signed_update(cs, http_files, manufacturer, 41, "signer", IMAGE)["status"] == "Accepted"
    wait_for(lambda: "Installed" in signed_statuses(cs, 41), timeout=60, what="signed Installed")
    assert signed_statuses(cs, 41) == ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"]
    assert (tmp_path / "installed.bin").read_bytes() == IMAGE
    assert cs.received("BootNotification")[-1][2].get("firmware_version") == NEW_VERSION
    wait_for(lambda: any(p["type"] == "FirmwareUpdated" for (_, _, p) in cs.received("SecurityEventNotification")),
             timeout=15, what="FirmwareUpdated")
    assert not cs.received("FirmwareStatusNotification"), "a signed update reports only SignedFirmwareStatusNotification"


def test_signed_update_firmware_refuses_a_tampered_image_and_a_foreign_certificate_and_get_log_has_the_events(
        tmp_path, station, csms, http_files, firmware_station, manufacturer):
    manufacturer.firmware_signer("signer", "manufacturer")
    manufacturer.firmware_signer("impostor", "stranger")
    cs = csms()
    evsed = station(cs.url, config=firmware_station)
    boot_accepted(cs, evsed)
    install_manufacturer_root(cs, manufacturer)

    # A signing certificate of another root: refused on receipt, nothing downloaded.
    assert signed_update(cs, http_files, manufacturer, 51, "impostor", IMAGE)["status"] == "InvalidCertificate"
    # The right certificate, but the file served is not the one signed.
    tampered = IMAGE[:-1] + b"\x00"
    assert signed_update(cs, http_files, manufacturer, 52, "signer", IMAGE, served=tampered)["status"] == "Accepted"
    wait_for(lambda: "InvalidSignature" in signed_statuses(cs, 52), timeout=30, what="InvalidSignature")
    assert signed_statuses(cs, 52) == ["Downloading", "Downloaded", "InvalidSignature"]
    assert [p for (m, p, _) in http_files.requests if m == "GET"] == ["/fw/52.bin"], "the refused one was never fetched"
    events = wait_for(lambda: {p["type"] for (_, _, p) in cs.received("SecurityEventNotification")}
                      >= {"InvalidFirmwareSigningCertificate", "InvalidFirmwareSignature"}, timeout=15, what="security events")
    assert events
    assert not (tmp_path / "installed.bin").exists(), "nothing installed"
    assert len(cs.received("BootNotification")) == 1

    # GetLog SecurityLog: the events, uploaded with the requestId on every status.
    _, answer = cs.raw_call(IDENTITY, "GetLog", {"logType": "SecurityLog", "requestId": 77,
                                                 "log": {"remoteLocation": http_files.url("/logs")}})
    assert answer["status"] == "Accepted"
    file_name = answer["filename"]
    wait_for(lambda: "Uploaded" in [p["status"] for (_, _, p) in cs.received("LogStatusNotification")], what="log Uploaded")
    assert [(p["status"], p["requestId"]) for (_, _, p) in cs.received("LogStatusNotification")] == [("Uploading", 77), ("Uploaded", 77)]
    text = http_files.files[f"/logs/{file_name}"].decode()
    for event in ("StartupOfTheDevice", "InvalidFirmwareSigningCertificate", "InvalidFirmwareSignature"):
        assert event in text, text
