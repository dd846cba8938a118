"""Certificates made by the tests with the openssl command line: CAs, leaf certificates for
TLS servers and clients, firmware signing certificates and signatures."""
import base64
import ssl
import subprocess

import pytest


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class PKI:
    """A CSMS root, a server certificate for a host name, client certificates on request."""

    def __init__(self, directory, server_name="localhost"):
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.ca("root")
        self.issue("server", "root", server_name, f"subjectAltName=DNS:{server_name}\nextendedKeyUsage=serverAuth\n")

    def ca(self, name):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "30", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                cwd=self.dir)

    def issue(self, name, ca, cn, extensions):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=self.dir)
        self.sign_csr(name, ca, extensions)

    def sign_csr(self, name, ca, extensions):
        (self.dir / f"{name}.ext").write_text("basicConstraints=CA:FALSE\n" + extensions)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
                "-days", "10", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=self.dir)

    def path(self, name):
        return str(self.dir / name)

    def server_context(self, client_ca=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.path("server.pem"), self.path("server.key"))
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(client_ca)
        return ctx

    def sign_file(self, signer, path):
        """The base64 SHA-256 signature of the file at `path` with `signer`'s key, as
        SignedUpdateFirmware carries it (openssl dgst -sha256 -sign)."""
        out = self.dir / f"{path.name}.{signer}.sig"
        openssl("dgst", "-sha256", "-sign", f"{signer}.key", "-out", str(out), str(path), cwd=self.dir)
        return base64.b64encode(out.read_bytes()).decode()

    def firmware_signer(self, name, ca):
        """A firmware signing certificate issued by `ca`; returns its PEM."""
        self.issue(name, ca, name, "keyUsage=critical,digitalSignature\n")
        return (self.dir / f"{name}.pem").read_text()


@pytest.fixture()
def manufacturer(tmp_path):
    """A manufacturer root and a stranger's root, for signed firmware."""
    pki = PKI(tmp_path / "pki")
    pki.ca("manufacturer")
    pki.ca("stranger")
    return pki
