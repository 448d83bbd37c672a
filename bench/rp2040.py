# Figures on the stock rp2 port (MicroPython 1.28.0) on an emulated RP2040 (simulator/pico.py).
#
# CPU and timing figures are in emulated time: the chip's 125 MHz clock, cycles and
# instructions as rp2040js counts them (idle time skipped, never counted as busy). They do
# not depend on the host's load. The host-tool figures are wall-clock times over the
# emulated USB link, which is paced to the wall clock while a host talks.
import atexit
import json
import os
import shutil
import statistics
import tempfile

from bench.host import _run
from bench.report import Row, fmt
from massager import routines
from simulator import circuit
from simulator.circuit import sense
from simulator.engines import trace
from simulator.pico import EmulatedPico
from simulator.pins import compare, motor_series, pin_series, trace_series

CYCLE_NS = 8  # 125 MHz
BOOT_MS = 3000
LED = lambda config: config["led"]["pin"]  # noqa: E731
SELECT_WEEKLY_AND_START = [(0, 1), (100, 0), (200, 1), (300, 0), (2000, 1), (2100, 0)]

_flashed = {}


def flashed_image(tmp):
    """A flash image with the firmware installed by `massager flash` (made once per run)."""
    if "path" not in _flashed:
        folder = tempfile.mkdtemp(prefix="massager-bench-")
        atexit.register(shutil.rmtree, folder, True)
        path = os.path.join(folder, "flashed.img")
        with EmulatedPico(path) as pico:
            pico.wait(lambda e: e["ev"] == "usb")
            _run("-m", "host_tools", "flash", "--port", pico.port)
        _flashed["path"] = path
    dst = os.path.join(tmp, "flash.img")
    shutil.copy(_flashed["path"], dst)
    return dst


def _idle_at(pico):
    """Emulated ms of the first idle light (the LED pin's PWM turning on)."""
    led = LED(pico.config)
    return next(c.t for c in pico.changes(led) if c.fn == "pwm" and c.duty)


def uf2_file():
    """The pico's UF2 file from `massager uf2` (made once per run)."""
    if "uf2" not in _flashed:
        from host_tools import uf2

        folder = tempfile.mkdtemp(prefix="massager-bench-")
        atexit.register(shutil.rmtree, folder, True)
        _flashed["uf2"] = os.path.join(folder, "massager-pico.uf2")
        with open(_flashed["uf2"], "wb") as f:
            f.write(uf2.image("pico")[0])
    return _flashed["uf2"]


def boot_to_idle():
    bare, boot, flashed = [], [], []
    for _ in range(2):  # deterministic in emulated time: the second run shows it
        with tempfile.TemporaryDirectory() as tmp:
            with EmulatedPico(os.path.join(tmp, "bare.img"), hold=True) as pico:
                pico.run(500)
                bare.append(pico.wait(lambda e: e["ev"] == "usb")["t"] / 1e6)
            with EmulatedPico(os.path.join(tmp, "uf2.img"), uf2=uf2_file(), hold=True) as pico:
                pico.run(BOOT_MS)
                boot.append(_idle_at(pico))
            with EmulatedPico(flashed_image(tmp), hold=True) as pico:
                pico.run(BOOT_MS)
                flashed.append(_idle_at(pico))
    return Row("power-up to the idle light, real rp2 port (emulated 125 MHz), installed "
               "from the UF2 file",
               "the bare port to its USB REPL: %s ms" % _fmt_ms(statistics.median(bare)),
               boot, "ms", "at most 250 ms", max(boot) <= 250,
               "boot.py and main.py (two stubs over the compiled package), importing 18 "
               ".mpy modules from littlefs (about 7 ms of path lookups each: 3 stats and an "
               "open) and restoring the selected built-in as the build compiled it, all busy "
               "CPU at 125 MHz. Installed by `massager flash` instead: %s ms (the same files, "
               "in directory logs littlefs grew file by file; the UF2 compacts them)"
               % _fmt_ms(statistics.median(flashed)))


def _fmt_ms(v):
    return "%.1f" % v


def _weekly_session(tmp):
    """One whole weekly session on the real port, held to the CPython trace."""
    return play_session(flashed_image(tmp), SELECT_WEEKLY_AND_START)


def play_session(image, buttons):
    """The session that `buttons` ((ms, pressed) from the idle light) start on the real
    port, played to its end and held to the CPython trace of the same presses: (stats at
    start, stats at end, trace records, lags per output), or SystemExit where the pins
    leave the trace."""
    with EmulatedPico(image, hold=True) as pico:
        pico.run(BOOT_MS)
        before = pico.stats()
        at = pico.script(buttons)
        edges = ",".join("%d:%s" % (ms, "down" if p else "up") for ms, p in buttons)
        records = [json.loads(line) for line in trace(routines.text("daily"), buttons=edges)]
        pico.run(records[-1]["t"] + 1000)
        after = pico.stats()
        lags = {}
        config = pico.config
        # The motor in volts: the trace's % of the rated voltage is the duty over the cell
        # the firmware read (its own conversion of the ADC codes for the emulator's cell).
        cell = sense.cell_reading_mv(circuit.load(config["name"]), pico.battery_mv / 1000)
        motor = motor_series(trace_series(records, "motor"), config["motor"]["rated_mv"],
                             cell)
        for name, pin, want, scale, off_by in (
                ("motor", config["motor"]["pin"], motor, 1000, 1),
                ("led", config["led"]["pin"], trace_series(records, "led"), 255, 0)):
            problems, lags[name] = compare(want, pin_series(pico.changes(pin), scale), at,
                                           50, off_by)
            if problems:
                raise SystemExit("bench: the real port left the trace: %s" % problems[:3])
    return before, after, records, lags


def _bare_wake_instructions(tmp):
    """Instructions per wake of a bare asyncio.sleep_ms loop that writes a PWM duty, on
    the same chip: the floor a device loop cannot go under. Counted with the host gone
    (the chip held between steps), less what the idle REPL costs over the same time."""
    from mpremote.transport_serial import SerialTransport

    wakes, period = 500, 20
    code = ("import asyncio, machine\np = machine.PWM(machine.Pin(15), freq=20000, "
            "duty_u16=0)\nasync def main():\n for i in range(%d):\n  p.duty_u16(i * 64)\n"
            "  await asyncio.sleep_ms(%d)\nasyncio.run(main())\n" % (wakes, period))
    span = wakes * period + 2000
    with EmulatedPico(os.path.join(tmp, "bare.img"), hold=True) as pico:
        pico.run(2000)
        a = pico.stats()
        pico.run(span)
        b = pico.stats()  # the idle REPL over the same span
        link = SerialTransport(pico.port)
        link.enter_raw_repl(soft_reset=False)
        link.exec_raw("import asyncio, machine")  # imported before counting
        link.exec_raw_no_follow(code)
        link.close()
        pico.run(1500)  # past the host's grace: from here the chip runs only as let
        c = pico.stats()
        pico.run(span)
        d = pico.stats()
    idle = b["instructions"] - a["instructions"]
    return (d["instructions"] - c["instructions"] - idle) / wakes


_session = {}


def _session_figures():
    if not _session:
        with tempfile.TemporaryDirectory() as tmp:
            _session["run"] = _weekly_session(tmp)
            _session["bare"] = _bare_wake_instructions(tmp)
    return _session["run"], _session["bare"]


def cpu_per_change():
    (before, after, records, _), bare = _session_figures()
    session = [r for r in records if r["state"] in ("running", "paused")]
    per_change = (after["instructions"] - before["instructions"]) / len(session)
    return Row("instructions per output change, whole weekly session, real rp2 port",
               "a bare asyncio.sleep_ms loop writing a PWM duty: %s per wake" % fmt(bare),
               [per_change], "instructions", "at most 100x the baseline",
               per_change <= 100 * bare,
               "%s output changes in %s s of session (%s cycles in all)" % (
                   fmt(len(session)), fmt((after["t"] - before["t"]) / 1e9),
                   fmt(after["cycles"] - before["cycles"])))


def busy_fraction():
    (before, after, _, _), _ = _session_figures()
    busy = (after["cycles"] - before["cycles"]) * CYCLE_NS / (after["t"] - before["t"])
    return Row("fraction of a weekly session the CPU is busy, real rp2 port",
               "none (the rest is WFE sleep, which rp2040js skips)", [busy * 100], "%",
               "at most 5%", busy <= 0.05,
               "cycles executed x 8 ns over the session's emulated duration")


def timing_error():
    (_, _, _, lags), _ = _session_figures()

    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, len(values) * p // 100)]

    motor = lags["motor"]
    p99 = pct(motor, 99)
    return Row("timing error of the schedule to the motor PWM register change, real rp2 "
               "port (emulated time), p50 / p99 / max",
               "the schedule (%d motor changes, one whole weekly session)" % len(motor),
               [p99], "ms (p99)", "p99 at most 5 ms", p99 <= 5,
               "p50 %.2f ms, max %.2f ms: the wake is on time, this is the step computing at "
               "125 MHz. The LED lags more (p50 %.2f ms, max %.1f ms): Board.show() sets it "
               "after the motor's duty write" % (
                   pct(motor, 50), max(motor), pct(lags["led"], 50), max(lags["led"])))


MEM_FREE = """
import gc
from massager import program, routines
from massager.sequencer import Sequencer
import time
gc.collect()
before = gc.mem_free()
t = time.ticks_us()
prog = program.load(routines.text('weekly'))[0]
t = time.ticks_diff(time.ticks_us(), t)
seq = Sequencer(prog)
gc.collect()
print(before, gc.mem_free(), gc.mem_free() + gc.mem_alloc(), t)
"""


def mem_free():
    from host_tools.device import Device

    with tempfile.TemporaryDirectory() as tmp:
        with EmulatedPico(flashed_image(tmp), hold=True) as pico:
            pico.interrupt()
            with Device(pico.port) as dev:
                before, after, heap, load_us = (int(v) for v in dev.exec(MEM_FREE).split())
    return Row("gc.mem_free() after loading the weekly routine (program + sequencer), real "
               "rp2 port", "before loading, the firmware imported: %s B" % fmt(before),
               [after], "B free", "at least 64 KiB", after >= 65536,
               "heap %s B; the loaded routine holds %s B; validating and compiling it took "
               "%s ms of CPU at 125 MHz" % (fmt(heap), fmt(before - after),
                                            fmt(load_us // 1000)))


def push_vs_cp():
    cp, push = [], []
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "mine.json")
        with open(src, "w") as f:
            f.write(routines.text("weekly").replace('"weekly"', '"mine"'))
        with EmulatedPico(flashed_image(tmp)) as pico:
            pico.interrupt()  # not mid-boot: a Ctrl-C there only stops boot.py
            for _ in range(3):
                cp.append(_run("-m", "mpremote", "connect", pico.port, "fs", "cp", src,
                               ":/raw.json"))
                push.append(_run("-m", "host_tools", "push", "--port", pico.port, src))
    ratios = [p / c for p, c in zip(push, cp)]
    r = statistics.median(ratios)
    return Row("`massager push` time vs raw `mpremote fs cp` of the same file, emulated Pico "
               "over USB", "raw cp: %.2f s" % statistics.median(cp), ratios, "x",
               "at most 1.2x", r <= 1.2, "push: %.2f s; both whole CLI runs, the chip paced "
               "to the wall clock while the host talks" % statistics.median(push),
               why_not="the device-side check imports the validator and compiles the weekly "
               "routine on the 125 MHz core (about 0.3 s of CPU) before the rename: the same "
               "cost as at boot")


def second_flash():
    firsts, seconds = [], []
    for _ in range(2):
        with tempfile.TemporaryDirectory() as tmp:
            with EmulatedPico(os.path.join(tmp, "flash.img")) as pico:
                pico.wait(lambda e: e["ev"] == "usb")
                firsts.append(_run("-m", "host_tools", "flash", "--port", pico.port))
                pico.wait(lambda e: e["ev"] == "pin" and e["pin"] == LED(pico.config)
                          and e["duty"], timeout=300)  # the new firmware is up: idle
                seconds.append(_run("-m", "host_tools", "flash", "--port", pico.port))
    ratios = [a / b for a, b in zip(firsts, seconds)]
    r = statistics.median(ratios)
    return Row("second `massager flash` (nothing changed) vs the first, emulated Pico over "
               "USB", "first flash: %.1f s" % statistics.median(firsts), ratios, "x faster",
               "at least 5x faster", r >= 5, "second: %.1f s" % statistics.median(seconds),
               why_not="a second flash still compiles the firmware with mpy-cross, connects, "
               "interrupts the running firmware, soft-resets into boot.py (imports on the "
               "125 MHz core) and reads the device's file list and manifest; copying 31 KB "
               "over the emulated link is not most of the first flash")


FIGURES = [boot_to_idle, cpu_per_change, busy_fraction, timing_error, mem_free, push_vs_cp,
           second_flash]
