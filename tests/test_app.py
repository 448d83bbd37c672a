# The state machine through the headless driver: what a person pressing the button gets.
import pytest
from hypothesis import given, settings

from helpers import builtin, play
from massager import app
from promised import DUTY_CAP, IDLE_OFF, PAUSE_STOP
from strategies import button_scripts


def states(records):
    return [r["state"] for r in records]


def at(records, t):
    """The outputs in effect at time t."""
    last = None
    for r in records:
        if r["t"] > t:
            break
        last = r
    return last


def test_short_press_starts_and_the_routine_ends_done():
    _, records = play(builtin("daily"))
    assert states(records)[:2] == ["idle", "running"]
    assert records[-1]["state"] == "done"


def test_pause_turns_the_motor_off_and_resume_continues():
    _, records = play(builtin("weekly"), "0:short,30000:short,60000:short,90000:double,"
                                         "120000:long")
    paused = [r for r in records if 30000 <= r["t"] < 60000]
    assert paused and all(r["state"] == "paused" and r["motor"] == 0 for r in paused)
    assert at(records, 61000)["state"] == "running"
    assert at(records, 90000)["step"] == at(records, 89999)["step"] + 1  # skip
    assert at(records, 120000)["state"] == "idle" and at(records, 120000)["motor"] == 0
    assert records[-1]["t"] == 120000


def test_raw_edges_work_like_gestures():
    _, records = play(builtin("daily"), "0:down,100:up,20000:down,21500:up")
    assert at(records, 1000)["state"] == "running"
    assert at(records, 21000)["state"] == "idle"  # the long press stopped it at 21000


def test_double_in_idle_selects_the_next_routine():
    progs = [builtin("daily"), builtin("weekly")]
    _, records = play(progs, "0:double,1000:short", until=2000)
    a = app.App(progs, _Null())
    a.begin(0)
    a.press("double", 0)
    assert a.selected == 1
    assert at(records, 1500)["state"] == "running"


def test_long_in_idle_changes_intensity_and_hold_powers_off():
    a = app.App([builtin("daily")], _Null())
    a.begin(0)
    start = a.level
    a.press("long", 100)
    assert a.level == (start + 1) % 3
    a.press("hold", 2100)
    assert a.state == app.OFF and a.level == start


def test_idle_powers_off_and_a_press_wakes_it():
    _, records = play(builtin("daily"), "", until=IDLE_OFF + 10)
    assert records[-1]["state"] == "off" and records[-1]["t"] == IDLE_OFF
    a = app.App([builtin("daily")], _Null())
    a.begin(0)
    a.update(IDLE_OFF)
    a.press("short", IDLE_OFF + 5)
    assert a.state == app.IDLE


def test_a_long_pause_ends_the_session():
    _, records = play(builtin("weekly"), "0:short,10000:short", until=10000 + PAUSE_STOP + 1)
    assert records[-1]["state"] == "idle" and records[-1]["t"] == 10000 + PAUSE_STOP


class _Null:
    def show(self, motor, r, g, b):
        self.last = (motor, r, g, b)


def test_the_change_count_moves_at_every_change_and_stays_a_small_int():
    # runtime._step tells a quiet wake by an unchanged count; on MicroPython an int past
    # 2**30 (the small-int range of a 32-bit port) is a heap object, so a count that grew
    # past it would allocate at every change of a long session.
    a = app.App([builtin("weekly")], _Null())
    counts = []
    a.on_change = lambda app_, now: counts.append(app_.changes)
    a.begin(0)
    a.press("short", 0)
    now = 0
    while a.state == app.RUNNING:
        now = a.next_wake()
        a.update(now)
    assert a.state == app.DONE and len(counts) > 1000  # a weekly is thousands of changes
    assert all(b != c for b, c in zip(counts, counts[1:]))
    assert all(0 <= c < 2 ** 30 for c in counts), max(counts)


@settings(max_examples=200)
@given(button_scripts(horizon=200000))
def test_invariants_hold_for_any_button_script(script):
    _, records = play([builtin("daily"), builtin("weekly")], script, until=400000)
    for r in records:
        assert 0 <= r["motor"] <= DUTY_CAP
        assert all(0 <= c <= 255 for c in r["led"])
        if r["state"] != "running":
            assert r["motor"] == 0
    times = [r["t"] for r in records]
    assert times == sorted(times)
    events = [item.split(":") for item in script.split(",") if item]
    for t, event in events:
        t = int(t)
        before = at(records, t - 1)
        if event == "long" and sum(1 for u, _ in events if int(u) == t) == 1 and before \
                and before["state"] in ("running", "paused"):
            assert at(records, t)["state"] == "idle" and at(records, t)["motor"] == 0


def test_the_light_tells_the_state():
    weekly = builtin("weekly")
    _, records = play(weekly, "0:short,10000:short", until=20000)
    idle, paused = records[0], records[-1]
    assert idle["state"] == "idle" and idle["led"] != [0, 0, 0]
    # Idle glows in the routine's colour, dimmed: at the default (middle) level of three
    # at the idle look's brightness, dimmer below it and brighter above.
    from massager import feel
    percent = feel.IDLE_LED[1]
    assert idle["led"] == [c * percent // 100 for c in weekly.color]
    assert paused["state"] == "paused" and paused["led"][0] > paused["led"][2]  # amber


def test_error_and_low_battery_lights():
    a = app.App([builtin("daily")], _Null())
    a.error = True
    a.begin(0)
    assert a.led_r > 0 and a.led_g == 0 and a.led_b == 0
    a.low_battery = True
    a.press("double", 10)
    assert a.led_r > 0 and a.led_g == 0 and a.led_r < 40


def test_button_scripts_read_as_a_timeline():
    from simulator.headless import parse_buttons

    assert parse_buttons("0:double,0:short,0:down,5:up") == [
        (0, "double"), (0, "short"), (0, "down"), (5, "up")]  # same-time events in order
    with pytest.raises(ValueError, match="item 2 '1000:short': 1000 ms is before the 5000 ms"):
        parse_buttons("5000:short,1000:short")
