# massager firmware. VERSION is what `massager devices` and `doctor` report.
#
# The package also holds what /boot.py and /main.py run (boot(), main()). They stay a few
# lines: a .py file at the root is compiled on the board at every power-up (43 ms for the
# whole of boot on an RP2040), the package comes compiled (.mpy), and it is imported first
# anyway (a module of its own would be one more file to look up on the flash).
#
# boot(): first at every power-up and reset, soft resets included (mpremote does one on
# connecting). Hold the button while powering up for safe mode: only the built-in
# routines run, whatever is in /routines. Never formats anything.
VERSION = "0.1.0"
SAFE_MODE = False  # set by boot() when the button is held at power-up
INTERRUPTED = False  # set by boot() when a host's Ctrl-C stopped it: main() stays out
BOOTED = None  # (Board, config problem or None): the board boot() built, for main()

# The one name that differs between MicroPython and CPython, shimmed here in the package
# every module imports first anyway.
try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython: host tools and the simulator

    def const(value):
        return value


def boot():
    global SAFE_MODE, BOOTED
    config = None
    try:
        _keep_builtins()  # a fraction of a ms: before the pin map's imports use them
        config = _load_config()
        _hold(config[0])  # a Ctrl-C here: _board() below drives the hold too
        board = _board(config[0])
        SAFE_MODE = _safe_mode(board)
        if SAFE_MODE:
            board.show_safe_mode()
        BOOTED = (board, config[1])  # main() runs on this board: built once
    except KeyboardInterrupt:
        interrupted(config)
    except Exception as e:  # a broken firmware must still leave the REPL to mpremote
        print("boot:", e)


def interrupted(config=None):
    """A host's Ctrl-C (mpremote connecting right after a reset) landed in boot. The port
    would still run main.py, which would swallow the host's next bytes: tell it not to,
    and keep an armed watchdog fed all the same."""
    global INTERRUPTED
    INTERRUPTED = True
    try:
        _board((config or _load_config())[0])
    except Exception:
        pass


def main():
    """Run the device. Any failure turns the motor off, is logged to /error.log and leaves
    the REPL free for mpremote; it never resets, so it can never reboot-loop."""
    try:
        if INTERRUPTED:
            raise KeyboardInterrupt  # stopped in boot by a host: the REPL is the host's
        from massager import runtime

        runtime.main(safe_mode=SAFE_MODE, booted=BOOTED)
    except KeyboardInterrupt:
        print("massager: stopped, REPL free")
    except Exception as e:
        print("massager: not running:", e)


# MicroPython (1.28, py/builtinimport.c) looks for most built-in modules on the filesystem
# first, so that a file can extend one, and keeps none of them in sys.modules: every
# `import machine` in every module stats 6 paths on littlefs (about 3 ms on an RP2040).
# Kept in sys.modules from here on, each later import is a dict lookup. On a port they are
# fetched by their u-name, which skips the filesystem altogether (py/objmodule.c
# mp_module_get_builtin); the simulators supply machine and time as files: there, the
# plain import.
def _keep_builtins():
    import sys

    port = sys.platform in ("rp2", "esp32")
    for name in ("machine", "time", "json", "array", "struct", "os", "select"):
        if name not in sys.modules:
            try:
                sys.modules[name] = __import__("u" + name if port else name)
            except ImportError:
                pass


def _load_config():
    from massager.hal.config import load_config

    return load_config()


def _hold(config):
    # First of all: a board with a power latch (board.json power.hold_pin) is on only
    # while the button is down until this pin goes high. Nothing slow comes before it.
    power = config.get("power") or {}
    if "hold_pin" in power:
        import machine

        machine.Pin(power["hold_pin"], machine.Pin.OUT, value=1)


def _board(config):
    from massager.hal.board import Board

    board = Board(config)
    board.all_off()  # the motor pin may float high until told otherwise
    # A watchdog armed before this soft reset still runs: feed it until main.py's loop
    # takes over, or for as long as mpremote keeps the board at its REPL.
    board.watchdog.keep()
    return board


def _safe_mode(board):
    """The button held at power-up. A deep-sleep wake (esp32) is the press itself, not a
    press held; with a power latch every power-up is a press, so there safe mode is that
    press held on for SAFE_MODE_HOLD_MS (the boot waits only while it is held)."""
    if not board.button.is_pressed() or board.power.woke_from_sleep():
        return False
    if board.power.hold is None:
        return True
    import time

    from massager import safety

    start = time.ticks_ms()
    while board.button.is_pressed():
        if time.ticks_diff(time.ticks_ms(), start) >= safety.SAFE_MODE_HOLD_MS:
            return True
        time.sleep_ms(20)
    return False
