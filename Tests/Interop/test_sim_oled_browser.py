"""The SSD1306 OLED on the simulator's page, in a real headless browser (Debian's chromium through
playwright): `evsectl display test` draws its test pattern and text through the real driver on
the simulated I2C bus, and the page's canvas shows the glass pixel for pixel."""
import pathlib
import re
import struct
import subprocess
import sys
import urllib.request
import zlib

import pytest
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from sim_process import SimProcess, wait_for  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIM_BOARD = ROOT / "Board" / "sim-2x22kw.yaml"


@pytest.fixture
def sim(bin_dir):
    s = SimProcess(bin_dir, "--board", str(SIM_BOARD))
    yield s
    s.stop()


@pytest.fixture
def oled_board(sim, tmp_path):
    text = SIM_BOARD.read_text()
    text = text.replace("simulator: {address: 127.0.0.1:8089}", f"simulator: {{address: 127.0.0.1:{sim.hal_port}}}")
    text = text.replace("tcp: 127.0.0.1:5020", f"tcp: 127.0.0.1:{sim.modbus_port}")
    text, n = re.subn(r"hd44780: \{[^}]*\}", "ssd1306: {i2c: sim, address: 0x3C}", text)
    assert n == 1
    path = tmp_path / "oled-board.yaml"
    path.write_text(text)
    (tmp_path / "meters").symlink_to(ROOT / "Board" / "meters")
    return path


@pytest.fixture
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        pg = browser.new_page()
        yield pg
        browser.close()


def test_the_canvas_shows_the_oled_pixel_for_pixel(bin_dir, sim, oled_board, page):
    page.goto(sim.base + "/")
    canvas = page.locator("#oled")
    expect(canvas).to_be_visible()
    assert sim.state()["oled"]["lit"] == 0, "dark before the firmware switches it on"

    r = subprocess.run([str(bin_dir / "evsectl"), "display", "test", "--board", str(oled_board), "Preis 0,25 €/kWh"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    oled = wait_for(lambda: (lambda o: o if o["on"] and o["lit"] > 0 else None)(sim.state()["oled"]), what="the OLED lit")
    assert "Preis 0,25 €/kWh" in oled["text"]
    assert "ÄÖÜäöüß éèêàçëïô" in oled["text"], "the accented letters of the font, read back from the glass"

    # The page redraws on the simulator's events; the canvas then holds the same picture.
    expect(canvas).to_have_attribute("data-lit", str(oled["lit"]))
    drawn = page.evaluate("""() => {
        const c = document.getElementById('oled');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const scale = c.width / 128;
        const rows = [];
        for (let y = 0; y < 64; y++) {
            let row = '';
            for (let x = 0; x < 128; x++) {
                const i = ((y * scale) * c.width + x * scale) * 4;
                row += (d[i] + d[i + 1] + d[i + 2]) > 150 ? '#' : '.';
            }
            rows.push(row);
        }
        return rows;
    }""")
    assert drawn == sim.state()["oled"]["pixels"]

    # The same glass as a PNG: decoded here with the standard library, pixel for pixel.
    with urllib.request.urlopen(sim.base + "/api/oled.png?scale=1") as response:
        assert response.headers["Content-Type"] == "image/png"
        png = response.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (128, 64)
    idat = png[png.index(b"IDAT") + 4:png.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    rows = ["".join("#" if raw[y * 129 + 1 + x] else "." for x in range(128)) for y in range(64)]
    assert rows == sim.state()["oled"]["pixels"]


def test_an_a02_lcd_shows_the_accented_letters(bin_dir, tmp_path):
    """An HD44780 with the European ROM (board `rom: A02`): the simulator decodes the A02 codes
    the driver writes, so é, à, ç and ë reach the glass instead of their base letters."""
    board_text = SIM_BOARD.read_text().replace("columns: 20, rows: 4}", "columns: 20, rows: 4, rom: A02}")
    assert "rom: A02" in board_text
    sim_board = tmp_path / "a02-sim.yaml"
    sim_board.write_text(board_text)
    (tmp_path / "meters").symlink_to(ROOT / "Board" / "meters")
    s = SimProcess(bin_dir, "--board", str(sim_board))
    try:
        text = board_text.replace("simulator: {address: 127.0.0.1:8089}", f"simulator: {{address: 127.0.0.1:{s.hal_port}}}")
        text = text.replace("tcp: 127.0.0.1:5020", f"tcp: 127.0.0.1:{s.modbus_port}")
        board = tmp_path / "a02-board.yaml"
        board.write_text(text)
        r = subprocess.run([str(bin_dir / "evsectl"), "display", "test", "--board", str(board), "Café à Noël, garçon"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        lines = wait_for(lambda: (lambda d: d["lines"] if any(d["lines"]) else None)(s.state()["display"]), what="the LCD written")
        assert "Café à Noël, garçon" in " ".join(lines)
    finally:
        s.stop()
