"""A virtual device on a serial port (pty), for mpremote and the device commands.

    massager vdev [--engine micropython|rp2040] [--flash PATH] [--board NAME] ...

micropython (simulator/vdev.py): the MicroPython WebAssembly build on the simulated board
(simulator/board). rp2040 (simulator/pico.py): the stock rp2 firmware on an emulated RP2040.
This module holds what both share: the board's pin map, the options and their checks, the
keys on a terminal, the status lines. It imports neither engine but to start the one asked
for, so the two engines do not import each other.
"""

import argparse
import json
import os
import sys
import threading

from simulator.adc_view import CELL_AGES
from simulator.link import KINDS as LINKS

HERE = os.path.dirname(os.path.abspath(__file__))
BOARDS = os.path.join(os.path.dirname(HERE), "boards")
BATTERY_MV = 3900  # a charged Li-ion cell, unless --battery says otherwise
BATTERY_MAX_MV = 5000  # above any one Li-ion cell (4.2 V, 4.35 V for a high-voltage one)
CELL = "new"  # the cell's age (its internal resistance), unless --cell says otherwise
ENGINES = ("micropython", "rp2040")
# Where each engine keeps its flash: the micropython engine's files are plain host files in
# a folder; the RP2040's flash is the chip's 2 MiB, littlefs and all, in one image file.
FLASH = {"micropython": "vdev-flash", "rp2040": "vdev-flash.img"}


def board_path(board):
    """Where a board's pin map is: a name under boards/, or a path to a board.json."""
    return board if board.endswith(".json") else os.path.join(BOARDS, board, "board.json")


def board_config(board):
    """A board's pin map (see board_path)."""
    try:
        with open(board_path(board)) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise RuntimeError("board %s: %s" % (board, e)) from None


def battery_arg(text):
    """--battery: a cell's open-circuit voltage in mV, 0 to BATTERY_MAX_MV, or none (None:
    nothing wired)."""
    if text == "none":
        return None
    if text.isdigit() and int(text) <= BATTERY_MAX_MV:
        return int(text)
    raise argparse.ArgumentTypeError("a voltage in mV (0 to %d) or none, got %r"
                                     % (BATTERY_MAX_MV, text))


def cell_arg(text):
    """--cell: the cell's age, which sets its internal resistance."""
    if text in CELL_AGES:
        return text
    raise argparse.ArgumentTypeError("one of %s, got %r" % (", ".join(CELL_AGES), text))


def flush(fd, out):
    """Write what a non-blocking pty master takes of bytearray `out`, and drop it from
    `out`; all of it when the port is gone."""
    try:
        n = os.write(fd, out)
        del out[:n]
    except BlockingIOError:
        pass
    except OSError:
        out.clear()


# ---- the options ----

# The button's gestures as edges (ms from now, pressed), the same on both engines. Each
# press lasts longer than the boot takes to drive a power latch's hold pin (85 ms,
# docs/hardware.md), so any of them powers an unpowered board on.
GESTURES = {" ": ((0, True), (300, False)),
            "d": ((0, True), (100, False), (200, True), (300, False)),
            "l": ((0, True), (1200, False)),
            "h": ((0, True), (3500, False))}
KEYS = ("space: press the button, d: double, l: long press, h: hold 3.5 s, b: battery 0 V / "
        "as set, u: USB cable in / out, r: power cycle, q: quit")



def parser():
    """Every option of both engines; those of one engine say so, and why."""
    ap = argparse.ArgumentParser(
        prog="massager vdev", description=__doc__.split("\n")[0],
        epilog="Where the engines differ it is the hardware they model: the micropython "
               "engine's flash is a host folder, the RP2040's a 2 MiB image; the micropython "
               "engine sees the firmware's trace, the RP2040 its pins. On a terminal, on "
               "both engines: " + KEYS)
    ap.add_argument("--engine", choices=ENGINES, default="micropython",
                    help="micropython: the WebAssembly build on the simulated board "
                         "(default); rp2040: the stock rp2 firmware on an emulated RP2040")
    ap.add_argument("--flash", metavar="PATH",
                    help="the device's flash, kept across runs: a folder of plain files on "
                         "the micropython engine (default %s), the chip's 2 MiB image file "
                         "on the rp2040 engine (default %s), created when missing"
                         % (FLASH["micropython"], FLASH["rp2040"]))
    ap.add_argument("--board", default="pico",
                    help="the board it plays, a name under boards/ or a board.json: its "
                         "pins, its circuit, its power latch. The micropython engine plays "
                         "rp2 or esp32 boards (the arch picks the port profile); the rp2040 "
                         "engine RP2040 boards only. Default: pico")
    ap.add_argument("--battery", type=battery_arg, default=BATTERY_MV, metavar="MV|none",
                    help="battery voltage in mV (0: a flat or shorted cell), or none: "
                         "nothing wired, the pin floats (micropython engine only: the "
                         "emulated RP2040's ADC reads a set voltage). Default: %d" % BATTERY_MV)
    ap.add_argument("--cell", type=cell_arg, default=CELL, metavar="new|old",
                    help="the cell's age: its internal resistance sags it under the motor "
                         "(new about 150 mOhm, old 400; simulator/circuit/parts.py); the "
                         "rp2040 engine shows the cell at rest only. Default: %s" % CELL)
    ap.add_argument("--unplugged", action="store_true",
                    help="run on the cell, USB out: it starts unpowered, a press powers it "
                         "on through the board's power latch, off is unpowered; the port "
                         "carries nothing until USB is in again (on a terminal: the u key)")
    ap.add_argument("--trace", metavar="FILE",
                    help="append the firmware's trace lines (JSON) to FILE. micropython "
                         "engine only: its firmware writes them through the host; the rp2040 "
                         "engine runs the stock image, which has no host file (use --pins)")
    ap.add_argument("--pins", metavar="FILE",
                    help="append every change of the motor and LED pins (JSON lines). "
                         "rp2040 engine only: it emulates the chip's pins; the micropython "
                         "engine models the machine module, not the pads (use --trace)")
    mp = ap.add_argument_group("micropython engine only (a host process, not a chip)")
    mp.add_argument("--heap-kb", type=int, help="initial MicroPython heap. Default: 192")
    mp.add_argument("--lib", action="append",
                    help="directory of modules (e.g. a fake machine) put on sys.path")
    mp.add_argument("--link", choices=LINKS,
                    help="pace the serial bytes both ways like a board's link: uart115200 "
                         "(an ESP32 devkit's USB-UART bridge, 10 bits a byte), usb-fs (a "
                         "Pico's USB CDC, 64 bytes per 1 ms frame) or none (as fast as the "
                         "pty; the emulated RP2040 has its own USB). Default: none")
    mp.add_argument("--cpu-slowdown", type=float, metavar="X",
                    help="device-side work takes X times the CPU time it takes this host's "
                         "engine (the emulated RP2040 runs at its own clock). Default: 1")
    rp = ap.add_argument_group("rp2040 engine only (the chip's own bootrom and clock)")
    rp.add_argument("--uf2", metavar="FILE",
                    help="write this UF2 file into the flash first, as the RP2040's bootrom "
                         "does when it is dragged onto the board (`massager uf2` makes one)")
    rp.add_argument("--fast", action="store_true",
                    help="skip idle time when no host has the port open (time otherwise "
                         "runs at wall speed, as on a board)")
    return ap


ONLY = {  # option -> (its engine, why the other has none)
    "trace": ("micropython", "the rp2040 engine runs the stock image, which writes no trace "
                             "to the host: --pins records its motor and LED pins"),
    "pins": ("rp2040", "the micropython engine models the machine module, not the chip's "
                       "pins: --trace records the firmware's trace"),
    "heap_kb": ("micropython", "the RP2040's heap is the port's own"),
    "lib": ("micropython", "the RP2040 runs its flash's files only"),
    "link": ("micropython", "the emulated RP2040 has its own USB"),
    "cpu_slowdown": ("micropython", "the emulated RP2040 runs at its own clock"),
    "uf2": ("rp2040", "the micropython engine has no bootrom: its flash is a folder"),
    "fast": ("rp2040", "the micropython engine has no emulated clock to skip"),
}


def parse(argv):
    """The options, checked for the engine: one line (exit 2) for one that engine has not,
    or a flash of the other engine's kind."""
    ap = parser()
    args = ap.parse_args(argv)
    for name, (engine, why) in ONLY.items():
        if engine != args.engine and getattr(args, name) not in (None, False):
            ap.error("--%s: %s engine only (%s)" % (name.replace("_", "-"), engine, why))
    if args.flash is None:
        args.flash = FLASH[args.engine]
    if args.engine == "micropython" and os.path.isfile(args.flash):
        ap.error("--flash %s: a file; the micropython engine's flash is a folder (the "
                 "rp2040 engine's is an image file)" % args.flash)
    if args.engine == "rp2040" and os.path.isdir(args.flash):
        ap.error("--flash %s: a folder; the rp2040 engine's flash is a 2 MiB image file "
                 "(the micropython engine's is a folder)" % args.flash)
    if args.engine == "rp2040" and args.battery is None:
        ap.error("--battery none: the emulated RP2040's ADC reads a set voltage; a floating "
                 "pin is modelled by the micropython engine only")
    if args.cpu_slowdown is not None and args.cpu_slowdown < 1:
        ap.error("--cpu-slowdown: at least 1, got %g" % args.cpu_slowdown)
    return args


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else list(argv))
    if args.engine == "rp2040":
        from simulator import pico as engine
    else:
        from simulator import vdev as engine
    return engine.serve(args)


# ---- on a terminal ----

def say(text):
    """A status line on stderr (the port's name alone goes to stdout)."""
    print("vdev: %s" % text, file=sys.stderr, flush=True)


def on_terminal():
    return sys.stdin.isatty() and sys.stderr.isatty()


def keys(dev, battery_mv, stop, tick=None):
    """Keys on a terminal, the same on both engines: `dev` has play(edges), set_usb(on),
    usb, set_battery(mv) and power_cycle(). tick() runs about four times a second."""
    import select
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    print(KEYS, file=sys.stderr, flush=True)
    flat = False
    try:
        while not stop.is_set():
            if tick is not None:
                tick()
            if not select.select([fd], [], [], 0.25)[0]:
                continue
            ch = os.read(fd, 1).decode("latin1").lower()
            if ch == "q":
                break
            if ch in GESTURES:
                dev.play(GESTURES[ch])
            elif ch == "u":
                dev.set_usb(not dev.usb)
            elif ch == "b":
                flat = not flat
                dev.set_battery(0 if flat else battery_mv)
            elif ch == "r":
                dev.power_cycle()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stderr.write("\n")


def wait_signals():
    """An event set by SIGINT or SIGTERM: the device stops cleanly on either."""
    import signal

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
