// An emulated Raspberry Pi Pico: the stock MicroPython rp2 firmware on rp2040js 1.4.1.
//
//   const pico = new Pico({ flash, onEvent, onSerial, onFlashWrite, pins, battery });
//   pico.write(bytes)      // host -> USB CDC
//   pico.setButton(true)   // a finger on the button pin
//   pico.setUsb(false)     // the USB cable pulled: only the cell, through the latch
//
// rp2040js is pinned exactly: this file reaches into its internals. What it adds to the
// library (learned in ../shared/rp2040, each needed for MicroPython to work as on a board):
// - the RP2040 B1 bootrom (not in the npm package), with flash_range_erase/program turned
//   into breakpoints done here (the SSI flash controller is a stub), so littlefs works;
// - USB CDC reads held until the host has bytes (the library answers each read at once with
//   an empty packet: an interrupt storm that keeps the core from ever sleeping), and a host
//   queue with flow control instead of the library's 512-byte FIFO that drops bytes;
// - a run loop that skips the core's idle time to the next timer event, bounded by the wall
//   clock while a host is talking (else an armed watchdog fires "at once" between two
//   mpremote commands), or up to a limit set by tests;
// - a chip reset when the watchdog fires or the firmware asks for one (machine.reset()),
//   keeping the flash and the WATCHDOG.REASON register (machine.reset_cause());
// - the button's pull resistor (the library ignores pulls: an input nobody drives reads 0);
// - outputs observed at the pins: a PWM pin's duty and frequency from its slice registers,
//   a plain output's level, reported on every change;
// - optionally, a first power-up late in a long uptime: the TIMER reads `timerStartUs` more
//   (see _startTimer).
// - the board's power latch (board.json power.hold_pin, docs/hardware.md): the chip has
//   power while USB is plugged in (VBUS, read on power.usb_pin), the button is down or the
//   hold pin is driven high. When none is left the chip stops at that very instruction,
//   unpowered: RAM, registers and pins gone, the flash kept, emulated time running on; the
//   next press (or USB) powers it up from scratch.
import { performance } from 'node:perf_hooks';
import { ConsoleLogger, LogLevel, Simulator, USBCDC } from 'rp2040js';
import { bootromB1 } from './bootrom.mjs';

export const FLASH_BYTES = 2 * 1024 * 1024;
const CYCLE_NS = 8; // 125 MHz
const FUNC_PWM = 4;
const FUNC_SIO = 5;
const SLICE_YIELD_MS = 15; // give the host's I/O a turn at least this often
const LAG_REBASE_NS = 5e6; // busy code ran behind the wall clock: do not catch up in a burst
const REASON_TIMER = 1; // WATCHDOG.REASON bits: the timer ran out / the firmware forced it

function romHalf(rom, addr) {
  const w = rom[addr >> 2];
  return addr & 2 ? w >>> 16 : w & 0xffff;
}

function romSetHalf(rom, addr, v) {
  const i = addr >> 2;
  rom[i] = addr & 2 ? ((rom[i] & 0xffff) | (v << 16)) >>> 0 : ((rom[i] & 0xffff0000) | v) >>> 0;
}

// The bootrom with the first instruction of flash_range_erase and flash_range_program
// replaced by BKPT #0xE1 / #0xE2 (found through the ROM's function table, codes RE and RP).
function patchedBootrom() {
  const rom = new Uint32Array(bootromB1);
  const funcs = {};
  for (let p = romHalf(rom, 0x14); romHalf(rom, p); p += 4) {
    const c = romHalf(rom, p);
    funcs[String.fromCharCode(c & 0xff, c >> 8)] = romHalf(rom, p + 2) & ~1;
  }
  romSetHalf(rom, funcs.RE, 0xbe00 | 0xe1);
  romSetHalf(rom, funcs.RP, 0xbe00 | 0xe2);
  return rom;
}
const BOOTROM = patchedBootrom();

// rp2040js logs through console; stdout may be the serial line: send it all to stderr.
const logger = new ConsoleLogger(LogLevel.Error);
logger.error = (component, message) => process.stderr.write(`rp2040js ${component}: ${message}\n`);

export class Pico {
  // flash: Uint8Array, the 2 MiB flash (firmware at 0, littlefs at the end)
  // pins: { button, activeLow, watch: [gpio, ...] }; adc: [raw12 for ADC0..3]
  // onEvent({ev, t, ...}), onSerial(Uint8Array), onFlashWrite(offset, length)
  // usb: VBUS present at power-up; powered: false starts it unpowered, waiting for a press
  constructor({ flash, pins, adc = [], onEvent = () => {}, onSerial = () => {},
    onFlashWrite = () => {}, timerStartUs = 0, usb = true, powered = true }) {
    this.timerStartUs = timerStartUs;
    this.pins = pins;
    this.usb = usb;
    this.off = false; // unpowered: no instruction runs, emulated time goes on
    this.schedule = []; // host actions at emulated times: {at (ns), fn, alarm}
    this.adc = adc.slice();
    this.onEvent = onEvent;
    this.onSerial = onSerial;
    this.onFlashWrite = onFlashWrite;
    this.pressed = false;
    this.inbox = []; // host bytes not yet read by the device (Buffers)
    this.inboxBytes = 0;
    this.paced = false; // idle time may not run ahead of the wall clock
    this.limit = null; // when not paced: emulated ns to stop at (null: run on)
    this.base = 0; // emulated ns before the current chip instance started
    this.boots = 0;
    this.stats = { cycles: 0, instructions: 0, flashErase: 0, flashProgram: 0, resets: 0,
      flashErasedBytes: 0, flashProgrammedBytes: 0 };
    this.outputs = new Map(); // gpio -> its last reported state, as a comparable key
    this._boot(flash, 'power');
    if (!powered && !this.off) this._powerOff();
  }

  now() {
    return this.base + this.sim.clock.nanos;
  }

  // ---- the chip ----
  _boot(flash, cause) {
    const old = this.sim;
    let reason = 0;
    if (old) {
      this.base += old.clock.nanos;
      reason = old.rp2040.peripherals[0x40058].reason;
    }
    const sim = new Simulator();
    const mcu = sim.rp2040;
    mcu.logger = logger;
    mcu.loadBootrom(BOOTROM);
    mcu.flash.set(flash);
    mcu.onBreak = (imm) => this._onBreak(mcu, imm);
    const wd = mcu.peripherals[0x40058];
    wd.reason = reason; // survives the reset, as on the chip: machine.reset_cause()
    wd.onWatchdogTrigger = () => this._watchdogFired(sim, wd);
    for (let i = 0; i < 4; i++) mcu.adc.channelValues[i] = this.adc[i] ?? 0;
    if (!old && this.timerStartUs) this._startTimer(mcu, this.timerStartUs);
    this.sim = sim;
    this.mcu = mcu;
    this.connected = false;
    this.pendingRead = null;
    this._usb(mcu);
    this._watchWrites(mcu);
    this._applyButton();
    if (this.pins.usb !== undefined) mcu.gpio[this.pins.usb].setInputValue(this.usb);
    for (const item of this.schedule) this._arm(item); // the host's actions go on
    mcu.core.PC = 0x10000000;
    this.boots++;
    this.anchor = null;
    this.idle = null;
    this.resetting = false;
    this.onEvent({ ev: 'boot', t: this.now(), n: this.boots, cause });
    this._report();
    this._resume();
    // A chip reset lets go of every pad, the hold pin too (R9 pulls Q3's gate low): on the
    // cell alone the latch opens, and the board is off until the next press.
    if (!this.powered()) this._powerOff();
  }

  // The first chip's TIMER counts from `us` instead of 0, as if it had booted that long
  // ago: a way to reach MicroPython's ticks_ms wrap (2^30 ms, 12.4 days) without emulating
  // the days. The rp2 port's ticks_ms is the 64-bit TIMER in ms, truncated to 32 bits
  // (ports/rp2/mphalport.h mp_hal_ticks_ms: to_ms_since_boot(get_absolute_time())) and
  // masked to 2^30 (extmod/modtime.c time_ticks_ms, MICROPY_PY_TIME_TICKS_PERIOD). Every
  // later boot counts from 0: pico-sdk's runtime_init_early_resets resets the TIMER block.
  // The library's timer reads clock.nanos for TIMEHR/TIMELR and works out an ALARM's delay
  // from it: both see the offset, the alarms still fire on the real clock.
  _startTimer(mcu, us) {
    const timer = mcu.peripherals[0x40054];
    const clock = timer.clock;
    const offsetNs = us * 1000;
    timer.clock = { get nanos() { return clock.nanos + offsetNs; } };
  }

  _watchdogFired(sim, wd) {
    if (sim !== this.sim) return; // a stale alarm of a chip already reset
    wd.alarm.enable = false; // the periodic alarm would fire again in this batch
    wd.timer.enable = false;
    this.stats.resets++;
    const forced = !(wd.reason & REASON_TIMER);
    this.onEvent({ ev: forced ? 'reset' : 'watchdog', t: this.now() });
    this.resetting = true;
    this._dropInput(); // the USB link goes down with the chip: what was in flight is lost
    const flash = new Uint8Array(this.mcu.flash.subarray(0, FLASH_BYTES));
    setImmediate(() => this._boot(flash, forced ? 'reset' : 'watchdog'));
  }

  // A power cycle from the host: everything but the flash is lost, reset cause power-on.
  powerCycle() {
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.sleepTimer = null;
    this.off = false;
    const flash = new Uint8Array(this.mcu.flash.subarray(0, FLASH_BYTES));
    this.mcu.peripherals[0x40058].reason = 0;
    this._dropInput();
    this._boot(flash, 'power');
  }

  // ---- the power latch ----
  // Whether anything powers the chip: USB, a finger on the button (it pulls the latch's
  // gate low through D3), or the hold pin driven high. Without a latch, always.
  powered() {
    if (this.pins.hold === undefined || this.usb || this.pressed) return true;
    const s = this.pinState(this.pins.hold);
    return s.fn === 'out' && s.duty === 1;
  }

  // Called where the hold pin, the button or USB change: the power goes, or comes.
  _checkPower() {
    const on = this.powered();
    if (this.off && on) this.powerCycle();
    else if (!this.off && !on) this._powerOff();
  }

  _powerOff() {
    this.off = true;
    this.connected = false;
    this._dropInput();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.sleepTimer = null;
    this.onEvent({ ev: 'off', t: this.now() });
    for (const pin of this.pins.watch) { // every pad undriven: the gate pull-down holds
      this.outputs.set(pin, 'input null 0');
      this.onEvent({ ev: 'pin', t: this.now(), pin, fn: 'input', duty: null, freq: 0 });
    }
    this.kick();
  }

  // USB plugged in (VBUS on power.usb_pin) or pulled.
  setUsb(on) {
    this.usb = on;
    if (!this.off && this.pins.usb !== undefined) this.mcu.gpio[this.pins.usb].setInputValue(on);
    this._checkPower();
    this.kick();
  }

  _dropInput() {
    this.inbox = [];
    this.inboxBytes = 0;
    this.pendingRead = null;
  }

  _onBreak(mcu, imm) {
    const { core } = mcu;
    const r = core.registers;
    if (imm === 0xe1) { // flash_range_erase(offset, count, block_size, block_cmd)
      const at = r[0] >>> 0, n = r[1] >>> 0;
      mcu.flash.fill(0xff, at, at + n);
      this.stats.flashErase++;
      this.stats.flashErasedBytes += n;
      this.onFlashWrite(at, n);
    } else if (imm === 0xe2) { // flash_range_program(offset, data, count): bits only clear
      const at = r[0] >>> 0, data = r[1] >>> 0, n = r[2] >>> 0;
      for (let i = 0; i < n; i++) mcu.flash[at + i] &= mcu.readUint8(data + i);
      this.stats.flashProgram++;
      this.stats.flashProgrammedBytes += n;
      this.onFlashWrite(at, n);
    } else {
      logger.error('core', `BKPT ${imm} at PC=0x${(core.PC - 2).toString(16)}: stopped`);
      this.halted = true;
      this.onEvent({ ev: 'halt', t: this.now(), bkpt: imm });
      return;
    }
    core.PC = core.LR & ~1; // return to the caller, as the ROM function would
  }

  // ---- USB CDC ----
  _usb(mcu) {
    const cdc = new USBCDC(mcu.usbCtrl);
    cdc.onDeviceConnected = () => {
      this.connected = true;
      this.onEvent({ ev: 'usb', t: this.now() });
    };
    cdc.onSerialData = (buf) => { if (this.usb) this.onSerial(buf); };
    // Reads are answered from our queue, and held while it is empty (see the top).
    mcu.usbCtrl.onEndpointRead = (ep, size) => {
      if (ep !== cdc.outEndpoint) return;
      this.pendingRead = { ep, size };
      this._serveRead();
    };
    this.cdc = cdc;
  }

  _serveRead() {
    if (!this.pendingRead || !this.inboxBytes) return;
    const { ep, size } = this.pendingRead;
    this.pendingRead = null;
    const out = new Uint8Array(Math.min(size, this.inboxBytes));
    let n = 0;
    while (n < out.length) {
      const head = this.inbox[0];
      const take = Math.min(head.length, out.length - n);
      out.set(head.subarray(0, take), n);
      n += take;
      if (take === head.length) this.inbox.shift();
      else this.inbox[0] = head.subarray(take);
    }
    this.inboxBytes -= n;
    this.mcu.usbCtrl.endpointReadDone(ep, out);
  }

  write(bytes) {
    if (!bytes.length || this.off || !this.usb) return; // no chip, or no cable: lost
    this.inbox.push(Buffer.from(bytes));
    this.inboxBytes += bytes.length;
    if (this.connected) this._serveRead();
    this.kick();
  }

  // ---- inputs ----
  // The button shorts its pin to ground (active low) or to 3V3 when pressed; released, the
  // pin follows its pull resistor as the firmware configured the pad (no pull: it reads 0,
  // where a real pin would float).
  setButton(pressed) {
    this.pressed = pressed;
    if (!this.off) this._applyButton();
    this._checkPower();
    this.kick();
  }

  _applyButton() {
    const g = this.mcu.gpio[this.pins.button];
    let level;
    if (this.pressed) level = !this.pins.activeLow;
    else level = g.pullupEnabled && !g.pulldownEnabled;
    if (g.rawInputValue !== level || !this.buttonApplied) g.setInputValue(level);
    this.buttonApplied = true;
  }

  setAdc(channel, raw12) {
    this.adc[channel] = raw12;
    this.mcu.adc.channelValues[channel] = raw12;
  }

  // Run fn after `ms` of emulated time (a scripted button, say): exact in emulated time,
  // across resets and while the chip is unpowered.
  after(ms, fn) {
    const item = { at: this.now() + ms * 1e6, fn };
    this.schedule.push(item);
    this._arm(item);
    this.kick();
  }

  _arm(item) {
    const sim = this.sim;
    item.alarm = sim.clock.createAlarm(() => {
      if (sim === this.sim && !this.off) this._fire(item);
    });
    item.alarm.schedule(Math.max(0, item.at - this.now()));
  }

  _fire(item) {
    const i = this.schedule.indexOf(item);
    if (i < 0) return;
    this.schedule.splice(i, 1);
    item.fn();
  }

  // ---- outputs at the pins ----
  _watchWrites(mcu) {
    const watched = new Set(this.pins.watch);
    const recheck = () => this._report();
    const wrap = (periph, pick = () => true) => {
      const write = periph.writeUint32.bind(periph);
      periph.writeUint32 = (offset, value) => {
        write(offset, value);
        if (pick(offset)) recheck();
      };
    };
    wrap(mcu.pwm);
    const hold = this.pins.hold;
    const power = () => { if (hold !== undefined && !this.off && !this.powered()) this._powerOff(); };
    wrap(mcu.peripherals[0x40014], (o) => { // IO_BANK0 GPIOn_CTRL
      if ((o >> 3) === hold) power();
      return watched.has(o >> 3);
    });
    const button = this.pins.button;
    const pads = mcu.peripherals[0x4001c];
    const padWrite = pads.writeUint32.bind(pads);
    pads.writeUint32 = (offset, value) => {
      padWrite(offset, value);
      if (((offset - 4) >> 2) === button) this._applyButton(); // the pull may have changed
      if (watched.has((offset - 4) >> 2)) recheck();
    };
    // SIO: only GPIO_OUT and GPIO_OE and their set/clear/xor aliases (0x10..0x3c); the
    // hardware divider and spinlocks there are hot paths.
    const sio = mcu.sio;
    const sioWrite = sio.writeUint32.bind(sio);
    sio.writeUint32 = (offset, value) => {
      sioWrite(offset, value);
      if (offset >= 0x10 && offset <= 0x3c) {
        recheck();
        power(); // the hold pin let go: the latch opens now
      }
    };
  }

  // {fn, duty, freq}: duty 0..1 of a running PWM slice, or the level of a stopped slice or
  // a plain output (1/0); null for an input or an unconnected pin.
  pinState(pin) {
    const mcu = this.mcu;
    const g = mcu.gpio[pin];
    if (g.functionSelect === FUNC_PWM) {
      const c = mcu.pwm.channels[(pin >> 1) & 7];
      const chB = pin & 1;
      const cc = chB ? c.cc >>> 16 : c.cc & 0xffff;
      const inv = !!(c.csr & (chB ? 8 : 4));
      if (!(c.csr & 1)) return { fn: 'pwm-stopped', duty: g.outputValue ? 1 : 0, freq: 0 };
      let duty = Math.min(cc, c.top + 1) / (c.top + 1);
      if (inv) duty = 1 - duty;
      const div = ((c.div >> 4) & 0xff || 256) + (c.div & 0xf) / 16;
      const freq = mcu.clkSys / div / (c.top + 1) / (c.csr & 2 ? 2 : 1);
      return { fn: 'pwm', duty, freq: Math.round(freq) };
    }
    if (g.functionSelect === FUNC_SIO && g.outputEnable) {
      return { fn: 'out', duty: g.outputValue ? 1 : 0, freq: 0 };
    }
    return { fn: 'input', duty: null, freq: 0 };
  }

  _report() {
    for (const pin of this.pins.watch) {
      const s = this.pinState(pin);
      const key = `${s.fn} ${s.duty} ${s.freq}`;
      if (this.outputs.get(pin) === key) continue;
      this.outputs.set(pin, key);
      this.onEvent({ ev: 'pin', t: this.now(), pin, ...s });
    }
  }

  // ---- time ----
  // paced: idle time never runs ahead of the wall clock (a host is talking). Otherwise idle
  // time is skipped, up to `limit` when one is set.
  setPaced(paced) {
    if (paced === this.paced) return;
    this.paced = paced;
    this.anchor = null;
    this.kick();
  }

  setLimit(ns) {
    this.limit = ns;
    this.kick();
  }

  // Something changed (input, pacing, limit): run again if the loop was waiting.
  kick() {
    if (this.sleepTimer) {
      clearTimeout(this.sleepTimer);
      this.sleepTimer = null;
    }
    if (!this.idle) return;
    if (this.idle === 'parked' && this.paced) {
      // Nothing was scheduled: the wall time spent waiting passes on the chip too.
      const ns = (performance.now() - this.parkedAt) * 1e6;
      if (this.off) this.base += ns;
      else this.sim.clock.tick(ns);
    }
    this.idle = null;
    this._resume();
  }

  _resume() {
    if (!this.immediate && !this.halted && !this.resetting) {
      this.immediate = setImmediate(() => { this.immediate = null; this._run(); });
    }
  }

  // Emulated ns the paced clock may still skip now.
  _allowance() {
    const wall = performance.now() * 1e6;
    const emu = this.now();
    if (!this.anchor) this.anchor = { wall, emu };
    let allowed = wall - this.anchor.wall - (emu - this.anchor.emu);
    if (allowed > LAG_REBASE_NS && !this.sleeping) {
      this.anchor = { wall, emu };
      allowed = 0;
    }
    return allowed;
  }

  _wait(why, wakeMs) {
    this.idle = why;
    if (why === 'held') this.onEvent({ ev: 'held', t: this.now() });
    if (why === 'parked') this.parkedAt = performance.now();
    if (wakeMs !== undefined) {
      this.sleeping = true;
      this.sleepTimer = setTimeout(() => { this.sleepTimer = null; this.kick(); }, wakeMs);
    }
  }

  _run() {
    const sim = this.sim;
    if (this.idle || this.halted || this.resetting) return;
    if (this.off) return this._runOff();
    const { rp2040: mcu, clock } = sim;
    const core = mcu.core;
    const until = performance.now() + SLICE_YIELD_MS;
    const stats = this.stats;
    for (let n = 1; ; n++) {
      if (core.waiting) {
        // (nanosToNextAlarm says 0 both for "due now" and for "no alarm at all")
        let dt = clock.nextAlarm ? Math.max(0, clock.nextAlarm.nanos - clock.nanos) : Infinity;
        if (!this.paced && this.limit !== null) {
          const room = this.limit - this.now();
          if (room <= 0) return this._wait('held');
          if (dt > room) dt = room; // nothing happens before the limit
        }
        if (dt === Infinity) return this._wait('parked'); // only the host can wake it
        if (this.paced) {
          const allowed = this._allowance();
          if (dt > allowed) return this._wait('paced', Math.min((dt - allowed) / 1e6, 20));
        }
        this.sleeping = false;
        clock.tick(dt);
      } else {
        const cycles = core.executeInstruction();
        clock.tick(cycles * CYCLE_NS);
        stats.cycles += cycles;
        stats.instructions++;
        if ((n & 0xff) === 0 && !this.paced && this.limit !== null && this.now() >= this.limit) {
          return this._wait('held');
        }
      }
      if (this.resetting || this.halted) return; // the watchdog or a breakpoint, just now
      if (this.off) break; // the power went, just now
      if ((n & 0x3fff) === 0 && performance.now() > until) break;
    }
    this._resume();
  }

  // Unpowered: no instruction runs; emulated time runs on to the host's next action (a
  // scripted press), as it would while the chip waits, paced or held the same way.
  _runOff() {
    for (;;) {
      const next = this.schedule.reduce((a, item) => Math.min(a, item.at), Infinity);
      let dt = Math.max(0, next - this.now());
      if (!this.paced && this.limit !== null) {
        const room = this.limit - this.now();
        if (room <= 0) return this._wait('held');
        if (dt > room) dt = room;
      }
      if (dt === Infinity) return this._wait('parked');
      if (this.paced) {
        const allowed = this._allowance();
        if (dt > allowed) return this._wait('paced', Math.min((dt - allowed) / 1e6, 20));
      }
      this.sleeping = false;
      this.base += dt;
      const due = this.schedule.filter((item) => item.at <= this.now());
      for (const item of due) {
        this._fire(item);
        if (!this.off) return this._resume(); // a press powered it: the new chip runs
      }
    }
  }

  stop() {
    this.halted = true;
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    if (this.immediate) clearImmediate(this.immediate);
  }
}
