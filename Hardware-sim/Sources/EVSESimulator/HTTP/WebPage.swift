/// The page at `/`: plain HTML and JavaScript, no external assets, no build step. Kept in
/// the binary so `evse-sim` serves it from wherever it is installed.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>evse-sim</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1rem; background: #f4f5f7; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem 0; }
  .row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
  .card { background: #fff; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  .connector { min-width: 24rem; }
  table { border-collapse: collapse; }
  td { padding: .15rem .5rem .15rem 0; vertical-align: top; }
  td:first-child { color: #666; }
  .lcd { font-family: "DejaVu Sans Mono", monospace; font-size: 1.2rem; background: #1b3a1b; color: #b9f5b9;
         padding: .5rem .7rem; border-radius: 4px; white-space: pre; line-height: 1.3; margin: .3rem 0; }
  .lcd.off { background: #162016; color: #3d5a3d; }
  .on { color: #0a7d22; font-weight: 600; } .off-t { color: #888; } .bad { color: #c01818; font-weight: 600; }
  button { margin: .1rem; } input[type=number] { width: 5rem; }
  fieldset { border: 1px solid #ddd; border-radius: 6px; margin: .4rem 0; padding: .3rem .6rem; }
  legend { color: #666; font-size: .85rem; }
  #log { font-family: monospace; font-size: .8rem; height: 18rem; overflow-y: auto; white-space: pre; background: #fff; }
  #error { color: #c01818; min-height: 1.2em; }
  .oled { display: block; background: #000; border-radius: 4px; margin: .3rem 0; image-rendering: pixelated; }
  .led { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%; background: #ccc; margin-right: .2rem; }
</style>
</head>
<body>
<h1>evse-sim — <span id="model">…</span></h1>
<div id="error" role="alert"></div>
<div class="row">
  <div class="card">
    <div>Display <span id="fw" class="off-t">firmware: …</span></div>
    <div id="display" class="lcd off" data-testid="display">…</div>
    <canvas id="oled" class="oled" width="256" height="128" data-testid="oled" aria-label="OLED display (SSD1306 128×64)"></canvas>
    <fieldset><legend>RFID card</legend>
      <input id="uid" value="04A1B2C3" size="14" aria-label="card UID (hex)">
      <button id="present">Present card</button>
    </fieldset>
    <fieldset><legend>Station faults</legend>
      <label><input type="checkbox" id="fault-estop" data-kind="estop"> emergency stop</label><br>
      <label><input type="checkbox" id="fault-overtemp" data-kind="overtemp"> over-temperature</label>
    </fieldset>
  </div>
  <div class="card" id="grid" data-testid="grid">
    <div><b>Grid connection</b> <span id="grid-meter" class="off-t">…</span></div>
    <table>
      <tr><td>Grid</td><td id="grid-flow" data-testid="grid-flow">…</td></tr>
      <tr><td>Phases</td><td id="grid-phases" data-testid="grid-phases">…</td></tr>
      <tr><td>House</td><td id="grid-house">…</td></tr>
      <tr><td>Chargers</td><td id="grid-chargers">…</td></tr>
      <tr><td>PV</td><td id="grid-pv">…</td></tr>
      <tr><td>Counters</td><td id="grid-counters">…</td></tr>
    </table>
    <fieldset><legend>House load, A per phase</legend>
      <input id="house-l1" type="number" value="0" step="1" aria-label="house load L1 (A)">
      <input id="house-l2" type="number" value="0" step="1" aria-label="house load L2 (A)">
      <input id="house-l3" type="number" value="0" step="1" aria-label="house load L3 (A)">
      <button id="house-set">Set house load</button>
    </fieldset>
    <fieldset><legend>PV inverter</legend>
      <input id="pv-w" type="number" value="0" step="500" aria-label="PV output (W)"> W
      <button id="pv-set">Set PV output</button>
    </fieldset>
    <label><input type="checkbox" id="fault-grid-meter-offline"> grid meter offline</label>
  </div>
  <div class="row" id="connectors"></div>
</div>
<h2 style="font-size:1rem">Events</h2>
<div id="log" class="card"></div>
<script>
"use strict";
const FAULTS = ["rcd", "contactor-weld", "contactor-fail-close", "lock-jam", "meter-offline", "pilot-short", "diode"];
const $ = (id) => document.getElementById(id);
let built = false;

function showError(msg) { $("error").textContent = msg || ""; }

// A state read that started before an action finished would show the world before the action
// (and undo the checkbox the user just ticked): reads are dropped while actions are in flight.
let actions = 0, epoch = 0;

async function call(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  actions++; epoch++;
  let r, data;
  try {
    r = await fetch(path, opts);
    data = await r.json().catch(() => ({}));
  } finally { actions--; epoch++; }
  if (!r.ok) { showError(data.error || ("HTTP " + r.status)); refresh(); return null; }
  showError("");
  render(data.connectors ? data : null);
  return data;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick" || k === "onchange") e[k] = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function build(state) {
  const box = $("connectors");
  box.innerHTML = "";
  for (const c of state.connectors) {
    const p = "c" + c.id + "-";
    const num = (id, value, label, step) => el("label", {}, label + " ", el("input", { id: p + id, type: "number", value, step: step || "1" }));
    const faults = el("fieldset", {}, el("legend", {}, "Faults"));
    for (const f of FAULTS) {
      faults.append(el("label", {}, el("input", { type: "checkbox", id: p + "fault-" + f,
        onchange: (ev) => call("POST", "/api/faults", { connector: c.id, kind: f, active: ev.target.checked }) }), " " + f), " ");
    }
    const card = el("div", { class: "card connector", id: "connector-" + c.id },
      el("h2", { style: "font-size:1.1rem;margin:0" }, "Connector " + c.id),
      el("table", {},
        el("tr", {}, el("td", {}, "EV"), el("td", { id: p + "ev" })),
        el("tr", {}, el("td", {}, "Pilot"), el("td", { id: p + "pilot" })),
        el("tr", {}, el("td", {}, "Contactor"), el("td", { id: p + "contactor" })),
        el("tr", {}, el("td", {}, "Lock"), el("td", { id: p + "lock" })),
        el("tr", {}, el("td", {}, "Meter"), el("td", { id: p + "meter" })),
        el("tr", {}, el("td", {}, "Phases"), el("td", { id: p + "phases-used", "data-testid": p + "phases" })),
        el("tr", {}, el("td", {}, "LED"), el("td", { id: p + "leds" })),
        el("tr", {}, el("td", {}, "Faults"), el("td", { id: p + "faults" }))),
      el("fieldset", {}, el("legend", {}, "Plug in"),
        el("label", {}, "cable ", el("select", { id: p + "cable" },
          ...[13, 20, 32, 63].map((a) => { const o = el("option", { value: a }, a + " A"); if (a === 32) o.selected = true; return o; }))), " ",
        num("maxa", 32, "EV max A"), " ", num("phases", 3, "phases"), el("br"),
        num("capacity", 60000, "capacity Wh", "1000"), " ", num("soc", 0.2, "SoC", "0.05"), " ",
        el("button", { id: p + "plug", onclick: () => plug(c.id) }, "Plug in")),
      el("fieldset", {}, el("legend", {}, "EV"),
        ...["B", "C", "D"].map((s) => el("button", { id: p + "state-" + s,
          onclick: () => call("POST", "/api/connectors/" + c.id + "/ev-state", { state: s }) }, "State " + s)),
        " ", el("button", { id: p + "unplug", onclick: () => call("POST", "/api/connectors/" + c.id + "/unplug", { force: $(p + "force").checked }) }, "Unplug"),
        el("label", {}, el("input", { type: "checkbox", id: p + "force" }), " force")),
      faults);
    box.append(card);
  }
  for (const k of ["estop", "overtemp"]) {
    $("fault-" + k).onchange = (ev) => call("POST", "/api/faults", { kind: k, active: ev.target.checked });
  }
  $("present").onclick = () => call("POST", "/api/rfid", { uid: $("uid").value.trim() });
  $("house-set").onclick = () => call("POST", "/api/grid", { house_load_a: ["l1", "l2", "l3"].map((k) => Number($("house-" + k).value)) }).then(refresh);
  $("pv-set").onclick = () => call("POST", "/api/grid", { pv_w: Number($("pv-w").value) }).then(refresh);
  $("fault-grid-meter-offline").onchange = (ev) => call("POST", "/api/faults", { kind: "grid-meter-offline", active: ev.target.checked });
  built = true;
}

function plug(id) {
  const p = "c" + id + "-";
  call("POST", "/api/connectors/" + id + "/plug", {
    cable_a: Number($(p + "cable").value),
    ev: { max_current_a: Number($(p + "maxa").value), phases: Number($(p + "phases").value),
          capacity_wh: Number($(p + "capacity").value), soc: Number($(p + "soc").value) } });
}

const yes = (b, t, f) => '<span class="' + (b ? "on" : "off-t") + '">' + (b ? t : f) + "</span>";

function render(state) {
  if (!state) return;
  if (!built) build(state);
  $("model").textContent = state.model;
  $("fw").innerHTML = "firmware: " + (state.firmware.connected ? '<span class="on">connected</span>' + (state.firmware.name ? " (" + state.firmware.name + ")" : "") : '<span class="bad">not connected</span>');
  const d = $("display");
  d.textContent = state.display.rows.join("\n");
  d.className = "lcd" + (state.display.on || state.display.backlight ? "" : " off");
  if (window.drawOLED && state.oled) window.drawOLED(state.oled);
  for (const k of ["estop", "overtemp", "grid-meter-offline"]) $("fault-" + k).checked = state.faults.includes(k);
  renderGrid(state.grid);
  for (const c of state.connectors) {
    const p = "c" + c.id + "-";
    const ev = c.ev;
    $(p + "ev").textContent = ev.plugged
      ? "plugged, state " + ev.state + ", SoC " + (ev.soc * 100).toFixed(1) + " %" + (ev.full ? " (full)" : "") + ", " + ev.max_current_a + " A × " + ev.phases + " ph, cable " + ev.cable_a + " A"
      : "not plugged";
    $(p + "pilot").textContent = "state " + c.pilot.state + ", " + c.pilot.volts.toFixed(1) + " V / " + c.pilot.low_volts.toFixed(1) + " V, duty " + c.pilot.duty_percent.toFixed(1) + " %" + (c.pilot.offered_current_a > 0 ? " (" + c.pilot.offered_current_a + " A offered)" : "");
    $(p + "contactor").innerHTML = yes(c.contactor.closed, "closed", "open") + " (commanded " + (c.contactor.commanded ? "on" : "off") + ")";
    $(p + "lock").innerHTML = yes(c.lock.locked, "locked", "unlocked") + " (commanded " + (c.lock.commanded ? "lock" : "unlock") + ")";
    const m = c.meter;
    $(p + "meter").textContent = (m.energy_wh / 1000).toFixed(3) + " kWh, " + (m.power_w / 1000).toFixed(2) + " kW, " + m.current_a.map((a) => a.toFixed(1)).join("/") + " A" + (m.online ? "" : " (offline)");
    $(p + "phases-used").textContent = "relay " + c.phases_switched + " ph, drawing on " + c.phases_in_use + " ph";
    renderLEDs($(p + "leds"), c);
    $(p + "faults").innerHTML = c.faults.length ? '<span class="bad">' + c.faults.join(", ") + "</span>" : "none";
    for (const f of FAULTS) $(p + "fault-" + f).checked = c.faults.includes(f);
  }
}

// The status LED: a steady brightness as the opacity; a pattern an LED class device runs
// (led_pattern: [brightness, ms] points) as an animation in the page, restarted only when the
// pattern changes, since the state arrives once a second.
const LED_COLOURS = ["red", "green", "blue"];
const ledOpacity = (b) => 0.25 + 0.75 * b;
function renderLEDs(el, c) {
  const patterns = c.led_pattern || {};
  const key = JSON.stringify([c.leds, patterns, LED_COLOURS.map((k) => (patterns[k] ? null : c.led_brightness[k]))]);
  if (el.dataset.key !== key) {
    el.dataset.key = key;
    el.innerHTML = LED_COLOURS.map((k) => '<span class="led" data-colour="' + k + '"' + (patterns[k] ? " data-pattern='" + JSON.stringify(patterns[k]) + "'" : "") + ' style="background:' + (c.leds[k] ? k : "#ccc") + (c.leds[k] && !patterns[k] ? ";opacity:" + ledOpacity(c.led_brightness[k]).toFixed(2) : "") + '"></span>').join("");
    el.querySelectorAll("span[data-pattern]").forEach((span) => {
      const points = JSON.parse(span.dataset.pattern);
      const total = points.reduce((sum, p) => sum + p[1], 0);
      if (!total || !span.animate) return;
      let t = 0;
      const frames = points.map((p) => { const f = { offset: t / total, opacity: ledOpacity(p[0]) }; t += p[1]; return f; });
      frames.push({ offset: 1, opacity: ledOpacity(points[0][0]) });
      span.animate(frames, { duration: total, iterations: Infinity });
    });
  }
  el.querySelectorAll("span").forEach((span, i) => { span.dataset.brightness = c.led_brightness[LED_COLOURS[i]]; });
}

const kw = (w) => (w / 1000).toFixed(2) + " kW";
function renderGrid(g) {
  if (!g) return;
  $("grid-meter").innerHTML = g.meter ? "meter " + g.meter.model + ", unit " + g.meter.unit + (g.meter.online ? "" : ' <span class="bad">offline</span>') : "no grid meter";
  $("grid-flow").innerHTML = g.export_w > 0 ? '<span class="on">export ' + kw(g.export_w) + "</span>" : "import " + kw(g.import_w);
  $("grid-phases").innerHTML = g.current_a.map((a, i) => {
    const over = Math.abs(a) > g.fuse_a;
    return "L" + (i + 1) + " " + (over ? '<span class="bad">' : "") + a.toFixed(1) + " A" + (over ? "</span>" : "");
  }).join(", ") + " (fuse " + g.fuse_a + " A)";
  $("grid-house").textContent = g.house_load_a.map((a) => a.toFixed(1)).join("/") + " A";
  $("grid-chargers").textContent = g.chargers_a.map((a) => a.toFixed(1)).join("/") + " A";
  $("grid-pv").textContent = kw(g.pv_w) + (g.pv_curve ? " (day curve, hour " + g.pv_curve.hour.toFixed(2) + ")" : "");
  $("grid-counters").textContent = "import " + (g.import_wh / 1000).toFixed(3) + " kWh, export " + (g.export_wh / 1000).toFixed(3) + " kWh, PV " + (g.pv_wh / 1000).toFixed(3) + " kWh";
}

let pending = null;
async function refresh() {
  try {
    const started = epoch;
    const r = await fetch("/api/state", { cache: "no-store" });
    const state = await r.json();
    if (actions === 0 && started === epoch) render(state);
  } catch (e) { showError("simulator unreachable: " + e); }
}
function scheduleRefresh() { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 50); }

function logEvent(text) {
  const log = $("log");
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 5;
  log.append(text + "\n");
  while (log.childNodes.length > 500) log.removeChild(log.firstChild);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

const source = new EventSource("/api/events");
source.onmessage = (m) => {
  try {
    const e = JSON.parse(m.data);
    const { seq, t_us, kind, connector, ...rest } = e;
    logEvent((t_us / 1e6).toFixed(6) + "  #" + seq + "  " + kind + (connector ? " c" + connector : "") + "  " + JSON.stringify(rest));
  } catch (_) {}
  scheduleRefresh();
};
refresh();
setInterval(refresh, 1000);
</script>
<script>
"use strict";
// The SSD1306 glass, pixel for pixel (each pixel 2×2 on the canvas): the simulator's state
// carries it as 64 rows of 128 "#"/"." under "oled". A dark canvas when the panel is off.
window.drawOLED = function (oled) {
  const canvas = document.getElementById("oled");
  if (!canvas || !oled.pixels) return;
  const scale = canvas.width / oled.width;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  canvas.dataset.lit = String(oled.lit);
  canvas.dataset.text = oled.text.join("\n");
  if (!oled.on) return;
  ctx.fillStyle = "#8fd8ff";
  oled.pixels.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) if (row[x] === "#") ctx.fillRect(x * scale, y * scale, scale, scale);
  });
};
</script>
</body>
</html>
"""#
}
