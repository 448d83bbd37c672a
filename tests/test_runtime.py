# The device as a whole: runtime loop, hal and app on the simulated machine, virtual time.
import json
import os

import pytest

from massager import history
from promised import BATTERY_CUTOFF, BATTERY_WARN, STUCK_BUTTON
from simulator.device import SimDevice


@pytest.fixture(params=["pico", "esp32-devkit"])
def device(tmp_path, request):
    """The whole device on each port profile (rp2 for the Pico, esp32 for the devkit),
    without its power latch: off is the sleep (tests/test_latch.py has the latch)."""
    return SimDevice(str(tmp_path), config=_no_latch(request.param))


def _no_latch(name):
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "boards", name, "board.json")
    with open(path) as f:
        config = json.load(f)
    config.pop("power", None)
    return config


def records(dev):
    return [json.loads(line) for line in dev.lines]


def test_a_click_starts_the_routine_and_the_motor_follows_the_trace(device):
    device.click()
    device.run_until(20000)
    assert device.app.state == "running"
    assert device.motor_duty() == device.app.motor * 65535 // 100
    assert device.sim.wdt is not None and device.sim.wdt.feeds > 0


def test_start_pause_resume_skip_stop_on_the_weekly_routine(device):
    device.app.selected = 1  # weekly
    device.click()  # start
    device.run_until(10000)
    device.click()  # pause
    device.run_until(40000)
    assert device.app.state == "paused" and device.motor_duty() == 0
    device.click()  # resume
    device.run_until(50000)
    assert device.app.state == "running"
    step = device.app.step
    device.press(True)
    device.run_until(device.clock.ms + 80)
    device.press(False)
    device.run_until(device.clock.ms + 150)
    device.press(True)
    device.run_until(device.clock.ms + 80)
    device.press(False)  # double: skip
    device.run_until(60000)
    assert device.app.step == step + 1
    device.press(True)
    device.run_until(62000)  # held 2 s: the long press stops at 1 s
    assert device.app.state == "idle" and device.motor_duty() == 0
    device.press(False)
    recs = records(device)
    paused = [r for r in recs if r["state"] == "paused"]
    assert paused and all(r["motor"] == 0 for r in paused)
    assert recs[-1]["state"] == "idle" and recs[-1]["motor"] == 0


def test_the_loop_wakes_once_per_output_change(device):
    device.click()
    device.run_until(100000)
    # An output change is a trace line or a step of the motor's soft start (the kick from
    # still, then the strength asked for: board.json's start_min makes that one step).
    changes = len(device.lines) + device.ramp_steps
    assert device.ramp_steps > 0
    # Every wake changes an output, except the few the button and its gesture timer need.
    assert changes <= device.wakes <= changes + 6


def test_a_hang_while_running_resets_the_board_with_the_motor_off(device):
    device.click()
    device.run_until(15000)
    assert device.app.state == "running"
    device.run_until(30000, hang=True)
    assert device.resets == 1
    assert device.motor_duty() == 0 and device.app.state == "idle"


def test_a_hang_while_idle_changes_nothing(device):
    device.run_until(30000, hang=True)  # the watchdog is only armed by a session
    assert device.resets == 0


def test_an_exception_mid_routine_stops_the_motor_and_falls_back(device):
    device.click()
    device.run_until(12000)
    assert device.motor_duty() > 0 or device.app.state == "running"

    def broken(now):
        raise RuntimeError("boom")

    device.app.seq.update = broken
    device.run_until(device.runtime.app.seq.seg_end + 1)
    assert device.motor_duty() == 0
    assert device.app.state == "idle" and device.app.error
    assert "fault 1: RuntimeError: boom" in open(device.store.root + "/error.log").read()
    assert [(r["routine"], r["ending"]) for r in sessions(device)] == [("daily", "fault")]


def sessions(device):
    """The sessions the device remembers (its /history.bin, as `massager history` reads)."""
    with open(os.path.join(device.store.root, "history.bin"), "rb") as f:
        return history.parse(f.read())


def test_a_session_that_ended_just_before_the_loop_stops_is_remembered(device):
    device.click()
    device.run_until(8000)
    device.press(True)  # a long press stops it, at a wake that changes the outputs
    at = device.clock.ms
    while not device.app.ended and device.clock.ms < at + 3000:
        device.run_until(device.clock.ms + 1)
    assert device.app.ended  # not yet written: no quiet wake since
    device.runtime.halt()  # a host's Ctrl-C stops the loop here
    assert [(r["routine"], r["ending"]) for r in sessions(device)] == [("daily", "stopped")]


def test_a_fault_at_a_watchdog_wake_feeds_it_on_the_way_back(device):
    device.click()
    device.run_until(8000)
    device.press(True)  # a long press stops it: idle, the watchdog armed by the session
    device.run_until(9500)
    device.press(False)
    device.run_until(20000)  # idle: the loop wakes only to feed, every few seconds
    assert device.app.state == "idle" and device.sim.wdt is not None
    faults = []

    def broken(now):
        faults.append(now)
        raise RuntimeError("boom")

    device.app.update = broken  # the next wake's; the fallback app has its own
    device.run_until(40000)
    assert len(faults) == 1 and device.resets == 0, (faults, device.resets)
    assert device.app.state == "idle" and device.app.error


def test_a_stuck_button_stops_the_session_and_is_ignored(device):
    device.click()
    device.run_until(5000)
    device.press(True)
    device.run_until(5000 + STUCK_BUTTON + 500)
    # Held: the long press stopped it, the hold powered down, then it counts as stuck.
    assert device.app.state == "off" and device.motor_duty() == 0
    assert device.app.gestures.stuck
    device.app.press("short", device.clock.ms)  # nothing acts while it is stuck
    assert device.app.state == "off"


def test_low_battery_warns_then_cuts_off(device, tmp_path):
    pin = device.board.config["battery"]["pin"]
    divider = device.board.config["battery"]["divider_x100"]

    def raw_for(mv):
        return mv * 100 // divider * 65535 // 3300

    device.sim.set_adc(pin, raw_for(BATTERY_WARN - 50))
    device.click()
    device.run_until(40000)
    assert device.app.low_battery and device.app.state == "running"
    device.sim.set_adc(pin, raw_for(BATTERY_CUTOFF - 100))
    device.run_until(80000)
    assert device.app.state == "off" and device.motor_duty() == 0


def test_a_press_on_a_flat_cell_wakes_it_only_to_power_off_again(device):
    # After the cutoff, a press wakes the device: the cell is read at once, not at the
    # next 30 s check, so no session starts on it.
    pin = device.board.config["battery"]["pin"]
    divider = device.board.config["battery"]["divider_x100"]
    device.sim.set_adc(pin, (BATTERY_CUTOFF - 100) * 100 // divider * 65535 // 3300)
    device.run_until(61000)  # idle wakes at least every minute: the check reads it
    assert device.app.state == "off"
    device.click()
    device.run_until(device.clock.ms + 1200)
    assert device.app.state == "off"
    device.click()  # a second press, long before the next periodic check
    device.run_until(device.clock.ms + 3000)
    assert device.app.state == "off"
    assert all(json.loads(line)["motor"] == 0 for line in device.lines)


def test_an_esp32_held_awake_by_its_button_does_not_boot_over_and_over(tmp_path):
    # ext0 wakes on the button's level: a deep sleep entered while it is held ends at
    # once. On a flat cell the wake powers off again; held 3 s, that is one boot, not a
    # loop of them, and it sleeps when the button is let go.
    dev = SimDevice(str(tmp_path), config=_no_latch("esp32-devkit"))
    pin = dev.board.config["battery"]["pin"]
    divider = dev.board.config["battery"]["divider_x100"]
    dev.sim.set_adc(pin, (BATTERY_CUTOFF - 100) * 100 // divider * 65535 // 3300)
    dev.run_until(61000)
    assert dev.app.state == "off" and dev.sim.asleep is not None
    wakes = dev.deep_wakes
    dev.press(True)
    dev.run_until(dev.clock.ms + 3000)
    assert dev.deep_wakes == wakes + 1 and dev.app.state == "off"
    assert dev.sim.asleep is None  # awake while held: a sleep would end at once
    dev.press(False)
    dev.run_until(dev.clock.ms + 2000)
    assert dev.sim.asleep is not None and dev.deep_wakes == wakes + 1


def test_intensity_level_survives_a_power_cycle(tmp_path):
    dev = SimDevice(str(tmp_path))
    before = dev.app.level
    dev.press(True)
    dev.run_until(1500)
    dev.press(False)
    dev.run_until(1600)
    assert dev.app.level == (before + 1) % 3
    again = SimDevice(str(tmp_path))
    assert again.app.level == dev.app.level


def test_a_new_level_shows_at_once_and_is_written_at_a_later_quiet_wake(tmp_path,
                                                                          monkeypatch):
    """The flash write waits for a wake that changes no output: a block erase takes 45 ms
    (400 ms at most, W25Q16JV), which the new level's light would otherwise wait for (the
    soak's day 29 on the real port: the light 52 ms late)."""
    from massager.store import Store

    saves, save = [], Store.save_level

    def light():
        return dev.app.led_r, dev.app.led_g, dev.app.led_b

    def saving(store, level):
        saves.append((level, light()))
        save(store, level)

    monkeypatch.setattr(Store, "save_level", saving)
    dev = SimDevice(str(tmp_path))
    dev.run_until(100)
    before, idle = dev.app.level, light()
    dev.press(True)
    dev.run_until(1300)  # a long press: the next level, told by the idle light's brightness
    new = light()
    assert dev.app.level == (before + 1) % 3 and new != idle
    dev.press(False)  # the release's wake changes nothing: the level is written there
    dev.run_until(1400)
    assert saves == [(dev.app.level, new)]
    assert SimDevice(str(tmp_path)).app.level == dev.app.level


def test_button_held_at_power_up_is_safe_mode_with_the_builtins_only(tmp_path):
    import massager
    from massager import routines
    from massager.runtime import Runtime
    from massager.store import Store

    dev = SimDevice(str(tmp_path))  # the simulated machine and clock
    store = Store(str(tmp_path))
    store.ensure_dir()
    (tmp_path / "routines" / "mine.json").write_text(
        routines.text("daily").replace('"daily"', '"mine"'))
    assert [p.name for p in store.programs()[0]] == ["daily", "weekly", "mine"]
    dev.sim.reset_all()
    dev.sim.press(dev.button_pin, True)  # held while the board powers up
    boot = os.path.join(os.path.dirname(os.path.dirname(massager.__file__)), "boot.py")
    try:
        exec(compile(open(boot).read(), boot, "exec"), {"__name__": "__main__"})
        assert massager.SAFE_MODE
        assert dev.sim.duty(25) > 0  # the safe-mode light (mono LED on the Pico)
        rt = Runtime(dev.board, dev.clock, store, safe_mode=massager.SAFE_MODE)
        assert [p.name for p in rt.app.programs] == ["daily", "weekly"]
    finally:
        massager.SAFE_MODE = False
