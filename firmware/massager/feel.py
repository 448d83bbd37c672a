# What the person holding the device feels and sees: cue patterns, stroke envelope and
# LED colours. Pure data, one place, so the feel can be tuned without touching logic.
from massager import const

# Cue names as they appear in the trace's "cue" field.
GLIDE = "glide"
PRESS = "press"
START = "start"
STEP = "step"
SIDE = "side"
ROUND = "round"
END = "end"
NONE = ""

# Colours (r, g, b). ROUTINE means "the routine's own colour".
ROUTINE = const(0)
WHITE = const(1)
BLUE = const(2)
VIOLET = const(3)
GREEN = const(4)
AMBER = const(5)
RED = const(6)
COLORS = (None, (255, 255, 255), (40, 90, 255), (170, 60, 255), (30, 255, 80),
          (255, 140, 0), (255, 0, 0))

# Cue patterns: segments of (ms, motor %, LED %, colour). Motor % is of the routine's
# intensity, so a gentle routine gets gentle cues; the user's level scales it too, and
# CUE_FLOOR keeps every buzz of a cue perceptible. Ticks are a little stronger than the
# massage and much shorter, so they stand out. Every pattern ends still, so the hand can
# move on, and each segment differs from its neighbours so every segment is one change.
CUE_PATTERNS = {
    # Soft start: the LED fades in, one gentle buzz, then a breath of stillness.
    START: ((300, 0, 20, ROUTINE), (300, 0, 50, ROUTINE), (300, 0, 100, ROUTINE),
            (350, 50, 100, ROUTINE), (700, 0, 40, ROUTINE)),
    # Next step: two short ticks.
    STEP: ((90, 120, 100, ROUTINE), (110, 0, 20, ROUTINE), (90, 120, 100, ROUTINE),
           (700, 0, 10, ROUTINE)),
    # Switch to the right side: one longer blue tick.
    SIDE: ((260, 100, 100, BLUE), (700, 0, 10, BLUE)),
    # Next round: three ticks in violet.
    ROUND: ((90, 120, 100, VIOLET), (110, 0, 20, VIOLET), (90, 120, 100, VIOLET),
            (110, 0, 20, VIOLET), (90, 120, 100, VIOLET), (900, 0, 10, VIOLET)),
    # The end: a long buzz that fades out, green.
    END: ((500, 100, 100, GREEN), (500, 67, 70, GREEN), (500, 42, 45, GREEN),
          (800, 0, 25, GREEN)),
}
CUE_FLOOR = const(25)  # motor %: the weakest buzz a cue may give, whatever the levels
CUE_SEGMENTS_MAX = const(6)

# One glide move inside a stroke, in eighths of its length: ease in, hold, ease out.
# (eighths, motor % of the step intensity, LED %). LED follows the stroke: it "breathes".
GLIDE_SHAPE = ((1, 40, 35), (1, 70, 70), (5, 100, 100), (1, 55, 60))
# After the last move of a stroke: lift the fingers and return, motor still.
REST_EIGHTHS = const(1)
REST_MOTOR = const(0)
REST_LED = const(15)
# A press: one pulse at the press intensity, then a still gap. White light for presses.
PRESS_LED = const(100)
PRESS_GAP_LED = const(30)

# Shortest parts a stroke may be cut into (the validator enforces them).
MIN_GLIDE_MS = const(480)
MIN_REST_MS = const(120)
MAX_MOVES = const(8)
REP_SEGMENTS_MAX = const(MAX_MOVES * 4 + 1)

# LED states outside a routine: (colour, LED %).
IDLE_LED = (ROUTINE, 30)
PAUSED_LED = (AMBER, 25)
DONE_LED = (GREEN, 30)
ERROR_LED = (RED, 40)
LOW_BATTERY_LED = (RED, 12)
SAFE_MODE_LED = (BLUE, 30)
