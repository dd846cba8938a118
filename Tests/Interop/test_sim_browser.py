"""The simulator's page in a real headless browser (Debian's chromium through playwright)."""
import pathlib
import re
import sys

import pytest
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from sim_process import HALClient, SimProcess  # noqa: E402


@pytest.fixture
def sim(bin_dir):
    s = SimProcess(bin_dir)
    yield s
    s.stop()


@pytest.fixture
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        pg = browser.new_page()
        yield pg
        browser.close()


def test_plug_card_ev_state_and_live_updates(sim, page):
    hal = HALClient(sim.hal_port)
    assert hal.call("gpio.open rfid.d0 in falling") == "ok 1"
    page.goto(sim.base + "/")
    expect(page.locator("#c1-ev")).to_have_text("not plugged")
    expect(page.locator("#c1-pilot")).to_contain_text("state A")

    # Plug in with options.
    page.select_option("#c1-cable", "20")
    page.fill("#c1-maxa", "16")
    page.click("#c1-plug")
    expect(page.locator("#c1-ev")).to_contain_text("plugged, state B")
    expect(page.locator("#c1-ev")).to_contain_text("cable 20 A")
    expect(page.locator("#c1-pilot")).to_contain_text("state B")
    assert sim.state()["connectors"][0]["ev"]["max_current_a"] == 16

    # Present a card: the firmware side receives the Wiegand frame.
    page.fill("#uid", "A1B2C3")
    page.click("#present")
    hal.wait_push(lambda line: line.startswith("! edge rfid.d0 falling"))
    expect(page.locator("#log")).to_contain_text("rfid.card")

    # EV state C.
    page.click("#c1-state-C")
    expect(page.locator("#c1-pilot")).to_contain_text("state C")

    # Changes made elsewhere (the firmware closing the contactor, writing the display) show
    # up without a reload.
    assert hal.call("gpio.open c1.contactor.coil out 1") == "ok 1"
    expect(page.locator("#c1-contactor")).to_contain_text("closed")
    text = "Charging"
    writes = []
    def nib(n, rs):
        port = (n << 4) | 0x08 | (1 if rs else 0)
        writes.extend([port | 0x04, port])
    for n in (3, 3, 3, 2):
        nib(n, False)
    for b in (0x28, 0x0C, 0x06, 0x01):
        nib(b >> 4, False); nib(b & 15, False)
    for ch in text.encode():
        nib(ch >> 4, True); nib(ch & 15, True)
    assert hal.call("i2c.write sim 39 " + bytes(writes).hex()) == "ok"
    expect(page.locator("#display")).to_contain_text("Charging")

    # Fault toggles.
    page.check("#c1-fault-rcd")
    expect(page.locator("#c1-faults")).to_contain_text("rcd")
    page.check("#fault-estop")
    expect(page.locator("#c2-faults")).to_contain_text("estop")

    # An error from the API is shown, and the page keeps working.
    page.click("#c2-state-C")
    expect(page.locator("#error")).to_contain_text("no EV plugged in")

    # A cable the firmware locked stays in, unless forced out.
    assert hal.call("gpio.open c1.lock.drive out 1") == "ok 1"
    expect(page.locator("#c1-lock")).to_contain_text(re.compile(r"^locked"))
    page.click("#c1-unplug")
    expect(page.locator("#error")).to_contain_text("cable is locked")
    expect(page.locator("#c1-ev")).to_contain_text("plugged, state C")
    page.check("#c1-force")
    page.click("#c1-unplug")
    expect(page.locator("#c1-ev")).to_have_text("not plugged")
    hal.close()


def test_grid_panel_shows_import_export_and_phases(sim, page):
    page.goto(sim.base + "/")
    expect(page.locator("#grid-meter")).to_contain_text("meter sdm630, unit 10")
    expect(page.locator("#grid-flow")).to_contain_text("import 0.00 kW")
    # House load from the page.
    page.fill("#house-l1", "10")
    page.fill("#house-l2", "20")
    page.fill("#house-l3", "0")
    page.click("#house-set")
    expect(page.locator("#grid-phases")).to_contain_text("L1 10.0 A, L2 20.0 A, L3 0.0 A (fuse 50 A)")
    expect(page.locator("#grid-flow")).to_contain_text("import 6.90 kW")
    assert sim.get("/api/grid")[1]["house_load_a"] == [10, 20, 0]
    # PV above the house load: export.
    page.fill("#pv-w", "13800")
    page.click("#pv-set")
    expect(page.locator("#grid-flow")).to_contain_text("export 6.90 kW")
    expect(page.locator("#grid-phases")).to_contain_text("L1 -10.0 A")
    # A change made through the API shows up without a reload; so does each connector's phases.
    sim.post("/api/grid", {"pv_w": 0, "house_load_a": 60})
    expect(page.locator("#grid-phases .bad")).to_have_count(3)   # above the fuse
    hal = HALClient(sim.hal_port)
    sim.post("/api/connectors/1/plug", {"ev": {"max_current_a": 16, "phases": 1}})
    sim.post("/api/connectors/1/ev-state", {"state": "C"})
    assert hal.call("pwm.open c1.cp.pwm") == "ok"
    assert hal.call(f"pwm.set c1.cp.pwm 1000000 {round(16 / 0.6 * 10000)} normal 1") == "ok"
    assert hal.call("gpio.open c1.contactor.coil out 1") == "ok 1"
    expect(page.locator("#c1-phases-used")).to_contain_text("relay 3 ph, drawing on 1 ph")
    expect(page.locator("#grid-chargers")).to_contain_text("16.0/0.0/0.0 A")
    # The grid meter's fault from the page.
    page.check("#fault-grid-meter-offline")
    expect(page.locator("#grid-meter")).to_contain_text("offline")
    assert "grid-meter-offline" in sim.state()["faults"]
    hal.close()


def test_an_led_class_pattern_breathes_in_the_page_without_further_requests(sim, page):
    hal = HALClient(sim.hal_port)
    assert hal.call("led.open c1.led.blue.class") == "ok"
    assert hal.call("led.open c1.led.red.class") == "ok"
    assert hal.call("led.set c1.led.red.class 1") == "ok"
    page.goto(sim.base + "/")
    red = page.locator('#c1-leds span[data-colour="red"]')
    blue = page.locator('#c1-leds span[data-colour="blue"]')
    expect(red).to_have_attribute("data-brightness", "1")
    expect(blue).to_have_attribute("data-brightness", "0")

    # One request; the page animates the pattern itself (the state comes once a second).
    assert hal.call("led.pattern c1.led.blue.class 0 1000 1 1000") == "ok"
    expect(blue).to_have_attribute("data-pattern", "[[0,1000],[1,1000]]")
    # Seek the animation instead of waiting: dark at 0 ms, full at 1000 ms, half way back at 1500 ms.
    opacities = blue.evaluate(
        """(span) => {
            const [anim] = span.getAnimations();
            return [0, 1000, 1500].map((t) => { anim.pause(); anim.currentTime = t; return Number(getComputedStyle(span).opacity); });
        }"""
    )
    assert opacities[0] == pytest.approx(0.25, abs=0.01)
    assert opacities[1] == pytest.approx(1.0, abs=0.01)
    assert opacities[2] == pytest.approx(0.625, abs=0.01)
    assert red.evaluate("(span) => span.getAnimations().length") == 0

    # A steady brightness ends the animation.
    assert hal.call("led.set c1.led.blue.class 0") == "ok"
    expect(blue).not_to_have_attribute("data-pattern", re.compile(".*"))
    assert blue.evaluate("(span) => span.getAnimations().length") == 0
    hal.close()
