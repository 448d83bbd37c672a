// The studio page: the firmware's own Python (validator, compiler, sequencer, app) runs on
// MicroPython WebAssembly through bridge.py; this file only draws and feeds the button.
//
// Time: the device runs on a virtual clock (wall time x speed). Every output change and
// button edge happens at its own virtual ms inside the firmware's driver, however frames
// slice time, so the page's trace is the one `massager sim --headless` gives.
import { loadMicroPython } from "/engine/micropython.mjs";
import { RoutinePlot, StripChart, drawDays } from "/studio/charts.js";
import { Face } from "/studio/face.js";

const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["running", "paused"]);
const GESTURE_NAMES = ["short", "double", "long", "hold"];

// What each gesture does, by state (the README's table): the hints beside the button.
const HINTS = {
  idle: { short: "start", double: "next routine", long: "next intensity level",
    hold: "power off" },
  running: { short: "pause", double: "skip to the next step", long: "stop",
    hold: "stop, then power off" },
  paused: { short: "resume", double: "next intensity level", long: "stop",
    hold: "stop, then power off" },
  done: { short: "back to idle", double: "back to idle", long: "back to idle",
    hold: "back to idle" },
  off: { short: "wake up", double: "wake up", long: "wake up", hold: "wake up" },
};
// The gesture buttons press the device's button as a hand would: raw edges at these
// device-ms offsets, decoded by the firmware's own gesture decoder.
const GESTURES = {
  short: [[0, "down"], [120, "up"]],
  double: [[0, "down"], [100, "up"], [220, "down"], [320, "up"]],
  long: [[0, "down"], [1300, "up"]],
  hold: [[0, "down"], [3300, "up"]],
};
const READ_LIMIT = 1 << 20;  // a file is cut here; the validator then names the real limit
const SAVED = "massager-studio-routine";  // localStorage: the editor's text survives a reload

const S = {
  bridge: null,
  ready: false,
  speed: 1,
  frozen: false,
  vclock: 0,  // device ms, fractional
  wall: 0,
  status: null,
  last: null,  // the last trace record
  trace: [],  // trace lines, exactly as the firmware formats them
  routines: [],
  levels: 0,
  deviceText: null,  // the routine on the device (it passed the validator)
  pending: null,  // a checked routine waiting for the session to end
  checked: null,  // {text, head} of the editor's text when valid
  strokeKey: null,
  strokeStart: 0,
  pressed: false,
  held: false,  // the on-screen button or the space bar is down
  realtimeUntil: 0,
  progress: null,
  plotKey: "",
  shown: {},
  badLines: null,  // editor lines with a problem
};

const face = new Face($("face"));
const strip = new StripChart($("strip"));
const plot = new RoutinePlot($("plot"));

function fatal(error) {
  const box = $("fatal");
  box.hidden = false;
  box.textContent = `studio: ${error && error.message ? error.message : error}`;
  console.error(error);
}

// Call the bridge; a Python exception becomes one visible line (and a console error).
function py(name, ...args) {
  try {
    return S.bridge[name](...args);
  } catch (e) {
    fatal(e);
    throw e;
  }
}

// ---- the clock and the device -------------------------------------------------------

function clock() {
  const w = performance.now();
  const dt = Math.min(250, Math.max(0, w - S.wall));  // a hidden tab does not race ahead
  S.wall = w;
  // While a finger is on the button (and a moment after), the device runs in real time,
  // so a press means on screen what it means on the device at any speed.
  const speed = S.held || w < S.realtimeUntil ? 1 : S.speed;
  if (!S.frozen) S.vclock += dt * speed;
  return Math.floor(S.vclock);
}

function advance(to) {
  const lines = py("frame", to).split("\n");
  S.status = JSON.parse(lines[0]);
  for (let i = 1; i < lines.length; i++) record(lines[i]);
}

function record(line) {
  S.trace.push(line);
  const rec = JSON.parse(line);
  strip.add(rec);
  const key = [rec.state, rec.round, rec.step, rec.rep].join();
  if (key !== S.strokeKey) {  // a new stroke, cue, or a resume (the stroke starts over)
    S.strokeKey = key;
    S.strokeStart = rec.t;
    face.stroke();
  }
  const pressing = rec.cue === "press" && rec.motor > 0;
  if (pressing && !(S.last && S.last.cue === "press" && S.last.motor > 0)) S.pressed = true;
  if (!S.last || rec.motor !== S.last.motor) vibrate(rec.motor);
  S.last = rec;
}

function powerUp(text, buttons) {
  const level = S.status && S.status.level !== null ? S.status.level : -1;
  const answer = JSON.parse(py("power_up", text, level));
  if (answer.error) throw new Error(answer.error);
  S.deviceText = text;
  S.pending = null;
  S.routines = answer.routines;
  S.levels = answer.levels;
  S.trace = [];
  S.last = null;
  S.strokeKey = null;
  strip.clear();
  if (buttons) py("script", buttons);
  S.vclock = 0;
  S.wall = performance.now();
  advance(0);
}

function push(events) {
  const now = clock();
  advance(now);
  for (const [dt, edge] of events) py("push", now + dt, edge);
  advance(now);
  render();
}

function vibrate(motor) {
  if (!$("vibrate").checked || !navigator.vibrate) return;
  // PWM as on/off: a 40 ms period with the motor's share of it on.
  if (motor <= 0) {
    navigator.vibrate(0);
  } else if (motor >= 90) {
    navigator.vibrate(5000);
  } else {
    const on = Math.max(4, Math.round(motor * 0.4));
    navigator.vibrate(Array.from({ length: 120 }, (_, i) => (i % 2 ? 40 - on : on)));
  }
}

// ---- drawing ---------------------------------------------------------------------------

function setText(id, text) {
  if (S.shown[id] !== text) {
    S.shown[id] = text;
    $(id).textContent = text;
  }
}

function clockText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function render() {
  const st = S.status;
  if (!st) return;
  const session = st.session;
  const rec = S.last || { motor: 0, led: [0, 0, 0], cue: "" };
  setText("state", st.state);
  $("state").dataset.state = st.state;
  const led = `rgb(${rec.led.join(", ")})`;
  const swatch = $("led");
  if (swatch.dataset.rgb !== led) {
    swatch.dataset.rgb = led;
    swatch.style.background = led;
    swatch.style.boxShadow = `0 0 14px 3px ${led}`;
    swatch.title = `LED ${led}`;
  }
  setText("routine", st.mirrored ? `mirroring ${D.mirror.port}` :
    S.routines.map((r, i) => (i === st.selected ? `[${r.name}]` : r.name)).join("  "));
  showSteps(st.mirrored && S.checked ? S.checked.head : S.routines[st.selected], session);
  setText("motor", `${rec.motor} %`);
  setText("cue", rec.cue);
  setText("f-level", st.level === null ? "–" : `${st.level + 1}/${S.levels}`);
  if (session) {
    setText("step-name", session.name);
    setText("f-step", `${session.step}/${session.steps}`);
    setText("f-round", `${session.round}/${session.rounds}`);
    setText("f-stroke", session.rep ? `${session.rep}/${session.reps}` : "cue");
    setText("f-left", session.left_ms === null ? "–" : clockText(session.left_ms));
    setText("f-breath", session.breath_ms === null ? "–" : `${(session.breath_ms / 1000).toFixed(1)} s`);
    const side = session.side === "both" ? "both sides" : `${session.side} side`;
    setText("zone-caption", `${session.zone} · ${session.direction} · ${side}`);
  } else {
    setText("step-name", st.state === "idle" ? "Press the button to start" :
      st.state === "done" ? "Done" : st.state === "off" ? "Off: a press wakes it" : " ");
    for (const id of ["f-step", "f-round", "f-stroke", "f-left", "f-breath"]) setText(id, "–");
    setText("zone-caption", "as in a mirror");
  }
  // The finger moves along the stroke over one breath; cues show no finger.
  if (session && session.rep && session.breath_ms && st.state === "running") {
    S.progress = (st.t - S.strokeStart) / session.breath_ms;
  } else if (!session || !session.rep) {
    S.progress = null;
  }
  face.show(session, S.progress, rec.cue === "press" && rec.motor > 0);
  const breath = $("breath");
  const b = S.progress === null ? 0 : Math.sin(Math.PI * Math.min(1, S.progress));
  breath.style.transform = `scale(${(0.45 + 0.55 * b).toFixed(3)})`;
  if (S.pressed) {
    S.pressed = false;
    face.press(session, S.speed > 5 ? 160 : 420);
  }
  const hints = HINTS[st.state] || {};
  for (const g of GESTURE_NAMES) setText(`hint-${g}`, hints[g] || "");
  setText("trace-count", `${S.trace.length} changes · t = ${clockText(st.t)}` +
    (st.mirrored ? " on the device" : ""));
  strip.draw(st.t, Math.min(600000, Math.max(20000, 10000 * S.speed)));
  drawPlotMark(st);
}

// The selected routine's steps, the one playing marked.
function showSteps(routine, session) {
  const list = $("steps");
  if (list.routine !== routine) {
    list.routine = routine;
    setText("steps-title", `${routine.title} · ${routine.total}`);
    list.replaceChildren(...routine.steps.map((step) => {
      const li = document.createElement("li");
      const what = document.createElement("span");
      what.textContent = step.name;
      const how = document.createElement("small");
      how.textContent = `${step.zone} · ${step.direction} · ${step.reps}×`;
      li.append(what, how);
      return li;
    }));
  }
  const current = session ? session.step - 1 : -1;
  if (list.current !== current) {
    list.current = current;
    [...list.children].forEach((li, i) => li.classList.toggle("current", i === current));
  }
}

function drawPlotMark(st) {
  const playing = !st.mirrored && S.checked && S.deviceText === S.checked.text && st.session &&
    S.routines[st.selected].name === S.checked.head.name;
  const current = playing ? { round: st.session.round, step: st.session.step } : null;
  const key = current ? `${current.round}:${current.step}` : "";
  if (key !== S.plotKey) {
    S.plotKey = key;
    plot.draw(current);
  }
}

function tick() {
  try {
    if (D.mirror) {
      render();
      requestAnimationFrame(tick);
      return;
    }
    if (S.pending && !ACTIVE.has(S.status.state)) {
      powerUp(S.pending);
      showVerdict();
    }
    advance(clock());
    render();
  } catch (e) {
    fatal(e);
    return;  // stop the loop: the page says what broke
  }
  requestAnimationFrame(tick);
}

// ---- the editor --------------------------------------------------------------------------

function check() {
  const text = $("source").value;
  try { localStorage.setItem(SAVED, text); } catch (e) { /* storage off or full */ }
  const out = py("check", text).split("\n");
  const head = JSON.parse(out[0]);
  showProblems(head.errors.map((m) => withLine(m, text)));
  $("download").disabled = head.errors.length > 0;
  if (head.errors.length) {
    S.checked = null;
    S.pending = null;  // an invalid routine never reaches the device
    $("verdict").className = "verdict bad";
    $("verdict").textContent = `${head.errors.length} problem${head.errors.length > 1 ? "s" : ""}` +
      " · the device keeps its routine";
    $("plot").classList.add("stale");
    updateDeviceButtons();
    return;
  }
  S.checked = { text, head };
  updateDeviceButtons();
  $("plot").classList.remove("stale");
  plot.set(out.slice(1).map((l) => JSON.parse(l)));
  S.plotKey = "-";
  setText("total", `${head.title} · ${head.total} · ${head.steps.length} steps × ${head.rounds} rounds`);
  S.pending = null;
  if (text !== S.deviceText) {
    if (D.mirror || (S.status && ACTIVE.has(S.status.state))) {
      S.pending = text;
    } else {
      powerUp(text);
    }
  }
  showVerdict();
}

// The device on this page is simulated: the verdict says so (a real one is pushed to).
function showVerdict() {
  if (!S.checked) return;
  $("verdict").className = "verdict good";
  $("verdict").textContent = S.pending ?
    "valid · the simulated device takes it when this session ends (a long press stops it)" :
    S.deviceText === S.checked.text ? "valid · playing on the simulated device of this page" :
      "valid";
}

// The validator's "path: problem" with the line it is on, as `massager validate` gives it.
function withLine(message, text) {
  const said = /\bline (\d+)\b/.exec(message);
  if (said) return { message, line: Number(said[1]) };
  const lines = fieldLines(text);
  if (!lines) return { message, line: null };
  let path = message.split(": ", 1)[0];
  while (path && !(path in lines)) path = path.slice(0, Math.max(path.lastIndexOf("."), path.lastIndexOf("["), 0));
  const line = lines[path] || 1;
  return { message: `${message} (line ${line})`, line };
}

// {path: line} for every key and list item of a JSON text, paths as the validator writes
// them ("steps[3].reps"; "" is the whole routine); null when it is not JSON.
function fieldLines(text) {
  try { JSON.parse(text); } catch (e) { return null; }
  const lines = {};
  let i = 0;
  let line = 1;
  const ws = () => {
    while (i < text.length && " \t\r\n\ufeff".includes(text[i])) { if (text[i] === "\n") line++; i++; }
  };
  const string = () => {  // at the opening quote; returns the decoded string
    const start = i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path) => {
    ws();
    if (!(path in lines)) lines[path] = line;
    const open = text[i];
    if (open === '"') { string(); return; }
    if (open !== "{" && open !== "[") {
      while (i < text.length && !",}] \t\r\n".includes(text[i])) i++;
      return;
    }
    i++;
    ws();
    for (let n = 0; text[i] !== "}" && text[i] !== "]"; n++) {
      let sub;
      if (open === "{") {
        const key = string();
        sub = path ? `${path}.${key}` : key;
        lines[sub] = line;
        ws();
        i++;  // the colon
      } else {
        sub = `${path}[${n}]`;
      }
      value(sub);
      ws();
      if (text[i] === ",") { i++; ws(); }
    }
    i++;
  };
  value("");
  return lines;
}

// The problems under the editor, each with its line marked beside the text; a click on
// one puts the cursor on its line.
function showProblems(problems) {
  S.badLines = new Set(problems.map((p) => p.line).filter((n) => n));
  $("problems").replaceChildren(...problems.map((p) => {
    const li = document.createElement("li");
    li.textContent = p.message;
    if (p.line) {
      li.dataset.line = p.line;
      li.title = `go to line ${p.line}`;
    }
    return li;
  }));
  drawGutter();
}

function drawGutter() {
  const count = $("source").value.split("\n").length;
  const gutter = $("gutter");
  const bad = S.badLines || new Set();
  const key = `${count}:${[...bad].join()}`;
  if (gutter.dataset.key !== key) {
    gutter.dataset.key = key;
    gutter.replaceChildren(...Array.from({ length: count + 1 }, (_, k) => {
      const div = document.createElement("div");
      div.textContent = k < count ? String(k + 1) : " ";  // room for a horizontal scrollbar
      if (bad.has(k + 1)) div.className = "bad";
      return div;
    }));
  }
  gutter.scrollTop = $("source").scrollTop;
}

function goToLine(n) {
  const source = $("source");
  const lines = source.value.split("\n");
  const start = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
  source.focus();
  source.setSelectionRange(start, start + (lines[n - 1] || "").length);
  const lineHeight = parseFloat(getComputedStyle(source).lineHeight) || 17;
  source.scrollTop = Math.max(0, (n - 4) * lineHeight);
  drawGutter();
}

// A file as the CLI reads it: bytes. Text that is not UTF-8 never reaches the editor; the
// firmware's validator says where it breaks, in the CLI's words.
async function openFile(file) {
  const bytes = new Uint8Array(await file.slice(0, READ_LIMIT).arrayBuffer());
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    let binary = "";
    for (let k = 0; k < bytes.length; k += 8192) {
      binary += String.fromCharCode(...bytes.subarray(k, k + 8192));
    }
    const errors = JSON.parse(py("check_bytes", btoa(binary)));
    showProblems(errors.map((m) => ({ message: `${file.name}: ${m}`, line: null })));
    $("verdict").className = "verdict bad";
    $("verdict").textContent = `${file.name} was not opened · the editor keeps its text`;
    return;
  }
  load(text);
}

let checkTimer = 0;
function checkSoon() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => { try { check(); } catch (e) { fatal(e); } }, 120);
}

function load(text) {
  $("source").value = text;
  check();
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- devices: boards and virtual devices, through the local server ----------------------
// (host_tools/studio_device.py: the same code as `massager push` and `massager history`)

const D = { list: [], busy: false, mirror: null };

async function api(path, body) {
  const r = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error((await r.text()).trim() || `${r.status} ${r.statusText}`);
  return r.json();
}

function deviceStatus(text, kind) {
  $("device-status").textContent = text;
  $("device-status").className = `device-status ${kind || ""}`;
}

function chosen() {
  return D.list.find((d) => d.port === $("device").value) || null;
}

function deviceLabel(d) {
  return d.kind === "usb" ? `${d.port} · a board on USB` :
    `${d.port} · virtual (${d.engine}, ${d.board})`;
}

async function refreshDevices() {
  try {
    D.list = (await api("/api/devices")).devices;
  } catch (e) {
    D.list = [];
    deviceStatus(`cannot list devices: ${e.message}`, "bad");
  }
  const keep = $("device").value;
  $("device").replaceChildren(...(D.list.length ? D.list.map((d) => new Option(deviceLabel(d), d.port)) :
    [new Option("no device", "")]));
  if (D.list.some((d) => d.port === keep)) $("device").value = keep;
  if (D.mirror && !chosen()) mirror(false);
  describeDevice();
}

// What the chosen device can do from here, in one line.
function describeDevice() {
  const d = chosen();
  if (!d) {
    deviceStatus("no device: connect a board by USB or start one with `massager vdev`, then " +
      "refresh. The page works without one.");
  } else if (d.kind === "usb") {
    deviceStatus(`${d.port}: a real board. Push and history work; its button is physical ` +
      "(press it on the board), and it sends no trace over USB to mirror.");
  } else {
    deviceStatus(`${d.port}: a virtual device. Mirror makes the face and the charts follow ` +
      "it, and the page's button presses its button.");
  }
  updateDeviceButtons();
}

function updateDeviceButtons() {
  const d = chosen();
  $("push").disabled = !d || !S.checked || D.busy;  // an invalid routine is never pushed
  $("push").title = S.checked ? "install the routine in the editor on the device (as massager push)" :
    "the routine has problems: fix them first";
  $("mirror").disabled = !d || !d.mirror;
  $("history").disabled = !d || D.busy;
}

async function pushRoutine() {
  const d = chosen();
  if (S.checked && S.checked.text !== $("source").value) check();  // what the editor holds now
  if (!d || !S.checked || D.busy) return;
  const { text, head } = S.checked;
  D.busy = true;
  updateDeviceButtons();
  const bar = $("push-progress");
  bar.value = 0;
  bar.hidden = false;
  deviceStatus(`pushing ${head.name} to ${d.port}…`);
  try {
    const r = await fetch("/api/push", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ port: d.port, text }),
    });
    if (!r.ok) throw new Error((await r.text()).trim());
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let last = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const message = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (message.progress) bar.value = message.progress[0] / message.progress[1];
        else last = message;
      }
    }
    if (!last) throw new Error("no answer from the server");
    if (last.error) deviceStatus(last.error, "bad");
    else deviceStatus(`${d.port}: ${last.ok}`, "good");
  } catch (e) {
    deviceStatus(`push to ${d.port} failed: ${e.message}`, "bad");
  } finally {
    D.busy = false;
    bar.hidden = true;
    updateDeviceButtons();
  }
}

// Mirror: the face, the figures and the charts show the virtual device's own trace (the
// firmware's lines, as it writes them); the page's button presses the device's button.
function mirror(on) {
  const d = chosen();
  if (D.mirror) clearTimeout(D.mirror.timer);
  D.mirror = on && d ? { port: d.port, from: -1, timer: 0 } : null;
  $("mirror").setAttribute("aria-pressed", String(Boolean(D.mirror)));
  document.body.classList.toggle("mirroring", Boolean(D.mirror));
  S.trace = [];
  S.last = null;
  S.strokeKey = null;
  strip.clear();
  if (D.mirror) {
    S.status = null;
    setText("state", "…");
    pollMirror();
  } else {
    powerUp(S.deviceText);  // the page's own simulated device again
  }
}

async function pollMirror() {
  const m = D.mirror;
  if (!m) return;
  try {
    const answer = await api(`/api/mirror?port=${encodeURIComponent(m.port)}&from=${m.from}`);
    if (D.mirror !== m) return;
    if (answer.error) {
      deviceStatus(answer.error, "bad");
      mirror(false);
      return;
    }
    m.from = answer.from;
    for (const line of answer.lines) mirrorRecord(line);
  } catch (e) {
    deviceStatus(`mirror of ${m.port}: ${e.message}`, "bad");
  }
  if (D.mirror === m) m.timer = setTimeout(pollMirror, 120);
}

function mirrorRecord(line) {
  let rec;
  try { rec = JSON.parse(line); } catch (e) { return; }  // not a trace line
  if (S.last && rec.t < S.last.t) {  // the device started again (a reset): a new trace
    S.trace = [];
    S.strokeKey = null;
    strip.clear();
  }
  record(line);
  // The trace says the state, the step, round and stroke; the names come from the routine
  // in the editor (the one pushed), where it has that step.
  const steps = S.checked ? S.checked.head.steps : [];
  const step = rec.step ? steps[rec.step - 1] || {} : null;
  S.status = {
    t: rec.t, state: rec.state, level: null, selected: null, mirrored: true,
    session: step && rec.round ? {
      step: rec.step, steps: steps.length || "?", name: step.name || `step ${rec.step}`,
      zone: step.zone || "", direction: step.direction || "", side: "both",
      round: rec.round, rounds: S.checked ? S.checked.head.rounds : "?", rep: rec.rep,
      reps: step.reps || "?", breath_ms: null, left_ms: null,
    } : null,
  };
}

// `at`: the page's time of the button's edge. Each edge of the page's button is a request
// of its own, and their ways through the server differ: the server plays each at its time
// plus a fixed lag (host_tools/studio_device.py, PageClock), so a double press stays one.
function pressDevice(edges, at) {
  const m = D.mirror;
  const body = at === undefined ? { port: m.port, edges } : { port: m.port, edges, at };
  api("/api/button", body).then((answer) => {
    if (answer.error) deviceStatus(answer.error, "bad");
  }, (e) => deviceStatus(`button of ${m.port}: ${e.message}`, "bad"));
}

async function showHistory() {
  const d = chosen();
  if (!d || D.busy) return;
  D.busy = true;
  updateDeviceButtons();
  deviceStatus(`reading the sessions ${d.port} remembers…`);
  try {
    const answer = await api(`/api/history?port=${encodeURIComponent(d.port)}`);
    if (answer.error) {
      deviceStatus(answer.error, "bad");
      return;
    }
    $("history-view").hidden = false;
    $("history-table").textContent = answer.lines.join("\n");
    drawDays($("history-plot"), answer.per_day);
    deviceStatus(`${d.port}: ${answer.records.length} session(s) remembered`, "good");
  } catch (e) {
    deviceStatus(`history of ${d.port}: ${e.message}`, "bad");
  } finally {
    D.busy = false;
    updateDeviceButtons();
  }
}

// ---- wiring ----------------------------------------------------------------------------

function wire() {
  const button = $("button");
  const hand = (ev) => {
    if (D.mirror) {  // the virtual device's own button
      button.classList.toggle("down", ev === "down");
      pressDevice([[0, ev]], performance.now());
      return;
    }
    clock();
    S.held = ev === "down";
    if (!S.held) S.realtimeUntil = performance.now() + 600;  // the double-press window
    button.classList.toggle("down", S.held);
    push([[0, ev]]);
  };
  const edge = (e, ev) => {
    e.preventDefault();
    if (ev === "down") button.setPointerCapture(e.pointerId);
    hand(ev);
  };
  button.addEventListener("pointerdown", (e) => edge(e, "down"));
  button.addEventListener("pointerup", (e) => edge(e, "up"));
  button.addEventListener("pointercancel", (e) => edge(e, "up"));
  button.addEventListener("contextmenu", (e) => e.preventDefault());
  const typing = (t) => t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" ||
    t.tagName === "SELECT");
  window.addEventListener("keydown", (e) => {
    if (e.code !== "Space" || typing(e.target)) return;
    e.preventDefault();
    if (!e.repeat) hand("down");
  });
  window.addEventListener("keyup", (e) => {
    if (e.code !== "Space" || typing(e.target)) return;
    e.preventDefault();
    hand("up");
  });
  for (const b of $("gestures").querySelectorAll("button")) {
    b.querySelector("span").id = `hint-${b.dataset.gesture}`;
    b.addEventListener("click", () => (D.mirror ? pressDevice : push)(GESTURES[b.dataset.gesture]));
  }
  $("speed").addEventListener("change", () => {
    clock();
    S.speed = Number($("speed").value);
  });
  $("freeze").addEventListener("click", () => freeze(!S.frozen));
  $("next").addEventListener("click", () => nextChange());
  if (!navigator.vibrate) {
    $("vibrate").disabled = true;
    $("vibrate-label").title = "this browser has no Vibration API";
  } else {
    $("vibrate").addEventListener("change", () => vibrate($("vibrate").checked && S.last ?
      S.last.motor : 0));
  }
  $("source").addEventListener("input", () => { drawGutter(); checkSoon(); });
  $("builtin").addEventListener("change", () => {
    const name = $("builtin").value;
    $("builtin").value = "";
    if (name) load(py("builtin", name));
  });
  $("file").addEventListener("change", async () => {
    const file = $("file").files[0];
    $("file").value = "";
    if (file) await openFile(file);
  });
  $("source").addEventListener("scroll", drawGutter);
  $("problems").addEventListener("click", (e) => {
    const li = e.target.closest("li[data-line]");
    if (li) goToLine(Number(li.dataset.line));
  });
  $("download").addEventListener("click", () => {
    if (S.checked) download(`${S.checked.head.name}.json`, S.checked.text, "application/json");
  });
  $("save-trace").addEventListener("click", () => {
    download("trace.jsonl", S.trace.map((l) => l + "\n").join(""), "application/x-ndjson");
  });
  window.addEventListener("resize", () => { S.plotKey = "-"; });
  $("device").addEventListener("change", () => { if (D.mirror) mirror(false); describeDevice(); });
  $("refresh").addEventListener("click", refreshDevices);
  $("push").addEventListener("click", pushRoutine);
  $("mirror").addEventListener("click", () => mirror(!D.mirror));
  $("history").addEventListener("click", showHistory);
}

function freeze(on) {
  clock();
  S.frozen = on;
  $("freeze").setAttribute("aria-pressed", String(on));
  $("next").disabled = !on;
}

function nextChange() {
  const t = py("next_time");
  if (t < 0) return false;
  S.vclock = Math.max(S.vclock, t);
  advance(t);
  render();
  return true;
}

async function boot() {
  wire();
  freeze(false);
  const files = await (await fetch("/files.json")).json();
  const sources = await Promise.all(Object.entries(files).map(async ([path, url]) => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
    return [path, await r.text()];
  }));
  const mp = await loadMicroPython({
    heapsize: 4 * 1024 * 1024,
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
  });
  for (const [path, text] of sources) {
    const parts = ("/lib/" + path).split("/");
    for (let i = 2; i < parts.length; i++) {
      try { mp.FS.mkdir(parts.slice(0, i).join("/")); } catch (e) { /* exists */ }
    }
    mp.FS.writeFile("/lib/" + path, text);
  }
  mp.runPython("import sys\nsys.path.insert(0, '/lib')");
  S.bridge = mp.pyimport("bridge");
  $("engine").textContent = `${py("engine")} (WebAssembly) · firmware from this tree`;
  const names = JSON.parse(py("builtin_names"));
  $("builtin").replaceChildren(new Option("load a built-in…", ""),
    ...names.map((n) => new Option(n, n)));
  let saved = null;
  try { saved = localStorage.getItem(SAVED); } catch (e) { /* storage off */ }
  const start = names.includes("weekly") ? "weekly" : names[0];
  // The built-in first: the simulated device starts on it even if the saved text is bad.
  load(py("builtin", start));
  if (saved !== null && saved !== $("source").value) load(saved);
  S.ready = true;
  requestAnimationFrame(tick);
  refreshDevices();
}

// For tests and the curious (the browser console): the device as the page drives it.
window.studio = {
  get ready() { return S.ready; },
  get status() { return S.status; },
  get trace() { return S.trace.slice(); },
  get last() { return S.last; },
  get deviceText() { return S.deviceText; },
  get devices() { return D.list; },
  get mirroring() { return Boolean(D.mirror); },
  snapshot() { return { t: S.status.t, trace: S.trace.slice() }; },
  restart(buttons) { powerUp(S.deviceText, buttons || ""); render(); },
  freeze,
  nextChange,
};

boot().catch(fatal);
