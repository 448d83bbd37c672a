# massager firmware. VERSION is what `massager devices` and `doctor` report.
VERSION = "0.1.0"
SAFE_MODE = False  # set by boot.py when the button is held at power-up
INTERRUPTED = False  # set by boot.py when a host's Ctrl-C stopped it: main.py stays out
BOOTED = None  # (Board, config problem or None): the board boot.py built, for main.py
