"""OCPP 2.0.1 security profiles end to end: Basic auth with the BasicAuthPassword (profiles 1
and 2), TLS with the CSMS root (2) and a client certificate (3), through the same PKI as 1.6.
A CSMS on the `ocpp` package's v201 classes, certificates made with the openssl CLI."""
import base64
import subprocess
import time

from ocpp201_support import IDENTITY, csms, station  # noqa: F401 (fixtures)
from evsed_process import sim_board_for
from openssl_pki import PKI

PASSWORD = "correct-horse-battery-staple"


def basic(identity, password):
    return "Basic " + base64.b64encode(f"{identity}:{password}".encode()).decode()


def password_file(tmp_path):
    path = tmp_path / "basic-auth-password"
    path.write_text(PASSWORD + "\n")
    return str(path)


def test_profile_1_sends_the_basic_auth_password_and_never_logs_it(tmp_path, sim, station, csms):
    cs = csms(expected_auth=basic(IDENTITY, PASSWORD))
    evsed = station(cs.url, "--security-profile", "1", "--authorization-key-file", password_file(tmp_path))
    cs.wait_for("BootNotification", timeout=20)
    assert cs.auth_seen[-1] == basic(IDENTITY, PASSWORD)
    assert not any(PASSWORD in line for line in evsed.log())
    assert cs.wait_for("SecurityEventNotification")[0]["type"] == "StartupOfTheDevice"


def test_profile_2_tls_with_basic_auth_and_a_refused_password_reported_once_it_gets_through(tmp_path, sim, station, csms):
    pki = PKI(tmp_path / "pki-test")
    cs = csms(ssl_context=pki.server_context(), expected_auth=basic(IDENTITY, "another-password-of-the-csms"))
    evsed = station(cs.url, "--security-profile", "2", "--authorization-key-file", password_file(tmp_path),
                    "--csms-root-certificate", pki.path("root.pem"))
    evsed.wait_log(r"connect failed .*401", timeout=20)
    cs.expected_auth = basic(IDENTITY, PASSWORD)  # the CSMS learns the password
    cs.wait_for("BootNotification", timeout=40)
    assert cs.auth_seen[-1] == basic(IDENTITY, PASSWORD)
    events = cs.wait_for("SecurityEventNotification", count=2, timeout=10)
    assert sorted(e["type"] for e in events) == ["FailedToAuthenticateAtCsms", "StartupOfTheDevice"]


def test_profile_3_presents_the_client_certificate(tmp_path, sim, station, csms):
    pki = PKI(tmp_path / "pki-test")
    pki.issue("station", "root", "SN-201", "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    cs = csms(ssl_context=pki.server_context(client_ca=pki.path("root.pem")))
    station(cs.url, "--security-profile", "3", "--csms-root-certificate", pki.path("root.pem"),
            "--client-certificate", pki.path("station.pem"), "--client-key", pki.path("station.key"))
    cs.wait_for("BootNotification", timeout=20)
    assert cs.client_serials[-1], "the station presented a client certificate"


def test_a_csms_not_signed_by_the_installed_root_is_refused(tmp_path, sim, station, csms):
    pki = PKI(tmp_path / "pki-test")
    other = PKI(tmp_path / "pki-other")
    cs = csms(ssl_context=other.server_context(), expected_auth=basic(IDENTITY, PASSWORD))
    evsed = station(cs.url, "--security-profile", "2", "--authorization-key-file", password_file(tmp_path),
                    "--csms-root-certificate", pki.path("root.pem"))
    evsed.wait_log(r"connect failed error=TLS failed: .*CERTIFICATE_VERIFY_FAILED", timeout=20)
    assert cs.received("BootNotification") == []


def test_a_basic_auth_password_of_the_wrong_length_stops_the_start(tmp_path, sim, bin_dir, repo_root):
    short = tmp_path / "short"
    short.write_text("too-short\n")
    run = subprocess.run([str(bin_dir / "evsed"), "--board", str(sim_board_for(repo_root, sim, tmp_path)),
                          "--data-dir", str(tmp_path / "d"), "--csms", "ws://127.0.0.1:9/o", "--identity", IDENTITY,
                          "--ocpp-version", "2.0.1", "--security-profile", "1", "--authorization-key-file", str(short)],
                         capture_output=True, text=True, timeout=20)
    assert run.returncode == 78
    assert "a BasicAuthPassword has 16 to 40 characters, this one 9" in run.stderr
    assert "too-short" not in run.stderr


# -- Certificates (A02/A03, M03–M05) and network profiles (B09/B10) ------------------------------

def raw_ok(cs, action, payload):
    kind, answer = cs.raw_call(IDENTITY, action, payload)
    assert kind == 3, f"{action}: {answer}"
    return answer


def test_roots_are_installed_listed_deleted_and_the_station_certificate_signed(tmp_path, sim, station, csms):
    pki = PKI(tmp_path / "pki-test")
    pki.ca("rogue")
    cs = csms()
    station(cs.url)
    cs.wait_for("BootNotification", timeout=20)
    root = (tmp_path / "pki-test" / "root.pem").read_text()
    assert raw_ok(cs, "InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": root})["status"] == "Accepted"
    server = (tmp_path / "pki-test" / "server.pem").read_text()
    refused = raw_ok(cs, "InstallCertificate", {"certificateType": "ManufacturerRootCertificate", "certificate": server})
    assert refused["status"] == "Rejected" and refused["statusInfo"]["reasonCode"] == "InvalidCertificate"
    ids = raw_ok(cs, "GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate"]})
    assert ids["status"] == "Accepted" and [c["certificateType"] for c in ids["certificateHashDataChain"]] == ["CSMSRootCertificate"]
    assert raw_ok(cs, "GetInstalledCertificateIds", {"certificateType": ["MORootCertificate"]})["status"] == "NotFound"

    assert raw_ok(cs, "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})["status"] == "Accepted"
    request = cs.wait_for("SignCertificate", timeout=10)[0]
    assert request["certificateType"] == "ChargingStationCertificate"
    (tmp_path / "pki-test" / "station.csr").write_text(request["csr"])
    subject = subprocess.run(["openssl", "req", "-in", str(tmp_path / "pki-test" / "station.csr"), "-noout", "-verify", "-subject"],
                             capture_output=True, text=True, check=True).stdout
    assert "CN" in subject
    client = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
    pki.sign_csr("station", "rogue", client)
    rogue = raw_ok(cs, "CertificateSigned", {"certificateChain": (tmp_path / "pki-test" / "station.pem").read_text()})
    assert rogue["status"] == "Rejected"
    cs.wait_for("SecurityEventNotification", where=lambda p: p["type"] == "InvalidChargingStationCertificate", timeout=10)
    pki.sign_csr("station", "root", client)
    signed = raw_ok(cs, "CertificateSigned", {"certificateChain": (tmp_path / "pki-test" / "station.pem").read_text(),
                                             "certificateType": "ChargingStationCertificate"})
    assert signed["status"] == "Accepted"

    root_id = ids["certificateHashDataChain"][0]["certificateHashData"]
    assert raw_ok(cs, "DeleteCertificate", {"certificateHashData": root_id})["status"] == "Accepted"
    assert raw_ok(cs, "DeleteCertificate", {"certificateHashData": root_id})["status"] == "NotFound"


def test_a_network_profile_is_used_after_the_reset_and_the_station_falls_back_when_it_fails(tmp_path, sim, station, csms):
    primary = csms()
    backup = csms()
    evsed = station(primary.url)
    primary.wait_for("BootNotification", timeout=20)
    profile = {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": backup.url, "messageTimeout": 45,
               "securityProfile": 0, "ocppInterface": "Wired0"}
    invalid_url = raw_ok(primary, "SetNetworkProfile", {"configurationSlot": 2, "connectionData": {**profile, "ocppCsmsUrl": "http://x"}})
    assert invalid_url["status"] == "Rejected"
    assert raw_ok(primary, "SetNetworkProfile", {"configurationSlot": 2, "connectionData": profile})["status"] == "Accepted"

    def set_variable(cs, component, variable, value):
        return raw_ok(cs, "SetVariables", {"setVariableData": [
            {"attributeValue": value, "component": {"name": component}, "variable": {"name": variable}}]})["setVariableResult"][0]

    assert set_variable(primary, "OCPPCommCtrlr", "NetworkConfigurationPriority", "3,1")["attributeStatus"] == "Rejected"
    assert set_variable(primary, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1")["attributeStatus"] == "RebootRequired"
    assert set_variable(primary, "OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "1")["attributeStatus"] == "Accepted"
    assert raw_ok(primary, "Reset", {"type": "Immediate"})["status"] == "Accepted"
    backup.wait_for("BootNotification", timeout=30)  # slot 2 first after the restart
    evsed.wait_log(r"network profile slot 2: messageTimeout 45 s", timeout=10)  # the profile's, not MessageTimeout's 30 s
    got = raw_ok(backup, "GetVariables", {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "ActiveNetworkProfile"}}]})
    assert got["getVariableResult"][0]["attributeValue"] == "2"

    connections_before = len(primary.selected)
    backup.stop()  # slot 2 goes away: after one failed attempt the station moves on to slot 1
    deadline = time.monotonic() + 40
    while len(primary.selected) == connections_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(primary.selected) > connections_before, "the station came back on slot 1"
    primary.wait_connected(IDENTITY, timeout=10)
    got = raw_ok(primary, "GetVariables", {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "ActiveNetworkProfile"}}]})
    assert got["getVariableResult"][0]["attributeValue"] == "1"


def test_a_new_basic_auth_password_is_used_at_once_and_kept_out_of_the_database(tmp_path, sim, station, csms):
    cs = csms(expected_auth=basic(IDENTITY, PASSWORD))
    evsed = station(cs.url, "--security-profile", "1", "--authorization-key-file", password_file(tmp_path))
    cs.wait_for("BootNotification", timeout=20)
    new_password = "a-brand-new-password-0123"
    connections = len(cs.selected)
    result = raw_ok(cs, "SetVariables", {"setVariableData": [
        {"attributeValue": new_password, "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}]})
    assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
    cs.expected_auth = basic(IDENTITY, new_password)  # the CSMS takes the new one only
    deadline = time.monotonic() + 20
    while len(cs.selected) == connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(cs.selected) > connections, "the station reconnected"
    cs.wait_connected(IDENTITY, timeout=10)
    assert cs.auth_seen[-1] == basic(IDENTITY, new_password)
    got = raw_ok(cs, "GetVariables", {"getVariableData": [
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}]})["getVariableResult"][0]
    assert got["attributeStatus"] == "Rejected" and "attributeValue" not in got
    cs.wait_for("SecurityEventNotification", where=lambda p: p["type"] == "ReconfigurationOfSecurityParameters", timeout=10)
    data = tmp_path / "data"
    assert (data / "authorization-key").read_text().strip() == new_password.encode().hex()
    for f in data.iterdir():
        if f.is_file() and f.name != "authorization-key":
            assert new_password.encode() not in f.read_bytes(), f"{f.name} holds the password"
    assert not any(new_password in line for line in evsed.log())


def test_a_signed_station_certificate_is_presented_on_the_next_connection(tmp_path, sim, station, csms):
    pki = PKI(tmp_path / "pki-test")
    client = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
    pki.issue("station", "root", "SN-201", client)
    cs = csms(ssl_context=pki.server_context(client_ca=pki.path("root.pem")))
    station(cs.url, "--security-profile", "3", "--csms-root-certificate", pki.path("root.pem"),
            "--client-certificate", pki.path("station.pem"), "--client-key", pki.path("station.key"))
    cs.wait_for("BootNotification", timeout=20)
    first = cs.client_serials[-1]
    assert first
    assert raw_ok(cs, "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})["status"] == "Accepted"
    request = cs.wait_for("SignCertificate", timeout=10)[0]
    (tmp_path / "pki-test" / "renewed.csr").write_text(request["csr"])
    pki.sign_csr("renewed", "root", client)
    connections = len(cs.selected)
    answer = raw_ok(cs, "CertificateSigned", {"certificateChain": (tmp_path / "pki-test" / "renewed.pem").read_text(),
                                              "certificateType": "ChargingStationCertificate"})
    assert answer["status"] == "Accepted"
    deadline = time.monotonic() + 20
    while len(cs.selected) == connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(cs.selected) > connections, "the station reconnected"
    assert cs.client_serials[-1] and cs.client_serials[-1] != first, "with the new certificate"
