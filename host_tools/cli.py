# The `massager` command: one entry point, one subcommand per job.
#
# Every failure a user can cause ends as one line on stderr and a non-zero exit, never a
# traceback (set MASSAGER_DEBUG=1 to see one for an internal error).
import argparse
import json
import os
import sys

from host_tools import routines
from host_tools.routines import RoutineError

EXAMPLES = """examples:
  massager sim                       live view of the weekly routine; space is the button
  massager sim daily --headless      play it at full speed and print a summary
  massager sim weekly --headless --trace - --buttons 0:short,60000:short,90000:short
  massager sim weekly --headless --engine micropython --trace weekly.jsonl
  massager sim weekly --headless --battery 3500 --cell old --trace low.jsonl
  massager validate my-routine.json  check a routine file
  massager flash                     install the firmware on the connected board
  massager push my-routine.json      install a routine on it (atomically)
  massager doctor                    compare the board with this repository
  massager schema > routine.schema.json
  massager circuit pico --spice > pico.cir   the wiring as a SPICE netlist
  massager studio                    see, edit and feel a routine in the browser
  massager uf2 --board pico -o m.uf2 one file to drag onto a Pico in BOOTSEL mode
  massager vdev --flash ./flash            a virtual board; then: mpremote connect PORT fs ls
"""


class UsageError(Exception):
    """Bad arguments: one line, exit 2."""


def cmd_validate(args):
    bad = 0
    for ref in args.files:
        try:
            label, prog, errors = routines.check(ref)
        except RoutineError as e:
            print(e, file=sys.stderr)
            bad += 1
            continue
        if errors:
            bad += 1
            for problem in errors:
                print("%s: %s" % (label, problem), file=sys.stderr)
        elif not args.quiet:
            print("%s: ok, %s, %s x %s" % (
                label, _clock(prog.total_ms), routines.count(len(prog.steps), "step"),
                routines.count(prog.rounds, "round")))
    return 1 if bad else 0


def cmd_schema(args):
    from host_tools.schema import schema

    print(json.dumps(schema(), indent=2))
    return 0


def cmd_sim(args):
    from simulator.headless import DEFAULT_BUTTONS, parse_buttons

    # The live view on a terminal opens idle: the first press starts, as on the device.
    # Anywhere else nobody can press, so the routine starts at once.
    live_on_terminal = not args.headless and sys.stdin.isatty() and sys.stdout.isatty()
    try:
        script = parse_buttons(args.buttons or ("" if live_on_terminal else DEFAULT_BUTTONS))
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.speed is not None and args.headless:
        raise UsageError("--speed is for the live view: --headless runs at full speed")
    args.speed = 1.0 if args.speed is None else args.speed
    if args.speed <= 0:
        raise UsageError("--speed must be above 0, got %g" % args.speed)
    if args.until is not None and (args.until < 0 or not args.headless):
        raise UsageError("--until needs --headless and 0 or more ms, got %d" % args.until)
    battery_mv, cell = _cell_args(args)
    chosen = routines.load(args.routine)
    from host_tools.sim import trace_file_path

    args.trace = trace_file_path(args.trace, chosen.name)
    if args.headless:
        from host_tools.sim import run_headless
        from simulator.engines import EngineError

        _, data = routines.source(args.routine)
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        try:
            return run_headless(chosen, text, args.buttons or DEFAULT_BUTTONS, args.trace,
                                until=args.until, engine=args.engine,
                                battery_mv=battery_mv, cell=cell)
        except EngineError as e:
            raise RoutineError("engine %s: %s" % (args.engine, e)) from None
    if args.trace == "-":
        raise UsageError("--trace - needs --headless (the live view uses the terminal)")
    if args.engine != "cpython":
        raise UsageError("--engine %s needs --headless (the live view runs on CPython)"
                         % args.engine)
    others = [p for p in routines.builtins() if p.name != chosen.name]
    programs = [chosen] + others
    from host_tools.live import run_live
    from simulator.engines import HEADLESS_BOARD, sim_board

    return run_live(programs, script, speed=args.speed, trace_path=args.trace,
                    board=sim_board(HEADLESS_BOARD, battery_mv, cell))


def _cell_args(args):
    """(mV or None, age) from --battery and --cell, checked as massager vdev checks them."""
    import argparse as ap

    from simulator.vdev_common import BATTERY_MV, CELL, battery_arg, cell_arg

    out = []
    for option, text, default, check in (("--battery", args.battery, BATTERY_MV, battery_arg),
                                         ("--cell", args.cell, CELL, cell_arg)):
        try:
            out.append(default if text is None else check(text))
        except ap.ArgumentTypeError as e:
            raise UsageError("%s: %s" % (option, e)) from None
    return out[0], out[1]


def cmd_studio(args):
    from host_tools import studio

    return studio.main(port=args.port, browser=not args.no_browser)


def cmd_circuit(args):
    from host_tools import circuit_command
    from simulator.circuit import CircuitError

    try:
        return circuit_command.main(args)
    except CircuitError as e:
        raise RoutineError(str(e)) from None


def cmd_uf2(args):
    from host_tools import uf2
    from host_tools.device import DeviceError

    out = args.output or "massager-%s.uf2" % args.board
    try:
        print(uf2.main(args.board, out))
    except (DeviceError, OSError) as e:
        raise RoutineError(str(e)) from None
    print("warning: %s" % uf2.WARNING, file=sys.stderr)
    return 0


def cmd_vdev(args):
    from simulator import vdev_common

    return vdev_common.main(args.vdev_args)


def _clock(ms):
    from massager.program import clock_text

    return clock_text(ms)


def _version():
    from host_tools.flash import firmware_version

    return "massager %s" % firmware_version()


def build_parser():
    parser = argparse.ArgumentParser(
        prog="massager", description="Routines, simulator and device tools for massager.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check routine files (exit 1 on any problem)")
    p.add_argument("files", nargs="+", metavar="FILE", help="routine JSON file or built-in name")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of the routine format")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("sim", help="run the simulated device (live view or --headless)")
    p.add_argument("routine", nargs="?", default="weekly",
                   help="built-in name (daily, weekly) or a routine file; default weekly")
    p.add_argument("--headless", action="store_true",
                   help="run at full speed without a view and print a summary")
    p.add_argument("--trace", metavar="FILE", help="write the trace (JSON lines); - for stdout")
    p.add_argument("--buttons", metavar="SCRIPT",
                   help="button events MS:EVENT,... in time order, EVENT down, up, short, "
                        "double or long (default: --headless and piped output start the "
                        "routine at 0; the live view waits for you)")
    p.add_argument("--speed", type=float, help="live view time scale (default 1)")
    p.add_argument("--engine", choices=("cpython", "micropython", "rp2040"),
                   default="cpython",
                   help="headless: run the firmware on CPython (default), on real "
                        "MicroPython (WebAssembly) or on the stock rp2 port (an emulated "
                        "RP2040; slower)")
    p.add_argument("--until", type=int, metavar="MS",
                   help="headless: run to this time instead of stopping when the session ends")
    p.add_argument("--battery", metavar="MV|none",
                   help="the cell's open-circuit voltage in mV the simulated board reads "
                        "through its ADC (0 to 5000), or none: nothing wired. Default: "
                        "3900, as massager vdev")
    p.add_argument("--cell", metavar="new|old",
                   help="the cell's age, its internal resistance (new about 150 mOhm, "
                        "old 400): it sags under the motor. Default: new")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("studio", help="edit and play routines in a local web page where the "
                                      "firmware runs (MicroPython WebAssembly)")
    p.add_argument("--port", type=int, default=0,
                   help="port on 127.0.0.1 (default: a free one, printed)")
    p.add_argument("--no-browser", action="store_true", help="only print the address")
    p.set_defaults(func=cmd_studio)

    p = sub.add_parser("circuit", help="a board's circuit: parts and nets, --bom, --spice "
                                       "netlist, --check (rules and ngspice)")
    p.add_argument("board", help="pico, rp2040-zero, esp32-devkit (boards/*/circuit.py) "
                                 "or all")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--spice", action="store_true",
                     help="print the SPICE netlist (nodes VBAT, 0, V3V3 and the pin labels; "
                          "no sources: add the cell and the pins' drive)")
    how.add_argument("--bom", action="store_true", help="print the bill of materials")
    how.add_argument("--check", action="store_true",
                     help="run the electrical rule checks and the ngspice checks (exit 1 "
                          "on a problem)")
    p.set_defaults(func=cmd_circuit)

    from host_tools import device_commands

    device_commands.add_parsers(sub)

    p = sub.add_parser("uf2", help="one UF2 file for an RP2040 board: MicroPython, the "
                                   "firmware and the built-in routines, installed by drag and "
                                   "drop (it replaces the board's filesystem)")
    p.add_argument("--board", required=True, help="an RP2040 board: pico, rp2040-zero")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write it (default massager-BOARD.uf2)")
    p.set_defaults(func=cmd_uf2)

    p = sub.add_parser("vdev", add_help=False,
                       help="a virtual device on a serial port (pty) for mpremote; "
                            "see massager vdev --help")
    p.add_argument("vdev_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_vdev)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["vdev"]:  # its own parser, options included
        return cmd_vdev(argparse.Namespace(vdev_args=argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UsageError as e:
        print("massager %s: %s" % (args.command, e), file=sys.stderr)
        return 2
    except RoutineError as e:
        print("massager %s: %s" % (args.command, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        # Ctrl-C: one line (with what to do, when the command knows) and the shell's 130.
        print("massager %s: interrupted%s" % (args.command, ": %s" % e if str(e) else ""),
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        # e.g. `massager sim --trace - | head`: the reader left; not an error.
        sys.stderr.close()
        return 0
    except Exception as e:  # the promise: no traceback reaches a user
        if os.environ.get("MASSAGER_DEBUG"):
            raise
        print("massager %s: internal error: %s: %s (set MASSAGER_DEBUG=1 for details)" % (
            args.command, type(e).__name__, e), file=sys.stderr)
        return 3
