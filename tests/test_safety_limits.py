# Every safety limit, measured from the outside against the promised numbers
# (tests/promised.py), from both sides: what happens just before the limit and at it.
import json

import pytest
from test_app import at

from helpers import builtin, play, routine_doc
from massager import app as device
from massager import program
from massager.hal import config as hal_config
from promised import (
    BATTERY_CUTOFF,
    BATTERY_WARN,
    CONTINUOUS_RUN,
    DEFAULT_LEVEL,
    DONE_LIGHT,
    DUTY_CAP,
    FULL_CELL,
    IDLE_OFF,
    LEVELS,
    MINUTE,
    PAUSE_STOP,
    ROUTINE_MAX,
    SECOND,
    SESSION_CAP,
    STUCK_BUTTON,
    WATCHDOG,
)
from simulator import headless
from simulator.device import SimDevice


def first(records, pred, after=0):
    return next(r for r in records if r["t"] >= after and pred(r))


def strong(strength, name="strong"):
    """A routine whose glides and presses all ask for `strength` %."""
    doc = routine_doc(name=name, intensity=strength, press={"intensity": strength},
                      rounds=1)
    doc["steps"] = [{"name": "Jaw", "zone": "jaw", "direction": "up", "reps": 2,
                     "moves": ["glide", "press"], "intensity": strength}]
    return doc


def compiled(doc):
    prog, errors = program.load(json.dumps(doc))
    assert errors == [], errors
    return prog


def play_level(prog, level_index, buttons="0:short"):
    lines = []
    headless.play([prog], headless.parse_buttons(buttons), lines.append, level=level_index)
    return [json.loads(line) for line in lines]


# -- duty cap and intensity levels --------------------------------------------------------

@pytest.mark.parametrize("level", range(len(LEVELS)), ids=lambda i: "%d%%" % LEVELS[i])
@pytest.mark.parametrize("strength", [89, 90, 91, 100])
def test_the_motor_never_passes_the_cap_at_any_level(level, strength):
    records = play_level(compiled(strong(strength)), level)
    assert records[-1]["state"] == "done"
    # The routine's strength scaled by the level, never above the cap; below the cap
    # exactly what was asked (the cap cuts nothing it need not).
    assert max(r["motor"] for r in records) == min(DUTY_CAP, strength * LEVELS[level] // 100)


def test_every_strength_up_to_the_cap_is_kept_and_none_passes_it():
    from massager.safety import clamp_strength  # the one place strengths are made safe

    assert [clamp_strength(p) for p in range(-3, 120)] == [
        max(0, min(DUTY_CAP, p)) for p in range(-3, 120)]


def test_the_cap_holds_at_the_motor_pin(tmp_path):
    (tmp_path / "routines").mkdir()
    (tmp_path / "routines" / "strong.json").write_text(json.dumps(strong(100)))
    dev = SimDevice(str(tmp_path))
    dev.app.selected = [p.name for p in dev.app.programs].index("strong")
    _long_press(dev)  # the next level: the strongest
    dev.click()
    dev.run_until(dev.clock.ms + 2 * MINUTE)
    assert dev.app.state in ("done", "idle")
    # The cap, in volts: DUTY_CAP % of the motor's rating from the cell (full: unread).
    rated = dev.board.config["motor"]["rated_mv"]
    assert max(dev.sim.duties(dev.motor_pin)) == DUTY_CAP * rated // 100 * 65535 // FULL_CELL


def _long_press(dev, ms=1500):
    dev.press(True)
    dev.run_until(dev.clock.ms + ms)
    dev.press(False)
    dev.run_until(dev.clock.ms + SECOND)


def test_a_new_device_plays_at_the_default_level_and_a_long_press_steps_the_levels(
        tmp_path):
    prog = compiled(strong(100))
    lines = []
    headless.play([prog], headless.parse_buttons("0:short"), lines.append)
    seen = [max(json.loads(x)["motor"] for x in lines)]
    # Long presses in idle, then a session: each at the next level, wrapping around.
    for n in range(1, len(LEVELS) + 1):
        script = ",".join("%d:long" % (i * 2000) for i in range(n)) + ",%d:short" % (n * 2000)
        lines = []
        headless.play([prog], headless.parse_buttons(script), lines.append)
        seen.append(max(json.loads(x)["motor"] for x in lines))
    i = LEVELS.index(DEFAULT_LEVEL)
    order = [LEVELS[(i + n) % len(LEVELS)] for n in range(len(LEVELS) + 1)]
    assert seen == [min(DUTY_CAP, level) for level in order]
    # The level a device remembers starts it the same way after a power cycle.
    dev = SimDevice(str(tmp_path))
    _long_press(dev)
    assert SimDevice(str(tmp_path)).app.level == dev.app.level != LEVELS.index(DEFAULT_LEVEL)


# -- time limits --------------------------------------------------------------------------

WEEKLY_PAUSED = "0:short,300000:short,590000:short,600000:short,%d:short"


def shifted(script, by):
    return ",".join("%d:%s" % (int(t) + by, e) for t, e in
                    (item.split(":") for item in script.split(",")))


@pytest.mark.parametrize("start", [0, 2 * MINUTE])
def test_a_session_stretched_by_pauses_stops_at_the_cap(start):
    # Weekly (under 14 min) with two pauses of under 5 min: it would end after 21 min.
    _, records = play(builtin("weekly"), shifted(WEEKLY_PAUSED % 890000, start),
                      until=start + SESSION_CAP + MINUTE)
    assert at(records, start + SESSION_CAP - 1)["state"] == "running"
    stop = at(records, start + SESSION_CAP)
    assert stop["t"] == start + SESSION_CAP and stop["state"] == "done"
    assert stop["motor"] == 0
    assert not any(r["cue"] == "end" for r in records)  # cut, not finished


def test_a_session_that_ends_just_before_the_cap_is_not_cut():
    # The second pause is stretched so the routine's own end comes 2 s before the cap
    # (a longer pause moves the end by as much: the stroke restarts the same way).
    def end(resume):
        _, records = play(builtin("weekly"), WEEKLY_PAUSED % resume,
                          until=SESSION_CAP + MINUTE)
        return first(records, lambda r: r["state"] == "done")["t"], records

    probe, _ = end(610000)
    _, records = end(610000 + SESSION_CAP - 2 * SECOND - probe)
    done = first(records, lambda r: r["state"] == "done")
    assert SESSION_CAP - 5 * SECOND < done["t"] < SESSION_CAP
    assert at(records, done["t"] - 1)["cue"] == "end"  # the routine's own end


@pytest.mark.parametrize("start", [0, 2 * MINUTE])
def test_a_pause_that_runs_into_the_cap_ends_the_session_at_the_cap(start):
    script = WEEKLY_PAUSED % 890000 + ",%d:short" % (SESSION_CAP - MINUTE)
    _, records = play(builtin("weekly"), shifted(script, start),
                      until=start + SESSION_CAP + MINUTE)
    assert at(records, start + SESSION_CAP - 1)["state"] == "paused"  # paused only 1 min
    stop = at(records, start + SESSION_CAP)
    assert stop["t"] == start + SESSION_CAP and stop["state"] == "idle"
    assert stop["motor"] == 0


def test_a_pause_ends_the_session_after_five_minutes_and_not_before():
    _, records = play(builtin("weekly"), "0:short,60000:short", until=60000 + PAUSE_STOP + 1)
    assert at(records, 60000 + PAUSE_STOP - 1)["state"] == "paused"
    stop = records[-1]
    assert stop["t"] == 60000 + PAUSE_STOP and stop["state"] == "idle" and stop["motor"] == 0
    # Resumed a moment before the limit: the session goes on.
    _, records = play(builtin("weekly"), "0:short,60000:short,%d:short" % (
        60000 + PAUSE_STOP - 1), until=60000 + PAUSE_STOP + MINUTE)
    assert at(records, 60000 + PAUSE_STOP + MINUTE)["state"] == "running"


def test_idle_powers_off_after_five_minutes_and_not_before():
    _, records = play(builtin("daily"), "", until=IDLE_OFF + MINUTE)
    assert at(records, IDLE_OFF - 1)["state"] == "idle"
    assert [(r["t"], r["state"]) for r in records[1:]] == [(IDLE_OFF, "off")]
    # After a session: the done light, idle, then off, each after its promised time.
    _, records = play(builtin("daily"), "0:short", until=30 * MINUTE)
    done = first(records, lambda r: r["state"] == "done")["t"]
    assert [(r["t"] - done, r["state"]) for r in records if r["t"] >= done] == [
        (0, "done"), (DONE_LIGHT, "idle"), (DONE_LIGHT + IDLE_OFF, "off")]


class _Frozen:
    """Stands in for a sequencer that stopped changing its outputs: a fault the
    continuous-run limit exists for (every valid routine rests within each breath)."""

    def __init__(self, seq):
        self.__dict__.update(seq.__dict__)
        self.finished = False

    def update(self, now):
        return False

    def next_change_ms(self):
        return None

    def stop(self):
        self.finished = True
        self.motor = 0

    def shift(self, ms):
        pass  # its outputs never change: no time of its own to move


def _drive(app, until):
    now = 0
    while True:
        wake = app.next_wake()
        if wake is None or wake > until:
            return
        now = max(now, wake)
        app.update(now)


def _stuck_in_a_stroke():
    """A weekly session whose sequencer froze in its first stroke: the app, its changes
    (ms, state, motor) and when the motor came on."""
    changes = []
    a = device.App([builtin("weekly")], headless.NoHardware(),
                   on_change=lambda app, now: changes.append((now, app.state, app.motor)))
    a.begin(0)
    a.press("short", 0)
    _drive(a, 5 * SECOND)  # into the first stroke
    assert a.motor > 0
    on_since = max(t for t, s, m in changes if m == 0) if changes else 0
    on_since = min(t for t, s, m in changes if m > 0 and t > on_since)
    a.seq = _Frozen(a.seq)
    return a, changes, on_since


def test_a_motor_that_never_rests_is_stopped_after_fifteen_seconds():
    a, changes, on_since = _stuck_in_a_stroke()
    _drive(a, on_since + CONTINUOUS_RUN - 1)
    assert a.state == device.RUNNING and a.motor > 0
    _drive(a, on_since + CONTINUOUS_RUN + MINUTE)
    assert changes[-2][0] == on_since + CONTINUOUS_RUN
    assert changes[-2][1:] == ("done", 0)


def test_a_clock_set_back_while_the_motor_never_rests_still_stops_it_after_fifteen_s():
    a, changes, on_since = _stuck_in_a_stroke()
    now = max(t for t, s, m in changes)
    back = now - 1  # the runtime sets the app's clock back (uptime rebase), here to 1 ms
    a.shift(back)
    _drive(a, now - back + CONTINUOUS_RUN + MINUTE)
    stop = [t for t, s, m in changes if s == "done"]
    assert stop and stop[0] + back == on_since + CONTINUOUS_RUN


def test_the_longest_breath_is_not_cut_by_the_continuous_run_limit():
    doc = routine_doc(breath={"first_ms": 12000, "last_ms": 12000}, intensity=100)
    _, records = play(compiled(doc))
    assert records[-1]["state"] == "done"
    assert at(records, records[-1]["t"] - 1)["cue"] == "end"
    # The longest stretch of motor on, in a valid routine, is under the limit.
    longest = on = 0
    for r, nxt in zip(records, records[1:]):
        on = on + nxt["t"] - r["t"] if r["motor"] else 0
        longest = max(longest, on)
    assert 10 * SECOND < longest < CONTINUOUS_RUN


def test_routine_length_limit_is_eighteen_minutes():
    def routine_of(breath_ms):
        # start cue 1.95 s + 250 strokes + end cue 2.3 s, no other cues.
        doc = routine_doc(rounds=10, breath={"first_ms": breath_ms, "last_ms": breath_ms},
                          cues={"step": False, "side": False, "round": False})
        doc["steps"] = [{"name": "s%d" % i, "zone": "cheek", "direction": "up", "reps": 5}
                        for i in range(5)]
        return json.dumps(doc)

    exact = routine_of((ROUTINE_MAX - 4250) // 250)
    prog, errors = program.load(exact)
    assert errors == []
    _, records = play(prog)
    assert records[-1]["state"] == "done" and records[-1]["t"] == ROUTINE_MAX
    prog, errors = program.load(routine_of((ROUTINE_MAX - 4250) // 250 + 1))
    assert prog is None and errors == [
        "steps: the routine lasts 18:00, longer than the 18:00 limit"]


# -- the button -----------------------------------------------------------------------------

def test_a_button_held_ten_seconds_is_ignored_until_released():
    a = device.App([builtin("daily")], headless.NoHardware())
    a.begin(0)
    a.press("short", 0)
    a.edge(True, 1000)  # held down from 1 s: a long press stops the session at 2 s ...
    _drive(a, 1000 + STUCK_BUTTON - 1)
    assert a.state == device.OFF  # ... and a hold powers it down
    a.press("short", 1000 + STUCK_BUTTON - 1)  # any other input still counts ...
    assert a.state == device.IDLE
    a.press("short", 1000 + STUCK_BUTTON)  # ... until the button has been held 10 s
    assert a.state == device.IDLE and a.motor == 0
    a.edge(False, 1000 + STUCK_BUTTON + 500)
    a.press("short", 1000 + STUCK_BUTTON + 600)  # released: it works again
    assert a.state == device.RUNNING


# -- faults, watchdog, battery (the whole device on the simulated board) --------------------

def _start(dev, name="weekly"):
    dev.app.selected = [p.name for p in dev.app.programs].index(name)
    dev.click()


def _run_until_motor_on(dev, limit=MINUTE):
    end = dev.clock.ms + limit
    while dev.motor_duty() == 0 and dev.clock.ms < end:
        dev.run_until(dev._next)
    assert dev.motor_duty() > 0


def test_a_fault_while_the_motor_runs_stops_it_at_the_pin(tmp_path):
    dev = SimDevice(str(tmp_path))
    _start(dev)
    _run_until_motor_on(dev)

    def broken(now):
        raise RuntimeError("injected")

    dev.app.seq.update = broken
    dev.run_until(dev._next)  # the very next wake raises
    assert dev.motor_duty() == 0 and dev.sim.duties(dev.motor_pin)[-1] == 0
    assert dev.app.state == "idle" and dev.app.error


def test_a_hang_stops_the_motor_within_five_seconds(tmp_path):
    dev = SimDevice(str(tmp_path))
    _start(dev)
    _run_until_motor_on(dev)
    resets = []
    real = dev.watchdog_reset
    dev.watchdog_reset = lambda: (resets.append(dev.clock.ms), real())
    hang_at = dev.clock.ms
    dev.run_until(hang_at + 10 * WATCHDOG, hang=True)
    assert len(resets) == 1 and resets[0] - hang_at <= WATCHDOG + 1
    assert dev.motor_duty() == 0 and dev.app.state == "idle"


def test_a_long_pause_is_not_mistaken_for_a_hang(tmp_path):
    dev = SimDevice(str(tmp_path))
    _start(dev)
    dev.run_until(10 * SECOND)
    dev.click()  # pause: nothing changes for minutes, yet the loop keeps feeding the dog
    dev.run_until(10 * SECOND + PAUSE_STOP - SECOND)
    assert dev.app.state == "paused" and dev.resets == 0


def _battery(dev, mv, below=False):
    """Set the ADC to the reading nearest `mv` from above (or, below=True, from below):
    the divider makes only some voltages readable. Returns the voltage the device reads."""
    bat = dev.board.config["battery"]
    guess = mv * 100 // bat["divider_x100"] * 65535 // 3300
    readings = []
    for raw in range(guess - 100, guess + 100):
        dev.sim.set_adc(bat["pin"], raw)
        readings.append((dev.board.battery.millivolts(), raw))
    got, raw = (max(r for r in readings if r[0] < mv) if below else
                min(r for r in readings if r[0] >= mv))
    dev.sim.set_adc(bat["pin"], raw)
    assert abs(got - mv) < 10
    return got


@pytest.mark.parametrize("divider", [300, 200], ids=["VSYS/3", "2:1"])
@pytest.mark.parametrize("mv, below, warned, stopped", [
    (BATTERY_WARN, False, False, False), (BATTERY_WARN, True, True, False),
    (BATTERY_CUTOFF, False, True, False), (BATTERY_CUTOFF, True, True, True)],
    ids=["3.5V", "under-3.5V", "3.3V", "under-3.3V"])
def test_battery_warning_and_cutoff(tmp_path, mv, below, warned, stopped, divider):
    # Two dividers: a 2:1 one reads in 2 mV steps, so the limits themselves are readable.
    config = json.loads(json.dumps(hal_config.DEFAULT))
    config["battery"]["divider_x100"] = divider
    dev = SimDevice(str(tmp_path), config=config)
    _start(dev)
    _battery(dev, mv, below)
    dev.run_until(MINUTE)  # the battery is checked every 30 s
    if stopped:
        assert dev.app.state == "off" and dev.motor_duty() == 0
        return
    assert dev.app.state == "running"
    dev.click()  # pause: the paused light tells the battery
    dev.run_until(dev.clock.ms + SECOND)
    last = json.loads(dev.lines[-1])
    assert last["state"] == "paused"
    red_only = last["led"][0] > 0 and last["led"][1] == last["led"][2] == 0
    assert red_only == warned
