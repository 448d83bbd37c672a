# Batch jobs for the MicroPython engine (and the same code on CPython, for comparison).
#
# MicroPython-compatible. Reads jobs.json from the first sys.path folder that has one:
# {"mode": "trace" | "validate", "cases": [...]}, and prints one block per case, each
# starting with "#case N". trace: {"routine": JSON text, "buttons": "0:short", "until":
# null}, played with the other built-ins selectable after it, as on the device;
# validate: a routine file's text or {"hex": bytes}. A trace case's "board" is the
# simulated board it plays on (engines.sim_board(): board.json and the ADC's view of the
# cell). One engine start serves many cases.
import json
import sys

try:
    from simulator import headless
except ImportError:  # inside the MicroPython engine, simulator/ itself is on sys.path
    import headless

from massager import program, routines


def device_programs(prog):
    """`prog` first (selected at power-up), then the other built-ins, as on a device."""
    progs = [prog]
    for name in routines.NAMES:
        if name != prog.name:
            progs.append(program.load(routines.text(name))[0])
    return progs


def _trace(case, out):
    prog, errors = program.load(case["routine"])
    if errors:
        out("!invalid " + errors[0])
        return
    progs = device_programs(prog)
    script = headless.parse_buttons(case.get("buttons") or headless.DEFAULT_BUTTONS)
    headless.play(progs, script, out, until=case.get("until"), board=case.get("board"))


def _validate(case, out):
    # A case is the file's text, or {"hex": ...} for bytes that are not text at all.
    if type(case) is dict:
        import binascii

        case = binascii.unhexlify(case["hex"])
    prog, errors = program.load(case)
    out("ok" if prog else "invalid")
    for e in errors:
        out(e)


def run(jobs, out):
    work = _trace if jobs["mode"] == "trace" else _validate
    for i, case in enumerate(jobs["cases"]):
        out("#case %d" % i)
        work(case, out)


def main():
    for folder in sys.path:
        try:
            f = open(folder + "/jobs.json")
        except OSError:
            continue
        with f:
            jobs = json.load(f)
        run(jobs, print)
        return
    raise SystemExit("batch: no jobs.json on sys.path")


if __name__ == "__main__":
    main()
