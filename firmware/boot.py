# Runs first at every power-up and reset, soft resets included (mpremote does one on
# connecting). Hold the button while powering up for safe mode: only the built-in
# routines run, whatever is in /routines. Never formats anything.


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


def _hold(config):
    # First of all: a board with a power latch (board.json power.hold_pin) is on only
    # while the button is down until this pin goes high. Nothing slow comes before it.
    power = config.get("power") or {}
    if "hold_pin" in power:
        import machine

        machine.Pin(power["hold_pin"], machine.Pin.OUT, value=1)


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


def _board(config):
    from massager.hal.board import Board

    board = Board(config)
    board.all_off()  # the motor pin may float high until told otherwise
    # A watchdog armed before this soft reset still runs: feed it until main.py's loop
    # takes over, or for as long as mpremote keeps the board at its REPL.
    board.watchdog.keep()
    return board


def _load_config():
    from massager.hal.config import load_config

    return load_config()


_config = None
try:
    _keep_builtins()  # a fraction of a ms: before the pin map's imports use them
    _config = _load_config()
    _hold(_config[0])  # a Ctrl-C here: _board() below drives the hold too
    import massager

    _b = _board(_config[0])
    massager.SAFE_MODE = _safe_mode(_b)
    if massager.SAFE_MODE:
        _b.show_safe_mode()
    massager.BOOTED = (_b, _config[1])  # main.py runs on this board: built once
    del _b
except KeyboardInterrupt:
    # A host's Ctrl-C (mpremote connecting right after a reset) landed here. The port
    # would still run main.py, which would swallow the host's next bytes: tell it not to,
    # and keep an armed watchdog fed all the same.
    import massager

    massager.INTERRUPTED = True
    try:
        _board((_config or _load_config())[0])
    except Exception:
        pass
except Exception as e:  # a broken firmware must still leave the REPL to mpremote
    print("boot:", e)
del _board, _hold, _safe_mode, _keep_builtins, _load_config, _config
