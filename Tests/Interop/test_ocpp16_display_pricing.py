"""California Pricing (OCPP 1.6, the OCA application note) end to end: a CSMS on the `ocpp`
package sends the default price, the driver's price, the running cost and the final cost; evsed
draws them on an SSD1306 OLED on the simulated I2C bus; the test reads the glass back through
evse-sim's API (`oled.text`, read cell by cell against the firmware's font, and `oled.pixels`).
The driver's language (Dutch) wins over the station's (English) for the screens and texts."""
import json
import re

import pytest
import qrcode
import qrcode.util
from ocpp.v16 import call

from evsed_process import EvsedProcess, sim_board_for
from ocpp16_support import CARD, IDENTITY, boot_accepted, c1, csms, present_card, wait_for  # noqa: F401 (fixtures)

VENDOR = "org.openchargealliance.costmsg"
RECEIPT = "https://cpo.example/r/13546"


@pytest.fixture()
def oled_station(sim, bin_dir, repo_root, tmp_path):
    """evsed on the sim board with its display swapped for an SSD1306 at 0x3C."""
    board = sim_board_for(repo_root, sim, tmp_path)
    text = board.read_text()
    text, n = re.subn(r"hd44780: \{[^}]*\}", "ssd1306: {i2c: sim, address: 0x3C}", text)
    assert n == 1
    board.write_text(text)
    started = []

    def start(csms_url):
        p = EvsedProcess(bin_dir, board, repo_root / "etc" / "station.demo.yaml", tmp_path / "data",
                         "--csms", csms_url, "--identity", IDENTITY)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def glass(sim):
    return sim.state()["oled"]


def glass_text(sim):
    """The glass's text rows as one line: a text wrapped over two rows reads as it was sent."""
    return " ".join(" ".join(glass(sim)["text"]).split())


def wait_glass(sim, *fragments, timeout=10):
    try:
        wait_for(lambda: all(f in glass_text(sim) for f in fragments), timeout=timeout, what=f"{fragments} on the glass")
    except AssertionError:
        raise AssertionError(f"{fragments} not on the glass, which shows:\n" + "\n".join(glass(sim)["text"])) from None


def data_transfer(cs, message_id, data):
    return cs.call(IDENTITY, call.DataTransfer(vendor_id=VENDOR, message_id=message_id, data=json.dumps(data))).status


def qr_modules(pixels, text):
    """The QR code on the right half of the glass as modules, compared with python-qrcode's
    encoding of `text` (level M) under each of the 8 masks: the mask that matches, or None."""
    columns = [x for x in range(64, 128) if any(row[x] == "#" for row in pixels)]
    rows = [y for y in range(64) if "#" in pixels[y][64:]]
    if not columns:
        return None
    left, top = columns[0], rows[0]
    side = columns[-1] - left + 1
    for mask in range(8):
        q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=mask)
        q.add_data(qrcode.util.QRData(text.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
        q.make(fit=True)
        matrix = q.get_matrix()
        size = len(matrix)
        if side % size:
            continue
        scale = side // size
        drawn = [[pixels[top + y * scale][left + x * scale] == "#" for x in range(size)] for y in range(size)]
        if drawn == [[bool(v) for v in row] for row in matrix]:
            return mask
    return None


def test_california_pricing_on_the_oled_idle_identified_charging_finished(sim, oled_station, csms):
    cs = csms()
    evsed = oled_station(cs.url)
    boot_accepted(cs, evsed)
    wait_glass(sim, "Ready", "Present your card")
    assert glass(sim)["on"]

    # Idle: the default price, set by the CSMS, applies at once.
    r = cs.call(IDENTITY, call.ChangeConfiguration(key="DefaultPrice", value=json.dumps(
        {"priceText": "0.25 $/kWh, idle 1 $/h", "priceTextOffline": "Offline: 0.25 $/kWh"})))
    assert r.status == "Accepted"
    wait_glass(sim, "Ready", "0.25 $/kWh, idle 1 $/h")
    assert cs.call(IDENTITY, call.ChangeConfiguration(key="DefaultPrice", value="0.25")).status == "Rejected"
    assert "0.25 $/kWh, idle 1 $/h" in glass_text(sim), "a rejected value changes nothing"

    # Identified: the card is authorized, the CSMS sends the driver's price in their language.
    present_card(sim, evsed)
    cs.wait_for("Authorize")
    wait_glass(sim, "Card accepted")
    status = data_transfer(cs, "SetUserPrice", {
        "idToken": CARD, "language": "nl", "priceText": "0.20 $/kWh for you",
        "priceTextExtra": [{"format": "UTF8", "language": "nl", "content": "€0,20/kWh voor u, geen stilstandkosten"},
                           {"format": "UTF8", "language": "de", "content": "0,20 €/kWh für Sie"}]})
    assert status == "Accepted"
    wait_glass(sim, "Pas geaccepteerd", "Steek de kabel in", "€0,20/kWh voor u")

    # Charging: the running cost after StartTransaction, in Dutch.
    assert sim.post("/api/connectors/1/plug")[0] == 200
    start = cs.wait_for("StartTransaction")[0]
    tx = start["assignedTransactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    wait_glass(sim, "Laden")
    assert data_transfer(cs, "RunningCost", {
        "transactionId": tx, "timestamp": "2026-01-01T00:00:00Z", "meterValue": 0, "cost": 1.23, "state": "Charging",
        "chargingPrice": {"kWhPrice": 0.0, "hourPrice": 0.0, "flatFee": 0.0}}) == "Accepted"
    wait_glass(sim, "Kosten 1,23")
    assert data_transfer(cs, "RunningCost", {"transactionId": tx + 1000, "timestamp": "2026-01-01T00:00:00Z", "meterValue": 0,
                                             "cost": 9.99, "state": "Charging", "chargingPrice": {}}) == "Rejected"
    assert data_transfer(cs, "Frobnicate", {}) == "UnknownMessageId"
    r = cs.call(IDENTITY, call.DataTransfer(vendor_id="com.example.other", message_id="RunningCost", data="{}"))
    assert r.status == "UnknownVendorId"

    # Finished: the EV stays plugged, the CSMS sends the final cost with a receipt URL.
    assert cs.call(IDENTITY, call.RemoteStopTransaction(transaction_id=tx)).status == "Accepted"
    cs.wait_for("StopTransaction")
    assert data_transfer(cs, "FinalCost", {
        "transactionId": tx, "cost": 3.31, "priceText": "Total $3.31, receipt at the link",
        "priceTextExtra": [{"format": "UTF8", "language": "nl", "content": "Bon via QR"}],
        "qrCodeText": RECEIPT}) == "Accepted"
    wait_glass(sim, "Totaal", "3,31", "Bon via QR")
    # The glass is read between page writes at times: the code is there once a read matches.
    try:
        wait_for(lambda: qr_modules(glass(sim)["pixels"], RECEIPT) is not None, timeout=5, what="QR code")
    except AssertionError:
        raise AssertionError("the glass shows no QR code of the receipt URL:\n" + "\n".join(glass(sim)["pixels"])) from None
