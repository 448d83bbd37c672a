"""The simulated board plays each port as strictly as the port (simulator/board/port_rp2.py,
port_esp32.py), and the firmware survives what the ports do: a watchdog that outlives
soft resets, rp2's PWM deinit, floating battery pins, esp32's late soft IRQs."""

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from massager import button
from massager.hal import config as hal_config
from promised import FULL_CELL
from simulator.device import SimDevice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = {"rp2": "pico", "esp32": "esp32-devkit"}  # one real board.json per profile


def board(port, latch=False):
    """The port's real board.json; without its power latch unless `latch`: the sleep these
    tests hold is what a board without one does when off (and one with one on USB);
    tests/test_latch.py has the latch."""
    with open(os.path.join(ROOT, "boards", BOARDS[port], "board.json")) as f:
        config = json.load(f)
    if not latch:
        config.pop("power", None)
    return config


@pytest.fixture(params=sorted(BOARDS))
def device(request, tmp_path):
    return SimDevice(str(tmp_path), config=board(request.param))


def start_session(dev):
    dev.click()
    dev.run_until(dev.clock.ms + 5000)
    assert dev.app.state == "running" and dev.sim.wdt is not None


def error_log(dev):
    try:
        with open(os.path.join(dev.store.root, "error.log")) as f:
            return f.read()
    except OSError:
        return ""


# -- 1. the watchdog outlives the session ---------------------------------------------

def test_the_watchdog_survives_a_soft_reset_and_the_firmware_feeds_it_again(device):
    start_session(device)
    device.soft_reset()  # mpremote's connect, then the host tools' restart
    assert device.sim.wdt is not None  # the port keeps it: nothing can stop it
    device.run_until(device.clock.ms + 10 * 60 * 1000)  # ten idle minutes
    assert device.resets == 0


def test_a_stopped_firmware_keeps_the_watchdog_fed_for_the_host(device):
    start_session(device)
    assert device.stopped(60 * 1000)  # a minute of mpremote work after Ctrl-C
    assert device.resets == 0 and device.motor_duty() == 0
    device.soft_reset()  # boot.py's keeper in the new life: as if mpremote went on
    device.board.watchdog.keep()
    assert device.stopped(60 * 1000) and device.resets == 0


def test_without_the_keeper_the_watchdog_would_reset_the_board_under_the_host(device):
    # The control for the two tests above: a stopped loop and no keeper gets bitten.
    start_session(device)
    device.board.all_off()
    device.sim.timers.clear()
    device.run_until(device.clock.ms + 6000, hang=True)
    assert device.resets == 1 and device.sim.cause == device.machine.WDT_RESET


def test_a_watchdog_reset_is_logged_once_and_the_board_boots_idle(device):
    start_session(device)
    device.run_until(device.clock.ms + 6000, hang=True)
    assert device.resets == 1 and device.app.state == "idle" and device.motor_duty() == 0
    assert error_log(device).splitlines().count("boot: watchdog reset") == 1
    device.run_until(device.clock.ms + 30000)
    device.soft_reset()  # later soft resets keep rp2's cause: not a second bite
    assert error_log(device).splitlines().count("boot: watchdog reset") == 1


def test_an_idle_board_never_arms_the_watchdog(device):
    device.run_until(60 * 1000)
    device.soft_reset()
    device.run_until(2 * 60 * 1000)
    assert device.sim.wdt is None and device.resets == 0


# -- 3. all_off never leaves the motor pin driven ------------------------------------

class BrokenPwm:
    def __getattr__(self, name):
        raise OSError("PWM gone")


@pytest.mark.parametrize("state", ["running", "deinit", "broken"])
def test_all_off_drives_the_motor_pin_low_whatever_the_pwm_does(device, state):
    start_session(device)
    device.board.motor.set(80)
    pin = device.motor_pin
    assert device.sim.duty(pin) > 0
    if state == "deinit":
        device.board.motor.pwm.deinit()  # rp2: the pin holds its level (pico-sdk #488)
    elif state == "broken":
        device.board.motor.pwm = BrokenPwm()
    device.board.all_off()
    assert device.sim.duty(pin) == 0
    device.board.motor.set(50)  # and it runs again afterwards, soft-started
    device.clock.ms += 30
    device.board.motor.poll()
    # 50 % of the rated voltage, from the full cell assumed with no reading on the pin.
    rated = device.board.config["motor"]["rated_mv"]
    assert device.sim.duty(pin) == 50 * rated // 100 * 65535 // FULL_CELL


def test_rp2_pwm_deinit_latches_the_pin_and_esp32_refuses_later_writes(device):
    pin = device.motor_pin
    device.board.motor.set(40)
    device.board.motor.pwm.deinit()
    if device.sim.port.name == "rp2":
        assert device.sim.duty(pin) == 65535  # frozen high: why all_off does not use it
    else:
        assert device.sim.duty(pin) == 0
        with pytest.raises(RuntimeError):
            device.board.motor.pwm.duty_u16(0)


def test_a_soft_reset_leaves_an_rp2_motor_pin_where_it_was_until_boot(device):
    device.board.motor.set(60)
    device.sim.soft_reset()  # the hardware part only: nothing of the firmware ran yet
    frozen = device.sim.duty(device.motor_pin)
    assert frozen == (65535 if device.sim.port.name == "rp2" else 0)
    device.soft_reset()  # boot: the firmware takes the pin low first
    assert device.sim.duty(device.motor_pin) == 0


# -- 4. a battery that is not there ---------------------------------------------------

@pytest.mark.parametrize("wiring", ["floating", "0 V"])
def test_no_battery_never_powers_the_device_off(device, wiring):
    pin = device.board.config["battery"]["pin"]
    if wiring == "floating":
        device.sim.float_adc(pin)
    else:
        device.sim.set_adc_mv(pin, 0)
    device.click()
    device.run_until(90 * 1000)  # three battery checks into the daily routine
    assert device.app.state == "running" and not device.app.low_battery
    assert error_log(device).splitlines().count(  # said once, not at every check
        "battery: no plausible reading, running without") == 1


@pytest.mark.parametrize("cell_mv,state", [(3250, "off"), (3400, "running")])
def test_a_real_flat_battery_still_cuts_off(device, cell_mv, state):
    bat = device.board.config["battery"]
    device.sim.set_adc_mv(bat["pin"], cell_mv * 100 / bat["divider_x100"])
    device.click()
    device.run_until(60 * 1000)
    assert device.app.state == state
    assert device.app.low_battery


# -- 5. esp32's soft IRQs ---------------------------------------------------------------

def test_esp32_pin_irq_has_no_hard_argument():
    dev = SimDevice("/nonexistent-flash", config=board("esp32"))
    with pytest.raises(TypeError):
        dev.machine.Pin(4, dev.machine.Pin.IN).irq(handler=print, hard=True)
    assert not dev.sim.pins[dev.button_pin].hard  # the button fell back to a soft IRQ


def play_gestures(port, presses, busy_ms):
    """Gestures decoded from `presses` [(down_ms, hold_ms)], each edge landing while the
    VM is busy for `busy_ms` (soft IRQs wait and read the pin late)."""
    dev = SimDevice("/nonexistent-flash", config=board(port))
    seen = []
    original = dev.app.press

    def record(gesture, now):
        if gesture is not None:
            seen.append(gesture)
        original(gesture, now)

    dev.app.press = record
    t = 1000
    for gap, hold in presses:
        for pressed, at in ((True, t + gap), (False, t + gap + hold)):
            dev.run_until(at)
            dev.sim.set_busy(True)
            dev.sim.press(dev.button_pin, pressed)
            dev.run_until(at + busy_ms)
            dev.sim.set_busy(False)
            dev._wake()
        t += gap + hold
    dev.run_until(t + 5000)
    return seen


@given(st.lists(st.tuples(st.integers(100, 900), st.integers(60, 700)), min_size=1,
                max_size=4),
       st.integers(0, 40))
def test_gestures_decode_the_same_on_esp32_soft_irqs_as_on_rp2(presses, busy_ms):
    # 40 ms: longer than anything the loop blocks for (the motor's soft start is 30 ms).
    assert play_gestures("esp32", presses, busy_ms) == play_gestures("rp2", presses, 0)


def test_a_press_lost_inside_a_long_busy_stretch_is_lost_never_a_long_press():
    # Both edges wait in the queue and read the released pin: no press is seen at all,
    # and certainly no long press (which would stop a session).
    seen = play_gestures("esp32", [(200, 80)], 0)
    assert seen == [button.SHORT]
    dev = SimDevice("/nonexistent-flash", config=board("esp32"))
    dev.run_until(1000)
    dev.sim.set_busy(True)
    dev.sim.press(dev.button_pin, True)
    dev.run_until(1080)
    dev.sim.press(dev.button_pin, False)
    dev.run_until(1200)
    dev.sim.set_busy(False)
    dev.run_until(8000)
    assert dev.app.state == "idle" and not dev.app.gestures.down


# -- 6. the pin map refuses what the ports punish -------------------------------------

@pytest.mark.parametrize("port,watchdog_ms,ok", [
    ("rp2", 5000, True), ("rp2", 8388, True), ("rp2", 8389, False), ("rp2", 4000, False),
    ("rp2", 0, False), ("rp2", None, False), ("esp32", 20000, True), ("esp32", 4999, False),
])
def test_check_config_watchdog_limits(port, watchdog_ms, ok):
    config = board(port)
    config["watchdog_ms"] = watchdog_ms
    problem = hal_config.check_config(config)
    assert (problem is None) == ok, problem
    if not ok:
        assert problem.startswith("watchdog_ms:")


def test_check_config_refuses_an_rp2_led_on_the_motors_pwm_slice():
    config = board("rp2")
    config["led"]["pin"] = config["motor"]["pin"] ^ 1  # GP14 with GP15: slice 7
    assert hal_config.check_config(config).startswith("led.pin: GP14 shares PWM slice 7")
    esp = board("esp32")
    esp["led"]["pin"] = esp["motor"]["pin"] ^ 1
    assert hal_config.check_config(esp) is None  # esp32 gives each channel its timer


def test_rp2_pins_of_one_slice_share_a_frequency(device):
    m = device.machine
    a, b = m.PWM(m.Pin(2), freq=20000, duty_u16=0), m.PWM(m.Pin(3), freq=20000, duty_u16=0)
    b.freq(1000)
    assert a.freq() == (1000 if device.sim.port.name == "rp2" else 20000)


def test_rp2_wdt_refuses_a_timeout_above_8388_ms(device):
    m = device.machine
    if device.sim.port.name == "rp2":
        with pytest.raises(ValueError):
            m.WDT(timeout=8389)
    else:
        m.WDT(timeout=8389)
        assert device.sim.wdt.timeout == 8389
