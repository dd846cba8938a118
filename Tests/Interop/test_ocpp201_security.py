"""OCPP 2.0.1 security profiles end to end: Basic auth with the BasicAuthPassword (profiles 1
and 2), TLS with the CSMS root (2) and a client certificate (3), through the same PKI as 1.6.
A CSMS on the `ocpp` package's v201 classes, certificates made with the openssl CLI."""
import base64
import subprocess

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
