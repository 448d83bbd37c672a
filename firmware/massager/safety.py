# Every safety limit of the device, in one place. The app enforces them; the routine
# validator and the host tools read them from here. Times in ms, voltages in mV, a motor
# strength in % of the motor's rated voltage (board.json motor.rated_mv).
from massager import const

# The motor never gets more than this share of its rated voltage on average, whatever a
# routine says and whatever the cell: the 10 % left covers a cell read up to 50 mV high.
MAX_STRENGTH = const(90)
# With no plausible reading of the cell (a bench board, USB power), the drive assumes a
# full one: the duty is then the least that could give the voltage asked, never more.
NO_READING_CELL_MV = const(4200)
INTENSITY_LEVELS = (55, 75, 100)  # user levels: % of the routine's strengths
DEFAULT_LEVEL = const(1)  # index into INTENSITY_LEVELS

MAX_ROUTINE_MS = const(18 * 60 * 1000)  # longest routine a file may describe
SESSION_CAP_MS = const(20 * 60 * 1000)  # a session (running + paused) ends after this
PAUSE_STOP_MS = const(5 * 60 * 1000)  # a pause this long ends the session
IDLE_OFF_MS = const(5 * 60 * 1000)  # idle this long: power down
DONE_IDLE_MS = const(4000)  # the "done" light, then back to idle
CONTINUOUS_RUN_MS = const(15 * 1000)  # strokes rest every breath; longer means a fault
STUCK_BUTTON_MS = const(10 * 1000)  # held this long: ignore the button, motor off

WATCHDOG_MS = const(5000)  # hardware watchdog timeout
FEED_MS = const(4000)  # the main loop wakes at least this often to feed it
# An armed watchdog always has at least this left when a sleep ends (hal/power.py): the
# wake and the loop's work up to its next feed (about 2 ms) fit in it many times over.
WAKE_SPARE_MS = const(1000)

# Off with a power latch (board.json power.hold_pin): the hold is let go, and a board on
# its cell is unpowered within a few ms (the rail's capacitors, at the board's draw). Still
# running this long after, something else holds the power (USB, a finger on the button):
# the board sleeps as one without a latch.
CUT_WAIT_MS = const(200)

# With a power latch every power-up is a press: safe mode (boot.py) is that press held on
# this long after the boot took the hold.
SAFE_MODE_HOLD_MS = const(2000)

BATTERY_LOW_MV = const(3500)  # warn (LED) below this
BATTERY_CUTOFF_MV = const(3300)  # stop the motor and power down below this


def clamp_strength(percent):
    """The one place a motor strength becomes safe to drive."""
    if percent <= 0:
        return 0
    return MAX_STRENGTH if percent > MAX_STRENGTH else percent
