"""OCPP 1.6J security whitepaper end to end: a CSMS on the `ocpp` package served over TLS
(certificates made here with the openssl CLI), evsed with security profiles 2 and 3."""
import asyncio
import base64
import subprocess
import time
from http import HTTPStatus

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from csms16 import CentralSystem, CentralSystemChargePoint
from openssl_pki import PKI
from ocpp16_support import IDENTITY, station  # noqa: F401 (fixture)

KEY_HEX = "00112233445566778899aabbccddeeff00112233"


class SecureChargePoint(CentralSystemChargePoint):
    """Also signs: answers SignCertificate (the test signs the CSR itself and sends it back)."""

    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr, **kw):
        self._record("SignCertificate", {"csr": csr})
        return call_result.SignCertificate(status="Accepted")


class TLSCentralSystem(CentralSystem):
    """wss://localhost:<port>; checks Basic auth when `expected_auth` is set; records the
    client certificate serial of every connection."""

    def __init__(self, context, expected_auth=None, **kw):
        self.context = context
        self.expected_auth = expected_auth
        self.auth_seen = []
        self.client_serials = []
        super().__init__(**kw)

    def _run(self, started):
        asyncio.set_event_loop(self.loop)

        async def main():
            self.server = await websockets.serve(self._on_connect, "127.0.0.1", self.port, subprotocols=["ocpp1.6"],
                                                 ssl=self.context, process_request=self._check_auth)
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()

        self.loop.run_until_complete(main())
        self.loop.run_forever()

    def _check_auth(self, connection, request):
        header = request.headers.get("Authorization")
        self.auth_seen.append(header)
        if self.expected_auth is not None and header != self.expected_auth:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad credentials\n")
        return None

    async def _on_connect(self, websocket):
        ssl_object = websocket.transport.get_extra_info("ssl_object")
        peer = ssl_object.getpeercert() if ssl_object else None
        self.client_serials.append(peer.get("serialNumber") if peer else None)
        identity = websocket.request.path.strip("/")
        cp = SecureChargePoint(identity, websocket)
        cp.csms = self
        self.charge_points[identity] = cp
        self._connections.add(websocket)
        try:
            await cp.start()
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            self._connections.discard(websocket)
            if self.charge_points.get(identity) is cp:
                del self.charge_points[identity]

    @property
    def url(self):
        return f"wss://localhost:{self.port}"


def basic(identity, key_hex):
    return "Basic " + base64.b64encode(identity.encode() + b":" + bytes.fromhex(key_hex)).decode()


@pytest.fixture()
def servers():
    made = []
    yield made
    for c in made:
        try:
            c.stop()
        except Exception:
            pass


def key_file(tmp_path):
    path = tmp_path / "authorization-key"
    path.write_text(KEY_HEX + "\n")
    return str(path)


def test_profile_2_connects_with_basic_auth_and_never_reveals_the_key(tmp_path, station, servers):
    pki = PKI(tmp_path / "pki-test")
    csms = TLSCentralSystem(pki.server_context(), expected_auth=basic(IDENTITY, KEY_HEX))
    servers.append(csms)
    evsed = station(csms.url, "--security-profile", "2", "--authorization-key-file", key_file(tmp_path),
                    "--csms-root-certificate", pki.path("root.pem"))
    csms.wait_for("BootNotification", timeout=20)
    assert csms.auth_seen[-1] == basic(IDENTITY, KEY_HEX)
    events = csms.wait_for("SecurityEventNotification", timeout=10)
    assert events[0]["type"] == "StartupOfTheDevice"
    _, answer = csms.raw_call(IDENTITY, "GetConfiguration", {})
    keys = {k["key"]: k.get("value") for k in answer["configurationKey"]}
    assert keys["SecurityProfile"] == "2"
    assert "AuthorizationKey" not in keys
    _, answer = csms.raw_call(IDENTITY, "ChangeConfiguration", {"key": "SecurityProfile", "value": "1"})
    assert answer["status"] == "Rejected", "never lowered"
    assert not any(KEY_HEX in line for line in evsed.log()), "the key is never logged"
    # The root installed from the option is listed.
    _, answer = csms.raw_call(IDENTITY, "GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"})
    assert answer["status"] == "Accepted" and len(answer["certificateHashData"]) == 1


def test_wrong_key_is_refused_and_reported_after_a_good_connection(tmp_path, station, servers):
    pki = PKI(tmp_path / "pki-test")
    csms = TLSCentralSystem(pki.server_context(), expected_auth=basic(IDENTITY, "ff" * 16))
    servers.append(csms)
    evsed = station(csms.url, "--security-profile", "2", "--authorization-key-file", key_file(tmp_path),
                    "--csms-root-certificate", pki.path("root.pem"))
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and len(csms.auth_seen) < 2:
        time.sleep(0.05)
    assert len(csms.auth_seen) >= 2, "it keeps trying"
    assert not csms.received("BootNotification")
    csms.expected_auth = basic(IDENTITY, KEY_HEX)
    events = csms.wait_for("SecurityEventNotification", count=2, timeout=40)
    assert "FailedToAuthenticateAtCentralSystem" in [e["type"] for e in events]
    assert evsed.proc.poll() is None


@pytest.mark.parametrize("problem", ["untrusted-certificate", "wrong-host-name"])
def test_a_csms_that_is_not_who_it_should_be_is_refused(tmp_path, station, servers, problem):
    pki = PKI(tmp_path / "pki-test", server_name="localhost" if problem == "untrusted-certificate" else "elsewhere.example")
    trusted = PKI(tmp_path / "pki-other") if problem == "untrusted-certificate" else pki
    csms = TLSCentralSystem(pki.server_context())
    servers.append(csms)
    evsed = station(csms.url, "--security-profile", "2", "--authorization-key-file", key_file(tmp_path),
                    "--csms-root-certificate", trusted.path("root.pem"))
    evsed.wait_log(r"connect failed", timeout=15)
    time.sleep(2)
    assert not csms.received(), "no OCPP message over an unverified connection"
    assert evsed.proc.poll() is None


def test_profile_3_client_certificate_and_sign_certificate_round_trip(tmp_path, station, servers):
    pki = PKI(tmp_path / "pki-test")
    pki.issue("station", "root", "SN-initial", "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    csms = TLSCentralSystem(pki.server_context(client_ca=pki.path("root.pem")))
    servers.append(csms)
    station(csms.url, "--security-profile", "3", "--csms-root-certificate", pki.path("root.pem"),
            "--client-certificate", pki.path("station.pem"), "--client-key", pki.path("station.key"))
    csms.wait_for("BootNotification", timeout=20)
    first_serial = csms.client_serials[-1]
    assert first_serial, "the station presented a client certificate"

    _, answer = csms.raw_call(IDENTITY, "ChangeConfiguration", {"key": "CpoName", "value": "Example CPO"})
    assert answer["status"] == "Accepted"
    _, answer = csms.raw_call(IDENTITY, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"})
    assert answer["status"] == "Accepted"
    csr = csms.wait_for("SignCertificate", timeout=15)[0]["csr"]
    (pki.dir / "new.csr").write_text(csr)
    subject = subprocess.run(["openssl", "req", "-in", "new.csr", "-noout", "-subject"], cwd=pki.dir,
                             capture_output=True, text=True, check=True).stdout
    assert "O = Example CPO" in subject or "O=Example CPO" in subject
    pki.sign_csr("new", "root", "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    _, answer = csms.raw_call(IDENTITY, "CertificateSigned", {"certificateChain": (pki.dir / "new.pem").read_text()})
    assert answer["status"] == "Accepted"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(csms.client_serials) < 2 or csms.client_serials[-1] == first_serial):
        time.sleep(0.05)
    assert csms.client_serials[-1] != first_serial, "reconnected with the signed certificate"
    csms.wait_connected(IDENTITY)


class PlainCentralSystem(TLSCentralSystem):
    """ws:// with Basic auth checked (security profile 1)."""

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}"


def test_raised_profile_that_cannot_connect_falls_back_to_the_previous_one(tmp_path, station, servers):
    pki = PKI(tmp_path / "pki-test")
    csms = PlainCentralSystem(None, expected_auth=basic(IDENTITY, KEY_HEX))
    servers.append(csms)
    station(csms.url, "--security-profile", "1", "--authorization-key-file", key_file(tmp_path))
    csms.wait_for("BootNotification", timeout=20)
    _, answer = csms.raw_call(IDENTITY, "ChangeConfiguration", {"key": "SecurityProfile", "value": "2"})
    assert answer["status"] == "Rejected", "no CSMS root installed yet"
    _, answer = csms.raw_call(IDENTITY, "InstallCertificate", {"certificateType": "CentralSystemRootCertificate",
                                                               "certificate": (pki.dir / "root.pem").read_text()})
    assert answer["status"] == "Accepted"
    connections = len(csms.auth_seen)
    _, answer = csms.raw_call(IDENTITY, "ChangeConfiguration", {"key": "SecurityProfile", "value": "2"})
    assert answer["status"] == "Accepted"
    # wss:// to a plain server fails; after three attempts it is back on profile 1.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(csms.auth_seen) <= connections:
        time.sleep(0.1)
    assert len(csms.auth_seen) > connections, "reconnected with the previous profile"
    csms.wait_connected(IDENTITY)
    _, answer = csms.raw_call(IDENTITY, "GetConfiguration", {"key": ["SecurityProfile"]})
    assert answer["configurationKey"][0]["value"] == "1"
