// One emulated Pico for simulator/pico.py: the USB serial line on stdin/stdout, events out
// and commands in on two more pipes.
//
//   node host.mjs --firmware BIN|--uf2 FILE --image FILE --board BOARD_JSON --ctrl-fd N
//                 --cmd-fd N [--adc GPIO:RAW,...] [--pace wall|host] [--hold]
//                 [--timer-start US] [--unplugged] [--off]
//
// The flash image (2 MiB) is written through on every erase and program, so whatever the
// chip had written when this process dies is in the file, as on a board losing power. At
// start the firmware region is brought up to FIRMWARE, like dragging MicroPython's UF2 onto
// the board: the filesystem stays. With --uf2 the file is written as the bootrom writes a
// dragged UF2 (uf2.mjs): MicroPython and whatever else it carries (`massager uf2`: the
// filesystem too).
//
// The ADC's inputs are 12-bit codes per pin (--adc 26:1861,27:2541; unset channels read 0),
// worked out by simulator/pico.py from the board's circuit (simulator/adc_view.py), so this
// engine reads the codes the simulated board reads for the same cell.
//
// --timer-start US: the TIMER of the first power-up counts from US (pico.mjs _startTimer:
// how a test reaches the ticks_ms wrap); resets count from 0.
// USB (VBUS) is plugged in unless --unplugged: then only the cell powers the board, through
// its power latch (board.json power), and the serial line carries nothing. --off starts
// the chip unpowered, waiting for a press (a cell put in, say).
//
// Commands, one per line: "button 1|0", "script MS:1|0,..." (button edges, MS of emulated
// time from now), "adc GPIO:RAW,..." (new ADC codes, all at once), "host 1|0" (a host has
// the port open), "run MS" (with --hold: let emulated time run MS further, then hold),
// "power" (power cycle), "usb 1|0" (plug or pull the USB cable), "cut N" (the power goes
// right after the next N flash erases or programs), "stats".
// Events: one JSON object per line, "t" in emulated ns since the first power-up: boot, usb,
// pin (the motor, LED and hold pins), off (unpowered), watchdog, reset, held, script, stats.
import fs from 'node:fs';
import net from 'node:net';
import { FLASH_BYTES, Pico } from './pico.mjs';
import { writeUf2 } from './uf2.mjs';

const HOST_GRACE_MS = 1000; // after the host closes the port, time stays paced this long
const ADC_BASE_PIN = 26; // GPIO26..29 are ADC channels 0..3

const opt = { pace: 'host', adc: '', hold: false, usb: true, off: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = () => process.argv[++i];
  if (a === '--firmware') opt.firmware = v();
  else if (a === '--uf2') opt.uf2 = v();
  else if (a === '--image') opt.image = v();
  else if (a === '--board') opt.board = v();
  else if (a === '--ctrl-fd') opt.ctrlFd = Number(v());
  else if (a === '--cmd-fd') opt.cmdFd = Number(v());
  else if (a === '--adc') opt.adc = v();
  else if (a === '--pace') opt.pace = v();
  else if (a === '--hold') opt.hold = true;
  else if (a === '--timer-start') opt.timerStartUs = Number(v());
  else if (a === '--unplugged') opt.usb = false;
  else if (a === '--off') opt.off = true;
}

function fail(message) {
  process.stderr.write(`rp2040: ${message}\n`);
  process.exit(2);
}

// Writes on the control pipe are synchronous: events keep their order with the exit.
function event(e) {
  const line = JSON.stringify(e) + '\n';
  if (opt.ctrlFd !== undefined) fs.writeSync(opt.ctrlFd, line);
}

// ---- the flash image ----
let flash;
if (fs.existsSync(opt.image)) {
  flash = fs.readFileSync(opt.image);
  if (flash.length !== FLASH_BYTES) fail(`${opt.image}: not a 2 MiB flash image (${flash.length} bytes)`);
} else {
  flash = Buffer.alloc(FLASH_BYTES, 0xff);
}
if (opt.uf2 !== undefined) {
  try {
    writeUf2(flash, fs.readFileSync(opt.uf2));
  } catch (e) {
    fail(`${opt.uf2}: ${e.message}`);
  }
  fs.writeFileSync(opt.image, flash);
} else {
  const firmware = fs.readFileSync(opt.firmware);
  if (!flash.subarray(0, firmware.length).equals(firmware)) {
    firmware.copy(flash, 0);
    fs.writeFileSync(opt.image, flash);
  }
}
const imageFd = fs.openSync(opt.image, 'r+');

// ---- the board ----
const board = JSON.parse(fs.readFileSync(opt.board, 'utf8'));
// "26:1861,27:2541" -> [[channel, raw12], ...]
function adcCodes(text) {
  return text.split(',').filter((item) => item).map((item) => {
    const [gpio, raw] = item.split(':').map(Number);
    const ch = gpio - ADC_BASE_PIN;
    if (!(ch >= 0 && ch < 4 && raw >= 0 && raw <= 4095)) fail(`adc: bad code ${item}`);
    return [ch, raw];
  });
}
const adc = [];
for (const [ch, raw] of adcCodes(opt.adc)) adc[ch] = raw;

const power = board.power ?? {};
const pico = new Pico({
  flash,
  adc,
  usb: opt.usb,
  powered: !opt.off,
  pins: {
    button: board.button.pin,
    activeLow: board.button.active_low !== false,
    hold: power.hold_pin,
    usb: power.usb_pin,
    watch: [board.motor.pin, board.led.pin, ...(power.hold_pin === undefined ? [] : [power.hold_pin])],
  },
  timerStartUs: opt.timerStartUs ?? 0,
  onEvent: event,
  onSerial: (buf) => process.stdout.write(Buffer.from(buf)),
  onFlashWrite: (at, n) => {
    fs.writeSync(imageFd, pico.mcu.flash, at, n, at);
    if (cutAfter !== null && --cutAfter === 0) process.exit(0); // the power goes, just now
  },
});
let cutAfter = null; // flash operations until a power cut ("cut N")

// ---- pacing: wall time while a host talks (and a moment after), else as set ----
let hostOpen = false;
let graceTimer = null;
function pace() {
  pico.setPaced(opt.pace === 'wall' || hostOpen || graceTimer !== null);
}
// The port was opened or closed, or bytes came (they may overtake the "open" news).
function host(open) {
  if (open !== null) hostOpen = open;
  if (graceTimer) clearTimeout(graceTimer);
  graceTimer = setTimeout(() => { graceTimer = null; pace(); }, HOST_GRACE_MS);
  pace();
}
if (opt.hold) pico.setLimit(0);
pace();

// ---- commands ----
function command(words) {
  const [name, arg] = words;
  if (name === 'button') pico.setButton(arg === '1');
  else if (name === 'script') {
    for (const item of arg.split(',')) {
      const [ms, level] = item.split(':');
      pico.after(Number(ms), () => pico.setButton(level === '1'));
    }
    event({ ev: 'script', t: pico.now() });
  } else if (name === 'adc') {
    for (const [ch, raw] of adcCodes(arg ?? '')) pico.setAdc(ch, raw);
  } else if (name === 'host') host(arg === '1');
  else if (name === 'run') {
    const until = Math.max(pico.now(), pico.limit ?? 0) + Number(arg) * 1e6;
    event({ ev: 'run', t: pico.now(), until });
    pico.setLimit(until);
  }
  else if (name === 'power') pico.powerCycle();
  else if (name === 'usb') pico.setUsb(arg === '1');
  else if (name === 'cut') cutAfter = Number(arg);
  else if (name === 'stats') event({ ev: 'stats', t: pico.now(), ...pico.stats, boots: pico.boots });
}

// A net.Socket reads a pipe without tying up libuv's thread pool.
const cmds = new net.Socket({ fd: opt.cmdFd, readable: true, writable: false });
let pending = '';
cmds.on('data', (chunk) => {
  pending += chunk.toString('latin1');
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (line) command(line.split(/\s+/));
  }
});
cmds.on('end', () => process.exit(0)); // the supervisor went away
cmds.on('error', () => process.exit(0));

process.stdin.on('data', (chunk) => {
  host(null);
  pico.write(chunk);
});
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
