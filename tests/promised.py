# The safety limits as README.md ("Safety limits") and docs/routine-format.md promise
# them, in the units people read: minutes, seconds, percent, volts. Tests measure the
# device's behaviour against this table and never read firmware/massager/safety.py, so a
# limit changed there (ten times larger, or a cut-off of 0) fails a test.
SECOND = 1000  # ms
MINUTE = 60 * SECOND

SESSION_CAP = 20 * MINUTE  # a session, running and paused together, ends after 20 minutes
PAUSE_STOP = 5 * MINUTE  # a pause of 5 minutes ends the session
IDLE_OFF = 5 * MINUTE  # idle for 5 minutes: the device powers down
DONE_LIGHT = 4 * SECOND  # the green "done" light, then back to idle
ROUTINE_MAX = 18 * MINUTE  # the longest routine a file may describe
DUTY_CAP = 90  # %: of the motor's rated voltage: its most, whatever a routine says
FULL_CELL = 4200  # mV: a full LiPo; with no reading of the cell the drive assumes one
LEVELS = (55, 75, 100)  # %: the user's intensity levels, in the order a long press steps
DEFAULT_LEVEL = 75  # %: a new device plays at the middle level
STUCK_BUTTON = 10 * SECOND  # a button held this long is ignored
CONTINUOUS_RUN = 15 * SECOND  # the motor never runs longer without a rest (a fault)
BATTERY_WARN = 3500  # mV: below 3.5 V the idle and paused light turns red
BATTERY_CUTOFF = 3300  # mV: below 3.3 V the motor stops and the device powers down
WATCHDOG = 5 * SECOND  # a hung main loop stops the motor (by a reset) within 5 s
CUT_WAIT = 200  # ms: off lets go of the power latch and waits this long for the power to go
SAFE_MODE_HOLD = 2 * SECOND  # with a latch, the power-up press held this long: safe mode
# ms: a press that powers a latched board on must last this long, until boot.py drives the
# hold pin. Measured on the emulated RP2040 (stock rp2 port, the flashed firmware): 85 ms
# from power-up (tests/test_rp2040_latch.py holds the real boot to this promise;
# docs/hardware.md, "The power latch").
POWER_ON_PRESS = 200
# README.md, "Session history": the device remembers its last 64 sessions in /history.bin.
HISTORY_SESSIONS = 64
HISTORY_FILE = "history.bin"
