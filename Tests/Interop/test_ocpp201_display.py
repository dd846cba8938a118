"""OCPP 2.0.1 display messages (block O) and tariff and cost (block I) end to end: a CSMS on the
`ocpp` package's v201 classes, evsed (--ocpp-version 2.0.1) drawing on an SSD1306 OLED on
evse-sim's I2C bus, and the glass read back through the simulator's API at each step."""
import re
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from ocpp.v201 import call

from evsed_process import EvsedProcess, sim_board_for
from ocpp201_support import IDENTITY, boot_accepted, c1, csms, present_card, wait_for  # noqa: F401 (fixtures)
from sim_process import c_to_b_latency_ms

UNLISTED = "600DCA7D"  # not in the demo local list: the CSMS is asked (Authorize)
LIMIT = 50  # DisplayMessageCtrlr.DisplayMessages' maxLimit


@pytest.fixture()
def oled_station(sim, bin_dir, repo_root, tmp_path):
    """evsed 2.0.1 on the sim board with its display swapped for an SSD1306 at 0x3C; every start
    of one test uses the same data directory."""
    board = sim_board_for(repo_root, sim, tmp_path)
    text, n = re.subn(r"hd44780: \{[^}]*\}", "ssd1306: {i2c: sim, address: 0x3C}", board.read_text())
    assert n == 1
    board.write_text(text)
    started = []

    def start(csms_url):
        p = EvsedProcess(bin_dir, board, repo_root / "etc" / "station.demo.yaml", tmp_path / "data",
                         "--csms", csms_url, "--identity", IDENTITY, "--ocpp-version", "2.0.1")
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def glass_text(sim):
    """The glass's text rows as one line: a text wrapped over two rows reads as it was sent."""
    return " ".join(" ".join(sim.state()["oled"]["text"]).split())


def wait_glass(sim, *fragments, absent=(), timeout=10):
    def shows():
        t = glass_text(sim)
        return all(f in t for f in fragments) and not any(a in t for a in absent)
    try:
        wait_for(shows, timeout=timeout, what=f"{fragments} on the glass")
    except AssertionError:
        raise AssertionError(f"{fragments} (without {absent}) not on the glass, which shows:\n"
                             + "\n".join(sim.state()["oled"]["text"])) from None


def iso(seconds_from_now):
    t = datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def message(id, content, priority="AlwaysFront", fmt="UTF8", **more):
    return {"id": id, "priority": priority, "message": {"format": fmt, "content": content}, **more}


def set_message(cs, info):
    return cs.call(IDENTITY, call.SetDisplayMessage(message=info)).status


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "RssAnon")}


def test_a_message_reaches_the_glass_expires_and_is_cleared_and_every_refusal_has_its_status(sim, oled_station, csms):
    cs = csms()
    evsed = oled_station(cs.url)
    boot_accepted(cs)
    wait_glass(sim, "Ready")

    # AlwaysFront for a few seconds: on the glass at once, gone when its window ends.
    assert set_message(cs, message(1, "Maintenance at 14:00", endDateTime=iso(6))) == "Accepted"
    wait_glass(sim, "Maintenance at 14:00")
    wait_glass(sim, "Ready", absent=("Maintenance",), timeout=12)

    # Refusals change nothing.
    assert set_message(cs, message(2, "<b>bold</b>", fmt="HTML")) == "NotSupportedMessageFormat"
    assert set_message(cs, message(3, "https://cpo.example", fmt="URI")) == "NotSupportedMessageFormat"
    assert set_message(cs, message(4, "x", transactionId="no-such-transaction")) == "UnknownTransaction"
    assert set_message(cs, message(5, "x", startDateTime=iso(3600), endDateTime=iso(60))) == "Rejected"
    raw = cs.raw_call(IDENTITY, "SetDisplayMessage", {"message": message(6, "x", state="Dancing")})
    assert raw == (3, {"status": "NotSupportedState", "statusInfo": {"reasonCode": "UnsupportedValue"}})
    raw = cs.raw_call(IDENTITY, "SetDisplayMessage", {"message": message(7, "x", priority="Loud")})
    assert raw[1]["status"] == "NotSupportedPriority"
    assert cs.call(IDENTITY, call.GetDisplayMessages(request_id=1)).status == "Unknown", "nothing was stored"

    # A message in every state until it is cleared.
    assert set_message(cs, message(8, "Free parking tonight")) == "Accepted"
    wait_glass(sim, "Free parking tonight")
    assert cs.call(IDENTITY, call.ClearDisplayMessage(id=8)).status == "Accepted"
    wait_glass(sim, "Ready", absent=("Free parking",))
    assert cs.call(IDENTITY, call.ClearDisplayMessage(id=8)).status == "Unknown"

    # DisplayMessageCtrlr as GetVariables reads it.
    names = ["Available", "Enabled", "DisplayMessages", "SupportedFormats", "SupportedPriorities",
             "PersonalMessageSize", "QRCodeDisplayCapable", "Language"]
    result = cs.call(IDENTITY, call.GetVariables(get_variable_data=[
        {"component": {"name": "DisplayMessageCtrlr"}, "variable": {"name": n}} for n in names])).get_variable_result
    values = {r["variable"]["name"]: r.get("attribute_value") for r in result}
    assert values == {"Available": "true", "Enabled": "true", "DisplayMessages": "0", "SupportedFormats": "ASCII,UTF8",
                      "SupportedPriorities": "AlwaysFront,InFront,NormalCycle", "PersonalMessageSize": "255",
                      "QRCodeDisplayCapable": "true", "Language": "en"}
    assert evsed.proc.poll() is None


def test_get_display_messages_is_paged_and_messages_survive_a_restart(sim, oled_station, csms):
    cs = csms()
    evsed = oled_station(cs.url)
    boot_accepted(cs)
    for i in range(1, 23):
        assert set_message(cs, message(100 + i, f"Note {i}", priority="NormalCycle")) == "Accepted"
    assert set_message(cs, message(7, "Closed for works on Monday")) == "Accepted"
    assert cs.call(IDENTITY, call.GetDisplayMessages(request_id=9)).status == "Accepted"
    pages = cs.wait_for("NotifyDisplayMessages", count=3)
    assert [p.get("tbc", False) for p in pages] == [True, True, False]
    assert [len(p["messageInfo"]) for p in pages] == [10, 10, 3]
    assert all(p["requestId"] == 9 for p in pages)
    assert cs.call(IDENTITY, call.GetDisplayMessages(request_id=10, priority="AlwaysFront")).status == "Accepted"
    only = cs.wait_for("NotifyDisplayMessages", count=4)[-1]
    assert [m["id"] for m in only["messageInfo"]] == [7] and only["messageInfo"][0]["message"]["content"] == \
        "Closed for works on Monday"
    wait_glass(sim, "Closed for works on Monday")

    # A restart: the messages come back from storage, on the glass and in the report.
    evsed.terminate()
    evsed = oled_station(cs.url)
    cs.wait_for("BootNotification", count=2)
    wait_glass(sim, "Closed for works on Monday")
    assert cs.call(IDENTITY, call.GetDisplayMessages(request_id=11, id=[7, 122])).status == "Accepted"
    again = cs.wait_for("NotifyDisplayMessages", count=5)[-1]
    assert sorted(m["id"] for m in again["messageInfo"]) == [7, 122]


def test_tariff_running_and_final_cost_in_the_drivers_language_and_a_transaction_message(sim, oled_station, csms):
    cs = csms()
    cs.token_extras[UNLISTED] = {"language1": "nl", "personal_message": {
        "format": "UTF8", "language": "nl", "content": "€0,30/kWh voor u"}}

    running = {"cost": 1.23}  # what this CSMS says the transaction costs so far

    def transaction_answer(kw):
        if kw["event_type"] == "Updated":
            return {"total_cost": running["cost"], "updated_personal_message": {
                "format": "UTF8", "language": "nl", "content": "Daltarief tot 7:00"}}
        if kw["event_type"] == "Ended":
            return {"total_cost": 3.31, "updated_personal_message": {"format": "UTF8", "language": "nl",
                                                                       "content": "Bedankt, tot ziens"}}
        return {"id_token_info": {"status": "Accepted"}}
    cs.transaction_event_answer = transaction_answer
    evsed = oled_station(cs.url)
    boot_accepted(cs)
    wait_glass(sim, "Ready")

    # Identified: the tariff, and the station's screens in the driver's language.
    present_card(sim, evsed, card=UNLISTED)
    cs.wait_for("Authorize")
    wait_glass(sim, "Pas geaccepteerd", "€0,30/kWh voor u")

    # Charging: the running cost from the Updated event's answer, then from CostUpdated.
    assert sim.post("/api/connectors/1/plug")[0] == 200
    started = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]
    tx = started["transactionInfo"]["transactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    wait_glass(sim, "Laden", "Kosten 1,23")
    # The Updated answer's personal message, in the normal cycle while the transaction runs.
    wait_glass(sim, "Daltarief tot 7:00")
    running["cost"] = 2.5
    cs.call(IDENTITY, call.CostUpdated(total_cost=2.5, transaction_id=tx))
    wait_glass(sim, "Kosten 2,50")

    # A message for this transaction only: shown while it runs, gone with it.
    assert set_message(cs, message(40, "Your car is charging", transactionId=tx, state="Charging")) == "Accepted"
    wait_glass(sim, "Your car is charging")

    # Finished: the final cost and the CSMS's text in Dutch; the transaction's message is gone.
    assert cs.call(IDENTITY, call.RequestStopTransaction(transaction_id=tx)).status == "Accepted"
    cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")
    wait_glass(sim, "Totaal", "3,31", "Bedankt, tot ziens", absent=("Your car is charging", "Daltarief"))
    assert cs.call(IDENTITY, call.GetDisplayMessages(request_id=3, id=[40])).status == "Unknown"


def test_a_flood_of_10000_set_display_message_calls_is_answered_within_the_limit(sim, oled_station, csms):
    cs = csms()
    evsed = oled_station(cs.url)
    boot_accepted(cs)
    pid = evsed.proc.pid
    # A session, so that the safety path can be timed while the flood runs.
    present_card(sim, evsed)
    assert sim.post("/api/connectors/1/plug")[0] == 200
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_for(lambda: c1(sim)["contactor"]["closed"], what="contactor closed")
    time.sleep(1)

    def pilot_cycle():
        latency = c_to_b_latency_ms(sim)
        assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
        wait_for(lambda: c1(sim)["contactor"]["closed"], timeout=15, what="contactor closed again")
        return latency

    quiet = [pilot_cycle() for _ in range(5)]
    before = rss_kib(pid)

    answers = {}
    done = threading.Event()

    def flood():
        try:
            for i in range(1, 10_001):
                kind, payload = cs.raw_call(IDENTITY, "SetDisplayMessage",
                                            {"message": message(i, f"Flood message number {i}", priority="NormalCycle")})
                assert kind == 3, payload
                answers[payload["status"]] = answers.get(payload["status"], 0) + 1
        finally:
            done.set()

    flooder = threading.Thread(target=flood)
    started_at = time.monotonic()
    flooder.start()
    latencies = []
    while not done.is_set() and len(latencies) < 10:
        latencies.append(pilot_cycle())
    flooder.join(600)
    elapsed = time.monotonic() - started_at
    after = rss_kib(pid)
    print(f"flood: {answers} in {elapsed:.1f} s; RSS {before['VmRSS']} → {after['VmRSS']} KiB, "
          f"anonymous {before['RssAnon']} → {after['RssAnon']} KiB; contactor-open latency before it "
          f"{[round(x, 2) for x in quiet]} ms, during it {[round(x, 2) for x in latencies]} ms")
    assert answers == {"Accepted": LIMIT, "Rejected": 10_000 - LIMIT}
    assert latencies, "the safety path was timed during the flood"
    assert max(latencies) < 100, "IEC 61851-1 allows 100 ms"
    assert after["RssAnon"] - before["RssAnon"] < 4096, "memory stays bounded"
    assert cs.call(IDENTITY, call.GetDisplayMessages(request_id=1)).status == "Accepted"
    pages = cs.wait_for("NotifyDisplayMessages", count=5)
    assert sum(len(p["messageInfo"]) for p in pages) == LIMIT
    assert evsed.proc.poll() is None


def test_messages_in_several_languages_and_the_total_cost_fallback(sim, oled_station, csms):
    """One text per language as separate messages: the glass shows the station's language while
    nobody is identified and the driver's (language1 nl) during their transaction, never both in
    turn. An Ended answer without totalCost shows TotalCostFallbackMessage instead of a total."""
    cs = csms()
    cs.token_extras[UNLISTED] = {"language1": "nl"}
    cs.transaction_event_answer = lambda kw: {} if kw["event_type"] == "Ended" else {"id_token_info": {"status": "Accepted"}}
    evsed = oled_station(cs.url)
    boot_accepted(cs)
    fallback = cs.call(IDENTITY, call.SetVariables(set_variable_data=[{
        "attribute_value": "Cost on your invoice", "component": {"name": "TariffCostCtrlr"},
        "variable": {"name": "TotalCostFallbackMessage"}}]))
    assert fallback.set_variable_result[0]["attribute_status"] == "Accepted"
    for id, language, text in ((50, "en", "Closed from 22:00"), (51, "nl", "Gesloten vanaf 22:00")):
        assert set_message(cs, {"id": id, "priority": "InFront",
                                "message": {"format": "UTF8", "language": language, "content": text}}) == "Accepted"

    def only_ever(shown, never, timeout=30):
        """Watches the rotation until `shown` has come up and gone again; `never` must not show in
        that time. Messages rotate in id order, so a `never` in the same cycle would be on the
        glass just before `shown` (51 after 50) or just after it (50 then 51)."""
        was_up, deadline = False, time.monotonic() + timeout
        while True:
            assert time.monotonic() < deadline, f"{shown!r} did not come and go; the glass shows: {glass_text(sim)}"
            text = glass_text(sim)
            assert never not in text, f"{never!r} on the glass: {text}"
            if shown in text:
                was_up = True
            elif was_up:
                return
            time.sleep(0.1)  # polls the simulator's glass; the rotation runs on evsed's clock

    only_ever("Closed from 22:00", never="Gesloten")
    present_card(sim, evsed, card=UNLISTED)
    cs.wait_for("Authorize")
    assert sim.post("/api/connectors/1/plug")[0] == 200
    tx = cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Started")[0]["transactionInfo"]["transactionId"]
    assert sim.post("/api/connectors/1/ev-state", {"state": "C"})[0] == 200
    wait_glass(sim, "Laden")
    only_ever("Gesloten vanaf 22:00", never="Closed from")

    assert cs.call(IDENTITY, call.RequestStopTransaction(transaction_id=tx)).status == "Accepted"
    cs.wait_for("TransactionEvent", where=lambda e: e["eventType"] == "Ended")
    wait_glass(sim, "Cost on your invoice", absent=("Totaal",))
