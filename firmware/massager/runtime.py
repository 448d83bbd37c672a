# The device loop: wake when an output changes or the button moves, never on a fixed poll.
#
# step() is the whole of one wake (button edges in, app advanced, watchdog fed) and is
# what the simulator and tests drive; run() only adds the asyncio sleeping around it.
# The board (hal.board.Board or a simulated one) and the clock (the `time` module or a
# virtual one with ticks_ms/ticks_diff) are passed in.
from massager import history, safety
from massager.app import OFF, RUNNING, App
from massager.hal.watchdog import release_keeper

MAX_FAULTS = 3  # exceptions in a row before the loop gives up (motor off, REPL free)
# The app's clock is set back by this much whenever it gets there (every 3.1 days): on a
# 32-bit port an int above 2^30 - 1 (12.4 days of ms) lives on the heap, and every wake
# would allocate from then on.
REBASE_MS = 1 << 28
BATTERY_EVERY_MS = 30000
IDLE_WAIT_MS = 60000  # nothing scheduled and no watchdog: sleep until the button

current = None  # the Runtime main() runs (a REPL user or the virtual device may stop it)


class Runtime:
    def __init__(self, board, clock, store, safe_mode=False, on_change=None):
        self.board = board
        self.on_change = on_change  # the simulator's trace recorder; None on a board
        self.clock = clock
        self.store = store
        self.safe_mode = safe_mode
        self.faults = 0
        self.uptime = 0
        self._ticks = clock.ticks_ms()
        self._battery_at = None
        self._watchdog_on = False
        self._no_battery_said = False  # "no plausible reading" is logged once
        self._woken = False  # the button task cancelled the loop's sleep
        self._sleep_refused = False  # the board said it cannot sleep when off
        self._task = None  # run()'s task, while it runs
        self.history = store.history()  # where sessions are remembered, or None
        self.app = self._make_app(user=not safe_mode)

    def _make_app(self, user):
        progs, problems = self.store.programs(user=user)
        for p in problems:
            self.store.log_error(p)
        self._level_saved = self.store.level(safety.DEFAULT_LEVEL)
        a = App(progs, self.board, level=self._level_saved, on_change=self.on_change)
        a.error = bool(problems)
        return a

    def now(self):
        # Plain ms for the app from the wrapping ticks counter, kept a small int.
        t = self.clock.ticks_ms()
        self.uptime += self.clock.ticks_diff(t, self._ticks)
        self._ticks = t
        if self.uptime >= REBASE_MS:
            self.uptime -= REBASE_MS
            self.app.shift(REBASE_MS)  # every time the app holds moves back as much
            if self._battery_at is not None:
                self._battery_at -= REBASE_MS
        return self.uptime

    def begin(self):
        self.board.all_off()
        if self.board.watchdog_reset_at_boot(self.clock.ticks_ms()):
            self.store.log_error("boot: watchdog reset")  # `massager doctor` shows it
        release_keeper()  # from here the loop feeds the watchdog
        if self.board.watchdog.armed_before():
            # Armed in a session before a soft reset (mpremote, Ctrl-D): it still runs.
            self.board.watchdog.start()
            self._watchdog_on = True
        self.app.begin(self.now())

    def step(self):
        """One wake. Returns how long to sleep (ms) before the next."""
        try:
            self._step()
            self.faults = 0
        except Exception as e:  # noqa: BLE001 - any fault: motor off first, then recover
            self._fault(e)
            self.board.watchdog.feed()  # recovered: a reset now would undo the fallback
        now = self.now()
        wake = self.app.next_wake()  # after now(): a rebase there moves it too
        # Once armed, the watchdog needs a wake every FEED_MS; before, only the app does.
        longest = safety.FEED_MS if self._watchdog_on else IDLE_WAIT_MS
        delay = longest if wake is None else wake - now
        delay = 0 if delay < 0 else (longest if delay > longest else delay)
        ramp = self.board.motor.wait_ms()  # the soft start's next step
        return ramp if 0 <= ramp < delay else delay

    def rest(self, delay):
        """Between two wakes, `delay` ms apart: when the app is off and the button still,
        the board sleeps instead of idling awake (hal/power.py). Returns the ms still to
        wait: 0 after a real sleep on rp2, which ends at the press or at `delay` (at most
        FEED_MS while the watchdog runs, fed just before). On esp32 it does not return:
        the press boots the board."""
        app = self.app
        if app.state != OFF or self.board.button.pending():  # off: the motor is still
            return delay
        self._write_down(app)  # before a sleep, or a power latch letting go
        settle = app.gestures.settled(self.now())
        if settle != 0:  # down, a gesture open, or a bounce may still come: not yet
            return delay if settle < 0 or delay < settle else settle
        before = self.clock.ticks_ms()
        if not self.board.sleep(delay):
            if not self._sleep_refused:  # said once: the board works, only drains faster
                self._sleep_refused = True
                self.store.log_error("power: this board cannot sleep; off stays awake")
            return delay
        left = delay - self.clock.ticks_diff(self.clock.ticks_ms(), before)
        return left if left > 0 else 0

    def _step(self):
        app = self.app
        changes = app.changes
        now = self.now()
        button = self.board.button
        was_off = self.app.state == OFF
        while button.pending():
            pressed = button.peek_pressed()
            stamp = button.peek_ms()
            if self.clock.ticks_diff(stamp, self._ticks) > 0:
                # Stamped during this wake (a press compiles the next routine first, 0.1 s
                # on an RP2040): the clock has moved on. Taken as `now`, a release would
                # fall in the press's debounce and the click be decided 50 ms early.
                now = self.now()
            # Edge time in our clock: the IRQ stamped it in ticks, a moment ago.
            at = now - self.clock.ticks_diff(self._ticks, stamp)
            button.drop()
            self.app.edge(pressed, at if at <= now else now)
        self.app.update(now)
        self.board.motor.poll()  # a soft start under way: its next step, when due
        if was_off and self.app.state != OFF:
            # Woken from a sleep (the power stayed when off let go of the latch): hold it
            # again, then read the cell before a session can start.
            self.board.power.hold_on()
            self._battery_at = None
        self._check_battery(now)
        if app.changes == changes or (app.ended and app.state == RUNNING):
            # What waits for the flash is written at the first wake that changes no output
            # (a button's down or release, a watchdog feed): a write allocates, and may
            # erase a block first (W25Q16JV: 45 ms typical, 400 ms at most), which would
            # hold back the light or the motor that the wake changes. Should a new session
            # run first (no such wake came between), now, before it can end.
            self._write_down(app)
        if self.app.state == RUNNING and not self._watchdog_on:
            # Armed with the first session: from then on a hang resets the board (motor
            # off at reset). Not before, so an idle device leaves the REPL to mpremote.
            self.board.watchdog.start()
            self._watchdog_on = True
        self.board.watchdog.feed()

    def _check_battery(self, now):
        battery = self.board.battery
        if battery is None or (self._battery_at is not None
                               and now - self._battery_at < BATTERY_EVERY_MS):
            return
        if self.app.motor:
            # Under the motor's current the cell dips by its internal resistance: read it
            # at the next wake the motor rests (every stroke ends in one), not now.
            return
        self._battery_at = now
        mv = battery.millivolts()
        self.board.motor.set_cell(mv)  # the drive's volts follow the cell
        if mv is None:  # nothing plausible on the pin (a bench board, USB power)
            if not self._no_battery_said:
                self.store.log_error("battery: no plausible reading, running without")
                self._no_battery_said = True
            self.app.set_low_battery(False, now)
            return
        self.app.set_low_battery(mv < safety.BATTERY_LOW_MV, now)
        if mv < safety.BATTERY_CUTOFF_MV and self.app.state != OFF:
            self.app.power_off(now)

    def _write_down(self, app):
        """Write what waits for the flash: the session that ended, a new intensity level.
        Never at a wake that changes an output (see _step); before off, at a fault and when
        the loop stops too."""
        if app.ended:
            self._remember(app)
        if app.level != self._level_saved:
            self._level_saved = app.level
            self.store.save_level(app.level)

    def _remember(self, app):
        """Write down the session that ended (one flash write, never at a wake that
        changes an output, see _step; before off and when the loop stops too)."""
        ending, app.ended = app.ended, 0
        prog = app.ended_prog
        if self.history is None:
            return
        self.board.watchdog.feed()  # a littlefs write may erase a block first
        self.history.append(ending, prog.name if prog else "", app.ended_level,
                            app.ended_ran_ms, app.ended_ms, prog.total_ms if prog else 0,
                            history.clock())

    def _fault(self, error):
        self.board.all_off()
        app = self.app
        app.end_session(history.FAULT, self.now())  # nothing when no session runs
        self._write_down(app)  # the fallback app below reads the level from the flash
        self.faults += 1
        self.store.log_error("fault %d: %s: %s" % (self.faults, type(error).__name__, error))
        if self.faults >= MAX_FAULTS:
            raise error  # run() stops: motor off, error light, REPL free, no reboot loop
        # Fall back to the built-ins only, with the error light on in idle.
        self.app = self._make_app(user=False)
        self.app.error = True
        self.app.begin(self.now())

    async def run(self, asyncio, flag):
        """The loop. `flag` is set by the button IRQ (ThreadSafeFlag on a board).

        It sleeps with asyncio.sleep_ms, which allocates nothing; a button edge cancels
        that sleep from a second task, so only a button event costs an allocation (the
        cancellation), never an output change.
        """
        if hasattr(flag, "clear"):
            # An Event (no ThreadSafeFlag on this build) must not be set from a hard IRQ,
            # where the heap is locked: the IRQ schedules the set instead (no allocation).
            import micropython

            schedule = micropython.schedule
            set_flag = flag.set

            def set_soon(_):
                set_flag()

            self.board.button.notify = lambda: schedule(set_soon, None)
        else:
            self.board.button.notify = flag.set
        self.begin()
        self._task = asyncio.current_task()
        waker = asyncio.create_task(self._wake_on_button(asyncio, flag, self._task))
        try:
            while True:
                delay = self.rest(self.step())
                try:
                    await asyncio.sleep_ms(delay)
                except asyncio.CancelledError:
                    if not self._woken:
                        raise  # a real cancellation: stop
                    self._woken = False  # a button edge: step at once
        finally:
            self._task = None
            waker.cancel()
            self.halt()

    def halt(self):
        """The loop is over (Ctrl-C, a fault it gave up on): motor off, the error light,
        and the watchdog fed by its keeper, so the REPL is free and no reset cuts a host."""
        self.board.all_off()
        self.board.show_error()
        self.board.watchdog.keep()
        self._write_down(self.app)  # what a wake just before the loop stopped left

    def interrupt(self):
        """Stop run() as a Ctrl-C would, through its cleanup. False when not running."""
        task = self._task
        if task is None:
            return False
        self._woken = False
        task.cancel()
        return True

    async def _wake_on_button(self, asyncio, flag, loop_task):
        clear = getattr(flag, "clear", None)  # an Event stays set; a ThreadSafeFlag does not
        while True:
            await flag.wait()
            if clear is not None:
                clear()
            if not self._woken:
                self._woken = True
                loop_task.cancel()


def _trace_recorder():
    """On the virtual device, a recorder for its --trace file; None on a board. The
    virtual device's runner (_vdev) is loaded before boot.py: looked up, not imported, so
    a board does not search its flash for it at every power-up."""
    import sys

    vdev = sys.modules.get("_vdev")
    if vdev is None:
        return None
    from massager.trace import line

    def record(app, now):
        vdev.trace(line(app, now))

    return record


def main(safe_mode=False, booted=None):
    """Entry point for /main.py on a board; `booted` is (Board, config problem) when
    boot.py built the board already."""
    import asyncio
    import time

    from massager.store import Store

    store = Store("/")
    if booted is None:
        from massager.hal.board import Board, load_config

        config, problem = load_config()
        booted = Board(config), problem
    board, problem = booted
    if problem:
        store.log_error(problem)
    global current
    try:
        rt = current = Runtime(board, time, store, safe_mode, _trace_recorder())
        flag = asyncio.ThreadSafeFlag() if hasattr(asyncio, "ThreadSafeFlag") \
            else asyncio.Event()
        if hasattr(asyncio, "run"):
            # MicroPython has one event loop for the interpreter's life: a run stopped by
            # Ctrl-C leaves its tasks queued, and run() would play them beside ours (an old
            # app's idle timer would power off and lightsleep under a session). Empty it.
            asyncio.new_event_loop().close()
            asyncio.run(rt.run(asyncio, flag))
        else:  # the WebAssembly build: the host's event loop drives the task
            asyncio.create_task(rt.run(asyncio, flag))
    except BaseException as e:  # Ctrl-C from mpremote included: motor off, REPL free
        board.all_off()
        board.watchdog.keep()  # an armed watchdog must not reset the board under mpremote
        if not isinstance(e, KeyboardInterrupt):
            store.log_error("stopped: %s: %s" % (type(e).__name__, e))
            board.show_error()
        raise
