"""The off state sleeps for real, and the motor starts from still, on both simulated ports
(simulator/board/port_rp2.py: light sleep, port_esp32.py: deep sleep)."""

import json
import os
import sys

import pytest
import test_faithful_boards as faithful

import massager
from massager import program
from promised import FULL_CELL
from simulator.device import SimDevice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MINUTE = 60 * 1000
HOUR = 60 * MINUTE
board = faithful.board  # one real board.json per port profile
device = faithful.device  # the fixture: a SimDevice on each


def session(dev, ms=20000):
    dev.click()
    dev.run_until(dev.clock.ms + ms)
    assert dev.app.state == "running"


def stop(dev):
    dev.press(True)
    dev.run_until(dev.clock.ms + 1500)  # a long press stops
    dev.press(False)
    dev.run_until(dev.clock.ms + 100)
    assert dev.app.state == "idle"


def idle_off(dev):
    """Idle five minutes: the board powers down and sleeps."""
    dev.run_until(dev.clock.ms + 5 * MINUTE + 200)
    assert dev.asleep is not None


def motor_held_low(dev):
    """What keeps the motor off while the chip sleeps: rp2, the pin as a plain output
    driven low (its pad keeps the level with the clocks stopped); esp32, the pad held."""
    pin = dev.sim.pin(dev.motor_pin)
    if dev.sim.port.name == "esp32":
        return dev.sim.held(dev.motor_pin) and pin.held == ("out", 0)
    return pin.func == "out" and pin.level == 0 and dev.sim.duty(dev.motor_pin) == 0


# -- the off state --------------------------------------------------------------------------

def test_idle_five_minutes_then_the_board_sleeps_with_the_motor_pin_held_low(device):
    idle_off(device)
    kind = {"rp2": "light", "esp32": "deep"}[device.sim.port.name]
    assert device.asleep.kind == kind and device.app.state == "off"
    assert motor_held_low(device)
    assert device.lines[-1].count('"state": "off"') == 1 and '"motor": 0' in device.lines[-1]


def test_after_a_session_the_board_still_sleeps_and_the_motor_stays_held(device):
    session(device)
    stop(device)
    idle_off(device)
    assert motor_held_low(device)
    device.run_until(device.clock.ms + 2 * HOUR)
    assert motor_held_low(device) and device.resets == 0


def test_the_button_wakes_it_to_idle_and_a_session_runs_again(device):
    idle_off(device)
    device.run_until(device.clock.ms + 3 * HOUR)
    device.press(True)
    assert device.app.state == "idle"  # at the press, not after it
    device.run_until(device.clock.ms + 100)
    device.press(False)
    device.run_until(device.clock.ms + 1000)
    assert device.app.state == "idle" and device.asleep is None  # the wake press did no more
    session(device)
    assert max(device.sim.duties(device.motor_pin)) > 0 and not device.sim.held(device.motor_pin)


def test_a_wake_press_held_on_neither_changes_the_level_nor_powers_off_again(device):
    idle_off(device)
    level = device.app.level
    device.press(True)
    device.run_until(device.clock.ms + 4000)  # past a long press and a hold
    device.press(False)
    device.run_until(device.clock.ms + 1000)
    assert device.app.state == "idle" and device.app.level == level


def test_the_watchdog_cannot_bite_while_the_board_sleeps(device):
    session(device)  # arms it; it cannot be stopped again
    stop(device)
    idle_off(device)
    device.run_until(device.clock.ms + 10 * HOUR)
    assert device.resets == 0
    if device.sim.port.name == "rp2":
        # It kept counting: the loop slept at most 4 s at a time and fed it between.
        assert device.sim.wdt is not None and device.sim.sleeps > 10 * 3600 / 5
    else:
        assert device.sim.wdt is None  # powered down with the chip


def test_the_rp2_model_bites_a_lightsleep_longer_than_the_watchdog(tmp_path):
    # The control for the test above: the RP2040's watchdog counts through lightsleep, so
    # one long sleep resets the chip, on a release with commit 434b9da (1.28.0 locks up
    # instead: tests/test_rp2_lightsleep_lockup.py).
    dev = SimDevice(str(tmp_path), config=board("rp2"))
    dev.sim.set_release((1, 29, 0))
    session(dev)
    stop(dev)
    idle_off(dev)
    dev.sim.wake()
    dev.machine.lightsleep(60000)
    dev._next = dev.clock.ms + 60000
    dev.run_until(dev.clock.ms + 60000)
    assert dev.resets == 1 and dev.sim.cause == dev.machine.WDT_RESET and dev.lockups == 0


def test_rp2_dormant_is_never_woken_by_a_pin(tmp_path):
    # lightsleep() without a time is DORMANT: MicroPython 1.29 sets no GPIO wake for it,
    # so the firmware must not use it. The model refuses to wake it.
    dev = SimDevice(str(tmp_path), config=board("rp2"))
    dev.sim.wake()
    dev.machine.lightsleep()
    dev.sim.press(dev.button_pin, True)
    assert dev.sim.asleep.kind == "dormant" and not dev.sim.asleep.woke
    assert dev.board.button.pending() == 0  # the IRQ never ran


def test_esp32_wakes_from_deep_sleep_into_a_boot_told_apart_from_a_power_on(tmp_path,
                                                                           monkeypatch):
    dev = SimDevice(str(tmp_path), config=board("esp32"))
    frozen = type(sys)("board_config")  # boot.py finds this board's pin map
    frozen.CONFIG = board("esp32")
    monkeypatch.setitem(sys.modules, "board_config", frozen)
    assert dev.sim.cause == dev.machine.PWRON_RESET and not dev.board.power.woke_from_sleep()
    idle_off(dev)
    dev.press(True)
    assert dev.deep_wakes == 1 and dev.sim.cause == dev.machine.DEEPSLEEP_RESET
    assert dev.board.power.woke_from_sleep() and dev.app.state == "idle"
    # boot.py: the wake press is still down, and it is not a press held at power-up.
    assert dev.board.button.is_pressed() and run_boot(dev) is False
    dev.sim.reset_all()  # a power-up with the button held: safe mode
    dev.sim.press(dev.button_pin, True)
    assert run_boot(dev) is True


def run_boot(dev):
    boot = os.path.join(ROOT, "firmware", "boot.py")
    try:
        exec(compile(open(boot).read(), boot, "exec"), {"__name__": "__main__"})
        return massager.SAFE_MODE
    finally:
        massager.SAFE_MODE = False


def test_esp32_releases_the_held_motor_pin_at_boot_so_the_motor_runs(tmp_path):
    dev = SimDevice(str(tmp_path), config=board("esp32"))
    idle_off(dev)
    dev.click()
    dev.run_until(dev.clock.ms + 1000)
    assert not dev.sim.held(dev.motor_pin)
    session(dev)
    assert dev.sim.duty(dev.motor_pin) == dev.app.motor * 65535 // 100


def test_esp32_a_soft_reset_after_a_deep_sleep_wake_does_not_arm_the_watchdog(tmp_path):
    # RTC memory keeps the "armed" mark through deep sleep; the watchdog did not survive.
    dev = SimDevice(str(tmp_path), config=board("esp32"))
    session(dev)
    stop(dev)
    idle_off(dev)
    dev.click()
    dev.soft_reset()
    dev.board.watchdog.keep()  # what boot.py does
    assert dev.sim.wdt is None


def test_esp32_a_button_that_cannot_wake_it_keeps_the_board_awake(tmp_path):
    config = board("esp32")
    config["button"]["pin"] = 23  # not an RTC pin: ext0 refuses it (modesp32.c)
    dev = SimDevice(str(tmp_path), config=config)
    dev.run_until(5 * MINUTE + 200)
    assert dev.app.state == "off" and dev.asleep is None
    dev.run_until(dev.clock.ms + MINUTE)  # off, awake, the loop still waking
    assert open(dev.store.root + "/error.log").read().splitlines().count(
        "power: this board cannot sleep; off stays awake") == 1  # said once
    dev.click()
    assert dev.app.state == "idle"


def test_esp32_a_later_pin_irq_drops_the_ext0_wake_in_the_model(tmp_path):
    dev = SimDevice(str(tmp_path), config=board("esp32"))
    import esp32  # the simulated module, bound to this board

    esp32.wake_on_ext0(dev.board.button.pin, esp32.WAKEUP_ALL_LOW)
    assert dev.sim.ext0 == (dev.button_pin, False)
    dev.board.button.pin.irq(handler=None)
    assert dev.sim.ext0 is None
    with pytest.raises(ValueError):
        esp32.wake_on_ext0(dev.machine.Pin(23), esp32.WAKEUP_ALL_LOW)


def test_rp2_has_neither_pin_hold_nor_an_esp32_module(tmp_path):
    dev = SimDevice(str(tmp_path), config=board("rp2"))
    with pytest.raises(TypeError):
        dev.machine.Pin(dev.motor_pin, dev.machine.Pin.OUT, value=0, hold=True)
    with pytest.raises(ImportError):
        import esp32  # noqa: F401


# -- the motor starts from still -------------------------------------------------------------

GENTLE = {
    "format": 1, "name": "gentle", "intensity": 20, "rounds": 1,
    "breath": {"first_ms": 3000, "last_ms": 3000},
    "press": {"intensity": 20, "on_ms": 220, "off_ms": 160},
    "steps": [{"name": "Cheek", "zone": "cheekbone", "direction": "outward", "reps": 3,
               "moves": ["glide", "press", "glide"]}],
}


def starts(dev, since):
    """For every start from still after log entry `since`: the duty of its first write."""
    duties = [e[2] for e in dev.sim.log[since:] if e[0] == "duty" and e[1] == dev.motor_pin]
    return [d for prev, d in zip([0] + duties, duties) if prev == 0 and d > 0]


def test_a_gentle_routine_at_the_lowest_level_still_starts_the_motor(device):
    text = json.dumps(GENTLE)
    assert program.load(text)[1] == []
    device.store.ensure_dir()  # on the flash, as a push leaves it; the boot reads it
    with open(device.store.path(GENTLE["name"]), "w") as f:
        f.write(text)
    device.soft_reset()
    device.app.selected = len(device.app.programs) - 1
    assert device.app.programs[device.app.selected].name == GENTLE["name"]
    device.app.level = 0  # the lowest of the three levels
    log_at = len(device.sim.log)
    device.click()
    device.run_until(device.clock.ms + 15000)
    asked = [json.loads(x)["motor"] for x in device.lines]
    start_pct = device.board.config["motor"]["start_mv"] * 100 // device.board.config[
        "motor"]["rated_mv"]
    assert 0 < min(m for m in asked if m) < start_pct  # less than the motor needs to start
    kicks = starts(device, log_at)
    assert len(kicks) >= 6
    m = device.board.config["motor"]
    for duty in kicks:  # in mV on average across the motor, from the cell (full: unread)
        assert duty * FULL_CELL // 65535 >= m["start_mv"] - 1  # every start turns it
        assert duty * FULL_CELL // 65535 <= m["rated_mv"]  # never above its rating
    # Once turning, it settles at what the routine asked for.
    last = device.sim.duties(device.motor_pin)[-1]
    assert last in [p * m["rated_mv"] // 100 * 65535 // FULL_CELL for p in asked + [0]]


def test_the_soft_start_never_blocks_the_loop(device, monkeypatch):
    slept = []
    monkeypatch.setattr(device.clock, "sleep_ms", slept.append)
    device.app.selected = 1  # weekly
    device.click()
    device.run_until(device.clock.ms + 60000)
    assert slept == [] and device.ramp_steps > 0
    # Every trace change is emitted at the ms it is due (a blocking ramp made them late).
    assert device.app.state == "running"


def test_a_stop_during_a_soft_start_stops_the_motor_at_once(device):
    device.click()
    # Run until a start from still is under way, then stop in the middle of it.
    for _ in range(2000):
        device.run_until(device.clock.ms + 1)
        if device.board.motor.wait_ms() >= 0:
            break
    assert device.board.motor.wait_ms() >= 0 and device.sim.duty(device.motor_pin) > 0
    log_at = len(device.sim.log)
    device.app.press("long", device.runtime.now())  # a long press always stops
    assert device.app.state == "idle" and device.sim.duty(device.motor_pin) == 0
    device.run_until(device.clock.ms + 1000)
    writes = [e[2] for e in device.sim.log[log_at:] if e[0] == "duty"
              and e[1] == device.motor_pin]
    assert writes and set(writes) == {0}  # no soft-start step after the off
