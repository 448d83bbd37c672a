# massager firmware. VERSION is what `massager devices` and `doctor` report.
VERSION = "0.1.0"
SAFE_MODE = False  # set by boot.py when the button is held at power-up
INTERRUPTED = False  # set by boot.py when a host's Ctrl-C stopped it: main.py stays out
BOOTED = None  # (Board, config problem or None): the board boot.py built, for main.py

# The one name that differs between MicroPython and CPython, shimmed here in the package
# every module imports first anyway: a module of its own would be one more file to look
# up on the flash at power-up.
try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython: host tools and the simulator

    def const(value):
        return value
