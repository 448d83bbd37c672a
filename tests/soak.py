"""A month of use on the stock rp2 port (`make soak`): the emulated RP2040 lives N days of
emulated time from a seeded script, and every day is checked.

    python tests/soak.py [--days 30] [--seed N] [--leak BYTES] [--report docs/reliability.md]

About two sessions a day (built-ins and pushed routines: routine changes, level changes,
pauses, skips, stops, sessions run to their end, holds to off and the wakes), a push or a
removal through the real `massager` CLI every few days, power cycles and a forced hang at
random moments, and a LiPo cell that drains along its discharge curve and is charged when
low. Idle time is skipped: the chip is held (simulator/pico.py hold=True) and run(ms) jumps
through the hours between sessions, waking only as the firmware asks (its watchdog feeds,
battery checks, the sleep of the off state).

Checked: no lock-up (every session plays, every read answers) and no watchdog reset the
script did not cause; each session's motor and LED pins equal the CPython simulator's trace
of the same presses (simulator/pins.compare, as tests/test_rp2040.py); gc.mem_free() after
each session within 2 KB of the first; littlefs blocks in use bounded; the motor pin never
driven outside a session; after every boot (cuts, the hang) every routine loads.

What it reads of the running firmware comes from a probe (PROBE, below) that /main.py
imports before the firmware's own main.py: it records gc.mem_free() after each session, can
hang the loop on request (the forced hang) and, with --leak, keeps a list that grows by that
many bytes per session: the leaking firmware the soak must catch.

With --report the figures are written after every day, saying how many of the days asked
for have run, so a run stopped early still leaves what it showed.

The emulated board has no power latch here (the hold pin drives nothing): off is the
firmware's sleep, as on USB; the cell's voltage is what the ADC reads.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "firmware"), HERE]

from helpers import massager, routine_doc  # noqa: E402
from massager import program, routines  # noqa: E402
from massager.app import PAUSED, RUNNING  # noqa: E402
from simulator import circuit, headless  # noqa: E402
from simulator.adc_view import adc_view, jsonable  # noqa: E402
from simulator.circuit import sense  # noqa: E402
from simulator.engines import sim_board  # noqa: E402
from simulator.pico import EmulatedPico, PicoError  # noqa: E402
from simulator.pins import compare, motor_series, pin_series, trace_series  # noqa: E402

DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000
PLAY_ON_MS = 60000  # a session still going when the script's presses end: wait this more
TOLERANCE_MS = 50  # tests/test_rp2040.py: a change shows on the pin within this
# The replay's 0 is the idle light's change in begin(), which comes after the firmware read
# its clock there: its 0 is a whole ms of ticks_ms, the light that ms's fraction plus
# begin()'s run from the read to the light later (0.71 ms measured once: the read at
# 3052.256 ms, the light at 3052.707). A change the firmware makes at once on a later tick
# can show that much before the replay's ms (seen: 0.1 ms, at random, as where in its ms
# begin() ran varies). Up to a tick and begin()'s run, with room: a real early decision
# (the 48 ms of docs/reliability.md) is far beyond it.
EARLY_MS = 2  # how early a change may show against the replay's ms
# The motor's soft start (firmware/massager/hal/motor.py Motor.soft_start_ms): from still the
# pin shows the kick (start_mv) for this long; the trace holds the app's strengths only.
SOFT_START_MS = 30
HEAP_DRIFT = 2048  # gc.mem_free() after a session: within this of the first session's
# littlefs's 4 KiB blocks in use may grow this much over the first reading: up to three
# pushed routines (a block each, and their directory's), settings and a bounded error log.
FS_GROWTH_MAX = 8
BOARD = "pico"
MOTOR, LED = 15, 25  # boards/pico/board.json
CAPACITY_MAH = 500  # simulator/circuit/parts.py LIPO_500
# The cell's draw while the device is off, as the emulated board runs (no latch: the
# lightsleep of the Pico and its regulator): 500 mAh in 9.9 days (docs/benchmarks.md).
OFF_MA = 500 / (9.9 * 24)
MOTOR_MA = 87  # the Pico's motor driver at 90 % from 4.2 V (docs/hardware.md, ngspice)
CHARGE_BELOW_PCT = 8  # the owner charges the cell once it is this low (red light since 3.5 V)
# Open-circuit voltage of a 1S LiPo against its state of charge (%), a typical curve at a
# low rate (the shape published for small pouch cells, e.g. Adafruit's LiPo guide and
# battery makers' 0.2C discharge charts): 4.2 V full, a plateau near 3.7-3.9 V, a knee
# under 10 %, 3.0 V empty (LIPO_500's v_full and v_empty).
OCV = [(0, 3000), (5, 3450), (10, 3680), (20, 3740), (30, 3770), (40, 3790), (50, 3820),
       (60, 3870), (70, 3920), (80, 3980), (90, 4060), (100, 4200)]

PROBE = '''# The soak's probe (tests/soak.py), imported by /main.py before the firmware runs.
import array, gc, json
from massager import runtime
from massager.app import PAUSED, RUNNING
try:
    leak_bytes = json.load(open("/soak.json"))["leak"]
except OSError:
    leak_bytes = 0
hang = False  # set by the soak's read: the next session hangs once its motor runs
free = array.array("i", [0] * 16)  # gc.mem_free() after each session since the last read
n = 0
_leak = []
_live = False
_step = runtime.Runtime.step

def _soak_step(self):
    global n, _live
    delay = _step(self)
    app = self.app
    live = app.state == RUNNING or app.state == PAUSED
    if live and hang and app.motor:
        import time
        while True:
            time.sleep_ms(1000)
    if _live and not live:
        if leak_bytes:
            _leak.append(bytearray(leak_bytes))
        gc.collect()
        if n < 16:
            free[n] = gc.mem_free()
        n += 1
    _live = live
    return delay

runtime.Runtime.step = _soak_step
'''

# In a function, deleted after: the read leaves nothing on the heap it measures.
READ = '''
def _soak_read():
    import gc, os, soak_probe as p
    from massager import safety
    from massager.store import Store
    s = os.statvfs('/')
    st = Store('/')
    progs, problems = st.programs()
    print(repr((list(p.free[:min(p.n, 16)]), p.n, s[0], s[2], s[3], [q.name for q in progs],
                problems, st.level(safety.DEFAULT_LEVEL))))
    p.n = 0
    p.hang = %s
_soak_read()
del _soak_read
'''
# The firmware started again in the same interpreter, as a REPL user would: RAM is kept, so a
# leak adds up from day to day (firmware/massager/runtime.py main() empties the event loop).
RESTART = "from massager import runtime\nruntime.main()\n"


def ocv_mv(pct):
    pct = max(0.0, min(100.0, pct))
    for (p0, v0), (p1, v1) in zip(OCV, OCV[1:]):
        if pct <= p1:
            return round(v0 + (v1 - v0) * (pct - p0) / (p1 - p0))
    return OCV[-1][1]


class SoakFailure(AssertionError):
    pass


class Soak:
    def __init__(self, days, seed, leak=0, workdir=None, image=None, log=print,
                 on_day=None):
        self.days, self.seed, self.leak = days, seed, leak
        self.on_day = on_day  # called with the figures after each day (a long run's report)
        self.rng = random.Random(seed)
        self.log = log
        self.work = workdir or tempfile.mkdtemp(prefix="massager-soak-")
        self.image = os.path.join(self.work, "flash.img")
        self.base_image = image
        self.config = circuit.load(BOARD)
        self.rated = self.config.config["motor"]["rated_mv"]
        self.user = {}  # name -> routine text on the device
        self.level = None
        self.soc = 100.0
        self.mv = ocv_mv(self.soc)
        self.figures = {"days": 0, "sessions": 0, "pushes": 0, "removals": 0, "cuts": 0,
                        "hangs": 0, "resets": 0, "heap_drift": 0, "fs_blocks": 0,
                        "fs_blocks_first": None, "fs_blocks_max": 0, "charges": 0,
                        "changes_checked": 0,
                        "life_sessions_max": 0, "min_mv": self.mv}
        self.life = None  # [gc.mem_free() after its first session, sessions] of this boot
        self.windows = []  # (start, end) emulated ms of every session
        self.expected_resets = 0

    # ---- the board ----
    def setup(self):
        if self.base_image:
            shutil.copy(self.base_image, self.image)
        else:
            with EmulatedPico(self.image) as pico:
                pico.wait(lambda e: e["ev"] == "usb")
                rc, _, err = massager("flash", "-p", pico.port)
                if rc:
                    raise SoakFailure("flash: %s" % err.strip())
        with open(os.path.join(ROOT, "firmware", "main.py")) as f:
            main = f.read()
        with EmulatedPico(self.image, hold=True) as pico:
            pico.interrupt()
            from mpremote.transport_serial import SerialTransport

            link = SerialTransport(pico.port)
            link.enter_raw_repl(soft_reset=False)
            for path, text in (("/lib/soak_probe.py", PROBE), ("/soak.json",
                               json.dumps({"leak": self.leak})),
                               ("/main.py", "import soak_probe\n" + main)):
                link.exec("with open(%r, 'w') as f:\n    f.write(%r)" % (path, text))
            link.close()

    def run(self):
        t0 = time.monotonic()
        self.setup()
        self.pico = EmulatedPico(self.image, hold=True, battery_mv=self.mv).start()
        try:
            self.segment_start(boot=True)
            for day in range(self.days):
                self.day(day)
                self.figures["days"] = day + 1
                self.figures["wall_s"] = round(time.monotonic() - t0)
                if self.on_day and day + 1 < self.days:
                    self.on_day(self.figures)
        finally:
            self.pico.stop()
        self.figures["wall_s"] = round(time.monotonic() - t0)
        return self.figures

    # ---- a segment: one run of the firmware, from a boot or a restart from the REPL ----
    def segment_start(self, boot=False, hang=False):
        """Read the device (every routine loads, littlefs, the heap), then start the
        firmware again in the same interpreter (RESTART); its begin() is the CPython
        replay's 0. `boot`: the board has just booted (main.py runs it); otherwise it runs
        from our last RESTART, in the raw REPL."""
        from mpremote.transport_serial import SerialTransport

        pico = self.pico
        if boot:
            pico.run(3000)  # boot.py and main.py: the firmware is up
            pico.interrupt()
            self.life = None  # a new interpreter: a new heap to hold to its first session
        else:
            self.stop_raw()
        link = SerialTransport(pico.port)
        link.enter_raw_repl(soft_reset=False)
        self.check_read(link.exec(READ % hang).decode())
        n = len(pico.events)
        link.exec_raw_no_follow(RESTART)
        link.close()
        pico.run(2000)
        # The replay's 0 is the app's begin(), which lights the idle LED at once (boot.py
        # turned it off before, so this is a change the pins show).
        self.start = pico.wait(lambda e: e["ev"] == "pin" and e["pin"] == LED and e["duty"],
                               since=n)["t"] / 1e6
        self.replay_lines = []
        programs = [program.load(routines.text(n))[0] for n in routines.NAMES
                    if n not in self.user]
        programs += [program.load(self.user[n])[0] for n in sorted(self.user)]
        board = sim_board(BOARD, self.mv)
        self.player = headless.Player(programs, self.replay_lines.append, level=self.level,
                                      board=board)

    def stop_raw(self, timeout=120, friendly=False):
        """Ctrl-C until the firmware RESTART ran in the raw REPL has stopped there (its
        traceback ends with the raw REPL's end of output and prompt); `friendly`: then
        Ctrl-B to the friendly REPL's prompt, where a host tool starts as after a boot."""
        import serial

        with serial.Serial(self.pico.port, timeout=0.05) as s:
            seen = b""
            end = time.monotonic() + timeout
            while b"KeyboardInterrupt" not in seen or not seen.endswith(b"\x04>"):
                if time.monotonic() > end:
                    raise SoakFailure("the firmware did not stop for Ctrl-C: %r" % seen[-200:])
                s.write(b"\x03")
                seen = (seen + s.read(512))[-512:]
            if friendly:
                s.write(b"\x02")
                while not seen.endswith(b">>> "):
                    if time.monotonic() > end:
                        raise SoakFailure("no REPL prompt after Ctrl-B: %r" % seen[-200:])
                    seen = (seen + s.read(512))[-512:]

    def check_read(self, out):
        free, n, bsize, blocks, bfree, names, problems, level = eval(out)  # our own repr
        if problems or sorted(names) != sorted(set(routines.NAMES) | set(self.user)):
            raise SoakFailure("routines after a boot: %s, problems %s" % (names, problems))
        used = blocks - bfree
        f = self.figures
        if f["fs_blocks_first"] is None:
            f["fs_blocks_first"] = used
        f["fs_blocks"] = used
        f["fs_blocks_max"] = max(f["fs_blocks_max"], used)
        if used > f["fs_blocks_first"] + FS_GROWTH_MAX:
            raise SoakFailure("littlefs: %d blocks in use, %d at the start" % (
                used, f["fs_blocks_first"]))
        # Held to the first session of the same interpreter's life (a boot, a host
        # command's soft reset or a cut starts a new one, with routines that may differ):
        # a leak adds up over the days the firmware runs on, as it would on a device.
        for value in free:
            if self.life is None:
                self.life = [value, 0]
            self.life[1] += 1
            f["life_sessions_max"] = max(f["life_sessions_max"], self.life[1])
            drift = self.life[0] - value
            f["heap_drift"] = max(f["heap_drift"], abs(drift))
            if abs(drift) > HEAP_DRIFT:
                raise SoakFailure("heap: gc.mem_free() %d after session %d of this boot, %d "
                                  "after its first (drift %d bytes)" % (
                                      value, self.life[1], self.life[0], drift))
        self.level = level

    # ---- a day ----
    def day(self, day):
        rng = self.rng
        at = 7 * HOUR_MS + rng.randrange(2 * HOUR_MS)
        plan = [("session", at)]
        if rng.random() < 0.85:
            plan.append(("session", 19 * HOUR_MS + rng.randrange(3 * HOUR_MS)))
        if day % 3 == 2:
            plan.append(("host", 13 * HOUR_MS + rng.randrange(HOUR_MS)))
        if rng.random() < 0.25:
            plan.append(("cut", rng.randrange(DAY_MS - HOUR_MS)))
        # The forced hang early (the third day at most): a run cut short has had it too.
        if day == min(self.days // 2, 2) and not self.figures["hangs"]:
            plan.append(("hang", 16 * HOUR_MS))
        plan.sort(key=lambda p: p[1])
        day0 = self.pico.now()
        wall = {}  # where the day's wall time went: what it says of a shorter soak

        def timed(what, *args):
            t0 = time.monotonic()
            getattr(self, what)(*args)
            wall[what] = wall.get(what, 0) + time.monotonic() - t0

        for what, t in plan:
            wait = day0 + t - self.pico.now()
            if wait > 0:
                timed("idle", wait)
            timed(what)
        left = day0 + DAY_MS - self.pico.now()
        if left > 0:
            timed("idle", left)
        self.check_motor_outside(day0)
        timed("segment_start")  # the day's check
        self.log("day %d: %d sessions, %.0f mV, %d blocks, heap drift %d B, %d resets "
                 "(wall: %s)" % (
                     day + 1, self.figures["sessions"], self.mv, self.figures["fs_blocks"],
                     self.figures["heap_drift"], self.figures["resets"],
                     ", ".join("%s %.0f s" % kv for kv in sorted(wall.items()))))

    def idle(self, ms):
        """Time passes with nobody touching the device; the cell drains (charged when low,
        as an owner would)."""
        self.pico.run(ms)
        self.drain(OFF_MA * ms / HOUR_MS)

    def drain(self, mah):
        self.soc -= 100 * mah / CAPACITY_MAH
        if self.soc < CHARGE_BELOW_PCT:
            self.soc = 100.0
            self.figures["charges"] += 1
        mv = ocv_mv(self.soc)
        if abs(mv - self.mv) >= 10:
            self.set_cell(mv)

    def set_cell(self, mv):
        self.mv = mv
        self.figures["min_mv"] = min(self.figures["min_mv"], mv)
        self.pico.set_battery(mv)
        now = self.pico.now()
        self.player.advance(round(now - self.start))
        self.player.sim.set_adc_view(jsonable(adc_view(self.config.config, mv)))

    # ---- what happens ----
    def session(self, hang=False):
        rng = self.rng
        names = [n for n in routines.NAMES if n not in self.user] + sorted(self.user)
        edges = []
        t = 0

        def press(ms, hold=100):
            nonlocal t
            edges.append((t, 1))
            edges.append((t + hold, 0))
            t += hold + ms

        if hang:
            # One press from idle starts the session that hangs; nothing after it, so a
            # motor after the watchdog's reset could only be the firmware's.
            press(5000 + 10000)
            self.play(edges, t, hang)
            return
        press(1500)  # wake from off (does nothing else); from idle it starts a session
        if rng.random() < 0.3:
            press(1500, hold=1200)  # a long press: stop (running) or next level (idle)
        for _ in range(rng.randrange(len(names))):
            edges.append((t, 1))
            edges.append((t + 80, 0))
            edges.append((t + 180, 1))
            edges.append((t + 260, 0))
            t += 1500  # a double press in idle: the next routine
        if rng.random() < 0.2:
            press(1500, hold=1200)  # the next level
        press(rng.randrange(2000, 6000))  # start
        end_by = t + rng.randrange(30000, 90000)
        while t < end_by:
            r = rng.random()
            if r < 0.3:
                press(rng.randrange(2000, 8000))  # pause ... resume
                if rng.random() < 0.3:
                    edges.append((t, 1))
                    edges.append((t + 80, 0))
                    edges.append((t + 180, 1))
                    edges.append((t + 260, 0))
                    t += 1500  # paused: the next level
                press(rng.randrange(3000, 15000))
            elif r < 0.5:
                edges.append((t, 1))
                edges.append((t + 80, 0))
                edges.append((t + 180, 1))
                edges.append((t + 260, 0))
                t += rng.randrange(3000, 15000)  # a skip to the next step
            else:
                t += rng.randrange(3000, 15000)
        if rng.random() < 0.8:
            press(6000, hold=1500)  # a long press: stop
        else:
            t += 120000  # let it play on, to its end for the short ones
        if rng.random() < 0.3:
            press(6000, hold=3500)  # held: power off (from idle or done)
        self.play(edges, t, hang)

    def play(self, edges, length, hang):
        pico = self.pico
        if hang:
            self.segment_start(hang=True)
        at = pico.script(edges)
        self.last_at, self.last_edges = at, edges
        n = len(pico.events)
        pico.run(length)
        self.figures["sessions"] += 1
        bites = [e for e in pico.events[n:] if e["ev"] in ("watchdog", "reset")]
        if bites and not hang:
            raise SoakFailure("a %s the script did not cause at %.0f ms" % (
                bites[0]["ev"], bites[0]["t"] / 1e6))
        if hang:
            if [b["ev"] for b in bites] != ["watchdog"]:
                raise SoakFailure("the forced hang: %s, not one watchdog reset" % bites)
            self.figures["hangs"] += 1
            self.figures["resets"] += 1
            end = bites[0]["t"] / 1e6
            self.windows.append((at, end + TOLERANCE_MS))
            self.check_hang(at, end)
            self.segment_start(boot=True)
            return
        end = at + length
        player = self.player
        rel = round(at - self.start)
        for ms, pressed in edges:
            player.push(rel + ms, "down" if pressed else "up")
        n = len(self.replay_lines)
        player.advance(round(end - self.start))
        # A session left to play on (or paused) is still one when the script's presses end:
        # its window closes when the replay's firmware leaves it (done, or paused too long).
        while player.app.state in (RUNNING, PAUSED) or player.app.motor:
            pico.run(PLAY_ON_MS)
            end += PLAY_ON_MS
            player.advance(round(end - self.start))
        self.windows.append((at, end))
        self.check_session(at, end, n)
        self.drain(MOTOR_MA * (end - at) / 2 / HOUR_MS + OFF_MA * (end - at) / HOUR_MS)

    def check_session(self, at, end, n):
        rel = round(at - self.start)
        before = [json.loads(x) for x in self.replay_lines[:n]]
        records = [json.loads(x) for x in self.replay_lines[n:]]
        # The state the session starts from, then every change from its first press on
        # (a wake from off comes at that very ms).
        first = dict(before[-1] if before else records[0], t=rel - 1)
        records = [first] + [r for r in records if r["t"] >= rel]
        cell = sense.cell_reading_mv(self.config, self.mv / 1000)
        for pin, output, want, scale, off_by, ramp in (
                (MOTOR, "motor", motor_series(trace_series(records, "motor"), self.rated,
                                              cell), 1000, 1, SOFT_START_MS),
                (LED, "led", trace_series(records, "led"), 255, 0, 0)):
            changes = [c for c in self.pico.changes(pin) if c.t <= end]
            actual = pin_series(changes, scale)
            problems, _ = compare(want, actual, self.start, TOLERANCE_MS, off_by,
                                  early=EARLY_MS, start_ms=ramp,
                                  wakes=[r["t"] for r in records])
            if problems:
                raise SoakFailure("session %d (%s from %.0f ms): %s\n%s" % (
                    self.figures["sessions"], output, at, problems[:3],
                    self.around(problems[0], want, actual)))
            self.figures["changes_checked"] += len(want)

    def around(self, problem, want, actual, ms=400):
        """Both series (replay ms) near a problem's time: what a failure report shows."""
        t = float(problem.split(":")[0][2:])
        near = [(round(w, 1), v) for w, v in want if abs(w - t) <= ms]
        got = [(round(a - self.start, 1), v) for a, v in actual
               if abs(a - self.start - t) <= ms]
        return "  trace near t=%d: %s\n  pin near t=%d:   %s\n  edges from t=%.1f: %s" % (
            t, near, t, got, self.last_at - self.start, self.last_edges)

    def check_hang(self, at, bite):
        # The probe hangs the loop at its first wake with the motor on, right after a feed:
        # the motor stays on until the watchdog (board.json: 5 s) resets the board.
        motor = pin_series(self.pico.changes(MOTOR, since=at), 100)
        on = [t for t, v in motor if v > 0]
        if not on or not on[0] <= bite <= on[0] + 5000 + TOLERANCE_MS:
            raise SoakFailure("the hang: no watchdog reset within 5 s of it (%s, bite %.0f)"
                              % (on[:1], bite))
        if any(v for t, v in motor if t > bite):
            raise SoakFailure("the hang: the motor ran after the watchdog reset")

    def hang(self):
        self.session(hang=True)

    def cut(self):
        """The power goes at a random moment (often the idle hours, sometimes not)."""
        pico = self.pico
        n = len(pico.events)
        pico.power_cycle()
        self.figures["cuts"] += 1
        self.figures["resets"] += 1
        if any(e["ev"] in ("watchdog", "reset") for e in pico.events[n:]):
            raise SoakFailure("a reset the script did not cause after a power cycle")
        self.segment_start(boot=True)

    def host(self):
        """A push or a removal through the real CLI (the firmware restarts after it)."""
        rng = self.rng
        pico = self.pico
        self.stop_raw(friendly=True)  # segment_start ran the firmware from the raw REPL
        if self.user and rng.random() < 0.35:
            name = rng.choice(sorted(self.user))
            rc, _, err = massager("rm", name, "-p", pico.port)
            if rc:
                raise SoakFailure("rm %s: %s" % (name, err.strip()))
            del self.user[name]
            self.figures["removals"] += 1
        else:
            name = rng.choice(["calm", "lite", "quick"])
            doc = routine_doc(name=name, title=name.title(), rounds=rng.randrange(1, 3))
            # A first stroke of at least 2.4 s: the first step's 3 presses and 2 glides need
            # 2220 ms (program.py's check; a run at 2199 ms stopped at the push, day 24).
            doc["breath"] = {"first_ms": rng.randrange(2400, 3000),
                             "last_ms": rng.randrange(3000, 4000)}
            path = os.path.join(self.work, name + ".json")
            text = json.dumps(doc, indent=1)
            with open(path, "w") as f:
                f.write(text)
            rc, _, err = massager("push", path, "-p", pico.port)
            if rc:
                raise SoakFailure("push %s: %s" % (name, err.strip()))
            self.user[name] = text
            self.figures["pushes"] += 1
        self.segment_start(boot=True)

    def check_motor_outside(self, since=0):
        """The motor pin is never driven outside a session's window."""
        motor = pin_series(self.pico.changes(MOTOR, since=since), 100)
        for t, v in motor:
            if v and not any(a <= t <= b + TOLERANCE_MS for a, b in self.windows):
                near = [(round(a), round(b)) for a, b in self.windows if b > t - DAY_MS]
                raise SoakFailure("the motor pin driven (%d %%) outside a session at %.0f "
                                  "ms (sessions near: %s)" % (v, t, near[-3:]))


def report(path, figures, seed, planned, failure=None):
    """Write the figures between the soak markers of `path`. A run still going (or stopped
    before its end) writes after each day and says so. A failed run writes the days that
    passed and the failure."""
    begin, end = "<!-- begin soak -->", "<!-- end soak -->"
    f = figures
    if failure:
        status = ("A run of %d days that FAILED on day %d: %s. The figures are those of the "
                  "%d days before." % (planned, f["days"] + 1, failure.splitlines()[0],
                                       f["days"]))
    elif f["days"] < planned:
        status = ("A run of %d days still going or stopped: these are its first %d days "
                  "(each day checked in full)." % (planned, f["days"]))
    else:
        status = "A run of %d days that passed." % planned
    text = "\n".join([
        begin,
        "Written by `make soak` (`tests/soak.py`; do not edit by hand): the stock MicroPython "
        "1.28.0 rp2 port on the emulated RP2040 (simulator/pico.py) lives %d days of emulated "
        "time from a seeded script; idle time skipped. The board runs without its power latch "
        "(off is the sleep, as on USB). %s" % (f["days"], status),
        "",
        "| figure | value |",
        "|---|---:|",
        "| seed | %d |" % seed,
        "| days emulated | %d |" % f["days"],
        "| sessions (each held to the CPython trace) | %d |" % f["sessions"],
        "| pin changes checked against the trace | %d |" % f["changes_checked"],
        "| pushes / removals (real `massager` CLI) | %d / %d |" % (f["pushes"], f["removals"]),
        "| power cuts | %d |" % f["cuts"],
        "| forced hangs (each ended by the watchdog) | %d |" % f["hangs"],
        "| resets (all caused by the script) | %d |" % f["resets"],
        "| largest heap drift after a session, against the first of its boot | %d bytes "
        "(limit %d) |" % (f["heap_drift"], HEAP_DRIFT),
        "| most sessions in one boot (the firmware restarted daily in RAM) | %d |" % (
            f["life_sessions_max"]),
        "| littlefs blocks used (4 KiB): first / last / most | %d / %d / %d |" % (
            f["fs_blocks_first"], f["fs_blocks"], f["fs_blocks_max"]),
        "| cell charges / lowest open-circuit voltage | %d / %d mV |" % (f["charges"],
                                                                       f["min_mv"]),
        "| wall time | %d min %d s |" % divmod(f["wall_s"], 60),
        end])
    with open(path) as fh:
        doc = fh.read()
    if begin in doc:
        doc = doc[:doc.index(begin)] + text + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    with open(path, "w") as fh:
        fh.write(doc)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--leak", type=int, default=0, metavar="BYTES",
                    help="the probe keeps BYTES more per session: a leaking firmware")
    ap.add_argument("--report", metavar="FILE", help="write the figures into FILE")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    print("soak: seed %d, %d days%s" % (seed, args.days,
                                        ", leaking %d B per session" % args.leak
                                        if args.leak else ""), flush=True)
    def on_day(figures):
        if args.report:
            report(args.report, figures, seed, args.days)

    soak = Soak(args.days, seed, args.leak, log=lambda s: print("soak: " + s, flush=True),
                on_day=on_day)
    try:
        figures = soak.run()
    except (SoakFailure, PicoError) as e:  # the board or the script's steps
        print("soak: FAILED (seed %d, day %d): %s" % (seed, soak.figures["days"] + 1, e))
        if args.report and soak.figures["days"]:
            report(args.report, soak.figures, seed, args.days, failure=str(e))
        return 1
    finally:
        shutil.rmtree(soak.work, ignore_errors=True)
    print("soak: passed, seed %d: %s" % (seed, json.dumps(figures)))
    if args.report:
        report(args.report, figures, seed, args.days)
    return 0


if __name__ == "__main__":
    sys.exit(main())
