# The device's state machine: idle, running, paused, done, off.
#
# Clock-injected and hardware-free: `out.show(motor, r, g, b)` is the only output, called
# once per change with the motor already clamped by safety; `on_change(app, now)` lets
# the simulator record the trace. The caller wakes it at next_wake() or on a button edge.
from massager import button, feel, history, safety
from massager.sequencer import Sequencer

IDLE = "idle"
RUNNING = "running"
PAUSED = "paused"
DONE = "done"
OFF = "off"


class App:
    def __init__(self, programs, out, level=safety.DEFAULT_LEVEL, on_change=None):
        self.programs = programs  # compiled routines; index 0 is selected at power-up
        self.out = out
        self.on_change = on_change
        self.gestures = button.Gestures()
        self.selected = 0
        self.level = level if 0 <= level < len(safety.INTENSITY_LEVELS) else \
            safety.DEFAULT_LEVEL
        self.error = False  # a routine failed to load: idle shows the error colour
        self.low_battery = False  # idle and paused show the low-battery colour
        # The sequencer and its buffers are made once, here: no session start allocates.
        self.seq = Sequencer(programs[0]) if programs else None
        self.state = OFF
        self.since = 0  # when the current state began
        self.session_start = 0
        self.paused_ms = 0  # the session's pauses so far, ended ones
        self.session_prog = None  # the program the session plays
        # A session that just ended, for the runtime to remember (history.py): its ending
        # (0: none waiting), its length, its running time, its program and level. Plain
        # ints and a reference set at the end, so the output change that ends it allocates
        # nothing; kept until the runtime writes them, whatever starts meanwhile.
        self.ended = 0
        self.ended_ms = 0
        self.ended_ran_ms = 0
        self.ended_prog = None
        self.ended_level = 0
        self.changes = 0  # output changes so far (mod 2^24): tells the runtime a quiet wake
        self.motor_on_since = None
        self._level_before_long = None
        # Last emitted outputs (what the trace shows).
        self.motor = 0
        self.led_r = self.led_g = self.led_b = 0
        self.cue = feel.NONE
        self.step = self.round = self.rep = None

    # -- inputs ----------------------------------------------------------------------

    def begin(self, now):
        """Power-up: idle, nothing moving."""
        self._enter(IDLE, now)

    def edge(self, pressed, now):
        """A raw button edge from the hardware."""
        self.update(now)
        if pressed and self.state == IDLE and len(self.programs) > 1:
            # The routine a double press would select, compiled now if it is not yet
            # (store.Catalog): its light then comes on time. A button edge, not an output
            # change: this may allocate.
            self.programs[(self.selected + 1) % len(self.programs)]
        gesture = self.gestures.edge(pressed, now)
        if self.state == OFF and pressed and self.gestures.down:
            # Off: the press wakes it to idle at once and does nothing else (released
            # early or held on, it is not also a click, a level change or a power off).
            self.gestures.spend()
            self._enter(IDLE, now)
            return
        self.press(gesture, now)

    def press(self, gesture, now):
        """A decoded gesture (or None). The simulator may inject gestures directly."""
        if gesture is None:
            return
        self.update(now)
        s = self.state
        if gesture == button.STUCK or self.gestures.stuck:
            # A button held this long is a fault, not a wish: motor off, ignore it.
            if s in (RUNNING, PAUSED):
                self._stop(now, IDLE, history.FAULT)
            return
        if gesture == button.LONG and s in (RUNNING, PAUSED):
            self._stop(now, IDLE, history.STOPPED)  # a long press always stops
        elif s == OFF:
            self._enter(IDLE, now)
        elif s == DONE:
            self._enter(IDLE, now)
        elif s == IDLE:
            self._idle_gesture(gesture, now)
        elif s == RUNNING:
            if gesture == button.SHORT:
                self.seq.pause(now)
                self._enter(PAUSED, now)
            elif gesture == button.DOUBLE:
                self.seq.skip(now)
                self._show(now)
        elif s == PAUSED:
            if gesture == button.SHORT:
                self.seq.resume(now)
                self.paused_ms += now - self.since
                self._enter(RUNNING, now, keep_session=True)
            elif gesture == button.DOUBLE:
                self._set_level((self.level + 1) % len(safety.INTENSITY_LEVELS))
                self._show(now)

    def _idle_gesture(self, gesture, now):
        if gesture == button.SHORT and self.programs:
            prog = self.programs[self.selected]
            scale = safety.INTENSITY_LEVELS[self.level]
            self.seq.use(prog, scale)
            self.seq.start(now)
            self.session_prog = prog
            self._enter(RUNNING, now)
        elif gesture == button.DOUBLE and self.programs:
            self.selected = (self.selected + 1) % len(self.programs)
            self._enter(IDLE, now)
        elif gesture == button.LONG:
            self._level_before_long = self.level
            self._set_level((self.level + 1) % len(safety.INTENSITY_LEVELS))
            self._enter(IDLE, now)
        elif gesture == button.HOLD:
            if self._level_before_long is not None:
                self._set_level(self._level_before_long)  # the hold meant "off", not "level"
            self._enter(OFF, now)

    def set_low_battery(self, low, now):
        """The battery check's verdict: idle and paused show it at once."""
        if low != self.low_battery:
            self.low_battery = low
            self._show(now)

    def shift(self, ms):
        """The caller's clock goes back by `ms`: every time held here goes back with it."""
        self.since -= ms
        self.session_start -= ms
        if self.motor_on_since is not None:
            self.motor_on_since -= ms
        self.gestures.shift(ms)
        if self.seq is not None:
            self.seq.shift(ms)

    def power_off(self, now):
        """Motor off and power down (battery cut-off); a press wakes it."""
        self._stop(now, OFF, history.FLAT_CELL)

    def update(self, now):
        """Advance time: play the routine and enforce the time limits."""
        g = self.gestures.deadline()
        if g is not None and now >= g:
            gesture = self.gestures.poll(now)
            if gesture is not None:
                self.press(gesture, now)
        s = self.state
        if s == RUNNING:
            if self.seq.update(now):
                if self.seq.finished:
                    self.end_session(history.DONE, now)
                    self._enter(DONE, now)
                    return
                self._show(now)
            if now - self.session_start >= safety.SESSION_CAP_MS:
                self._stop(now, DONE, history.SESSION_CAP)
            elif (self.motor_on_since is not None
                  and now - self.motor_on_since >= safety.CONTINUOUS_RUN_MS):
                self._stop(now, DONE, history.FAULT)
        elif s == PAUSED:
            if now - self.session_start >= safety.SESSION_CAP_MS:
                self._stop(now, IDLE, history.SESSION_CAP)
            elif now - self.since >= safety.PAUSE_STOP_MS:
                self._stop(now, IDLE, history.PAUSED_TOO_LONG)
        elif s == DONE:
            if now - self.since >= safety.DONE_IDLE_MS:
                self._enter(IDLE, now)
        elif s == IDLE:
            if now - self.since >= safety.IDLE_OFF_MS:
                self._enter(OFF, now)

    def next_wake(self):
        """The next time update() has work to do, or None (only a button can wake it)."""
        s = self.state
        t = self.gestures.deadline()
        if s == RUNNING:
            t = _earliest(t, self.seq.next_change_ms())
            t = _earliest(t, self.session_start + safety.SESSION_CAP_MS)
            if self.motor_on_since is not None:
                t = _earliest(t, self.motor_on_since + safety.CONTINUOUS_RUN_MS)
        elif s == PAUSED:
            t = _earliest(t, min(self.since + safety.PAUSE_STOP_MS,
                                 self.session_start + safety.SESSION_CAP_MS))
        elif s == DONE:
            t = _earliest(t, self.since + safety.DONE_IDLE_MS)
        elif s == IDLE:
            t = _earliest(t, self.since + safety.IDLE_OFF_MS)
        return t

    # -- state changes ----------------------------------------------------------------

    def _enter(self, state, now, keep_session=False):
        if state == RUNNING and not keep_session:
            self.session_start = now
            self.paused_ms = 0
        if state != IDLE:
            self._level_before_long = None
        self.state = state
        self.since = now
        self._show(now)

    def end_session(self, ending, now):
        """A running or paused session ends now, `ending` (history.py) says how: noted
        for the runtime, which writes it down at a later wake that changes no output.
        Nothing when none runs."""
        s = self.state
        if s != RUNNING and s != PAUSED:
            return
        paused = self.paused_ms + (now - self.since if s == PAUSED else 0)
        self.ended = ending
        self.ended_ms = now - self.session_start
        self.ended_ran_ms = self.ended_ms - paused
        self.ended_prog = self.session_prog
        self.ended_level = self.level

    def _stop(self, now, state=IDLE, ending=history.STOPPED):
        self.end_session(ending, now)
        if self.seq is not None:
            self.seq.stop()
        self._enter(state, now)

    def _set_level(self, level):
        self.level = level
        if self.seq is not None:
            self.seq.set_scale(safety.INTENSITY_LEVELS[level])

    # -- outputs ----------------------------------------------------------------------

    def _show(self, now):
        s = self.state
        seq = self.seq
        step = rnd = rep = None
        cue = feel.NONE
        motor = 0
        if s == RUNNING:
            motor = safety.clamp_strength(seq.motor)
            r, g, b = seq.led_r, seq.led_g, seq.led_b
            cue = seq.cue
            step, rnd, rep = seq.step, seq.round, seq.rep
        else:
            if s == PAUSED:
                look = feel.PAUSED_LED
                step, rnd, rep = seq.step, seq.round, seq.rep
            elif s == DONE:
                look = feel.DONE_LED
            elif s == IDLE:
                look = feel.ERROR_LED if self.error else feel.IDLE_LED
            else:
                look = None
            # `s == A or s == B`, not `s in (A, B)`: that tuple of names is built (and
            # allocated) every time it is evaluated.
            quiet = s == IDLE or s == PAUSED
            if self.low_battery and quiet:
                look = feel.LOW_BATTERY_LED
            r = g = b = 0
            if look is not None:
                color = feel.COLORS[look[0]] or self._idle_color()
                # Idle and paused brightness tells the intensity level.
                level = look[1] * (2 + self.level) // 3 if quiet else look[1]
                r, g, b = color[0] * level // 100, color[1] * level // 100, \
                    color[2] * level // 100
        if motor:
            if self.motor_on_since is None:
                self.motor_on_since = now
        else:
            self.motor_on_since = None
        if (motor == self.motor and r == self.led_r and g == self.led_g and b == self.led_b
                and cue == self.cue and step == self.step and rnd == self.round
                and rep == self.rep and s == self._shown_state):
            return
        # One field at a time: tuple assignment of 4+ would allocate on MicroPython.
        self.motor = motor
        self.led_r, self.led_g, self.led_b = r, g, b
        self.cue = cue
        self.step, self.round, self.rep = step, rnd, rep
        self._shown_state = s
        self.out.show(motor, r, g, b)
        self.changes = (self.changes + 1) & 0xFFFFFF
        if self.on_change is not None:
            self.on_change(self, now)

    _shown_state = None

    def _idle_color(self):
        if self.programs:
            return self.programs[self.selected].color
        return feel.COLORS[feel.RED]


def _earliest(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a if a <= b else b
