"""The stock MicroPython rp2 firmware on an emulated RP2040, behind a serial port (pty).

    with EmulatedPico("pico-flash.img") as pico:
        subprocess.run(["mpremote", "connect", pico.port, "fs", "ls"])
        pico.press(True); pico.press(False)     # the button on the board's button pin
        pico.changes(15)                        # what the motor pin did: [Change, ...]

The chip is rp2040js (simulator/rp2040/, pinned) running the firmware image built from the
vendored MicroPython sources (simulator/rp2040/image/). Its 2 MiB flash lives in an image
file, written through as the chip writes, so it persists across runs and power cuts.

Time: the chip's clock is emulated. While a host has the port open (and for a second after)
it is paced to the wall clock, as a board's is; otherwise idle time is skipped ("host"
pacing: several times faster than real time when idle, slower when busy) or always paced
("wall"). With hold=True the chip runs only as far as run(ms) lets it when no host is
talking: tests then drive it in emulated time, and what it does is the same on any machine.

Power: USB is plugged in (VBUS on the board's power.usb_pin) unless usb=False; then the
cell powers the board through its power latch (board.json power.hold_pin), and the serial
line carries nothing. Letting go of the hold with no USB and the button up stops the chip
where it is, unpowered (an "off" event; the flash kept); a press powers it up from scratch
(a "boot" event, cause "power"). powered=False starts it unpowered.
"""

import json
import os
import selectors
import subprocess
import threading
import time
import tty
from collections import namedtuple

from simulator.adc_view import adc_view, codes
from simulator.micropython import node_command
from simulator.vdev_common import (
    BATTERY_MV,
    CELL,
    board_config,
    board_path,
    flush,
    keys,
    on_terminal,
    say,
    wait_signals,
)

HERE = os.path.dirname(os.path.abspath(__file__))
RP2040 = os.path.join(HERE, "rp2040")
HOST = os.path.join(RP2040, "host.mjs")
FIRMWARE = os.path.join(RP2040, "image", "firmware-RPI_PICO-v1.28.0.bin")
MICROPYTHON = "1.28.0"  # what the image runs (1.29's pinned submodules were not obtainable)
PACKAGE = os.path.join(RP2040, "node_modules", "rp2040js", "package.json")
PORT_POLL_S = 0.02  # how often a closed port is checked for a host opening it
OUT_CAP = 256 * 1024
# MicroPython's ticks_ms wraps at 2^30 ms (12.4 days) on the rp2 port: the 64-bit TIMER in
# ms (ports/rp2/mphalport.h mp_hal_ticks_ms) masked to the small-int range
# (extmod/modtime.c time_ticks_ms, py/mpconfig.h MICROPY_PY_TIME_TICKS_PERIOD).
TICKS_PERIOD_MS = 1 << 30

# One observed change of an output pin: t in emulated ms since the first power-up; fn
# "pwm" (duty 0..1 of the slice, freq in Hz), "pwm-stopped" (the slice is off: the pin
# holds duty 0 or 1), "out" (a plain output: 0 or 1) or "input" (duty None).
Change = namedtuple("Change", "t fn duty freq")


class PicoError(RuntimeError):
    """The emulated board failed: one line."""


def board_file(board):
    """(path, config) of an RP2040 board's pin map."""
    try:
        config = board_config(board)
    except RuntimeError:
        raise PicoError("unknown board %s (no %s)" % (board, board_path(board))) from None
    if config.get("arch") != "armv6m":
        raise PicoError("board %s is not an RP2040 board (arch %s)" % (board, config.get("arch")))
    return board_path(board), config


class EmulatedPico:
    def __init__(self, image, board="pico", battery_mv=BATTERY_MV, pace="host", hold=False,
                 firmware=FIRMWARE, ready_timeout=60, cell=CELL, uf2=None, timer_start_ms=0,
                 usb=True, powered=True):
        if pace not in ("host", "wall"):
            raise ValueError("pace must be host or wall")
        self.image = os.path.abspath(image)
        self.board_path, self.config = board_file(board)
        self.battery_mv = battery_mv
        self.cell = cell
        self._adc = self._codes(battery_mv)
        self.pace = pace
        self.hold = hold
        self.firmware = firmware
        self.uf2 = uf2  # a UF2 file written into the flash at start, as the bootrom does
        self.ready_timeout = ready_timeout
        # The TIMER's ms at the first power-up (0 as on a board; TICKS_PERIOD_MS - 60000 puts
        # ticks_ms a minute before its wrap): resets count from 0 (rp2040/pico.mjs).
        self.timer_start_ms = timer_start_ms
        self.usb = usb
        self.powered_at_start = powered
        self.port = None
        self.events = []  # every event of the chip (dicts, "t" in emulated ns)
        self.error = None
        self._cv = threading.Condition()
        self._proc = None
        self._thread = None
        self._stop = False
        self._host = False

    # ---- lifecycle ----
    def start(self):
        if not os.path.exists(PACKAGE):
            raise PicoError("rp2040js is not installed: run `make setup` (npm ci in "
                            "simulator/rp2040)")
        node = node_command()
        self._master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation
        self.port = os.ttyname(slave)
        os.close(slave)  # the port reads as closed until a host opens it (POLLHUP)
        os.set_blocking(self._master, False)
        ctrl_r, ctrl_w = os.pipe()
        cmd_r, self._cmd_w = os.pipe()
        load = ["--uf2", os.path.abspath(self.uf2)] if self.uf2 else ["--firmware",
                                                                        self.firmware]
        cmd = node + [HOST] + load + ["--image", self.image,
                      "--board", self.board_path, "--ctrl-fd", str(ctrl_w),
                      "--cmd-fd", str(cmd_r), "--adc", self._adc,
                      "--pace", self.pace] + (["--hold"] if self.hold else []) + (
                      ["--timer-start", str(int(self.timer_start_ms) * 1000)]
                      if self.timer_start_ms else []) + (
                          [] if self.usb else ["--unplugged"]) + (
                          [] if self.powered_at_start else ["--off"])
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, pass_fds=(ctrl_w, cmd_r))
        os.close(ctrl_w)
        os.close(cmd_r)
        self._ctrl = ctrl_r
        self._out = bytearray()
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._proc.stdout, selectors.EVENT_READ, "serial")
        self._sel.register(ctrl_r, selectors.EVENT_READ, "ctrl")
        self._sel.register(self._proc.stderr, selectors.EVENT_READ, "stderr")
        self._stderr = b""
        self._thread = threading.Thread(target=self._loop, name="pico", daemon=True)
        self._thread.start()
        try:
            self.wait(lambda e: e["ev"] == ("boot" if self.powered_at_start else "off"),
                      timeout=self.ready_timeout)
        except PicoError:
            self.stop()
            raise
        return self

    def stop(self):
        self._stop = True
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.close(self._cmd_w)  # the host exits when its command pipe closes
            except OSError:
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._thread:
            self._thread.join(5)
            self._thread = None
        if proc is not None:
            for f in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    f.close()
                except OSError:
                    pass
            os.close(self._ctrl)
            self._close_port()

    def interrupt(self, timeout=120):
        """Ctrl-C until the friendly REPL's prompt shows, as a person at a terminal would:
        it stops boot.py and main.py wherever they are. (One Ctrl-C that lands in boot.py
        stops only boot.py: main.py then starts, and eats what the host sends next.)"""
        import serial

        with serial.Serial(self.port, timeout=0.05) as s:
            seen = b""
            end = time.monotonic() + timeout
            while not seen.endswith(b">>> "):
                if time.monotonic() > end:
                    raise PicoError("no REPL prompt on %s: %r" % (self.port, seen[-200:]))
                s.write(b"\x03")
                seen = (seen + s.read(512))[-512:]

    def power_cut(self, after_flash_ops=None):
        """The power goes now (or right after the next `after_flash_ops` flash erases or
        programs): the chip stops where it is, the flash image keeps what was erased and
        programmed up to there, and the port goes away as a board's USB does."""
        if after_flash_ops is not None:
            self._send("cut %d" % after_flash_ops)
        elif self._proc is not None:
            self._proc.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- the board, from the host ----
    def _send(self, line):
        if self._proc is None:
            raise PicoError("the emulated board is not running")
        os.write(self._cmd_w, line.encode() + b"\n")

    def press(self, pressed=True):
        """A finger on the button (or off it), now."""
        self._send("button %d" % (1 if pressed else 0))

    def play(self, edges):
        """Button edges [(ms from now, pressed), ...], at exact emulated times."""
        self.script(edges)

    def script(self, edges):
        """Button edges at exact emulated times: [(ms from now, pressed), ...]. Returns
        "now" (emulated ms) the times count from."""
        n = len(self.events)
        self._send("script " + ",".join("%d:%d" % (ms, 1 if p else 0) for ms, p in edges))
        return self.wait(lambda e: e["ev"] == "script", since=n)["t"] / 1e6

    def _codes(self, mv):
        """The ADC's 12-bit codes for a cell at `mv` open-circuit, as "GPIO:RAW,...": the
        board's circuit and its rail (simulator/adc_view.py), the codes the simulated board
        reads while the motor rests. The codes are set from here, not at each change of the
        motor pin, so the cell's dip during a stroke is modelled by the other engines
        only (docs/rp2040.md)."""
        if mv is None:
            raise ValueError("the emulated RP2040's ADC reads a set voltage; a floating pin "
                             "is modelled by the micropython engine only")
        view = adc_view(self.config, mv, cell=self.cell)
        return ",".join("%d:%d" % gc for gc in sorted(codes(view).items()))

    def set_battery(self, mv):
        """The cell's voltage from now on, in mV: what every ADC pin and the rail then show."""
        self._send("adc " + self._codes(mv))

    def set_usb(self, on):
        """Plug the USB cable in (on: VBUS powers the board, the serial line works) or pull
        it (the cell alone, through the latch: off the board then stays unpowered)."""
        self.usb = on
        self._send("usb %d" % (1 if on else 0))

    @property
    def off(self):
        """True while the chip is unpowered (its power latch let go, no USB)."""
        for e in reversed(self.events):
            if e["ev"] in ("off", "boot"):
                return e["ev"] == "off"
        return False

    def power_cycle(self):
        """Unplug and plug in again: RAM and registers lost, the flash kept."""
        n = len(self.events)
        self._send("power")
        self.wait(lambda e: e["ev"] == "boot", since=n)

    def run(self, ms, timeout=300):
        """hold=True: let emulated time run `ms` further (from where it was allowed to), then
        hold; returns the emulated ms it stopped at."""
        if not self.hold:
            raise PicoError("run() needs hold=True")
        n = len(self.events)
        self._send("run %d" % ms)
        until = self.wait(lambda e: e["ev"] == "run", since=n)["until"]
        return self.wait(lambda e: e["ev"] == "held" and e["t"] >= until, since=n,
                         timeout=timeout)["t"] / 1e6

    def stats(self):
        """Cycles and instructions executed, flash erases/programs, resets, boots."""
        n = len(self.events)
        self._send("stats")
        return self.wait(lambda e: e["ev"] == "stats", since=n)

    # ---- what it did ----
    def wait(self, predicate, since=0, timeout=120):
        """The first event from index `since` on that satisfies predicate. The timeout is a
        guard against a stuck emulator, not a measure of anything."""
        end = time.monotonic() + timeout
        with self._cv:
            while True:
                for e in self.events[since:]:
                    if predicate(e):
                        return e
                since = len(self.events)
                if self.error:
                    raise PicoError(self.error)
                left = end - time.monotonic()
                if left <= 0:
                    raise PicoError("no such event within %ss; last: %s" % (
                        timeout, self.events[-3:]))
                self._cv.wait(left)

    def changes(self, pin, since=0.0):
        """Every change of an output pin from emulated ms `since` on."""
        return [Change(e["t"] / 1e6, e["fn"], e["duty"], e["freq"]) for e in list(self.events)
                if e["ev"] == "pin" and e["pin"] == pin and e["t"] / 1e6 >= since]

    def now(self):
        """Emulated ms at the last event (the chip's clock runs on between events)."""
        return self.events[-1]["t"] / 1e6 if self.events else 0.0

    def count(self, ev):
        return sum(1 for e in list(self.events) if e["ev"] == ev)

    # ---- the loop: serial relay, events, the port's open/closed state ----
    def _loop(self):
        master_registered = False
        ctrl_buf = b""
        while not self._stop:
            open_now = self._port_open()
            if open_now != self._host:
                self._host = open_now
                try:
                    self._send("host %d" % open_now)
                except (OSError, PicoError):
                    pass
            if open_now and not master_registered:
                self._sel.register(self._master, selectors.EVENT_READ, "port")
                master_registered = True
            elif not open_now and master_registered:
                self._sel.unregister(self._master)
                master_registered = False
                self._out.clear()  # nobody listens: a board's output is lost too
            if self._out and open_now:
                flush(self._master, self._out)
            timeout = PORT_POLL_S if not open_now or self._out else 0.2
            for key, _ in self._sel.select(timeout):
                what = key.data
                if what == "port":
                    try:
                        data = os.read(self._master, 65536)
                    except OSError:
                        data = b""
                    if data and self._proc:
                        try:
                            self._proc.stdin.write(data)
                            self._proc.stdin.flush()
                        except OSError:
                            pass
                elif what == "serial":
                    data = os.read(key.fd, 65536)
                    if not data:
                        self._sel.unregister(key.fileobj)
                    elif self._host:
                        self._out += data
                        if len(self._out) > OUT_CAP:
                            del self._out[:len(self._out) - OUT_CAP]
                elif what == "stderr":
                    data = os.read(key.fd, 65536)
                    if not data:
                        self._sel.unregister(key.fileobj)
                    self._stderr = (self._stderr + data)[-4096:]
                elif what == "ctrl":
                    data = os.read(key.fd, 65536)
                    if not data:
                        self._sel.unregister(key.fd)
                        self._exited()
                        return
                    ctrl_buf += data
                    *lines, ctrl_buf = ctrl_buf.split(b"\n")
                    with self._cv:
                        self.events.extend(json.loads(line) for line in lines if line)
                        self._cv.notify_all()

    def _exited(self):
        self._close_port()  # the port vanishes, as a board's USB does: the host sees it at once
        with self._cv:
            if not self._stop:
                last = self._stderr.decode("utf-8", "replace").strip().splitlines()
                self.error = "the emulator stopped: %s" % (last[-1] if last else "no message")
            self._cv.notify_all()

    def _close_port(self):
        fd, self._master = self._master, None
        if fd is not None:
            try:
                self._sel.unregister(fd)
            except (KeyError, ValueError):
                pass
            os.close(fd)

    def _port_open(self):
        import select

        p = select.poll()
        p.register(self._master, select.POLLIN)
        return not any(ev & select.POLLHUP for _, ev in p.poll(0))



# ---- massager vdev --engine rp2040 ----

def power_word(off, usb):
    """What powers the board, for a status line: off (unpowered: a press powers it on), on
    USB, or on the cell through the latch."""
    if off:
        return "OFF (unpowered; a press powers it on)"
    return "on USB" if usb else "on the cell"


def _percent(change):
    if change is None or change.duty is None:
        return "  -"
    return "%3d" % round(change.duty * 100)


def _status(pico, motor, led):
    """The status line on a terminal: the power, the outputs, the resets."""
    m = (pico.changes(motor) or [None])[-1]
    lamp = (pico.changes(led) or [None])[-1]
    return "\r  %s  motor %s%%  LED %s%%  (last change at %.1f s)  resets %d  " % (
        power_word(pico.off, pico.usb), _percent(m), _percent(lamp), pico.now() / 1000,
        pico.count("watchdog") + pico.count("reset"))


def serve(args):
    """`massager vdev --engine rp2040` (args: vdev_common.parse)."""
    import sys

    try:
        log = _PinLog(args.pins)
        pico = EmulatedPico(args.flash, board=args.board, battery_mv=args.battery,
                            pace="host" if args.fast else "wall", cell=args.cell,
                            uf2=args.uf2, usb=not args.unplugged,
                            powered=not args.unplugged).start()
    except (PicoError, RuntimeError, OSError, ValueError) as e:
        say(str(e))
        return 1
    motor, led = pico.config["motor"]["pin"], pico.config["led"]["pin"]
    log.pico, log.names = pico, {motor: "motor", led: "led"}
    stop = wait_signals()
    from simulator.registry import Registration

    reg = Registration(pico.port, "rp2040", args.board, pico.press, pins=args.pins).__enter__()
    try:
        # The port line says "ready": printed once listed (see simulator/vdev.py).
        print(pico.port, flush=True)
        say("%s (the stock MicroPython %s rp2 firmware on an emulated RP2040), %s; Ctrl-C "
            "to stop" % (pico.config["name"], MICROPYTHON, power_word(pico.off, pico.usb)))
        if on_terminal():
            def tick():
                log.write()
                sys.stderr.write(_status(pico, motor, led))
                sys.stderr.flush()

            keys(pico, args.battery, stop, tick)
        else:
            shown = power_word(pico.off, pico.usb)
            while not stop.wait(0.2):
                log.write()
                if power_word(pico.off, pico.usb) != shown:  # the power changed: say so
                    shown = power_word(pico.off, pico.usb)
                    say(shown)
                if pico.error:
                    say(pico.error)
                    return 1
    finally:
        reg.__exit__()
        pico.stop()
        log.write()
        log.close()
    return 0


class _PinLog:
    """--pins FILE: one JSON line per change of the motor or LED pin."""

    def __init__(self, path):
        self.pico, self.names, self.seen = None, {}, 0
        self.file = open(path, "a") if path else None

    def write(self):
        events, self.seen = self.pico.events[self.seen:], len(self.pico.events)
        if self.file is None:
            return
        for e in events:
            if e["ev"] == "pin" and e["pin"] in self.names:
                self.file.write(json.dumps({"t": round(e["t"] / 1e6, 3),
                                            "pin": self.names[e["pin"]], "fn": e["fn"],
                                            "duty": e["duty"], "freq": e["freq"]}) + "\n")
        self.file.flush()

    def close(self):
        if self.file:
            self.file.close()
