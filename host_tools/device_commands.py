# Subcommands that talk to a device over USB (mpremote). Registered by cli.build_parser.
#
# Argument wiring and report lines only: the work is in device.py (the link), routine_sync,
# flash, doctor and plot. Failures are DeviceError/RoutineError: one line from cli.main.
import os
import sys

from host_tools.device import Device, DeviceError, candidate_ports, pick_port


def _port_option(p, many=False):
    p.add_argument("-p", "--port", action="append", default=[], metavar="PORT",
                   help="serial port (default: the only connected device)"
                   + ("; repeat it with --all" if many else ""))
    if many:
        p.add_argument("--all", action="store_true",
                       help="every connected device (or every --port given)")


def _each_device(args, work, soft_reset=True):
    """Run work(dev) on one device, or on each with --all: one report line each."""
    if not getattr(args, "all", False):
        if len(args.port) > 1:
            raise DeviceError("%d ports given: add --all to run on each of them"
                              % len(args.port))
        with Device(pick_port(args.port), soft_reset=soft_reset) as dev:
            return work(dev) or 0
    ports = candidate_ports(args.port)
    if not ports:
        raise DeviceError("no device: connect one by USB or give --port PORT")
    failed = 0
    for port in ports:
        lines = []
        try:
            with Device(port, soft_reset=soft_reset) as dev:
                work(dev, lines.append)
            print("%s: ok: %s" % (port, "; ".join(lines) or "nothing to do"))
        except DeviceError as e:
            failed += 1
            print("%s: FAILED: %s" % (port, e), file=sys.stderr)
    return 1 if failed else 0


def cmd_push(args):
    from host_tools import routine_sync

    items = routine_sync.prepare(args.routines)  # all valid before touching any device

    def work(dev, out=print):
        routine_sync.push(dev, items, out=out)

    # No soft reset on connecting: the firmware stopped by Ctrl-C keeps its modules, so
    # the device validates with the validator already in RAM instead of importing it
    # again (the slowest part of a push on a board). It ends with a reset all the same.
    return _each_device(args, work, soft_reset=False)


def cmd_pull(args):
    from host_tools import routine_sync

    routine_sync.check_name(args.name)
    dest = routine_sync.output_path(args.name, args.output)
    if dest != "-" and os.path.exists(dest) and not args.force:
        raise DeviceError("%s exists: add --force to overwrite it" % dest)
    with Device(pick_port(args.port)) as dev:
        data = routine_sync.pull(dev, args.name, dest, force=args.force)
    # with -o - the routine itself is on stdout: the report goes aside
    print("%s: %d bytes -> %s" % (args.name, len(data), "stdout" if dest == "-" else dest),
          file=sys.stderr if dest == "-" else sys.stdout)
    return 0


def cmd_ls(args):
    from host_tools import routine_sync

    with Device(pick_port(args.port)) as dev:
        rows, firmware = routine_sync.listing(dev)
    widths = [max([_cells(r[i]) for r in rows] + [1]) for i in range(4)]
    for row in rows:
        print("  ".join(c + " " * (w - _cells(c)) for c, w in zip(row, widths)).rstrip() + (
            "  " + row[4] if row[4] else ""))
    if not firmware:
        raise DeviceError("no massager firmware on %s: run `massager flash`" % dev.port)
    return 0


def _cells(text):
    """Terminal columns `text` takes: 2 for a wide character (most emoji, CJK), 0 for a
    joiner, variation selector or combining mark (East Asian Width, UAX 11)."""
    import unicodedata

    n = 0
    joined = False  # after a zero-width joiner: this character joins the previous glyph
    last = 0  # columns of the last glyph
    for c in text:
        if c == "\ufe0f" and last == 1 and not joined:  # emoji presentation: wide
            n, last = n + 1, 2
        if c == "\u200d":
            joined = True
        if unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        if joined:
            joined = False
            continue
        last = 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        n += last
    return n


def cmd_rm(args):
    from host_tools import routine_sync

    with Device(pick_port(args.port)) as dev:
        routine_sync.remove(dev, args.name)
    print("%s: removed" % args.name)
    return 0


def cmd_flash(args):
    from host_tools import flash

    if args.board:
        flash.board_config(args.board)  # an unknown board fails before any connection
    tty = sys.stdout.isatty()

    def work(dev, out=print):
        # with --all only the one report line per device: no progress
        out(flash.flash(dev, board=args.board, dry_run=args.dry_run, force=args.force,
                        tty=tty, out=False if args.all else None))

    return _each_device(args, work)


def cmd_doctor(args):
    from host_tools import doctor

    with Device(pick_port(args.port)) as dev:
        return doctor.run(dev)


def cmd_history(args):
    import json

    from host_tools import history

    with Device(pick_port(args.port)) as dev:
        records = history.fetch(dev)
    summary = history.summary(records)
    if args.json:
        print(json.dumps({"records": records, "summary": summary}, indent=1))
    else:
        for line in history.table(records) + [""] + history.summary_lines(summary):
            print(line)
    if args.plot:
        history.plot(records, args.plot)
        print("minutes per day -> %s" % args.plot, file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_devices(args):
    from host_tools import doctor
    from simulator import registry

    # Running virtual devices too: a pty is on no USB bus (simulator/registry.py).
    virtual = [] if args.port else [e["port"] for e in registry.running()]
    return doctor.devices(candidate_ports(args.port) + virtual)


def cmd_plot(args):
    from host_tools import plot, routines

    prog = routines.load(args.routine)
    out = args.output or prog.name + ".png"
    plot.save(prog, out, level=args.level - 1)
    print("%s -> %s" % (prog.name, out))
    return 0


def add_parsers(sub):
    """Add the device subcommands to the `massager` parser."""
    p = sub.add_parser("push", help="validate routines and install them on the device")
    p.add_argument("routines", nargs="+", metavar="ROUTINE", help="routine JSON file")
    _port_option(p, many=True)
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("pull", help="copy a routine from the device")
    p.add_argument("name", help="routine name (as `massager ls` shows)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="a file, a directory (DIR/NAME.json) or - for stdout; default NAME.json")
    p.add_argument("--force", action="store_true", help="overwrite FILE")
    _port_option(p)
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser("ls", help="list the routines on the device")
    _port_option(p)
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("rm", help="remove a routine from the device")
    p.add_argument("name", help="routine name (as `massager ls` shows, without .json)")
    _port_option(p)
    p.set_defaults(func=cmd_rm)

    p = sub.add_parser("flash", help="install the firmware (.mpy), copying only what changed")
    p.add_argument("--board", help="boards/<NAME> (default: the device's /board.json, "
                                   "else pico)")
    p.add_argument("--dry-run", action="store_true", help="list what would change")
    p.add_argument("--force", action="store_true",
                   help="replace the device's /board.json with another board's")
    _port_option(p, many=True)
    p.set_defaults(func=cmd_flash)

    p = sub.add_parser("doctor", help="compare the device with the repo and say what to do")
    _port_option(p)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("history", help="the sessions the device remembers, and the week "
                                       "against the guide's advice")
    p.add_argument("--json", action="store_true", help="records and summary as JSON")
    p.add_argument("--plot", metavar="FILE", help="draw minutes per day to FILE.png/.svg")
    _port_option(p)
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("devices", help="list connected devices with board, firmware, routines")
    _port_option(p, many=False)
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("plot", help="draw a routine's timeline (motor, LED, steps) to PNG/SVG")
    p.add_argument("routine", help="built-in name (daily, weekly) or a routine file")
    p.add_argument("-o", "--output", metavar="FILE", help="FILE.png or FILE.svg "
                                                          "(default NAME.png)")
    p.add_argument("--level", type=int, choices=(1, 2, 3), default=2,
                   help="the user's intensity level to draw it at: 1 gentle, 2 medium "
                        "(the device's default), 3 strong")
    p.set_defaults(func=cmd_plot)
