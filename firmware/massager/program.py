# Compile a validated routine into a compact program the sequencer plays.
#
# The program keeps only what playing needs (small ints, bytes and a few short strings);
# the parsed JSON document can be freed once this returns. Strokes are not unrolled: the
# sequencer computes each stroke's segments when it starts, which keeps a 15-minute
# routine in a few hundred bytes of RAM.
from massager import feel, safety
from massager.sequencer import duration_ms

GLIDE = 0x67  # b"g"
PRESS = 0x70  # b"p"


class Step:
    def __init__(self, spec, level):
        self.name = spec["name"]
        self.zone = spec["zone"]
        self.direction = spec["direction"]
        self.reps = spec["reps"]
        self.sides = 2 if spec["sides"] == "left-right" else 1
        self.moves = bytes([GLIDE if m == "glide" else PRESS for m in spec["moves"]])
        self.n_press = len([m for m in self.moves if m == PRESS])
        self.n_glide = len(self.moves) - self.n_press
        self.level = level if spec["intensity"] is None else spec["intensity"]


class Program:
    def __init__(self, doc):
        self.name = doc["name"]
        self.title = doc["title"] or doc["name"]
        self.level = doc["intensity"]
        self.rounds = doc["rounds"]
        self.first_ms = doc["breath"]["first_ms"]
        self.last_ms = doc["breath"]["last_ms"]
        press = doc["press"]
        self.press_level = press["intensity"]
        self.press_on_ms = press["on_ms"]
        self.press_off_ms = press["off_ms"]
        cues = doc["cues"]
        self.cue_step = cues["step"]
        self.cue_side = cues["side"]
        self.cue_round = cues["round"]
        self.color = doc["color"]
        self.steps = tuple(Step(s, self.level) for s in doc["steps"])
        self.total_ms = 0

    def rep_ms(self, rnd):
        """Length of one stroke in round `rnd` (0-based): slows linearly to the last."""
        if self.rounds < 2:
            return self.first_ms
        return self.first_ms + (self.last_ms - self.first_ms) * rnd // (self.rounds - 1)

    def press_ms(self, step):
        return step.n_press * (self.press_on_ms + self.press_off_ms)


def _check_fit(program, errors):
    # Every stroke must have room for its presses, its glides and the rest after it,
    # already in the first (shortest) round.
    for i, step in enumerate(program.steps):
        need = (program.press_ms(step) + step.n_glide * feel.MIN_GLIDE_MS
                + feel.MIN_REST_MS)
        if need > program.first_ms:
            errors.append(
                "steps[%d].moves: %d press(es) and %d glide(s) need %d ms, but a stroke in "
                "the first round lasts breath.first_ms = %d ms" % (
                    i, step.n_press, step.n_glide, need, program.first_ms))


def load(data):
    """Bytes, str or dict -> (Program, []) or (None, ["path: problem", ...]). Never raises."""
    from massager import routine  # the validator: imported only when there is one to check

    doc, errors = routine.validate(data)
    if errors:
        return None, errors
    try:
        program = Program(doc)
        del doc
        _check_fit(program, errors)
        if not errors:
            program.total_ms = duration_ms(program)
            if program.total_ms > safety.MAX_ROUTINE_MS:
                errors.append("steps: the routine lasts %s, longer than the %s limit" % (
                    clock_text(program.total_ms), clock_text(safety.MAX_ROUTINE_MS)))
    except MemoryError:
        return None, ["too large to load"]
    if errors:
        return None, errors
    return program, []


def restore(doc, total_ms):
    """The Program of a document that load() accepted before (routine.validate()'s output)
    and its length: a built-in as the build compiled it (routines.built)."""
    program = Program(doc)
    program.total_ms = total_ms
    return program


def clock_text(ms):
    """12:05 style, for messages and displays."""
    s = ms // 1000
    return "%d:%02d" % (s // 60, s % 60)
