# MicroPython's ticks_ms wraps at 2^30 ms (12.4 days of uptime) on the rp2 port. Here the
# emulated RP2040's TIMER starts a minute before that (simulator/pico.py timer_start_ms),
# and one weekly session runs across the wrap on the stock port: a press straddles the
# wrap, the session's pace, soft starts, watchdog feeds and battery checks run through it,
# and the idle timer that follows counts from there to off. All of it is held to the CPython
# simulator's trace of the same presses, whose clock starts at 0, far from any wrap.
import shutil

import pytest
from test_rp2040 import (
    BOOT_MS,
    LED,
    MOTOR,
    SELECT_WEEKLY,
    START_AT,
    TOLERANCE_MS,
    check_pins,
    expected,
    motor_running,
)

import promised
from simulator.pico import TICKS_PERIOD_MS, EmulatedPico
from simulator.pins import pin_series, value_at

BEFORE_WRAP_MS = 60000  # ticks_ms at power-up: this long before the wrap


def first(records, state, after=0):
    return next(r["t"] for r in records if r["state"] == state and r["t"] > after)


class WrapSession:
    """Power-up at ticks_ms = 2^30 - 60 s; weekly started at once; a short press whose
    down is before the wrap and whose release is after it (a pause), a resume, a long press
    (stop) 20 s after the wrap; then the idle timer to off, and a press that wakes the
    device."""

    def __init__(self, pico):
        held = pico.run(BOOT_MS)
        self.idle = pin_series(pico.changes(LED), 255)
        wrap = round(BEFORE_WRAP_MS - held)  # the wrap, in ms from the script's start
        edges = SELECT_WEEKLY + [(START_AT, 1), (START_AT + 100, 0)]
        edges += [(wrap - 60, 1), (wrap + 40, 0), (wrap + 3000, 1), (wrap + 3100, 0)]
        stop = motor_running(edges, wrap + 20000, 1200) + 100
        edges += [(stop, 1), (stop + 1500, 0)]
        plan = expected(edges, stop + 10 * 60000)
        self.off = first(plan, "off", stop)
        wake = self.off + 10000
        edges += [(wake, 1), (wake + 100, 0)]
        self.end = wake + 3000
        self.wrap = wrap
        self.at = pico.script(edges)
        pico.run(self.end + 1000)
        self.records = expected(edges, self.end)
        self.started = first(self.records, "running")
        self.paused = first(self.records, "paused")
        self.resumed = first(self.records, "running", self.paused)
        self.stopped = first(self.records, "idle", stop)
        self.woken = first(self.records, "idle", self.off)
        self.pins = {pin: pico.changes(pin) for pin in (MOTOR, LED)}
        self.resets = pico.count("watchdog") + pico.count("reset")
        self.boots = pico.count("boot")


@pytest.fixture(scope="module")
def wrapped(pico_image, tmp_path_factory):
    image = tmp_path_factory.mktemp("wrap") / "flash.img"
    shutil.copy(pico_image, image)
    with EmulatedPico(str(image), hold=True,
                      timer_start_ms=TICKS_PERIOD_MS - BEFORE_WRAP_MS) as pico:
        return WrapSession(pico)


def test_the_session_runs_across_the_wrap_with_a_press_straddling_it(wrapped):
    # What the simulator expects: running before the wrap, the pause its press makes once
    # released after it, and the resume.
    assert wrapped.started < wrapped.wrap - 40000
    assert wrapped.wrap < wrapped.paused < wrapped.wrap + 600
    assert wrapped.resumed > wrapped.wrap + 3000
    assert wrapped.resets == 0 and wrapped.boots == 1  # no watchdog bite through the wrap


def test_across_the_wrap_the_pins_follow_the_simulator(wrapped):
    # Pace, pause, resume, stop, done, idle, off and the wake, ms for ms.
    check_pins(wrapped, wrapped.end)


def test_the_idle_timer_after_the_wrap_powers_off_on_time(wrapped):
    led = pin_series(wrapped.pins[LED], 255)
    at = wrapped.at
    assert wrapped.off - wrapped.stopped == promised.IDLE_OFF
    assert value_at(led, at + wrapped.off - TOLERANCE_MS) > 0  # idle, lit
    assert value_at(led, at + wrapped.off + TOLERANCE_MS) == 0  # off, dark
    assert value_at(led, at + wrapped.woken + TOLERANCE_MS) > 0  # a press wakes it
    motor = pin_series(wrapped.pins[MOTOR], 100)
    assert all(v == 0 for t, v in motor if t > at + wrapped.stopped + TOLERANCE_MS)
