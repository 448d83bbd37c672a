"""Virtual device: a serial port (pty) with real MicroPython (WebAssembly) behind it.

    massager vdev [--flash DIR] [--link none|uart115200|usb-fs] [--cpu-slowdown X]
                  [--heap-kb N] [--trace FILE] [--lib DIR]...

(its options: simulator/vdev_common.py) prints the port (e.g. /dev/pts/7) and serves until
Ctrl-C / SIGTERM. The unmodified
`mpremote connect PORT ...` works against it. Files live in the host flash directory.

    with VirtualDevice(flash_dir) as dev:
        subprocess.run(["mpremote", "connect", dev.port, "ls"])

How: this process owns the pty and supervises one `node vdev_host.mjs` per interpreter life.
Code running inside the wasm cannot be interrupted, so when Ctrl-C arrives while the
interpreter is busy (or has asyncio tasks armed on JS timers, e.g. the firmware's main.py),
we kill that node process and start a fresh one that keeps the flash dir, prints
KeyboardInterrupt and gives the REPL back, like a board. Soft and hard resets are also a new
node process (asked for by vdev_host.mjs on its control pipe).

The link (simulator/link.py) paces the bytes both ways like a board's: `none` (a plain pty,
the default for tests), `uart115200` (an ESP32 devkit's USB-UART bridge) or `usb-fs` (a
Pico's USB CDC). --cpu-slowdown X makes device-side work take X times the CPU time this
host's engine needed: the device's answer and its next input wait for it.
"""

import json
import os
import selectors
import subprocess
import sys
import threading
import time
import tty

from simulator.adc_view import adc_view, jsonable
from simulator.link import Link
from simulator.micropython import node_command
from simulator.vdev_common import (
    BATTERY_MV,
    CELL,
    board_config,
    flush,
    keys,
    on_terminal,
    say,
    wait_signals,
)

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = os.path.join(HERE, "vdev_host.mjs")
BOARD = os.path.join(HERE, "board")  # the simulated machine and neopixel modules
SPARES = 2  # interpreters kept loaded for the next restarts
INTERRUPT_GRACE_S = 0.05  # a Ctrl-C waits this long for running code to finish by itself
OUT_CAP = 256 * 1024  # bytes kept for the port while nobody reads it
# Reset causes both ports number alike (simulator/board/machine.py); what machine.reset()
# and a soft reset leave is the port profile's (simulator/board/port_*.py).
PWRON_RESET, WDT_RESET, DEEPSLEEP_RESET = 1, 3, 4
# From power-up to boot.py driving the power latch's hold pin, measured on the emulated
# RP2040 with the flashed firmware (docs/hardware.md): a press that powers a latched board
# must last this long. The interpreter here starts at wall speed, not a chip's, so the press
# is judged against the chip's time.
BOOT_TO_HOLD_MS = 85
OFF = "off: unpowered (%s), the flash kept; a press powers it on"  # the status lines
SHORT = "off: a press of %d ms, too short for the boot to take the hold (%d ms)"


class Chip:
    """What lives in the hardware, not in the interpreter: it outlives soft resets and
    Ctrl-C, which start a new interpreter here. The watchdog is enforced from here, so it
    bites even between two interpreter lives."""

    def __init__(self, config, battery_mv, cell=CELL, usb=True):
        from simulator.device import load_board_module

        machine = load_board_module("machine", register=False)  # not the host's `machine`
        self.port = machine.port_for_arch(config["arch"])
        self.profile = machine.PORTS[self.port]  # what the simulated board plays
        self.config = config
        self.cell = cell
        self.set_battery(battery_mv)
        # The power latch (board.json power.hold_pin, docs/hardware.md): the board has power
        # while USB is in, the button is down or the hold pin is high; None: always.
        power = config.get("power") or {}
        button = config["button"]
        self.latch = None if "hold_pin" not in power else (
            power["hold_pin"], button["pin"], button.get("active_low", True))
        self.usb_pin = power.get("usb_pin")
        self.usb = usb
        self.pressed = False
        self.press_at = self.release_at = None  # monotonic times of the last press
        self.off = False  # unpowered: no interpreter, RAM gone, the flash kept
        self.off_at = None
        self.lost_at = None  # when the last outside power (a press, USB) went, this power-up
        self.power_on()

    def set_battery(self, mv):
        """The ADC's inputs for a cell at `mv` open-circuit (None: nothing wired), from the
        board's circuit: each pin's voltage and the rail the rp2 ADC measures against,
        while the motor rests and as the cell sags under it (simulator/adc_view.py)."""
        self.adc = jsonable(adc_view(self.config, mv, cell=self.cell))

    def power_on(self, cause=PWRON_RESET, at=None):
        self.boot = time.monotonic() if at is None else at
        self.cause = cause
        self.wdt = None  # [timeout ms, monotonic time of the last feed]
        self.asleep = False  # in deep sleep (esp32): no interpreter until the button
        # The hold: a chip reset lets go of every pad, and the boot takes it again
        # BOOT_TO_HOLD_MS after a power-up (None: not yet told by the interpreter).
        self.hold = None if cause == PWRON_RESET else False
        self.off = False
        self.lost_at = None
        if cause == PWRON_RESET:
            self.rtc = ""
        if self.profile.rtc_start_s(cause) is not None:
            self.clock = None  # the RTC starts again at the port's date

    def power_off(self):
        """Unpowered: the interpreter is gone with RAM and every register; the flash stays."""
        self.off = True
        self.off_at = time.monotonic()
        self.wdt = None
        self.asleep = False
        self.hold = False
        self.rtc = ""

    def powered(self):
        """Whether anything keeps the board powered now. A press that powered it and ended
        before the boot could take the hold (BOOT_TO_HOLD_MS of the chip's time) did not."""
        if self.latch is None or self.usb or self.pressed or self.hold:
            return True
        if self.hold is False:
            return False
        lost = self.lost_at if self.lost_at is not None else time.monotonic()
        return (lost - self.boot) * 1000 >= BOOT_TO_HOLD_MS  # the boot will say

    def deep_sleep(self):
        self.asleep = True
        self.wdt = None  # powered down with the rest of the chip

    def soft_reset(self):
        if self.profile.soft_reset_cause is not None:  # esp32: SOFT_RESET
            self.cause = self.profile.soft_reset_cause

    def expires(self):
        """When an armed watchdog bites (monotonic), or None."""
        return None if self.wdt is None else self.wdt[1] + self.wdt[0] / 1000

    def state(self):
        now = time.monotonic()
        wdt = None if self.wdt is None else [self.wdt[0], int((now - self.wdt[1]) * 1000)]
        return {"port": self.port, "cause": self.cause, "ticks": int((now - self.boot) * 1000),
                "wdt": wdt, "rtc": self.rtc, "clock": self.clock, "adc": self.adc,
                "motor_pin": self.config["motor"]["pin"], "latch": self.latch,
                "hold": self.hold is True, "usb": self.usb, "usb_pin": self.usb_pin,
                "pressed": self.pressed}


class VirtualDevice:
    def __init__(self, flash_dir, heap_kb=192, trace=None, libs=(), ready_timeout=30,
                 board="pico", battery_mv=BATTERY_MV, frozen=None, link="none",
                 cpu_slowdown=1.0, cell=CELL, usb=True, on_status=None):
        self.flash_dir = os.path.abspath(flash_dir)
        self.to_device = Link(link)  # host -> device bytes, paced like the board's link
        self.to_host = Link(link)
        if cpu_slowdown < 1:
            raise ValueError("cpu_slowdown: at least 1 (this host's speed), got %r"
                             % cpu_slowdown)
        self.cpu_slowdown = cpu_slowdown
        self._cpu_free = 0.0  # monotonic: when the modelled CPU is done with the last work
        self._held = bytearray()  # device output produced while the modelled CPU works
        self.device_cpu_s = 0.0  # CPU time the interpreters spent working, all lives
        self.config = board_config(board) if isinstance(board, str) else board
        self.chip = Chip(self.config, battery_mv, cell, usb)
        self.watchdog_resets = 0  # chip resets the watchdog caused
        # The power (a board with a latch): usb=False runs it on its cell, where off is
        # unpowered; it then starts unpowered, as a cell put in, until a press.
        self.power_ons = 0  # power-ups by a press or USB after the first
        self.status = "on USB" if usb else "on the cell"  # what powers it, for people
        self.on_status = on_status  # called with each new status
        self._cut = threading.Event()  # power_loss() asked: the loop cuts, then clears it
        self._deadline = None  # (each interpreter life sets these again: see _spawn)
        self._state = "idle"
        self._bg = self._interrupting = False
        self._written = self._consumed = 0
        self.frozen = frozen and os.path.abspath(frozen)  # modules frozen into the image
        self.heap_kb = heap_kb
        self.trace = trace
        # The simulated board (machine, neopixel) always; extra lib dirs go before it.
        self.libs = [os.path.abspath(p) for p in libs] + [BOARD]
        self.ready_timeout = ready_timeout
        self.port = None
        self.restarts = 0  # interpreter processes started (for tests and diagnostics)
        self._thread = None
        self._ready = threading.Event()
        self._stop = False
        self._proc = None
        self._cmd_w = None
        self._spares = []  # [(proc, ctrl fd, cmd fd)]: next interpreters, loaded, waiting
        self._wake_asked = False  # the button was pressed while the chip slept
        self.error = None

    # ---- lifecycle ----
    def start(self):
        os.makedirs(self.flash_dir, exist_ok=True)
        self._node = node_command()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: bytes pass through as-is
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._master, selectors.EVENT_READ, "port")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._pending = bytearray()  # host -> device, not yet given to the interpreter
        self._out = bytearray()  # device -> host, not yet written to the pty
        self._mode = "friendly"
        if self.chip.usb or self.chip.latch is None:
            self._spawn("hard", "friendly")
        else:
            self.chip.power_off()
            self._say(OFF % "no press yet")
            self._ready.set()
        self._thread = threading.Thread(target=self._loop, name="vdev", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.ready_timeout) or self.error:
            self.stop()
            raise RuntimeError(self.error or "virtual device did not start within %ss"
                               % self.ready_timeout)
        return self

    def stop(self):
        self._stop = True
        if self._thread:
            os.write(self._wake_w, b"x")
            self._thread.join(10)
            self._thread = None
        self._kill()
        self._drop_spares()
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def set_battery(self, mv):
        """The cell's voltage from now on, in mV (None: nothing wired, the pin floats).
        The board's circuit says what its ADC sees (simulator/adc_view.py)."""
        self.chip.set_battery(mv)
        if self._cmd_w is not None:
            try:
                os.write(self._cmd_w, b"adc %s\n" % json.dumps(self.chip.adc).encode())
            except OSError:
                pass  # that interpreter has ended: the next one starts from the chip

    def jump(self, ms):
        """Let `ms` of the device's time pass at once (its ticks and its clock; the
        watchdog counts wall time): a long pause or idle in a moment of a test."""
        self.chip.boot -= ms / 1000  # the next interpreter's ticks go on from there
        if self._cmd_w is not None:
            os.write(self._cmd_w, b"jump %d\n" % ms)

    def running_firmware(self):
        """True when the interpreter sits idle at its REPL with asyncio timers armed: the
        firmware's loop runs (as after a reset), nothing is half done."""
        return (self._proc is not None and self._state == "idle" and self._bg
                and self._written == self._consumed and not self._pending)

    # ---- the power ----
    def _say(self, text):
        self.status = text
        if self.on_status is not None:
            self.on_status(text)

    def _poke(self):
        try:
            os.write(self._wake_w, b"x")  # the loop judges the power
        except (AttributeError, OSError):
            pass

    def set_usb(self, on):
        """Plug the USB cable in (it powers the board: an unpowered one boots) or pull it
        (the cell alone, through the latch; the port then carries nothing)."""
        chip = self.chip
        chip.usb = on
        if not on and not chip.pressed:
            chip.lost_at = time.monotonic()
        if self._cmd_w is not None:
            try:
                os.write(self._cmd_w, b"usb %d\n" % (1 if on else 0))
            except OSError:
                pass
        self._say("on USB" if on else (OFF % "USB out") if chip.off else "on the cell")
        self._poke()

    @property
    def usb(self):
        return self.chip.usb

    def play(self, edges):
        """Button edges [(ms from now, pressed), ...], played on timers at wall time."""
        for ms, pressed in edges:
            threading.Timer(ms / 1000, self.press, (pressed,)).start()

    def power_cycle(self):
        """All power out, then the cable back as it was (on USB: it boots at once)."""
        usb = self.chip.usb
        self.power_loss()
        self.set_usb(usb)

    def power_loss(self):
        """All power goes now, whatever the firmware is doing (the cell pulled with the
        cable out): unpowered, the flash keeps what was written. Returns once it is off."""
        self._cut.set()
        self._poke()
        while self._cut.is_set() and self._thread is not None:
            time.sleep(0.005)

    def _power_check(self):
        """In the loop: cut or bring the power as the latch, the button and USB say."""
        chip = self.chip
        if self._cut.is_set():
            chip.usb = False
            if not chip.off:
                self._kill()
                chip.power_off()
                self._say(OFF % "the power lost")
            self._cut.clear()
            return
        if chip.latch is None and not chip.off:
            return  # no latch: powered while anything is (after a cut: USB or a press)
        if chip.off:
            since = chip.press_at is not None and chip.press_at > chip.off_at
            held_ms = None
            if since and not chip.pressed:
                held_ms = (chip.release_at - chip.press_at) * 1000
            if chip.usb or chip.pressed or (held_ms is not None and held_ms >= BOOT_TO_HOLD_MS):
                self.power_ons += 1
                chip.power_on(PWRON_RESET, at=chip.press_at if since else None)
                if not chip.usb and not chip.pressed:
                    chip.lost_at = chip.release_at
                self._spawn("hard", "friendly")
                self._say("on: powered up by %s (reset cause PWRON)"
                          % ("USB" if chip.usb else "the press"))
            elif held_ms is not None:
                chip.off_at = time.monotonic()  # that press is judged
                self._say(SHORT % (held_ms, BOOT_TO_HOLD_MS))
            return
        if not chip.powered():
            self._kill()
            if chip.hold is None:  # the press ended before the boot could take the hold
                self._say(SHORT % ((chip.lost_at - chip.boot) * 1000, BOOT_TO_HOLD_MS))
            else:
                self._say(OFF % "the latch let go")
            chip.power_off()

    # ---- interpreter processes ----
    def press(self, pressed=True):
        """Press (or release) the board's button, as a finger would: the firmware's IRQ
        runs inside the interpreter, between its own steps. A press wakes a chip in deep
        sleep (esp32: its ext0 source) into a boot with DEEPSLEEP_RESET, and powers up an
        unpowered one (the latch: it must last BOOT_TO_HOLD_MS, until the boot holds)."""
        chip = self.chip
        now = time.monotonic()
        chip.pressed = pressed
        if pressed:
            chip.press_at = now
            chip.lost_at = None
        else:
            chip.release_at = now
            if not chip.usb:
                chip.lost_at = now
        if chip.latch is not None:
            self._poke()
        if chip.off:
            return
        if self.chip.asleep:
            if pressed:
                self._wake_asked = True
                os.write(self._wake_w, b"x")
            return
        proc = self._proc
        if proc is not None and self._cmd_w is not None:
            # With the edge's time (monotonic, in us: the host's clock is the same one): its
            # IRQ is stamped then, as a hard IRQ on the chip is, not when the interpreter
            # gets to it.
            os.write(self._cmd_w, b"button %d %d\n" % (1 if pressed else 0, int(now * 1e6)))

    def _launch(self):
        """A new interpreter process, loaded and waiting for "go" on its command pipe."""
        ctrl_r, ctrl_w = os.pipe()
        cmd_r, cmd_w = os.pipe()  # host -> interpreter: "go ...", the button
        cmd = self._node + [HOST, "--flash", self.flash_dir, "--ctrl-fd", str(ctrl_w),
                            "--cmd-fd", str(cmd_r), "--standby", "--heap-kb", str(self.heap_kb)]
        if self.trace:
            cmd += ["--trace", os.path.abspath(self.trace)]
        for d in self.libs:
            cmd += ["--lib", d]
        if self.frozen:
            cmd += ["--frozen", self.frozen]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                pass_fds=(ctrl_w, cmd_r))
        os.close(ctrl_w)
        os.close(cmd_r)
        return proc, ctrl_r, cmd_w

    def _drop_spares(self):
        spares, self._spares = self._spares, []
        for proc, ctrl_r, cmd_w in spares:
            proc.kill()
            proc.wait()
            for f in (proc.stdin, proc.stdout):
                f.close()
            os.close(ctrl_r)
            os.close(cmd_w)

    def _spawn(self, boot, mode, exec_interrupted=False):
        # Spares started earlier have their engine loaded already: a reset or a Ctrl-C then
        # costs a pipe write instead of a Node and WebAssembly start. Two, because mpremote
        # often interrupts and soft-resets in quick succession.
        spare = self._spares.pop(0) if self._spares else self._launch()
        self._proc, ctrl_r, self._cmd_w = spare
        os.write(self._cmd_w, b"chip %s\ngo %s %s %d\n" % (
            json.dumps(self.chip.state()).encode(), boot.encode(), mode.encode(),
            1 if exec_interrupted else 0))
        self._interrupting = False
        while not self._stop and len(self._spares) < SPARES:
            self._spares.append(self._launch())
        self.restarts += 1
        self._mode = mode
        self._state = "starting"  # -> busy -> idle (ready for input)
        self._loaded = False
        self._bg = False
        self._written = self._consumed = 0
        self._deadline = None
        self._ctrl_buf = b""
        self._next = None  # (boot, mode) asked for by the interpreter before it exits
        self._eof = set()
        os.set_blocking(self._proc.stdout.fileno(), False)
        self._sel.register(self._proc.stdout, selectors.EVENT_READ, "stdout")
        self._sel.register(ctrl_r, selectors.EVENT_READ, "ctrl")
        self._ctrl_fd = ctrl_r

    def _kill(self):
        proc, self._proc = self._proc, None
        if self._cmd_w is not None:
            os.close(self._cmd_w)
            self._cmd_w = None
        if not proc:
            return
        for f in (proc.stdout, self._ctrl_fd):
            try:
                self._sel.unregister(f)
            except (KeyError, ValueError):
                pass
        try:
            self._from_device(proc.stdout.read() or b"")  # printed before it was stopped
        except (OSError, ValueError):
            pass
        if self._held:  # that life's work is over (a reset prints its banner, then goes)
            self.to_host.push(bytes(self._held), max(self._cpu_free, time.monotonic()))
            self._held.clear()
        proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        os.close(self._ctrl_fd)

    def _on_ctrl(self, line):
        words = line.split()
        if not words:
            return
        if words[0] == "loaded":
            self._loaded = True
        elif words[0] == "busy":
            self._state = "busy"
        elif words[0] == "idle":
            self._state = "idle"
            self._consumed, self._bg, self._mode = int(words[1]), words[2] == "1", words[3]
            work = int(words[4]) / 1e6 if len(words) > 4 else 0.0
            self.device_cpu_s += work
            if self.cpu_slowdown > 1:
                # The work just done, in this engine's CPU time: the board takes longer.
                extra = (self.cpu_slowdown - 1) * work
                self._cpu_free = max(self._cpu_free, time.monotonic()) + extra
            self._ready.set()
        elif words[0] == "hold":
            self.chip.hold = words[1] == "1"
        elif words[0] == "restart":
            self._next = (words[1], words[2])
            if words[1] == "soft":
                self.chip.soft_reset()
            elif words[1] == "deepsleep":
                self.chip.deep_sleep()
            elif words[1] == "off":  # the firmware let go of the hold, on the cell
                self.chip.power_off()
                self._say(OFF % "the latch let go")
            else:  # machine.reset(): the chip restarts, its watchdog with it
                self.chip.power_on(self.chip.profile.reset_cause)  # rp2: via its watchdog
        elif words[0] == "wdt":
            self.chip.wdt = [int(words[1]), time.monotonic()]
        elif words[0] == "fed" and self.chip.wdt is not None:
            self.chip.wdt[1] = time.monotonic()
        elif words[0] == "rtc":
            self.chip.rtc = words[1] if len(words) > 1 else ""
        elif words[0] == "clock":
            self.chip.clock = int(words[1])
        elif words[0] == "interrupted" and words[1] == "0":
            self._deadline = time.monotonic()  # no firmware loop to stop: restart instead

    def _on_exit(self):
        nxt = self._next
        code = self._proc.poll() if self._proc else None
        loaded = self._loaded
        self._kill()
        if self._stop:
            return
        if nxt is None and not loaded:
            # broken install or a bug in vdev_host.mjs: restarting would only loop
            self.error = "interpreter failed to start (exit %s)" % code
            self._stop = True
            self._ready.set()
            return
        if nxt is None:
            self._from_device(b"\r\nvdev: interpreter stopped (exit %s), restarting\r\n"
                              % str(code).encode())
            nxt = ("hard", "friendly")
        if self.chip.asleep or self.chip.off:
            return  # powered down: the port stays silent until the button wakes it
        if not self.chip.powered():  # a reset let go of the hold, on the cell
            self.chip.power_off()
            self._say(OFF % "a reset let go of the latch")
            return
        self._spawn(*nxt)

    # ---- input flow ----
    def _busy(self):
        return (self._state != "idle" or self._bg or self._written > self._consumed
                or time.monotonic() < self._cpu_free)

    # ---- the link ----
    def _from_device(self, data):
        if not data or not self.chip.usb:
            return  # without the cable the port carries nothing
        if self.cpu_slowdown > 1 and (self._state != "idle" or self._held
                                      or time.monotonic() < self._cpu_free):
            self._held += data  # the modelled CPU has not got this far yet
        else:
            self.to_host.push(data, time.monotonic())

    def _move_bytes(self):
        """Bytes across the link both ways, as far as its schedule allows by now."""
        now = time.monotonic()
        if self._held and self._state == "idle" and now >= self._cpu_free:
            self.to_host.push(bytes(self._held), now)
            self._held.clear()
        self._pending += self.to_device.take(now)
        self._out += self.to_host.take(now)

    def _next_event(self):
        """When the link or the modelled CPU next has something to move, or None."""
        times = [t for t in (self.to_device.due(), self.to_host.due()) if t is not None]
        if (self._held or self._pending) and self._cpu_free > time.monotonic():
            times.append(self._cpu_free)
        return min(times) if times else None

    def _pump(self):
        if not self._pending or not self._proc:
            return
        i = self._pending.find(b"\x03")
        if i >= 0 and self._busy():
            if self._state == "starting" and not self._loaded:
                return  # still loading the wasm: nothing to interrupt yet
            if self._bg and self._state == "idle" and not self._interrupting:
                # The firmware's loop runs on timers: let it stop through its cleanup.
                self._interrupting = True
                os.write(self._cmd_w, b"interrupt\n")
                self._deadline = time.monotonic() + 1.0
                return
            if self._deadline is None:
                grace = 0 if self._bg and self._state == "idle" else INTERRUPT_GRACE_S
                self._deadline = time.monotonic() + grace
            return
        if self._state != "idle":
            return  # keep input until the interpreter can take it
        data = bytes(self._pending)
        self._pending.clear()
        self._written += len(data)
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except OSError:
            pass

    def _interrupt(self):
        i = self._pending.find(b"\x03")
        in_exec = self._state != "idle" or self._written > self._consumed
        del self._pending[: i + 1]
        mode = self._mode
        self._kill()
        self._spawn("interrupt", mode, exec_interrupted=in_exec)

    # ---- the loop ----
    def _watchdog_reset(self):
        """The armed watchdog was not fed in time: the chip resets, as it would."""
        self.watchdog_resets += 1
        self.chip.power_on(WDT_RESET)
        self._kill()
        if not self.chip.powered():  # the reset let go of the hold, on the cell
            self.chip.power_off()
            self._say(OFF % "a watchdog reset let go of the latch")
            return
        self._spawn("hard", "friendly")

    def _loop(self):
        while not self._stop:
            timeout = None
            if self._deadline is not None:
                timeout = max(0, self._deadline - time.monotonic())
            for when in (self.chip.expires(), self._next_event()):
                if when is not None:
                    wait = max(0, when - time.monotonic())
                    timeout = wait if timeout is None else min(timeout, wait)
            if self._out:
                self._flush_out()
                timeout = 0.01 if timeout is None else min(timeout, 0.01)
            # Status lines first: a "busy" reaches us before the output it comes with.
            events = sorted(self._sel.select(timeout), key=lambda e: e[0].data != "ctrl")
            for key, _ in events:
                what = key.data
                if what == "wake":
                    os.read(self._wake_r, 64)
                elif what == "port":
                    try:
                        data = os.read(self._master, 65536)
                    except OSError:
                        data = b""
                    if self.chip.usb:  # else lost: no cable, no link
                        self.to_device.push(data, time.monotonic())
                elif what == "stdout" and self._proc:
                    try:
                        data = self._proc.stdout.read()
                    except (OSError, ValueError):
                        data = b""
                    if data:
                        self._from_device(data)
                    elif data == b"":
                        self._eof.add("stdout")
                        self._sel.unregister(self._proc.stdout)
                elif what == "ctrl" and self._proc:
                    data = os.read(self._ctrl_fd, 4096)
                    if not data:
                        self._eof.add("ctrl")
                        self._sel.unregister(self._ctrl_fd)
                    self._ctrl_buf += data
                    *lines, self._ctrl_buf = self._ctrl_buf.split(b"\n")
                    for line in lines:
                        self._on_ctrl(line.decode())
            if self._proc and self._eof >= {"stdout", "ctrl"}:
                self._on_exit()
            self._power_check()
            if self._wake_asked and self.chip.asleep and not self._proc:
                self._wake_asked = False
                self.chip.power_on(DEEPSLEEP_RESET)
                self._spawn("hard", "friendly")
            bite = self.chip.expires()
            if bite is not None and time.monotonic() > bite and self._proc:
                self._watchdog_reset()
            self._move_bytes()
            if self._deadline is not None and time.monotonic() >= self._deadline:
                self._deadline = None
                if self._pending.find(b"\x03") >= 0 and self._busy():
                    self._interrupt()
            self._pump()

    def _flush_out(self):
        if len(self._out) > OUT_CAP:
            del self._out[: len(self._out) - OUT_CAP]
        flush(self._master, self._out)




def serve(args):
    """`massager vdev` on this engine (args: vdev_common.parse)."""
    from simulator.registry import Registration

    stop = wait_signals()
    # Listed for `massager devices` and the studio while it runs; its trace feeds the
    # studio's mirror (a runtime file when --trace is not given).
    reg = Registration(None, "micropython", args.board, None, trace=args.trace or True)
    link = args.link or "none"
    try:
        dev = VirtualDevice(args.flash, heap_kb=args.heap_kb or 192, trace=reg.trace,
                            libs=args.lib or (), board=args.board, battery_mv=args.battery,
                            link=link, cpu_slowdown=args.cpu_slowdown or 1.0,
                            cell=args.cell, usb=not args.unplugged).start()
    except (RuntimeError, OSError) as e:
        reg.__exit__()  # its trace file goes
        say(str(e))
        return 1
    dev.on_status = say  # from now on, a line at each change of the power
    reg.entry["port"], reg.press = dev.port, dev.press
    try:
        with reg:
            # The port line says "ready": printed once listed, so that `massager devices`
            # run on reading it finds this device.
            print(dev.port, flush=True)
            say("%s (%s port profile, link %s), %s; Ctrl-C to stop" % (
                dev.config["name"], dev.chip.port, link, dev.status))
            if on_terminal():
                keys(dev, args.battery, stop)
            else:
                while not stop.wait(0.5):
                    pass
    finally:
        dev.stop()
    return 0


if __name__ == "__main__":
    from simulator.vdev_common import main

    sys.exit(main(["--engine", "micropython"] + sys.argv[1:]))
