"""rp2 on MicroPython 1.28.0: a watchdog that bites during lightsleep locks the chip up
until a power cycle (micropython #17228, fixed after 1.28.0 by commit 434b9da, PR #17546).
The simulated rp2 profile models it (simulator/board/port_rp2.py: bite_locks_up; machine.py:
Sim.lock_up), and the firmware cannot trigger it: with the watchdog armed, every lightsleep
it makes follows a feed and ends at least a second before the timeout
(firmware/massager/hal/power.py)."""

import json
import os
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_power import session, stop  # noqa: F401 - shared steps

from massager import safety
from massager.hal import config as hal_config
from simulator.device import SimDevice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
# docs/decisions.md, "The off state": an armed watchdog has at least a second left when a
# lightsleep ends. The promise, not safety.py's constant: changing that turns tests red.
SPARE = 1 * SECOND
EMULATED = (1, 28, 0)  # simulator/rp2040/image: the release the rp2 profile plays
LOCKS = [(1, 25, 0), EMULATED]  # #17228 was reported on 1.25.0; 1.28.0's modmachine.c
FIXED = [(1, 29, 0), (1, 30, 0)]  # releases after 434b9da
RP2_BOARDS = sorted(
    name for name in os.listdir(os.path.join(ROOT, "boards"))
    if os.path.exists(os.path.join(ROOT, "boards", name, "board.json"))
    and json.load(open(os.path.join(ROOT, "boards", name, "board.json")))["arch"] == "armv6m")


def board(name, watchdog_ms=None):
    """The board's pin map without its power latch: the lightsleep these tests hold is the
    off state of a board without one (and of one on USB); tests/test_latch.py has the
    latch."""
    with open(os.path.join(ROOT, "boards", name, "board.json")) as f:
        config = json.load(f)
    config.pop("power", None)
    if watchdog_ms is not None:
        config["watchdog_ms"] = watchdog_ms
    return config


# Every watchdog timeout an rp2 board.json may have: what check_config accepts.
ACCEPTED_MS = [ms for ms in range(10 * SECOND + 1)
               if hal_config.check_config(board("pico", ms)) is None]


def raw_sleep(dev, timeout, ms):
    """Issue 17228's reproduction, which the firmware never does: arm the watchdog, then
    one lightsleep(ms); the loop's wait ends with the sleep."""
    dev.sim.wake()
    dev.machine.WDT(timeout=timeout)
    dev.machine.lightsleep(ms)
    start = dev.clock.ms
    dev._next = start + ms
    dev.run_until(start + ms)


def record_sleeps(dev, monkeypatch):
    """Every lightsleep the firmware asks for, as (ms, watchdog): watchdog None while
    none is armed, else (its timeout, ms since its last feed) at the call."""
    from massager.hal import power as hal_power  # once a SimDevice made `machine`

    assert hal_power.machine is dev.machine  # the module the firmware sleeps through
    calls = []
    real = dev.machine.lightsleep

    def lightsleep(ms=None):
        w = dev.sim.wdt
        calls.append((ms, None if w is None else (w.timeout, dev.sim.now() - w.last_feed)))
        real(ms)

    monkeypatch.setattr(dev.machine, "lightsleep", lightsleep)
    return calls


def idle_off(dev):
    dev.run_until(dev.clock.ms + 5 * MINUTE + 200)
    assert dev.app.state == "off" and dev.asleep is not None and dev.asleep.kind == "light"


def assert_every_armed_sleep_is_fed_and_bounded(calls):
    armed = [(ms, w) for ms, w in calls if w is not None]
    for ms, (timeout, since_feed) in armed:
        assert since_feed == 0, "a lightsleep %d ms after the last feed" % since_feed
        assert ms <= timeout - SPARE, "lightsleep(%d) with a %d ms watchdog" % (ms, timeout)
    return armed


# -- the model: 1.28.0 locks up, a release with the fix resets ----------------------------

def test_the_accepted_timeouts_are_the_rp2_range_from_five_seconds():
    assert ACCEPTED_MS == list(range(5 * SECOND, 8388 + 1))  # ports/rp2/machine_wdt.c


def test_the_rp2_profile_plays_the_emulated_release_unless_told_otherwise(tmp_path):
    dev = SimDevice(str(tmp_path), config=board("pico"))
    assert dev.sim.release == EMULATED
    dev.sim.set_release(FIXED[0])
    assert dev.sim.release == FIXED[0]
    dev.sim.set_port("rp2")  # a new profile: its own release again
    assert dev.sim.release == EMULATED


@pytest.mark.parametrize("release", LOCKS, ids=lambda v: "%d.%d.%d" % v)
def test_a_bite_in_lightsleep_locks_the_chip_until_a_power_cycle(tmp_path, release):
    dev = SimDevice(str(tmp_path), config=board("pico"))
    dev.sim.set_release(release)
    raw_sleep(dev, timeout=3000, ms=5000)  # the issue's own numbers
    assert dev.lockups == 1 and dev.sim.locked and dev.resets == 0
    assert dev.sim.pin(dev.motor_pin).func == "in" and dev.motor_duty() == 0  # pads reset
    # Nothing runs: no wake, no output, no reset, whatever time or the button does.
    wakes, lines = dev.wakes, len(dev.lines)
    dev.run_until(dev.clock.ms + HOUR)
    dev.click()
    dev.run_until(dev.clock.ms + 10 * MINUTE)
    assert dev.sim.locked and dev.lockups == 1 and dev.resets == 0
    assert dev.wakes == wakes and len(dev.lines) == lines and dev.sim.log == []
    dev.power_cycle()  # the only way out
    assert not dev.sim.locked and dev.sim.cause == dev.machine.PWRON_RESET
    assert dev.app.state == "idle"
    session(dev)


@pytest.mark.parametrize("release", FIXED, ids=lambda v: "%d.%d.%d" % v)
def test_with_the_fix_a_bite_in_lightsleep_is_a_clean_watchdog_reset(tmp_path, release):
    dev = SimDevice(str(tmp_path), config=board("pico"))
    dev.sim.set_release(release)
    raw_sleep(dev, timeout=3000, ms=5000)
    assert dev.lockups == 0 and not dev.sim.locked
    assert dev.resets == 1 and dev.sim.cause == dev.machine.WDT_RESET
    assert dev.app.state == "idle" and dev.wakes > 0
    session(dev)


@pytest.fixture(scope="module")
def pico(tmp_path_factory):
    return SimDevice(str(tmp_path_factory.mktemp("pico")), config=board("pico"))


@given(timeout=st.integers(1, 8388), ms=st.integers(0, 20 * SECOND))
def test_on_1_28_a_raw_lightsleep_locks_exactly_when_it_outlasts_the_watchdog(pico, timeout,
                                                                               ms):
    pico.power_cycle()
    raw_sleep(pico, timeout, ms)
    assert pico.sim.locked == (ms > timeout)


# -- the firmware: never a bite in lightsleep ----------------------------------------------

@pytest.mark.parametrize("name", RP2_BOARDS)
def test_the_off_state_never_locks_up_on_1_28(tmp_path, monkeypatch, name):
    dev = SimDevice(str(tmp_path), config=board(name))
    assert dev.sim.release == EMULATED
    calls = record_sleeps(dev, monkeypatch)
    session(dev)  # arms the watchdog: it cannot be stopped again
    stop(dev)
    idle_off(dev)
    dev.run_until(dev.clock.ms + 8 * HOUR)
    dev.soft_reset()  # mpremote connects: the watchdog runs on, the firmware takes it back
    dev.run_until(dev.clock.ms + 5 * MINUTE + 200)
    assert dev.asleep is not None
    dev.run_until(dev.clock.ms + 8 * HOUR)
    dev.press(True)  # the wake press, then a session and off by the idle time again
    dev.run_until(dev.clock.ms + 100)
    dev.press(False)
    dev.run_until(dev.clock.ms + SECOND)
    session(dev)
    stop(dev)
    idle_off(dev)
    dev.run_until(dev.clock.ms + 8 * HOUR)
    assert dev.lockups == 0 and dev.resets == 0 and dev.sim.wdt is not None
    armed = assert_every_armed_sleep_is_fed_and_bounded(calls)
    assert len(armed) > 3 * 8 * HOUR // (5 * SECOND)  # it slept for real, armed, all along


@settings(max_examples=12)
@given(watchdog_ms=st.sampled_from(ACCEPTED_MS))
def test_any_accepted_watchdog_timeout_never_locks_the_off_state_up(watchdog_ms):
    config = board("pico", watchdog_ms)
    with tempfile.TemporaryDirectory() as flash, pytest.MonkeyPatch.context() as mp:
        dev = SimDevice(flash, config=config)
        calls = record_sleeps(dev, mp)
        session(dev)
        stop(dev)
        idle_off(dev)
        dev.run_until(dev.clock.ms + 2 * HOUR)
        assert dev.lockups == 0 and dev.resets == 0
        assert dev.sim.wdt is not None and dev.sim.wdt.timeout == watchdog_ms
        assert len(assert_every_armed_sleep_is_fed_and_bounded(calls)) > 2 * HOUR // watchdog_ms


@given(watchdog_ms=st.sampled_from(ACCEPTED_MS), asked=st.integers(0, 10 * MINUTE),
       since_feed=st.integers(0, 10 * SECOND), armed=st.booleans())
def test_power_sleep_feeds_then_sleeps_at_most_the_timeout_less_a_second(
        pico, watchdog_ms, asked, since_feed, armed):
    # Board.sleep (hal/power.py) whatever the loop asks: the one place the bound is kept.
    from massager.hal.board import Board

    since_feed %= watchdog_ms  # fed in time so far: the watchdog has not bitten
    pico.power_cycle()
    b = Board(board("pico", watchdog_ms))
    if armed:
        b.watchdog.start()
    pico.clock.ms += since_feed
    with pytest.MonkeyPatch.context() as mp:
        calls = record_sleeps(pico, mp)
        assert b.sleep(asked)
    assert len(calls) == 1
    ms, w = calls[0]
    if not armed:
        assert w is None and ms == asked  # nothing to bite: the loop's own wait
        return
    timeout, since = w
    assert timeout == watchdog_ms and since == 0  # fed right before the sleep
    assert ms == min(asked, watchdog_ms - SPARE)
    assert not pico.sim.wdt_expired(pico.sim.now() + ms + SPARE - 1)  # a second left


# -- the bound is what keeps it so ------------------------------------------------------

@pytest.mark.parametrize("bound", [True, False], ids=["bounded", "bound removed"])
def test_only_the_bound_keeps_a_too_long_sleep_request_from_locking_up(tmp_path, monkeypatch,
                                                                      bound):
    # A loop that asked for a minute's sleep with the watchdog armed (FEED_MS made 60 s
    # once off): the bound cuts it, the chip wakes, and the watchdog bites an awake chip,
    # which resets cleanly. Without the bound (the mutant) that bite falls in the sleep.
    dev = SimDevice(str(tmp_path), config=board("pico"))
    calls = record_sleeps(dev, monkeypatch)
    session(dev)
    stop(dev)
    idle_off(dev)
    monkeypatch.setattr(safety, "FEED_MS", MINUTE)
    if not bound:
        monkeypatch.setattr(safety, "WAKE_SPARE_MS", -HOUR)  # any sleep passes
    dev.run_until(dev.clock.ms + HOUR)
    assert max(ms for ms, w in calls if w is not None) == (4 * SECOND if bound else MINUTE)
    if bound:
        assert dev.lockups == 0 and dev.resets == 1 and not dev.sim.locked
    else:
        assert dev.lockups == 1 and dev.resets == 0 and dev.sim.locked
