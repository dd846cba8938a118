"""The firmware's QR encoder against a known-good one: `evsectl display qr` prints the matrix it
draws; python-qrcode (PyPI `qrcode`) encodes the same text in byte mode at the same level and
mask; they must agree module for module (version, format and version information, data,
Reed–Solomon codewords, interleaving, placement, masking)."""
import subprocess

import pytest
import qrcode
import qrcode.util

URLS = [
    "https://cpo.example/i/13546",
    "https://www.cpo.com/invoices/13546?session=98765&lang=nl",
    "https://pay.example.com/checkout?station=DE*ABC*E1234*1&connector=2&amount=3.31&currency=EUR&ref=" + "Z" * 20,
    "HTTPS://EXAMPLE.ORG/€",
]
LEVELS = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
          "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}


def reference(text, level, mask):
    q = qrcode.QRCode(version=None, error_correction=LEVELS[level], border=0, mask_pattern=mask)
    q.add_data(qrcode.util.QRData(text.encode("utf-8"), mode=qrcode.util.MODE_8BIT_BYTE))
    q.make(fit=True)
    return q.version, ["".join("#" if v else "." for v in row) for row in q.get_matrix()]


def evsectl_qr(bin_dir, text, level):
    r = subprocess.run([str(bin_dir / "evsectl"), "display", "qr", text, "--level", level], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    header, *rows = r.stdout.strip().splitlines()
    words = header.split()
    return int(words[1]), int(words[5]), rows


@pytest.mark.parametrize("text", URLS)
@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_matches_python_qrcode_module_for_module(bin_dir, text, level):
    version, mask, rows = evsectl_qr(bin_dir, text, level)
    ref_version, expected = reference(text, level, mask)
    assert version == ref_version
    assert rows == expected


def test_too_long_is_a_clear_error(bin_dir):
    r = subprocess.run([str(bin_dir / "evsectl"), "display", "qr", "x" * 300], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "do not fit" in r.stderr
