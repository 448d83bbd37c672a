"""Weeks of uptime: the app's clock stays a small int and nothing changes for the person.

MicroPython's small ints end at 2^30 - 1 on a 32-bit port: 12.4 days of milliseconds.
Above that an int lives on the heap and every wake would allocate, so the runtime sets
the app's clock back every few days and the app moves every time it holds with it.
"""

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpers import builtin
from massager.app import App
from simulator.device import SimDevice

DAY_MS = 24 * 3600 * 1000
SMALL_INT_MAX = (1 << 30) - 1


class Out:
    def show(self, motor, r, g, b):
        pass


def play(edges, until, shift_at=None, shift_ms=0):
    """Drive an App with button edges [(ms, pressed)] up to `until`, waking at next_wake();
    at `shift_at` its clock is set back by `shift_ms`. Returns the changes, in the
    caller's time: they must not depend on the shift."""
    changes = []
    offset = [0]

    def record(app, now):
        changes.append((now + offset[0], app.motor, app.led_r, app.led_g, app.led_b,
                        app.state, app.step, app.round, app.rep, app.cue))

    app = App([builtin("daily"), builtin("weekly")], Out(), on_change=record)
    app.begin(0)
    edges = list(edges)
    t = 0
    while True:
        wake = app.next_wake()
        wake = None if wake is None else wake + offset[0]
        edge_t = edges[0][0] if edges else None
        t = min(x for x in (wake, edge_t, until) if x is not None)
        if shift_at is not None and not offset[0] and t >= shift_at:
            app.shift(shift_ms)
            offset[0] = shift_ms
        if t == until:
            return changes
        if edge_t is not None and t == edge_t:
            app.edge(edges.pop(0)[1], t - offset[0])
        else:
            app.update(t - offset[0])


presses = st.lists(st.tuples(st.integers(0, 200000), st.integers(60, 3000)), max_size=6)


@settings(max_examples=40, deadline=None)
@given(presses, st.integers(0, 240000), st.integers(1, 1 << 29))
# Set back in idle while a click is still open (it starts the session 400 ms later).
@example([(0, 100)], 300, 1 << 29)
# Set back between the start and the pause: the pause click still counts (debounce).
@example([(0, 100), (60000, 100)], 30000, 1 << 29)
# Set back while held in a session: the long press still stops it 1 s after the press.
@example([(0, 100), (60000, 2000)], 60500, 1 << 29)
# While paused: the pause still ends the session 5 minutes after it began.
@example([(0, 100), (60000, 100)], 100000, 1 << 29)
# Late in a weekly session paused three times: the 20-minute cap still ends it on time.
@example([(0, 100), (100, 100), (1500, 100), (58000, 100), (295000, 100), (45000, 100),
          (295000, 100), (65000, 100), (295000, 100)], 1100000, 1 << 28)
def test_setting_the_clock_back_changes_nothing_a_person_sees(press_list, shift_at, shift_ms):
    edges = []
    t = 100
    for gap, hold in press_list:  # each press: down, then up after `hold`
        t += gap
        edges += [(t, True), (t + hold, False)]
        t += hold + 1
    until = t + 300000
    assert play(edges, until) == play(edges, until, shift_at, shift_ms)


def test_two_weeks_of_uptime_keep_the_clock_small_and_sessions_alike(tmp_path):
    dev = SimDevice(str(tmp_path))

    def session():
        start = len(dev.lines)
        dev.click()
        dev.run_until(dev.clock.ms + 150000)  # the daily routine and a while after it
        return [{k: v for k, v in json.loads(line).items() if k != "t"}
                for line in dev.lines[start:]]

    first = session()
    biggest = 0
    for _ in range(14):  # a day at a time; ticks wrap at 2^30 ms on the way (12.4 days)
        dev.run_until(dev.clock.ms + DAY_MS)
        biggest = max(biggest, dev.runtime.uptime)
    assert dev.app.state == "off"  # idle long ago: powered down; a press wakes it
    dev.click()
    dev.run_until(dev.clock.ms + 2000)
    later = session()
    assert dev.clock.ms > 14 * DAY_MS
    assert biggest <= SMALL_INT_MAX // 2
    assert max(json.loads(line)["t"] for line in dev.lines) <= SMALL_INT_MAX
    assert later == first and any(r["motor"] for r in later)


def test_sessions_across_the_moment_the_clock_is_set_back_are_alike(tmp_path):
    # A twin board, the same to the ms, finds the hour in which the runtime sets its
    # clock back (its uptime drops); this board plays sessions back to back through that
    # hour, then its cell runs flat: the check every 30 s still catches it.
    from test_safety_limits import _battery

    twin = SimDevice(str(tmp_path / "twin"))
    hour = 3600 * 1000
    last = 0
    while twin.runtime.uptime >= last:
        last = twin.runtime.uptime
        twin.run_until(twin.clock.ms + hour)
    rebase_hour = twin.clock.ms - hour
    dev = SimDevice(str(tmp_path / "dev"))
    dev.run_until(rebase_hour - 10 * 60 * 1000)

    def session():
        dev.click()  # off: the press wakes it; then the click starts the daily routine
        dev.run_until(dev.clock.ms + 1000)
        start = len(dev.lines)
        dev.click()
        dev.run_until(dev.clock.ms + 110000)
        assert dev.app.state in ("done", "idle")
        dev.run_until(dev.clock.ms + 5000)
        dev.press(True)  # held: power off, ready for the next one
        dev.run_until(dev.clock.ms + 4000)
        dev.press(False)
        dev.run_until(dev.clock.ms + 1000)
        assert dev.app.state == "off"
        return [{k: v for k, v in json.loads(line).items() if k != "t"}
                for line in dev.lines[start:]]

    first = session()
    seen = []
    rebased = 0
    while dev.clock.ms < rebase_hour + 2 * hour:
        before = dev.runtime.uptime
        seen.append(session() == first)
        if dev.runtime.uptime < before:
            rebased = len(seen)
    assert all(seen) and rebased > 1 and any(r["motor"] for r in first)
    dev.click()
    dev.run_until(dev.clock.ms + 1000)
    dev.click()
    dev.run_until(dev.clock.ms + 10000)
    assert dev.app.state == "running"
    _battery(dev, 3300, below=True)
    dev.run_until(dev.clock.ms + 31000)
    assert dev.app.state == "off"


def test_a_cell_that_runs_flat_in_a_session_across_the_setting_back_is_still_caught(
        tmp_path):
    # No wake from off between the last reading and the flat cell (a wake from off reads
    # the cell afresh): the session itself straddles the moment the clock is set back, and
    # the check every 30 s must go on across it.
    from test_safety_limits import _battery

    from promised import BATTERY_CUTOFF

    twin = SimDevice(str(tmp_path / "twin"))  # finds the minute the uptime drops
    minute = 60 * 1000
    while True:
        before = twin.runtime.uptime
        twin.run_until(twin.clock.ms + minute)
        if twin.runtime.uptime < before:
            break
    set_back_by = twin.clock.ms  # within the minute before this
    dev = SimDevice(str(tmp_path / "dev"))
    dev.run_until(set_back_by - 80 * 1000)
    dev.click()  # off: the press wakes it (and reads the cell)
    dev.run_until(dev.clock.ms + 1000)
    dev.click()  # the daily routine: about 100 s, across the setting back
    dev.run_until(set_back_by + 1000)
    assert dev.app.state == "running" and dev.runtime.uptime < set_back_by - minute
    _battery(dev, BATTERY_CUTOFF, below=True)
    dev.run_until(dev.clock.ms + 31000)
    assert dev.app.state == "off" and dev.sim.duty(dev.board.config["motor"]["pin"]) == 0
