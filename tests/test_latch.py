"""The power latch on the simulated board (simulator/board/machine.py, simulator/device.py)
with the firmware's own off paths (hal/power.py Power.cut, runtime.rest): every way to off
unpowers a board on its cell (RAM and state gone, the flash kept, nothing runs, the motor
pin undriven); a press long enough for the boot powers it on again (reset cause PWRON);
on USB off is the sleep as before; a power loss at any point of a routine's install leaves
the old routine or the new one after the next press, never a broken one."""

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from massager import routines
from promised import (
    BATTERY_CUTOFF,
    CUT_WAIT,
    IDLE_OFF,
    POWER_ON_PRESS,
    SAFE_MODE_HOLD,
    STUCK_BUTTON,
)
from simulator import circuit
from simulator.device import SimDevice

BOARDS = ["pico", "rp2040-zero", "esp32-devkit"]
MINUTE = 60 * 1000


def make(tmp_path, name="pico", usb=False):
    return SimDevice(str(tmp_path), config=circuit.load_config(name), usb=usb)


@pytest.fixture(params=BOARDS)
def dev(request, tmp_path):
    return make(tmp_path, request.param)


def unpowered(dev):
    """What an unpowered board shows: nothing runs, no pin is driven (the motor pin an
    input: its gate pull-down holds the motor off), no watchdog, no timer."""
    motor = dev.sim.pin(dev.motor_pin)
    return (not dev.powered and dev.sim.off and dev.sim.wdt is None and not dev.sim.timers
            and motor.func == "in" and dev.sim.duty(dev.motor_pin) == 0
            and dev.sim.asleep is None)


def hold_off(dev):
    dev.press(True)
    dev.run_until(dev.clock.ms + 3500)
    dev.press(False)
    dev.run_until(dev.clock.ms + 500)


def power_on(dev, ms=100):
    dev.press(True)
    dev.run_until(dev.clock.ms + ms)
    dev.press(False)
    dev.run_until(dev.clock.ms + 100)


def test_boot_drives_the_hold_pin_high(dev):
    hold = dev.board.config["power"]["hold_pin"]
    assert dev.sim.pin(hold).func == "out" and dev.sim.level(hold) == 1
    assert dev.powered and dev.board.power.holding


def test_holding_three_seconds_unpowers_the_board(dev):
    hold_off(dev)
    assert unpowered(dev), dev.sim.pin(dev.motor_pin).__dict__
    assert dev.lines[-1].count('"state": "off"') == 1
    # Nothing runs any more: no line, no wake, however long.
    lines, wakes = len(dev.lines), dev.wakes
    dev.run_until(dev.clock.ms + 24 * 60 * MINUTE)
    assert (len(dev.lines), dev.wakes) == (lines, wakes) and unpowered(dev)


def test_five_idle_minutes_unpower_the_board(dev):
    dev.run_until(IDLE_OFF - 1000)
    assert dev.powered
    dev.run_until(IDLE_OFF + 1000)
    assert unpowered(dev)


def test_a_session_left_to_end_unpowers_the_board_after_the_idle_time(dev):
    dev.app.selected = [p.name for p in dev.app.programs].index("daily")
    dev.click()
    dev.run_until(dev.clock.ms + 3 * MINUTE)  # the daily routine is under 2 minutes
    assert dev.powered and dev.app.state == "idle"
    dev.run_until(dev.clock.ms + IDLE_OFF + 1000)
    assert unpowered(dev)


def test_a_flat_cell_unpowers_the_board(dev):
    from simulator.adc_view import adc_view, apply

    apply(dev.sim, adc_view(dev.board.config, BATTERY_CUTOFF - 100))
    dev.run_until(dev.clock.ms + 61000)  # the next battery check
    assert unpowered(dev)


def test_a_stuck_button_keeps_the_power_until_it_is_let_go(tmp_path):
    # A button held down pulls the latch's gate low through D3: the hardware keeps the
    # power, whatever the firmware does; let go, the idle time runs and off cuts it.
    dev = make(tmp_path)
    dev.click()
    dev.run_until(dev.clock.ms + 5000)
    dev.press(True)
    dev.run_until(dev.clock.ms + IDLE_OFF + STUCK_BUTTON + 60000)
    assert dev.powered and dev.sim.duty(dev.motor_pin) == 0
    dev.press(False)
    dev.run_until(dev.clock.ms + IDLE_OFF + 10000)
    assert unpowered(dev)


def test_a_press_powers_it_on_to_idle_from_power_on(dev):
    hold_off(dev)
    assert unpowered(dev)
    power_on(dev)
    assert dev.powered and dev.power_ons == 1 and dev.app.state == "idle"
    assert dev.sim.cause == dev.machine.PWRON_RESET
    hold = dev.board.config["power"]["hold_pin"]
    assert dev.sim.level(hold) == 1


def test_power_off_forgets_ram_and_keeps_the_flash(tmp_path):
    dev = make(tmp_path)
    dev.press(True)  # a long press in idle: the next level, saved on the flash
    dev.run_until(dev.clock.ms + 1200)
    dev.press(False)
    dev.run_until(dev.clock.ms + 100)
    level = dev.app.level
    runtime = dev.runtime
    dev.app.selected = 1  # RAM only
    hold_off(dev)
    power_on(dev)
    assert dev.runtime is not runtime and dev.app.selected == 0  # a fresh boot
    assert dev.app.level == level  # from settings.json


def test_without_a_latch_off_is_the_sleep_as_before(tmp_path):
    cfg = circuit.load_config("pico")
    del cfg["power"]
    dev = SimDevice(str(tmp_path), config=cfg)
    hold_off(dev)
    assert dev.powered and dev.asleep is not None and dev.sim.power_offs == 0


@pytest.mark.parametrize("name", BOARDS)
def test_on_usb_off_is_the_sleep_and_unplugging_then_unpowers_it(tmp_path, name):
    dev = make(tmp_path, name, usb=True)
    hold = dev.board.config["power"]["hold_pin"]
    hold_off(dev)
    assert dev.powered and dev.asleep is not None and dev.app.state == "off"
    assert dev.sim.level(hold) == 0  # let go all the same
    dev.set_usb(False)
    assert unpowered(dev)


def test_on_usb_a_press_wakes_it_and_it_holds_the_power_again(tmp_path):
    dev = make(tmp_path, usb=True)
    hold = dev.board.config["power"]["hold_pin"]
    hold_off(dev)
    dev.click()
    dev.run_until(dev.clock.ms + 500)
    assert dev.app.state == "idle" and dev.sim.level(hold) == 1
    dev.set_usb(False)  # a cable pulled while on: the latch keeps it on
    dev.run_until(dev.clock.ms + 1000)
    assert dev.powered and dev.app.state == "idle"


def test_the_usb_pin_spares_the_wait_and_without_one_it_waits(tmp_path, monkeypatch):
    # The Pico reads VBUS on GP24: on USB it lets go and sleeps at once. The RP2040-Zero
    # cannot tell: it lets go, waits CUT_WAIT_MS for the power to go, then sleeps.
    import time

    waits = {}
    for name in ("pico", "rp2040-zero"):
        dev = make(tmp_path / name, name, usb=True)
        usb_pin = dev.board.config["power"].get("usb_pin")
        if usb_pin is not None:
            dev.sim.set_level(usb_pin, 1)  # the board's VBUS divider
        calls = waits[name] = []
        virtual = time.sleep_ms
        monkeypatch.setattr(time, "sleep_ms",
                            lambda ms, calls=calls, virtual=virtual: (calls.append(ms),
                                                                      virtual(ms)))
        hold_off(dev)
        monkeypatch.undo()
        assert dev.asleep is not None
    assert waits == {"pico": [], "rp2040-zero": [CUT_WAIT]}


# -- the press that powers it on --------------------------------------------------------------

# How long the press must last: from power-up until boot.py drives the hold pin. The
# emulated RP2040 measures the real boot (135 ms) and holds it to the promise
# (tests/test_rp2040_latch.py); here the simulated boot takes all the promise allows and
# the press must outlast it.
BOOT_MS = POWER_ON_PRESS


@settings(max_examples=12, deadline=None)
@given(st.integers(min_value=1, max_value=2 * BOOT_MS))
def test_a_press_shorter_than_the_boot_leaves_it_off_and_a_longer_one_boots(tmp_path_factory,
                                                                             press_ms):
    dev = make(tmp_path_factory.mktemp("d"))
    dev.boot_ms = BOOT_MS
    hold_off(dev)
    dev.press(True)
    dev.run_until(dev.clock.ms + press_ms)
    dev.press(False)
    dev.run_until(dev.clock.ms + 1000)
    if press_ms > BOOT_MS:
        assert dev.powered and dev.power_ons == 1 and dev.app.state == "idle"
    else:
        assert unpowered(dev) and dev.power_ons == 0


# -- a power loss during an install -------------------------------------------------------------

class PowerCut(BaseException):
    """The power went: the firmware's code stops where it is."""


def _routine(name, title):
    d = json.loads(routines.text("daily"))
    d["name"], d["title"] = name, title
    return json.dumps(d, indent=2).encode()


def _cut_install(store, name, data, monkeypatch, cut_at):
    """The host's upload of `data` and the device's install, with the power cut at file
    operation `cut_at` (writes of the upload byte by byte in chunks, then install's own
    opens, removes and renames). True when it ran to its end."""
    import massager.store as store_mod

    count = [0]

    def tick():
        count[0] += 1
        if count[0] == cut_at:
            raise PowerCut()

    real_open, real_rename, real_remove = open, os.rename, os.remove

    def cut_rename(a, b):
        tick()
        real_rename(a, b)

    def cut_remove(p):
        tick()
        real_remove(p)

    def cut_open(*a, **k):
        tick()
        return real_open(*a, **k)

    try:
        store.ensure_dir()
        tmp = store.temp_path(name)
        with real_open(tmp, "wb") as f:  # the host's copy, in 64-byte writes
            for i in range(0, len(data), 64):
                tick()
                f.write(data[i:i + 64])
                f.flush()
        monkeypatch.setattr(store_mod.os, "rename", cut_rename)
        monkeypatch.setattr(store_mod.os, "remove", cut_remove)
        monkeypatch.setattr(store_mod, "open", cut_open, raising=False)
        import hashlib

        assert store.install(name, hashlib.sha256(data).hexdigest()) == "ok"
        return True
    except PowerCut:
        return False
    finally:
        monkeypatch.undo()


def test_a_power_loss_anywhere_in_an_install_leaves_the_old_routine_or_the_new(tmp_path,
                                                                              monkeypatch):
    old, new = _routine("mine", "Old one"), _routine("mine", "New one")
    cut_at, seen = 1, set()
    while True:
        folder = tmp_path / ("cut%d" % cut_at)
        folder.mkdir()
        dev = make(folder)
        assert _cut_install(dev.store, "mine", old, monkeypatch, 0)  # no cut: installed
        done = _cut_install(dev.store, "mine", new, monkeypatch, cut_at)
        dev.power_loss()
        assert unpowered(dev)
        power_on(dev)
        titles = [p.title for p in dev.app.programs if p.name == "mine"]
        assert titles in (["Old one"], ["New one"]), (cut_at, titles)
        assert not dev.app.error, cut_at  # nothing on the flash failed to load
        seen.add(titles[0])
        if done:
            break
        cut_at += 1
    assert seen == {"Old one", "New one"} and cut_at > 10


# -- safe mode: with a latch every power-up is a press ------------------------------------------

def _boot_py(dev, monkeypatch, held_ms):
    """Run firmware/boot.py on `dev` just powered by a press held `held_ms` in all; its
    SAFE_MODE verdict and the hold pin after it."""
    import sys
    import time

    from test_power import run_boot

    import massager

    frozen = type(sys)("board_config")  # boot.py finds this board's pin map
    frozen.CONFIG = dev.board.config
    monkeypatch.setitem(sys.modules, "board_config", frozen)
    dev.sim.reset_all()
    dev.sim.press(dev.button_pin, True)
    start = dev.clock.ms
    virtual = time.sleep_ms

    def sleep_ms(ms):
        virtual(ms)
        if dev.clock.ms - start >= held_ms:
            dev.sim.press(dev.button_pin, False)

    monkeypatch.setattr(time, "sleep_ms", sleep_ms)
    try:
        safe = run_boot(dev)
    finally:
        monkeypatch.undo()
    assert massager.SAFE_MODE is False  # run_boot puts it back
    return safe, dev.sim.level(dev.board.config["power"]["hold_pin"])


def test_with_a_latch_the_power_up_press_is_not_safe_mode_unless_held_on(tmp_path,
                                                                       monkeypatch):
    dev = make(tmp_path)
    assert _boot_py(dev, monkeypatch, 300) == (False, 1)
    assert _boot_py(dev, monkeypatch, SAFE_MODE_HOLD + 100) == (True, 1)
