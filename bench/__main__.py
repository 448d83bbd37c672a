# `make bench`: measure, compare with a baseline measured in the same run, write
# docs/benchmarks.md, and exit 1 when a goal is missed without a reason, so a regression
# is seen.
#
# Every figure is a ratio, a count or a worst case against a baseline from this run, never
# an absolute time judged against a fixed number: these machines are shared and noisy.
# The modules: device.py (the firmware on MicroPython), host.py (the host tools over a
# modelled link), report.py (Row and the page); the CPython figures are here.
import os
import statistics
import sys
import time

from bench import battery, circuit, device, host, rp2040
from bench.report import OUT, ROOT, Row, fmt, write
from massager import VERSION, program, routines
from massager.app import App
from simulator.headless import NoHardware

RUNS = 5


def weekly():
    return program.load(routines.text("weekly"))[0]


def wakeups_per_change():
    import tempfile

    from simulator.device import SimDevice

    values = []
    polls = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as flash:
            dev = SimDevice(flash)
            dev.app.selected = [p.name for p in dev.app.programs].index("weekly")
            start_wakes, start_lines, t0 = dev.wakes, len(dev.lines), dev.clock.ms
            start_ramp = dev.ramp_steps
            dev.click()
            dev.run_until(dev.clock.ms + 1000)  # the short press is decided after 400 ms
            while dev.app.state in ("running", "paused"):
                dev.run_until(dev.clock.ms + 60000)
            # An output change is a trace line or a soft-start step: each writes the motor.
            ramp = dev.ramp_steps - start_ramp
            changes = len(dev.lines) - start_lines + ramp
            values.append((dev.wakes - start_wakes) / changes)
            polls.append((dev.clock.ms - t0) / 10 / changes)  # a 10 ms polling loop
    v = statistics.median(values)
    return Row("device-loop wakeups per output change, weekly routine, CPython",
               "10 ms polling loop: %s wakeups per change" % fmt(statistics.median(polls)),
               values, "", "1.0", v <= 1.01,
               "output changes: the trace's and the %d soft-start steps (motor duty writes "
               "between them); the few extra wakes are the button's gesture timer; %.0fx "
               "fewer than polling" % (ramp, statistics.median(polls) / v))


def sim_speed():
    prog = weekly()
    fast, naive = [], []
    for _ in range(RUNS):
        app = App([prog], NoHardware())
        app.begin(0)
        t0 = time.perf_counter()
        app.press("short", 0)
        while app.state == "running":
            app.update(app.next_wake())
        fast.append(prog.total_ms / 1000 / (time.perf_counter() - t0))
    for _ in range(2):  # the baseline is slow: fewer runs
        app = App([prog], NoHardware())
        app.begin(0)
        t0 = time.perf_counter()
        app.press("short", 0)
        t = 0
        while app.state == "running":
            t += 1
            app.update(t)
        naive.append(prog.total_ms / 1000 / (time.perf_counter() - t0))
    v = statistics.median(fast)
    return Row("simulated seconds per wall second, weekly routine, CPython",
               "naive 1 ms stepping: %sx" % fmt(statistics.median(naive)), fast, "x",
               "at least 100,000x", v >= 100000,
               "%.0fx the baseline; the app and sequencer alone, without writing a trace"
               % (v / statistics.median(naive)))


def link_figures():
    rows = []
    for link in host.LINKS:
        rows.append(host.push_vs_cp(link))
        rows.append(host.push_vs_cp(link, cpu_slowdown=10))
        # The goal is for the UART, where copying dominates; USB copies 6x faster.
        rows.append(host.second_flash(link, 5 if link == "uart115200" else 2))
    return rows


def validate_text_cost():
    ratios, ascii_us = [], []
    for _ in range(device.RUNS):
        a, b = (int(x) for x in device.mpy("validate_time.py").split())
        ascii_us.append(a)
        ratios.append(b / a)
    r = statistics.median(ratios)
    return Row("validating the weekly routine with non-ASCII title and step names vs the same "
               "in ASCII, MicroPython", "ASCII: %s us" % fmt(statistics.median(ascii_us)),
               ratios, "x", "at most 1.25x", r <= 1.25,
               "the firmware checks UTF-8 (overlong, surrogates, range) and printable text "
               "itself, on bytes; MicroPython's decoder is not strict",
               why_not="the per-character checks run in Python on the device")


def rp2040_figures():
    return [figure() for figure in rp2040.FIGURES]


SECTIONS = [
    ("The device loop", "The firmware's own loop: on MicroPython (the WebAssembly build) "
     "with the simulated board, or on CPython where marked.",
     [wakeups_per_change, device.alloc_per_change, device.loop_alloc, device.ram_held,
      device.timing_at_motor, device.import_speed, validate_text_cost]),
    ("The simulator", "", [sim_speed]),
    ("Host tools over a board's link", host.INTRO, [link_figures]),
    ("The real rp2 port", "The stock MicroPython 1.28.0 rp2 port on rp2040js 1.4.1: CPU and "
     "timing in emulated time, see docs/rp2040.md.", [rp2040_figures]),
]


def main():
    sections = []
    rows = []
    for heading, text, figures in SECTIONS:
        got = []
        for figure in figures:
            print("bench: %s ..." % figure.__name__, flush=True)
            out = figure()
            for row in out if isinstance(out, list) else [out]:
                print("  %s: %s (goal %s)%s" % (row.figure, row.measured(), row.goal,
                                                "" if row.met else "  MISSED"), flush=True)
                got.append(row)
        sections.append((heading, text, got))
        rows += got
    write(sections, device.engine(), VERSION)
    battery.update(OUT)  # its own section: the battery-life model on real traces
    circuit.update(OUT)  # and the circuit's figures from ngspice
    print("bench: wrote %s" % os.path.relpath(OUT, ROOT))
    missed = [r for r in rows if not r.met]
    for r in missed:
        print("bench: GOAL MISSED: %s: %s" % (r.figure, r.why_not or "no explanation"),
              file=sys.stderr)
    # A miss with no explanation is a regression; an explained one is a known limit.
    return 1 if any(not r.why_not for r in missed) else 0


if __name__ == "__main__":
    sys.exit(main())
