# Play routines on the firmware at full speed on a virtual clock: the device's own loop
# (massager.runtime: the app, the motor's soft start, the battery checks, the watchdog) on
# the simulated board (simulator/board/machine.py), reading the cell through its ADC. Each
# trace line is the app's outputs and the duty the motor's PWM pin holds at that moment,
# read from the simulated pin.
#
# MicroPython-compatible: the same driver runs on CPython, inside the MicroPython
# WebAssembly engine and on the stock rp2 port, which is how they give byte-identical
# traces. The board comes as data (board.json and the ADC's view of the cell, from
# simulator/adc_view.py on the host: engines.sim_board()).
import sys

from massager import trace
from massager.app import PAUSED, RUNNING

EVENTS = ("down", "up", "short", "double", "long")
DEFAULT_BUTTONS = "0:short"
TICKS_MAX = (1 << 30) - 1  # MicroPython's ticks wrap here (small ints only)
TICKS_HALF = 1 << 29
_TIME = ("ticks_ms", "ticks_diff", "ticks_add", "sleep_ms")


class NoHardware:
    """The App's output when only the trace matters."""

    def show(self, motor, r, g, b):
        pass


def parse_buttons(text):
    """'0:short,30000:down,30100:up' -> [(0, 'short'), ...], in time order as written.

    Raises ValueError with a one-line message naming the bad item (a time before the one
    of the item ahead of it is one: the script reads as a timeline).
    """
    script = []
    for i, item in enumerate(text.split(",")):
        item = item.strip()
        if not item:
            continue
        ms, sep, event = item.partition(":")
        ms = ms.strip()
        event = event.strip()
        if not sep or not ms.isdigit() or event not in EVENTS:
            raise ValueError("--buttons item %d %s: expected MS:EVENT with EVENT one of %s" % (
                i + 1, repr(item), ", ".join(EVENTS)))
        if script and int(ms) < script[-1][0]:
            raise ValueError("--buttons item %d %s: %s ms is before the %d ms of the item ahead "
                             "of it; list the events in time order" % (
                                 i + 1, repr(item), ms, script[-1][0]))
        script.append((int(ms), event))
    return script


class Clock:
    """The virtual clock: the firmware's time.ticks_ms and friends while a Player plays,
    and the Runtime's clock. `ms` never wraps; the ticks do, as a board's."""

    def __init__(self):
        self.ms = 0

    def ticks_ms(self):
        return self.ms & TICKS_MAX

    def ticks_diff(self, a, b):
        return ((a - b + TICKS_HALF) & TICKS_MAX) - TICKS_HALF

    def ticks_add(self, a, b):
        return (a + b) & TICKS_MAX

    def sleep_ms(self, ms):
        self.ms += ms  # a blocking sleep in the firmware: virtual time passes

    def ms_now(self):
        return self.ms  # the hardware's own time (the simulated watchdog)


class _TimeShim:
    """A `time` whose functions can be replaced, where the port's own cannot (the rp2
    port's built-in module): the rest is the real one's."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)


class _Store:
    """What the Runtime asks of the flash: the routines given, the level given; a fault
    is a bug here, raised rather than played."""

    def __init__(self, programs, level):
        self._programs = programs
        self._level = level
        self.errors = []

    def programs(self, user=True):
        return self._programs, []

    def level(self, default):
        return default if self._level is None else self._level

    def save_level(self, level):
        pass

    def history(self):
        return None  # no flash: a headless run remembers no session

    def log_error(self, text):
        if text.startswith("fault"):
            raise RuntimeError("headless: the firmware faulted: " + text)
        self.errors.append(text)


def _machine():
    """The simulated machine module the firmware's hal calls."""
    hal = sys.modules.get("massager.hal.board")
    m = getattr(hal, "machine", None) if hal is not None else sys.modules.get("machine")
    if m is None:
        try:
            import machine as m  # the MicroPython engine: simulator/board on sys.path
        except ImportError:
            m = None
    if m is not None and hasattr(m, "sim"):
        return m
    if hal is not None:
        # A port's own machine reached the firmware first (its main.py ran, then was
        # interrupted): the modules that bound it start afresh on the simulated board.
        for name in list(sys.modules):
            if name.startswith("massager.hal") or name == "massager.runtime":
                del sys.modules[name]
    try:
        from simulator import device  # CPython
    except ImportError:
        import simmachine as m  # a port with a machine of its own (engines.py puts it there)

        sys.modules["machine"] = m  # what `import machine` finds first
        return m
    return device.load_board_module("machine")


def _time():
    """The `time` the firmware's hal reads, made writable."""
    motor = sys.modules.get("massager.hal.motor")
    if motor is not None:
        return motor.time
    import time

    try:
        time._headless = True  # a module of Python (CPython, the WebAssembly build's)
        del time._headless
        return time
    except (AttributeError, TypeError):
        shim = _TimeShim(time)  # the built-in module of a port: replaced before the hal
        sys.modules["time"] = shim
        return shim


class Player:
    """The firmware on a simulated board and a virtual clock, advanced in steps: button
    events wait in a queue and every change happens at its own time, however the caller
    slices time. So a live view (the studio page) and a run at full speed give the same
    trace for the same events.

    `board`: {"config": board.json, "adc": the ADC's view of the cell
    (simulator/adc_view.py)}; default (CPython only) engines.sim_board(): the Pico on a
    new cell at 3900 mV. Button events "down"/"up" move the board's button pin (its IRQ,
    then a wake of the loop); "short", "double" and "long" are gestures given to the app.
    The loop wakes as on a device (output changes, soft-start steps, the watchdog's feed,
    the battery checks), but does not sleep when off: the trace is the same either way.

    Several players (and a SimDevice) can live in one process: each plays on a simulated
    board of its own, swapped in for its turn (machine.Sim.install) with its clock.
    """

    def __init__(self, programs, emit, level=None, board=None):
        if board is None:
            from simulator.engines import sim_board  # CPython: the view needs the circuit

            board = sim_board()
        config = board["config"]
        self.emit = emit
        self.now = 0
        self.queue = []  # (ms, event), in time order
        self.clock = Clock()
        self.machine = _machine()
        self.time = _time()
        self.sim = self.machine.Sim()
        self.sim.log_writes = False  # the trace is the record; the log would only grow
        self.sim.clock = self.clock.ms_now
        self.motor_pin = config["motor"]["pin"]
        self.button_pin = config["button"]["pin"]
        self.store = _Store(programs, level)
        self._saved = None
        self._enter()
        try:
            self.sim.port = self.machine.PORTS[self.machine.port_for_arch(config["arch"])]
            self.sim.release = self.sim.port.release
            self.sim._port_parts()
            if board.get("adc") is not None:
                self.sim.set_adc_view(board["adc"])
            from massager.hal.board import Board
            from massager.runtime import Runtime

            self.hw = Board(config)
            self.runtime = Runtime(self.hw, self.clock, self.store, on_change=self._record)
            self.runtime.begin()
        finally:
            self._leave()
        self._wake_at = 0  # the loop's first wake: at once, as main.py starts it

    @property
    def app(self):
        return self.runtime.app

    def _record(self, app, now):
        self.emit(trace.line(app, now, self.sim.duty(self.motor_pin)))

    def _enter(self):
        # This player's board and clock are what the firmware reaches until _leave().
        t = self.time
        saved = []
        for name in _TIME:
            saved.append(getattr(t, name, None))
            setattr(t, name, getattr(self.clock, name))
        self._saved = (self.sim.install(), saved)

    def _leave(self):
        old_sim, saved = self._saved
        self._saved = None
        if old_sim is not self.sim:
            old_sim.install()
        t = self.time
        for name, f in zip(_TIME, saved):
            if f is None:
                try:
                    delattr(t, name)
                except AttributeError:
                    pass
            else:
                setattr(t, name, f)

    def push(self, ms, event):
        """Queue a button event (EVENTS) at `ms`, after any queued at the same time."""
        i = len(self.queue)
        while i and self.queue[i - 1][0] > ms:
            i -= 1
        self.queue.insert(i, (ms, event))

    def next_time(self):
        """When the next event or output change is due, or None."""
        event_at = self.queue[0][0] if self.queue else None
        wake = self.app.next_wake()
        if wake is None or (event_at is not None and event_at <= wake):
            return event_at
        return wake

    def _due(self):
        # The next thing to play: (time, True) for a queued event, (time, False) for a wake
        # of the loop (every change falls on one; so do soft-start steps, watchdog feeds
        # and battery checks). A wake due at the same ms as an event comes first: the
        # board was already up.
        wake = self._wake_at
        if self.queue and self.queue[0][0] < wake:
            return self.queue[0][0], True
        return wake, False

    def _play(self, t, event):
        self.now = t if t > self.now else self.now
        self.clock.ms = self.now
        if event:
            what = self.queue.pop(0)[1]
            if what == "down" or what == "up":
                self.sim.press(self.button_pin, what == "down")  # the IRQ records it
            else:
                self.app.press(what, self.now)
        # A wake at once: a button edge wakes the loop on a board, as does its timer.
        self._wake_at = self.now + self.runtime.step()

    def step(self):
        """Play up to the next event or change, that included (call only when next_time()
        is not None)."""
        self.advance(self.next_time())

    def advance(self, to):
        """Play everything due up to `to` (inclusive); the clock then reads `to`."""
        self._enter()
        try:
            t, event = self._due()
            while t <= to:
                self._play(t, event)
                t, event = self._due()
            if to > self.now:
                self.now = to
                self.clock.ms = to
        finally:
            self._leave()

    def settled(self):
        """No event queued, no session running and no gesture pending."""
        a = self.app
        return (not self.queue and a.state not in (RUNNING, PAUSED)
                and a.gestures.deadline() is None)


def play(programs, script, emit, until=None, level=None, board=None):
    """Run the firmware on a virtual clock; emit(line) gets each trace line.

    Without `until`, stops once the script is used up and no session is running;
    with it, runs to that time. Returns the App.
    """
    p = Player(programs, emit, level, board)
    for ms, event in script:
        p.push(ms, event)
    while until is not None or not p.settled():
        t = p.next_time()
        if t is None or (until is not None and t > until):
            break
        p.step()
    if until is not None:
        p.advance(until)  # the loop's own wakes up to then (a battery check can show)
    return p.app
