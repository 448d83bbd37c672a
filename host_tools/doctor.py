# `massager doctor` (one device against the repo) and `massager devices` (what is where).
#
# Doctor hashes the firmware files on the device itself rather than trusting the manifest:
# a file changed behind flash's back (mpremote cp, a mip install) shows up too.
import sys

from host_tools import flash
from host_tools.device import Device, DeviceError, kb, probe, routine_files
from massager import program, routine

LOW_FLASH = 4 * routine.MAX_BYTES  # room for a few more routines and a firmware update
NO_ANSWER_S = 3  # `devices` gives up on a port silent for this long: "no answer"



def check(dev, out=print):
    """Print one line per finding ("ok ..." / "FIX ..."); the number of problems."""
    problems = []

    def ok(text):
        out("ok   " + text)

    def fix(text):
        problems.append(text)
        out("FIX  " + text)

    info = probe(dev)
    board = flash.device_board(info)
    if board is None:
        fix("no board recorded (/board.json), e.g. after an interrupted flash: %s"
            % _flash_advice(info))
    elif board not in flash.board_names():
        fix("board %s is not in boards/: run `massager flash --board NAME --force`" % board)
    else:
        config, data = flash.board_config(board)
        if info["board_json"] != data.decode("utf-8"):
            fix("/board.json differs from boards/%s/board.json: run `massager flash`" % board)
        else:
            ok("board %s (%s)" % (board, config["arch"]))
    _check_firmware(dev, info, board, ok, fix)
    _check_routines(dev, info, ok, fix)
    if info.get("watchdog_resets"):
        fix("the watchdog reset the board %d time(s) (a hang; /error.log has the lines "
            "around it): `massager pull` cannot fetch it, read it with `mpremote fs cat "
            ":error.log`" % info["watchdog_resets"])
    from host_tools import history

    ok("history: " + history.last_line(history.fetch(dev)))
    if info["free"] < LOW_FLASH:
        fix("flash almost full: %s free of %s: remove routines with `massager rm NAME`" % (
            kb(info["free"]), kb(info["total"])))
    else:
        ok("free flash %s of %s" % (kb(info["free"]), kb(info["total"])))
    return len(problems)


def _flash_advice(info):
    # Plain `flash` picks the board the device fits; say --board when it cannot.
    fits = flash.fitting_boards(info)
    try:
        board = flash.pick_board(info)
    except DeviceError:
        return "run `massager flash --board NAME` (boards for %s: %s)" % (
            flash.native_arch(info) or info.get("platform"), ", ".join(fits) or
            "none in boards/")
    others = [b for b in fits if b != board]
    return "run `massager flash` (a %s board%s)" % (
        board, "; another: add --board %s" % "|".join(others) if others else "")


def _board_or_default(info):
    try:
        return flash.pick_board(info)
    except DeviceError:
        return flash.DEFAULT_BOARD


def _check_firmware(dev, info, board, ok, fix):
    version = flash.firmware_version()
    if info.get("frozen"):
        ok("firmware %s frozen into the MicroPython image (the repo has %s): update it by "
           "rebuilding the image" % (info["version"], version))
        return
    manifest = flash.read_manifest(info)
    if manifest is None:
        fix("no firmware manifest (never flashed, or the last flash was interrupted): run "
            "`massager flash`")
        return
    name = board if board in flash.board_names() else _board_or_default(info)
    config, _ = flash.board_config(name)
    built = flash.build(config["arch"])
    problem = flash.mpy_problem(info, built)
    if problem:
        fix(problem + ", then `massager flash`")
        return
    on_device = flash.device_hashes(dev, set(built) | set(manifest["files"]))
    want = {p: flash.sha(data) for p, data in built.items()}
    differ = sorted(p for p in want if on_device.get(p) != want[p])
    stale = sorted(p for p in manifest["files"] if p not in want and on_device.get(p))
    if manifest.get("version") != version:
        fix("firmware %s on the device, %s in the repo: run `massager flash`" % (
            manifest.get("version"), version))
    elif differ or stale:
        names = [p.rsplit("/", 1)[-1] for p in differ + stale]
        fix("firmware %s: %d file(s) differ from the repo (%s): run `massager flash`" % (
            version, len(names), ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")))
    else:
        ok("firmware %s, %d files match the repo (%s)" % (version, len(want), _via(manifest)))


def _via(manifest):
    """How the firmware got onto the device, from its manifest."""
    if manifest.get("via") == flash.VIA_UF2:
        return "installed from a UF2 file made by `massager uf2`"
    return "installed by `massager flash`"


def _check_routines(dev, info, ok, fix):
    user = routine_files(info)
    leftovers = [f for f, _ in info["routine_files"] if f.endswith(".tmp")]
    for name in sorted(user):
        try:
            data = dev.read_file("/routines/%s.json" % name)
        except DeviceError as e:
            fix("routines/%s.json: %s" % (name, e))
            continue
        prog, errors = program.load(data)
        if errors:
            fix("routines/%s.json: %s: fix it and `massager push` it, or `massager rm %s`"
                % (name, errors[0], name))
        elif prog.name != name:
            fix("routines/%s.json is named %r inside: `massager rm %s`, then push it again"
                % (name, prog.name, name))
    ok("%d user routine(s) on the device%s" % (len(user), ": " + ", ".join(sorted(user)) if user
                                          else ""))
    if leftovers:
        ok("leftover upload(s) from an interrupted push, ignored by the device: %s" %
           ", ".join(leftovers))


def run(dev):
    """Exit status of `massager doctor`: 0 when clean, 1 otherwise."""
    problems = check(dev)
    print("all good" if not problems else "%d thing(s) to fix" % problems)
    return 1 if problems else 0


def describe(port):
    """(one line about the device on `port`, whether it answered)."""
    try:
        with Device(port, silent=NO_ANSWER_S) as dev:
            info = probe(dev)
    except DeviceError as e:
        text = str(e)
        return "%s  %s" % (port, text if text.startswith("no answer") else
                           "no answer (%s)" % text), False
    board = flash.device_board(info) or "no board.json"
    firmware = "firmware %s" % info["version"] if info["version"] else "no firmware"
    names = sorted(routine_files(info))
    return "%s  %s  %s  MicroPython %s  routines: %s" % (
        port, board, firmware, info["micropython"],
        ", ".join(names) or "none (built-ins only)"), True


def devices(ports):
    """Exit status of `massager devices`: 0 when at least one device answered."""
    if not ports:
        print("massager devices: no device found (looked for USB vendor ids of MicroPython "
              "boards and for running virtual devices)", file=sys.stderr)
        return 1
    answered = 0
    for port in ports:
        line, ok = describe(port)
        print(line, file=sys.stdout if ok else sys.stderr)  # a port that fails: a problem
        answered += ok
    return 0 if answered else 1

