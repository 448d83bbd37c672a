# The whole device on CPython: the firmware's runtime loop, hal and app on the simulated
# machine (simulator/board), a virtual clock and a flash directory.
#
# CPython only (tests and benchmarks). The firmware is not patched: `machine` and
# `neopixel` are the simulated modules, and `time` gets MicroPython's ticks_ms/ticks_diff/
# sleep_ms, answering from the virtual clock. The loop is driven like the device's: wake,
# step(), sleep the delay step() returns, or less when a button edge comes first.
import importlib.util
import os
import sys
import time

from massager import trace

BOARD_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "board")
TICKS_PERIOD = 1 << 30  # MicroPython's ticks wrap here


def port_modules():
    """The port profiles machine.py imports under their own names (simulator/board/
    port_*.py), by module name: every loader ships them beside it."""
    return sorted(n[:-3] for n in os.listdir(BOARD_DIR)
                  if n.startswith("port_") and n.endswith(".py"))


def load_board_module(name, register=True):
    """simulator/board/NAME.py as the module NAME (machine, neopixel, esp32); machine's
    port profiles first, each as its own module. register=False: a machine of its own,
    not the `machine` later imports find."""
    if name == "machine":
        for port in port_modules():
            load_board_module(port)
    spec = importlib.util.spec_from_file_location(name, os.path.join(BOARD_DIR, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module



class VirtualClock:
    """ticks_ms and friends for the firmware, in virtual ms. Like a chip's, ticks count
    from the last chip reset (boot_at), not from the start of the simulation."""

    def __init__(self, start=0):
        self.ms = start
        self.boot_at = 0

    def ticks_ms(self):
        return (self.ms - self.boot_at) % TICKS_PERIOD

    def ticks_diff(self, a, b):
        return (a - b + TICKS_PERIOD // 2) % TICKS_PERIOD - TICKS_PERIOD // 2

    def ticks_add(self, a, b):
        return (a + b) % TICKS_PERIOD

    def ms_now(self):
        return self.ms  # the hardware's own time (watchdog, timers): never wraps here

    def sleep_ms(self, ms):
        self.ms += ms  # a blocking sleep in the firmware: virtual time passes


class SimDevice:
    """One simulated board running the firmware's Runtime.

    `lines` collects the trace; `wakes` counts the loop's wake-ups; `ramp_steps` the
    wakes whose only output change was a step of the motor's soft start; `resets` counts
    the watchdog resets the simulated hardware performed, `lockups` the bites that hung
    it instead (rp2 before the fix, in lightsleep: machine.sim.lock_up); a locked board
    runs nothing until power_cycle().

    Sleep (the off state): the loop ends a wake with Runtime.rest(), as on a board. A light
    sleep lasts until its timer or a wake edge from press(); a deep sleep (esp32) until a
    wake edge, then the chip boots with the port's wake cause (`deep_wakes` counts them).

    The power latch (board.json power.hold_pin): letting go of the hold with no USB (`usb`)
    and the button up unpowers the board at that instruction (`powered` False; RAM, timers,
    the watchdog gone, the flash directory kept, nothing runs). A press powers it: the chip
    boots `boot_ms` later (reset cause PWRON) if the button is still down then, the press
    being all that powers it until boot drives the hold (`power_ons` counts the boots).
    """

    # From power-up to the hold pin driven high: how long the press that powers a latched
    # board on must last. The simulated boot takes no time of its own; tests set it.
    boot_ms = 0

    def __init__(self, flash_dir, config=None, clock_start=0, usb=False):
        from massager.store import Store

        # The hal modules bind `machine` when first imported: use that one if they were.
        hal = sys.modules.get("massager.hal.board")
        self.machine = hal.machine if hal is not None else sys.modules.get("machine")
        if getattr(self.machine, "sim", None) is None:
            self.machine = load_board_module("machine")
        if getattr(sys.modules.get("neopixel"), "machine", None) is not self.machine:
            self._load_bound("neopixel")  # a NeoPixel board's LED, on this machine too
        self.clock = VirtualClock(clock_start)
        for name in ("ticks_ms", "ticks_diff", "ticks_add", "sleep_ms"):
            setattr(time, name, getattr(self.clock, name))
        self.sim = self.machine.sim
        from massager.hal.config import load_config

        port = self.machine.port_for_arch((config or load_config()[0])["arch"])
        self.sim.set_port(port)
        if port == "esp32":  # its `esp32` module, bound to this simulated machine
            self._load_bound("esp32")
        self.sim.reset_all()
        self.sim.off = False
        self.sim.power_offs = 0
        self.sim.usb = usb
        cfg = config or load_config()[0]
        hold = (cfg.get("power") or {}).get("hold_pin")
        self.sim.latch = None if hold is None else (
            hold, cfg["button"]["pin"], cfg["button"].get("active_low", True))
        self.powered = True
        self.power_ons = 0
        self._booting_at = None  # a press powered the board: the boot comes then
        self.sim.clock = self.clock.ms_now
        self.store = Store(flash_dir)
        self.config = config
        self.lines = []
        self.wakes = 0
        self.ramp_steps = 0
        self.resets = 0
        self.lockups = 0
        self.deep_wakes = 0
        self._boot()

    def _load_bound(self, name):
        """Load simulator/board/NAME.py with `import machine` giving this machine."""
        saved = sys.modules.get("machine")
        sys.modules["machine"] = self.machine
        try:
            load_board_module(name)
        finally:
            if saved is None:
                sys.modules.pop("machine", None)  # None there would block every import
            else:
                sys.modules["machine"] = saved

    def _boot(self):
        from massager.hal.board import Board, load_config
        from massager.runtime import Runtime

        config = self.config or load_config()[0]
        self.board = Board(config)
        self.button_pin = config["button"]["pin"]
        self.motor_pin = config["motor"]["pin"]
        self.runtime = Runtime(self.board, self.clock, self.store, on_change=self._record)
        self.runtime.begin()
        self._next = self.clock.ms
        self._wake()

    def _record(self, app, now):
        # The app's outputs and the duty the motor's PWM pin holds now, read from the pin.
        self.lines.append(trace.line(app, now, self.sim.duty(self.motor_pin)))

    @property
    def app(self):
        return self.runtime.app

    def motor_duty(self):
        return self.sim.duty(self.motor_pin)

    def _wake(self):
        if not self.powered:
            if self._booting_at is not None and self.clock.ms >= self._booting_at:
                self._power_on_boot()
            return
        if self.sim.locked:
            return  # hung until power-on: no code runs, no wake reaches it
        if self.sim.asleep is not None and self.sim.wdt_expired():
            self._bite()  # it ran out as the sleep ended: the bite came first
            return
        self.sim.wake()  # whatever sleep the board was in is over
        self.sim.run_timers()
        if self.sim.wdt_expired():
            self._bite()
            return
        lines, log = len(self.lines), len(self.sim.log)
        try:
            delay = self.runtime.rest(self.runtime.step())
        except self.machine.DeepSleep:
            self.wakes += 1
            self._next = None  # down until a wake edge boots it
            if self.sim.asleep.woke:
                self._deep_wake()
            return
        except self.machine.PowerOff:
            self.wakes += 1
            self._powered_off()
            return
        self.wakes += 1
        if len(self.lines) == lines and any(
                e[0] == "duty" and e[1] == self.motor_pin for e in self.sim.log[log:]):
            self.ramp_steps += 1
        asleep = self.sim.asleep
        if asleep is not None and asleep.until is None:
            self._next = None  # DORMANT: no timer ends it
        else:
            self._next = self.clock.ms + delay

    def _bite_at(self):
        w = self.sim.wdt
        if w is None or (self.sim.asleep is not None and not self.sim.asleep.wdt_counts):
            return None
        return w.last_feed + w.timeout + 1

    def _sleep_ends_at(self, nxt):
        """When the timer ends the lightsleep the board is in, if before the loop's next
        wake `nxt`: a sleep cut shorter than the loop's wait (hal/power.py bounds it by
        the watchdog) wakes the chip there, and the loop waits on awake. Else None."""
        a = self.sim.asleep
        if a is None or a.reset or a.until is None or a.woke:
            return None
        return a.until if nxt is None or a.until < nxt else None

    def run_until(self, t, hang=False):
        """Run the loop to virtual time t. hang=True: the loop is stuck (no wakes), so
        only the hardware acts: a started watchdog resets the board."""
        while True:
            nxt = None if hang else self._next
            bite = self._bite_at()
            end = self._sleep_ends_at(nxt)
            if (bite is not None and bite <= t and (end is None or bite <= end)
                    and (nxt is None or bite < nxt)):
                self.clock.ms = max(self.clock.ms, bite)
                self._bite()
                hang = False
                continue
            if end is not None and end <= t:
                self.clock.ms = max(self.clock.ms, end)
                self.sim.wake()  # the chip runs again; the loop's own wait goes on
                continue
            if nxt is None or nxt > t:
                break
            self.clock.ms = max(self.clock.ms, nxt)
            self._wake()
        self.clock.ms = max(self.clock.ms, t)

    @property
    def asleep(self):
        """The sleep the board is in (machine.sim's _Sleep), or None while it runs."""
        return self.sim.asleep

    def _powered_off(self):
        self.powered = False
        self._next = None
        self._booting_at = None

    def _power_on_boot(self):
        """The press held long enough: the chip boots from power-on."""
        self._booting_at = None
        self._next = None
        if not self.sim.powered():
            return  # released before the boot drove the hold: the power went again
        self.sim.power_on()
        self.powered = True
        self.power_ons += 1
        self.clock.boot_at = self.clock.ms
        self._boot()

    def power_loss(self):
        """The power goes now, whatever the firmware was doing (a cell pulled, a flat one
        cut by its protection): unpowered, as after a cut."""
        self.sim.cut_power()
        self._powered_off()

    def set_usb(self, on):
        """Plug or unplug USB. Unplugged with the hold let go (off, asleep), the board is
        unpowered."""
        self.sim.usb = on
        if self.powered and not self.sim.powered():
            self.sim.cut_power()
            self._powered_off()

    def press(self, pressed):
        """The button moves now: its IRQ records the edge and the loop wakes at once. A
        sleeping board wakes only where the port wakes on that edge. On an unpowered board
        with a latch a press powers it (the boot comes `boot_ms` later)."""
        if not self.powered:
            self.sim.press(self.button_pin, pressed)
            if pressed and self.sim.powered() and self._booting_at is None:
                self._booting_at = self.clock.ms + self.boot_ms
                self._next = self._booting_at
                if self.boot_ms <= 0:
                    self._wake()
            return
        asleep = self.sim.asleep
        self.sim.press(self.button_pin, pressed)
        if not self.sim.powered():  # the press was all that kept the power
            self.sim.cut_power()
            self._powered_off()
            return
        if asleep is None:
            self._wake()
        elif asleep.woke:
            if asleep.reset:
                self._deep_wake()
            else:
                self._wake()

    def _deep_wake(self):
        """The wake from a deep sleep: a chip reset with the port's wake cause (esp32
        DEEPSLEEP_RESET), held pads still held, RTC memory kept; the firmware boots."""
        self.deep_wakes += 1
        self.sim.reset_all(self.sim.port.deep_wake_cause)
        self.clock.boot_at = self.clock.ms
        self._boot()

    def click(self, hold_ms=100):
        self.press(True)
        self.run_until(self.clock.ms + hold_ms)
        self.press(False)

    def _bite(self):
        """The watchdog ran out: a reset, or on rp2 before the fix, in lightsleep, a
        chip hung until power_cycle()."""
        if self.sim.bite_locks_up():
            self.lockups += 1
            self.sim.lock_up()
            self._next = None
            return
        self.watchdog_reset()

    def power_cycle(self):
        """Power off and on: the only way out of a lockup. The firmware boots afresh."""
        self.sim.reset_all()
        self.clock.boot_at = self.clock.ms
        self._boot()

    def watchdog_reset(self):
        """What the hardware does when the watchdog bites: the chip restarts."""
        self.resets += 1
        self.sim.reset_all(self.machine.WDT_RESET)
        self.clock.boot_at = self.clock.ms
        self._boot()

    def soft_reset(self):
        """Ctrl-D (mpremote does one on connecting): the port's soft reset, then the
        firmware starts again. The watchdog, if armed, keeps counting."""
        self.sim.soft_reset()
        self._boot()

    def stopped(self, ms):
        """The firmware stopped by Ctrl-C for `ms` (a host at the REPL): nothing feeds the
        watchdog but the firmware's keeper timer, if it started one."""
        self.runtime.halt()
        end = self.clock.ms + ms
        while True:
            due = self.sim.next_timer()
            w = self.sim.wdt
            bite = None if w is None else w.last_feed + w.timeout + 1
            t = min(x for x in (due, bite, end) if x is not None)
            self.clock.ms = max(self.clock.ms, t)
            if bite is not None and t == bite and self.sim.wdt_expired():
                self._bite()
                return False
            if t == end:
                return True
            self.sim.run_timers()
