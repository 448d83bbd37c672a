# Play a compiled program on an injected millisecond clock.
#
# Pure: no I/O, no sleeping, no floats, no clock of its own. The caller passes `now`
# (plain integer ms, any origin) and wakes again at next_change_ms(). A routine is a
# walk over blocks (start cue, round/step/side cues, strokes, end cue); a block is a
# few segments of constant output, filled into buffers allocated once, so playing
# allocates nothing per output change.
from array import array

from massager import const, feel

_START = const(0)
_ROUND = const(1)
_STEP = const(2)
_SIDE = const(3)
_REP = const(4)
_END = const(5)
_DONE = const(6)

_GLIDE = const(0x67)  # program.GLIDE; not imported to keep this module free of cycles

# Sides of a stroke, as exposed in `side`.
BOTH = const(0)
LEFT = const(1)
RIGHT = const(2)


class Sequencer:
    def __init__(self, program, scale=100):
        self.program = program
        self.scale = scale  # user intensity level, % of the routine's strengths
        n = feel.REP_SEGMENTS_MAX
        self._dur = array("i", [0] * n)
        self._motor = bytearray(n)  # % before the user's scale (cues: of the routine's)
        self._led = bytearray(n)  # LED brightness %
        self._color = bytearray(n)  # index into feel.COLORS
        self._press = bytearray(n)  # 1 where the segment is an acupressure pulse
        # Cue patterns and names by block kind, looked up once.
        self._cue_pattern = tuple(feel.CUE_PATTERNS.get(c, ()) for c in self._CUE_NAMES)
        self.started = False
        self._reset()

    _CUE_NAMES = (feel.START, feel.ROUND, feel.STEP, feel.SIDE, feel.GLIDE, feel.END)

    def use(self, program, scale=100):
        """Play another program (or the same again) with these buffers; start() next."""
        self.program = program
        self.scale = scale
        self.started = False
        self._reset()

    def _reset(self):
        self.finished = False
        self.paused = False
        self.round = 1  # 1-based, as people count
        self.step = 1
        self.rep = 0  # 0 during cues
        self.side = BOTH
        self._block = _START
        self._seg = 0
        self._n = 0
        self.seg_start = 0
        self.seg_end = 0
        self._off()

    def _off(self):
        self.motor = 0
        self.led_r = self.led_g = self.led_b = 0
        self.cue = feel.NONE

    # -- the walk over blocks ---------------------------------------------------------

    def _begin_step(self):
        s = self.program.steps[self.step - 1]
        self._block = _REP
        self.rep = 1
        self.side = LEFT if s.sides == 2 else BOTH

    def _next_step(self):
        p = self.program
        self.rep = 0
        if self.step < len(p.steps):
            self.step += 1
            if p.cue_step:
                self._block = _STEP
                return
        elif self.round < p.rounds:
            self.round += 1
            self.step = 1
            if p.cue_round:
                self._block = _ROUND
                return
        else:
            self._block = _END
            return
        self._begin_step()

    def _next_block(self):
        b = self._block
        if b == _REP:
            s = self.program.steps[self.step - 1]
            if self.rep < s.reps:
                self.rep += 1
            elif self.side == LEFT:
                self.side = RIGHT
                if self.program.cue_side:
                    self._block = _SIDE
                    self.rep = 0
                else:
                    self.rep = 1
            else:
                self._next_step()
        elif b == _SIDE:
            self._block = _REP
            self.rep = 1
        elif b == _END:
            self._block = _DONE
        else:  # start, round or step cue: the step's strokes follow
            self._begin_step()

    def _fill(self):
        b = self._block
        if b == _REP:
            self._fill_stroke()
            return
        pattern = self._cue_pattern[b]
        n = len(pattern)
        for i in range(n):
            seg = pattern[i]
            self._dur[i] = seg[0]
            self._motor[i] = seg[1]
            self._led[i] = seg[2]
            self._color[i] = seg[3]
            self._press[i] = 0
        self._n = n

    def _put(self, i, ms, motor, led, color, press):
        self._dur[i] = ms
        self._motor[i] = motor
        self._led[i] = led
        self._color[i] = color
        self._press[i] = press

    def _fill_stroke(self):
        # One stroke lasts one breath: presses take their fixed time, glides share the
        # rest, and the stroke ends with a still moment to lift and return the fingers.
        p = self.program
        s = p.steps[self.step - 1]
        glide_ms = p.rep_ms(self.round - 1) - p.press_ms(s)
        if s.n_glide:
            rest = glide_ms * feel.REST_EIGHTHS // 8
            part = (glide_ms - rest) // s.n_glide
            spare = glide_ms - rest - part * s.n_glide
        else:
            rest = glide_ms
            part = spare = 0
        eighth = part // 8
        n = 0
        for k in range(len(s.moves)):
            if s.moves[k] == _GLIDE:
                for g in range(len(feel.GLIDE_SHAPE)):
                    shape = feel.GLIDE_SHAPE[g]
                    if shape[0] == 1:
                        ms = eighth
                    else:  # the hold takes what the eighths leave, so the sum is exact
                        ms = part - eighth * (8 - shape[0]) + spare
                        spare = 0
                    self._put(n, ms, shape[1] * s.level // 100, shape[2], feel.ROUTINE, 0)
                    n += 1
            else:
                self._put(n, p.press_on_ms, p.press_level, feel.PRESS_LED, feel.WHITE, 1)
                self._put(n + 1, p.press_off_ms, 0, feel.PRESS_GAP_LED, feel.WHITE, 1)
                n += 2
        self._put(n, rest, feel.REST_MOTOR, feel.REST_LED, feel.ROUTINE, 0)
        self._n = n + 1

    def _apply(self):
        i = self._seg
        motor = self._motor[i]
        if self._block == _REP:
            self.motor = motor * self.scale // 100
        elif motor:  # a cue: as strong as the routine and the user's level, but felt
            motor = motor * self.program.level * self.scale // 10000
            self.motor = motor if motor > feel.CUE_FLOOR else feel.CUE_FLOOR
        else:
            self.motor = 0
        c = self._color[i]
        rgb = self.program.color if c == feel.ROUTINE else feel.COLORS[c]
        level = self._led[i]
        self.led_r = rgb[0] * level // 100
        self.led_g = rgb[1] * level // 100
        self.led_b = rgb[2] * level // 100
        if self._block == _REP:
            self.cue = feel.PRESS if self._press[i] else feel.GLIDE
        else:
            self.cue = self._CUE_NAMES[self._block]

    def _enter_block(self, now):
        self._fill()
        self._seg = 0
        self.seg_start = now
        self.seg_end = now + self._dur[0]
        self._apply()

    # -- public API ------------------------------------------------------------------

    def start(self, now):
        """Begin the routine at `now` with the soft-start cue."""
        self._reset()
        self.started = True
        self._enter_block(now)

    def update(self, now):
        """Advance to `now`. True when the outputs changed."""
        if not self.started or self.paused or self.finished or now < self.seg_end:
            return False
        while now >= self.seg_end:
            self._seg += 1
            if self._seg >= self._n:
                self._next_block()
                if self._block == _DONE:
                    self.finished = True
                    self._off()
                    return True
                self._fill()
                self._seg = 0
            self.seg_start = self.seg_end
            self.seg_end += self._dur[self._seg]
        self._apply()
        return True

    def next_change_ms(self):
        """When the outputs next change, or None (not started, paused or finished)."""
        if not self.started or self.paused or self.finished:
            return None
        return self.seg_end

    def pause(self, now):
        """Motor off at once; the position is kept."""
        if self.started and not self.finished:
            self.paused = True
            self.motor = 0

    def resume(self, now):
        """Continue from the start of the interrupted stroke or cue (with its ease-in)."""
        if self.paused:
            self.paused = False
            self._enter_block(now)

    def skip(self, now):
        """Jump to the next step (or the end cue after the last step)."""
        if not self.started or self.finished or self._block == _END:
            return
        self._next_step()
        self.paused = False
        self._enter_block(now)

    def shift(self, ms):
        """The clock goes back by `ms`: the routine keeps its place."""
        self.seg_start -= ms
        self.seg_end -= ms

    def stop(self):
        """Finish now: every output off."""
        if self.started:
            self.finished = True
            self.paused = False
            self._off()

    def set_scale(self, scale):
        """Change the user's intensity; takes effect at once."""
        self.scale = scale
        if self.started and not self.paused and not self.finished:
            self._apply()

    def move_index(self):
        """Which move of the current stroke plays (0-based), or -1 during a cue or the
        rest that ends a stroke. For displays: it walks the stroke's moves."""
        if not self.started or self.finished or self._block != _REP:
            return -1
        seg = self._seg
        moves = self.program.steps[self.step - 1].moves
        for k in range(len(moves)):
            n = len(feel.GLIDE_SHAPE) if moves[k] == _GLIDE else 2  # a press: pulse, gap
            if seg < n:
                return k
            seg -= n
        return -1

    def remaining_ms(self, now):
        """Time left in the routine from `now` (walks the rest; for displays, not hot)."""
        if not self.started or self.finished:
            return 0
        left = max(0, self.seg_end - now) if not self.paused else self._dur[self._seg]
        for i in range(self._seg + 1, self._n):
            left += self._dur[i]
        walker = Sequencer(self.program)
        walker.round, walker.step, walker.rep = self.round, self.step, self.rep
        walker.side, walker._block = self.side, self._block
        return left + _walk(walker)


def _walk(seq):
    # Sum the blocks after the walker's current one. A stroke lasts one breath exactly
    # (_fill_stroke shares it out to the ms), so strokes are not filled: the device checks
    # a routine's length on every install and every boot.
    total = 0
    rep_ms = seq.program.rep_ms
    while True:
        seq._next_block()
        if seq._block == _DONE:
            return total
        if seq._block == _REP:
            total += rep_ms(seq.round - 1)
            continue
        seq._fill()
        for i in range(seq._n):
            total += seq._dur[i]


def duration_ms(program):
    """Total length of the routine when played without pauses or skips."""
    seq = Sequencer(program)
    seq._fill()
    total = 0
    for i in range(seq._n):
        total += seq._dur[i]
    return total + _walk(seq)
