// One life of the virtual device's interpreter (started and restarted by simulator/vdev.py).
//
//   node vdev_host.mjs --flash DIR --ctrl-fd N [--cmd-fd N] [--standby] [--heap-kb N] [--mode friendly|raw]
//                      [--boot hard|soft|interrupt] [--exec-interrupted] [--trace FILE]
//                      [--lib DIR]...
//
// stdin = bytes from the serial port, stdout = bytes to it. Status lines go to the control
// fd: "busy", "idle CONSUMED BG MODE CPU_US" (input bytes consumed so far; BG=1 while asyncio
// timers are armed; the CPU time of the work since "busy"), "restart soft|hard|deepsleep|off
// MODE" (then this process exits; vdev.py starts the next one, or none: off is unpowered),
// "hold 0|1" (the power latch's hold pin).
//
// The REPL is the interpreter's own (replProcessChar), with three things done here:
// - raw-paste (\x05A\x01) never executes in the wasm REPL (it would read stdin), so we answer
//   it: "R\x01", window 128 (2 bytes LE), "\x01" per window consumed; on \x04 we ack with
//   \x04 and feed the code through the plain raw REPL, hiding its "OK"; Ctrl-C ends it
//   with a KeyboardInterrupt, as the port's reader does;
// - soft reset (replProcessChar returns PYEXEC_FORCED_EXIT): print "MPY: soft reboot\r\n" and
//   ask vdev.py for a fresh process (JS timers of the old interpreter die with it);
// - output is "cooked" like a board's UART: a lone "\n" becomes "\r\n".
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { copyTree, loadEngine, writeAll } from "./mpy_run.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ERRNO = { ENOENT: 2, EIO: 5, EBADF: 9, EACCES: 13, EEXIST: 17, ENOTDIR: 20,
  EISDIR: 21, EINVAL: 22, ENOSPC: 28, ENOTEMPTY: 39, EPERM: 1 };
const FLASH_BYTES = 2 * 1024 * 1024;

const opt = { heapKb: 192, mode: "friendly", boot: "hard", libs: [], execInterrupted: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--flash") opt.flash = path.resolve(process.argv[++i]);
  else if (a === "--ctrl-fd") opt.ctrlFd = parseInt(process.argv[++i], 10);
  else if (a === "--cmd-fd") opt.cmdFd = parseInt(process.argv[++i], 10);
  else if (a === "--heap-kb") opt.heapKb = parseInt(process.argv[++i], 10);
  else if (a === "--mode") opt.mode = process.argv[++i];
  else if (a === "--boot") opt.boot = process.argv[++i];
  else if (a === "--trace") opt.trace = process.argv[++i];
  else if (a === "--lib") opt.libs.push(process.argv[++i]);
  else if (a === "--frozen") opt.frozen = process.argv[++i];
  else if (a === "--exec-interrupted") opt.execInterrupted = true;
  else if (a === "--standby") opt.standby = true;
}

const ctrl = (msg) => writeAll(opt.ctrlFd, Buffer.from(msg + "\n"));

// ---- the chip under the interpreter: what outlives a soft reset (vdev.py keeps it) ----
// The engine's ticks_ms is Date.now() minus the moment it loaded: shifting Date.now makes
// ticks count from the chip's boot, across interpreter lives, as on a board.
const realNow = Date.now;
let nowShift = 0;
Date.now = () => realNow() + nowShift;
const intervals = new Map();
let intervalIds = 0;
let chip = null; // {port, cause, ticks, wdt: [timeout, msSinceFeed] | null, rtc, adc}

// ---- output: cooked "\n" -> "\r\n", raw-paste "OK" hiding, muting ----
let lastByte = 0;
let mute = false;
let hideOk = 0; // bytes of "OK" still to swallow
function out(bytes) {
  const res = [];
  for (const b of bytes) {
    if (mute) continue;
    if (hideOk > 0) { hideOk--; continue; }
    if (b === 10 && lastByte !== 13) res.push(13);
    res.push(b);
    lastByte = b;
  }
  if (res.length) writeAll(1, Buffer.from(res));
}
const outStr = (s) => out(Buffer.from(s, "latin1"));
const proto = (s) => writeAll(1, Buffer.from(s, "latin1")); // protocol bytes, not cooked

// ---- host filesystem for _vdev.HostVFS (paths are absolute inside the flash) ----
function hostPath(p) {
  const norm = path.posix.normalize("/" + p);
  return path.join(opt.flash, norm);
}
const fail = (e) => -(ERRNO[e.code] || 5);
const guard = (fn) => (...a) => { try { return fn(...a); } catch (e) { return fail(e); } };
function usedBytes(dir) {
  let n = 0;
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    n += ent.isDirectory() ? 4096 + usedBytes(p) : Math.ceil(fs.statSync(p).size / 4096) * 4096;
  }
  return n;
}
const pos = new Map(); // fd -> file position (null: append)
let mp;
const vdevhost = {
  open: guard((p, mode) => {
    const flags = mode.includes("w") ? "w" : mode.includes("a") ? "a" : "r";
    const hp = hostPath(p);
    if (flags !== "r" && fs.existsSync(hp) && fs.statSync(hp).isDirectory()) return -21;
    const fd = fs.openSync(hp, mode.includes("+") ? flags + "+" : flags);
    if (fs.fstatSync(fd).isDirectory()) { fs.closeSync(fd); return -21; }
    pos.set(fd, flags === "a" ? null : 0);
    return fd;
  }),
  read: guard((fd, n) => {
    if (!pos.has(fd)) return -9;
    const buf = Buffer.alloc(Math.min(n, 1 << 20));
    const got = fs.readSync(fd, buf, 0, buf.length, pos.get(fd) ?? null);
    if (pos.get(fd) !== null) pos.set(fd, pos.get(fd) + got);
    return new Uint8Array(buf.buffer, buf.byteOffset, got);
  }),
  write: guard((fd, data) => {
    if (!pos.has(fd)) return -9;
    const u8 = mp.PyProxy.toJs(data);
    if (usedBytes(opt.flash) + u8.length > FLASH_BYTES) return -28;
    let off = 0;
    while (off < u8.length) {
      const at = pos.get(fd);
      const n = fs.writeSync(fd, u8, off, u8.length - off, at);
      if (at !== null) pos.set(fd, at + n);
      off += n;
    }
    return u8.length;
  }),
  seek: guard((fd, off, whence) => {
    if (!pos.has(fd)) return -9;
    const base = whence === 0 ? 0 : whence === 1 ? (pos.get(fd) ?? fs.fstatSync(fd).size)
      : fs.fstatSync(fd).size;
    if (base + off < 0) return -22;
    pos.set(fd, base + off);
    return base + off;
  }),
  close: guard((fd) => { if (pos.delete(fd)) fs.closeSync(fd); return 0; }),
  listdir: guard((p) => {
    const dir = hostPath(p);
    const ents = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1);
    return JSON.stringify(ents.filter((e) => e.isDirectory() || e.isFile()).map((e) => {
      const st = fs.statSync(path.join(dir, e.name));
      return [e.name, e.isDirectory() ? "d" : "f", e.isDirectory() ? 0 : st.size];
    }));
  }),
  stat: guard((p) => {
    const st = fs.statSync(hostPath(p));
    return JSON.stringify([st.isDirectory() ? "d" : "f", st.isDirectory() ? 0 : st.size,
      Math.floor(st.mtimeMs / 1000)]);
  }),
  usedBlocks: guard((bs) => Math.ceil(usedBytes(opt.flash) / bs)),
  mkdir: guard((p) => { fs.mkdirSync(hostPath(p)); return 0; }),
  rmdir: guard((p) => {
    const hp = hostPath(p);
    if (hp === opt.flash) return -1;
    fs.rmdirSync(hp);
    return 0;
  }),
  remove: guard((p) => {
    const hp = hostPath(p);
    if (fs.statSync(hp).isDirectory()) return -21;
    fs.unlinkSync(hp);
    return 0;
  }),
  rename: guard((a, b) => { fs.renameSync(hostPath(a), hostPath(b)); return 0; }),
  trace: (line) => { if (opt.trace) fs.appendFileSync(opt.trace, String(line) + "\n"); },
  // The simulated machine reports the watchdog and RTC memory: vdev.py enforces the
  // watchdog even while no interpreter runs, and hands both to the next life.
  wdt: (timeout) => ctrl(`wdt ${timeout}`),
  fed: () => ctrl("fed"),
  rtc: (hex) => ctrl(`rtc ${hex}`),
  clock: (s) => ctrl(`clock ${s}`), // the RTC was set: its seconds since 2000 at tick 0
  // The power latch's hold pin, at every write of it: vdev.py judges the power with it.
  hold: (level) => ctrl(`hold ${level}`),
  // machine.Timer: a JS interval, not counted as the program's background work (a board's
  // timers run under the REPL too). Returns an id for cancel().
  every: (ms, fn) => {
    const id = ++intervalIds;
    intervals.set(id, setInterval(() => {
      busy();
      try { fn(); } catch (e) { /* a timer callback's error is the program's, not ours */ }
      finally { idle(); }
    }, Math.max(1, ms)));
    return id;
  },
  cancel: (id) => { clearInterval(intervals.get(id)); intervals.delete(id); },
  // a hard reset boots into the friendly REPL (and runs main.py); a soft one keeps the mode
  restart: (kind) => restart(kind, kind === "soft" && raw ? "raw" : "friendly", kind === "soft"),
};
// ---- asyncio runs on JS timers: count the armed ones to report "background work" ----
const timers = new Set();
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
globalThis.setTimeout = (fn, dt, ...rest) => {
  const t = realSetTimeout(() => {
    timers.delete(t);
    busy();
    try { fn(...rest); } finally { idle(); }
  }, dt);
  timers.add(t);
  return t;
};
globalThis.clearTimeout = (t) => { timers.delete(t); realClearTimeout(t); };

let consumed = 0;
let reported = "";
let cpuAt = null; // process.cpuUsage() when the interpreter last went busy
function busy() {
  if (reported !== "busy") { ctrl("busy"); reported = "busy"; cpuAt = process.cpuUsage(); }
}
// "idle CONSUMED BG MODE CPU_US": CPU_US is the work since "busy", for vdev.py's CPU model.
function idle() {
  const s = `idle ${consumed} ${timers.size ? 1 : 0} ${raw ? "raw" : "friendly"}`;
  if (s === reported) return;
  const cpu = cpuAt ? process.cpuUsage(cpuAt) : { user: 0, system: 0 };
  ctrl(`${s} ${cpu.user + cpu.system}`);
  reported = s;
}

function restart(kind, mode, printReboot) {
  if (printReboot) outStr("MPY: soft reboot\r\n");
  ctrl(`restart ${kind} ${mode}`);
  process.exit(0);
}

// ---- the REPL ----
let raw = false;
let rawLen = 0; // bytes in the raw REPL line buffer (to spot raw-paste at its start)
let paste = null; // raw-paste state: {stage, code: [], win}
const FORCED_EXIT = 0x100;

function feed(c) {
  const r = mp.replProcessChar(c);
  if (r & FORCED_EXIT) restart("soft", raw ? "raw" : "friendly", true);
}

function rawPasteByte(c) {
  if (paste.stage < 2) { // expecting "A" then \x01
    const want = paste.stage === 0 ? 0x41 : 0x01;
    if (c !== want) { // not raw-paste after all: hand the bytes to the REPL
      const prefix = paste.stage === 0 ? [5] : [5, 0x41];
      paste = null;
      for (const b of prefix) { feed(b); rawLen++; }
      return false;
    }
    if (++paste.stage === 2) proto("R\x01\x80\x00\x01");
    return true;
  }
  if (c === 3) {
    // Ctrl-C ends the paste as on a board: the reader sends \x04 and raises
    // KeyboardInterrupt (no traceback: nothing ran), which parse_compile_execute reports
    // between its two EOFs before the raw prompt (shared/runtime/pyexec.c,
    // mp_reader_stdin_readbyte and parse_compile_execute).
    paste = null;
    rawLen = 0;
    proto("\x04\x04");
    outStr("KeyboardInterrupt: \r\n");
    proto("\x04>");
    return true;
  }
  if (c === 4) { // end of code: ack, then run it through the plain raw REPL
    proto("\x04");
    const code = paste.code;
    paste = null;
    rawLen = 0;
    for (const b of code) mp.replProcessChar(b);
    hideOk = 2;
    feed(4);
    return true;
  }
  paste.code.push(c);
  if (++paste.win === 128) { paste.win = 0; proto("\x01"); }
  return true;
}

function processByte(c) {
  if (paste) {
    if (rawPasteByte(c)) return;
  }
  if (raw) {
    if (c === 5 && rawLen === 0) { paste = { stage: 0, code: [], win: 0 }; return; }
    if (c === 2) raw = false;
    if (c === 1 || c === 3 || c === 4) rawLen = 0; else if (c !== 2) rawLen++;
    feed(c);
    return;
  }
  feed(c);
  // The friendly REPL switched to raw on Ctrl-A at an empty line: it printed the raw banner.
  if (c === 1 && rawBannerSeen) { raw = true; rawLen = 0; }
}

// Spot the raw banner in our own output to learn that the C REPL entered raw mode.
let rawBannerSeen = false;
const tail = [];
const BANNER = Buffer.from("raw REPL; CTRL-B to exit\r\n>");
function watch(bytes) {
  for (const b of bytes) {
    tail.push(b);
    if (tail.length > BANNER.length) tail.shift();
  }
  rawBannerSeen = tail.length === BANNER.length && Buffer.from(tail).equals(BANNER);
}

// Commands from vdev.py on --cmd-fd, one per line: "go BOOT MODE EI" starts a --standby
// interpreter (a warm spare, loaded ahead so a reset or Ctrl-C costs no engine start);
// "button 1 US" / "button 0 US" press or release the simulated board's button at US (the
// monotonic clock, in us), whose IRQ handler then runs here, between interpreter steps;
// "adc JSON" sets the ADC's inputs (the rail and each pin, simulator/adc_view.py);
// "usb 1" / "usb 0" plugs or pulls USB.
let go = null;
const started = new Promise((resolve) => { go = resolve; });
function readCommands() {
  if (opt.cmdFd === undefined) return;
  // A net.Socket reads a pipe without tying up libuv's thread pool (a ReadStream would).
  const cmds = new net.Socket({ fd: opt.cmdFd, readable: true, writable: false });
  if (!opt.standby) cmds.unref(); // only a spare waiting for "go" is kept alive by it
  let pending = "";
  cmds.on("data", (chunk) => {
    pending += chunk.toString("latin1");
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const words = pending.slice(0, nl).split(" ");
      pending = pending.slice(nl + 1);
      if (words[0] === "chip") {
        chip = JSON.parse(words.slice(1).join(" "));
      } else if (words[0] === "interrupt" && mp) {
        // Ctrl-C while the firmware runs as asyncio tasks: a board raises
        // KeyboardInterrupt in it, and its cleanup runs. Cancel its task the same way.
        const stopped = mp.pyimport("_vdev").interrupt();
        ctrl(`interrupted ${stopped ? 1 : 0}`);
      } else if (words[0] === "go") {
        [opt.boot, opt.mode] = [words[1], words[2]];
        opt.execInterrupted = words[3] === "1";
        cmds.unref();
        go();
      } else if (words[0] === "adc") {
        // A new cell: the JSON of the ADC's inputs. It may come before this life restored
        // its chip, which then restores these.
        const text = words.slice(1).join(" ");
        if (chip) chip.adc = JSON.parse(text);
        if (mp) mp.pyimport("_vdev").set_adc(text);
      } else if (words[0] === "jump") {
        // Time passes at once (tests: a 5-minute pause in a moment). ticks_ms, and the
        // RTC with them, jump ahead; the watchdog is vdev.py's, on the wall clock.
        nowShift += Number(words[1]);
      } else if (words[0] === "usb" && mp) { // the USB cable plugged in or pulled
        mp.pyimport("_vdev").set_usb(words[1] === "1");
      } else if (words[0] === "button" && mp) {
        // The firmware's hard IRQ stamps the edge with ticks_ms. On the chip it runs at the
        // edge, even inside a long piece of work (a routine compiling); here only between
        // interpreter steps, so the clock is set back to the edge's time while it runs.
        const lateMs = words[2] === undefined ? 0
          : Math.max(0, Math.round(Number(process.hrtime.bigint() / 1000n - BigInt(words[2])) / 1000));
        nowShift -= lateMs;
        try {
          mp.runPython(`import machine\nmachine.sim.press_button(${words[1] === "1" ? "True" : "False"})`);
        } finally {
          nowShift += lateMs;
        }
      }
    }
  }).on("error", () => {});
}

async function main() {
  readCommands();
  const outWatched = (b) => { watch(b); out(b); };
  mp = await loadEngine({ heapKb: opt.heapKb, out: outWatched, err: out });
  mp.registerJsModule("vdevhost", vdevhost);
  mp.FS.mkdir("/vdev");
  copyTree(mp.FS, path.join(HERE, "vdev_fs"), "/vdev");
  opt.libs.forEach((d, n) => copyTree(mp.FS, d, "/vdev/lib" + n));
  if (opt.frozen) { mp.FS.mkdir("/vdev/frozen"); copyTree(mp.FS, opt.frozen, "/vdev/frozen"); }
  const libs = opt.libs.map((_, n) => `'/.vdev/lib${n}'`).join(",");
  mp.runPython(
    "import sys\nsys.path[:0] = ['/vdev']\nimport _vdev\n_vdev.setup()\n" +
      (libs ? `sys.path[3:3] = [${libs}]\n` : "") +
      // A frozen image: its modules stand where .frozen does, before /lib; its boot.py
      // and main.py run instead of the files (shared/runtime/pyexec.c).
      (opt.frozen ? "sys.path[1:2] = ['/.vdev/frozen']\n_vdev.FROZEN = '/.vdev/frozen/'\n" : ""),
  );
  if (opt.standby) await started;
  if (chip) {
    nowShift = 0;
    nowShift = chip.ticks - Number(mp.pyimport("time").ticks_ms());
    mp.pyimport("_vdev").restore_chip(JSON.stringify(chip));
  }
  ctrl("loaded");
  busy();
  if (opt.boot === "interrupt") {
    outStr(raw || opt.mode === "raw"
      ? (opt.execInterrupted ? "\x04Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04>" : "")
      : "\r\nKeyboardInterrupt: \r\n");
  } else {
    const run = mp.pyimport("_vdev").run_file;
    try {
      run("boot.py");
      const hold = mp.pyimport("_vdev").hold_level(); // boot.py took the latch's hold, or not
      if (hold >= 0) ctrl(`hold ${hold}`);
      if (opt.mode !== "raw") run("main.py");
    } catch (e) {
      if (e.type === "SystemExit") restart("soft", opt.mode, true);
      throw e;
    }
  }
  if (opt.mode === "raw") {
    mute = true;
    mp.replInit();
    mp.replProcessChar(1);
    mute = false;
    raw = true;
    if (opt.boot !== "interrupt") outStr("raw REPL; CTRL-B to exit\r\n>");
  } else {
    mp.replInit();
  }
  idle();
  process.stdin.on("data", (chunk) => {
    busy();
    for (const c of chunk) {
      processByte(c);
      consumed++;
    }
    idle();
  });
  process.stdin.on("end", () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(`vdev_host: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
