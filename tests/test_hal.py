"""The hardware layer (firmware/massager/hal) on the simulated board (simulator/board)."""

import glob
import importlib.util
import json
import os
import sys
import time

import pytest

from promised import FULL_CELL

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIM_BOARD = os.path.join(ROOT, "simulator", "board")
FIRMWARE = os.path.join(ROOT, "firmware")
BOARD_FILES = sorted(glob.glob(os.path.join(ROOT, "boards", "*", "board.json")))

if SIM_BOARD not in sys.path:
    sys.path.insert(0, SIM_BOARD)


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(SIM_BOARD, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # neopixel imports machine: the simulated one, whatever was there
    spec.loader.exec_module(mod)
    return mod


_saved = {n: sys.modules.get(n) for n in ("machine", "neopixel")}
machine = _load("machine")
neopixel = _load("neopixel")

from massager import feel  # noqa: E402
from massager.hal import battery as hal_battery  # noqa: E402
from massager.hal import board as hal_board  # noqa: E402
from massager.hal import button as hal_button  # noqa: E402
from massager.hal import config as hal_config  # noqa: E402
from massager.hal import motor as hal_motor  # noqa: E402
from massager.hal import watchdog as hal_watchdog  # noqa: E402
from simulator import adc_view  # noqa: E402

for _name, _mod in _saved.items():  # leave sys.modules as other tests expect it
    if _mod is None:
        sys.modules.pop(_name, None)
    else:
        sys.modules[_name] = _mod


class Clock:
    """time.ticks_ms / sleep_ms for CPython (MicroPython has them built in)."""

    def __init__(self):
        self.ms = 1000
        self.sleeps = []

    def ticks_ms(self):
        return self.ms

    def sleep_ms(self, ms):
        self.sleeps.append(ms)
        self.ms += ms

    @staticmethod
    def ticks_diff(a, b):
        return a - b


@pytest.fixture(params=["rp2", "esp32"])
def sim(monkeypatch, request):
    """The simulated board, fresh, on each port profile; the hal modules see it as
    `machine` and `neopixel`."""
    monkeypatch.setitem(sys.modules, "machine", machine)
    monkeypatch.setitem(sys.modules, "neopixel", neopixel)
    for mod in (hal_board, hal_button, hal_watchdog, hal_motor):
        monkeypatch.setattr(mod, "machine", machine)
    machine.sim.set_port(request.param)
    request.addfinalizer(lambda: machine.sim.set_port("rp2"))
    clock = Clock()
    monkeypatch.setattr(time, "ticks_ms", clock.ticks_ms, raising=False)
    monkeypatch.setattr(time, "sleep_ms", clock.sleep_ms, raising=False)
    monkeypatch.setattr(time, "ticks_diff", clock.ticks_diff, raising=False)
    machine.sim.reset_all()
    machine.sim.clock = clock.ticks_ms
    machine.sim.clock_obj = clock
    yield machine.sim
    machine.sim.clock = None


def make_motor(pin=15, kick_pct=0):
    """A motor whose cell is at its rated voltage: p % strength is p % duty."""
    from helpers import motor

    return motor(machine.PWM(machine.Pin(pin)), kick_pct=kick_pct)


# -- motor ------------------------------------------------------------------------------

def ramp(sim, m, until_ms=100):
    """Wake the loop whenever the motor asks (wait_ms), as Runtime does, for until_ms."""
    clock = sim.clock_obj
    end = clock.ms + until_ms
    while True:
        wait = m.wait_ms()
        if wait < 0 or clock.ms + wait > end:
            break
        clock.ms += wait
        m.poll()
    clock.ms = end


@pytest.mark.parametrize("percent", [1, 10, 33, 60, 90, 100])
def test_motor_soft_start_never_jumps_more_than_a_third(sim, percent):
    m = make_motor()
    del sim.log[:]
    m.set(percent)
    ramp(sim, m)
    target = percent * 65535 // 100
    duties = sim.duties(15)
    assert duties[-1] == target == sim.duty(15)
    assert len(duties) >= 3
    prev = 0
    for d in duties:
        assert d - prev <= target // 3 + 1, duties
        assert d >= prev  # only up
        prev = d


def test_motor_soft_start_never_blocks_and_ends_30_ms_after_the_start(sim):
    m = make_motor()
    t0 = sim.clock_obj.ms
    m.set(80)
    assert sim.clock_obj.sleeps == []  # set() returned at once
    assert 0 < sim.duty(15) < 80 * 65535 // 100
    assert m.wait_ms() == 10
    sim.clock_obj.ms = t0 + 29
    m.poll()
    assert sim.duty(15) < 80 * 65535 // 100
    sim.clock_obj.ms = t0 + 30
    m.poll()
    assert sim.duty(15) == 80 * 65535 // 100 and m.wait_ms() == -1
    assert sim.clock_obj.sleeps == []


def test_a_late_loop_skips_to_the_step_that_is_due(sim):
    m = make_motor()
    m.set(80)
    del sim.log[:]
    sim.clock_obj.ms += 25  # the loop woke late: step 3 of 4 is due, not step 2
    m.poll()
    assert sim.duties(15) == [80 * 3 // 4 * 65535 // 100]


@pytest.mark.parametrize("percent", [4, 11, 20, 34])
def test_a_gentle_start_is_kicked_to_start_mv_then_settles(sim, percent):
    m = make_motor(kick_pct=35)
    del sim.log[:]
    m.set(percent)
    assert sim.duty(15) == 35 * 65535 // 100  # turning from the first write
    assert m.wait_ms() == 30  # the kick is held: no wake for equal steps
    ramp(sim, m)
    assert sim.duties(15) == [35 * 65535 // 100, percent * 65535 // 100]


@pytest.mark.parametrize("cell_mv", [3000, 3500, 4200])
def test_the_kick_and_the_strength_never_exceed_the_rated_voltage(sim, cell_mv):
    # Kick at the rated voltage itself (the most check_config allows), full strength
    # asked: on average the motor never gets more than its rating, from any cell.
    m = hal_motor.Motor(machine.PWM(machine.Pin(15)), None, None, 3000, 3000)
    m.set_cell(cell_mv)
    del sim.log[:]
    m.set(5)
    ramp(sim, m)
    assert max(sim.duties(15)) * cell_mv // 65535 <= 3000
    assert max(sim.duties(15)) == 3000 * 65535 // cell_mv  # the kick: the rated voltage
    m.off()
    m.set(100)
    ramp(sim, m)
    assert max(sim.duties(15)) * cell_mv // 65535 <= 3000


def test_motor_change_while_running_is_direct(sim):
    m = make_motor()
    m.set(40)
    ramp(sim, m)
    del sim.log[:]
    m.set(70)
    assert sim.duties(15) == [70 * 65535 // 100]
    assert m.wait_ms() == -1


def test_a_change_during_the_soft_start_retargets_it(sim):
    m = make_motor()
    m.set(80)
    m.set(40)  # before the ramp's second step
    assert sim.duty(15) == 40 * 65535 // 100 // 4  # step 1 of 4 of the new strength
    ramp(sim, m)
    assert sim.duty(15) == 40 * 65535 // 100


def test_motor_off_is_immediate_and_cancels_the_soft_start(sim):
    m = make_motor()
    m.set(90)
    del sim.log[:]
    m.off()
    assert sim.duties(15) == [0]
    assert m.wait_ms() == -1
    ramp(sim, m)
    assert sim.duties(15) == [0]  # no soft-start step after the off
    m.set(50)
    m.set(0)
    assert sim.duty(15) == 0


def test_motor_soft_starts_again_after_off(sim):
    m = make_motor()
    m.set(90)
    ramp(sim, m)
    m.off()
    del sim.log[:]
    m.set(90)
    assert sim.duties(15)[0] <= 90 * 65535 // 100 // 3 + 1


def test_motor_keeps_values_in_range(sim):
    m = make_motor()
    m.set(250)
    ramp(sim, m)
    assert sim.duty(15) == 65535
    m.set(-20)
    assert sim.duty(15) == 0


def test_motor_sets_its_frequency(sim):
    make_motor()
    assert sim.pwm[15].freq() == hal_motor.Motor.freq
    hal_motor.Motor(machine.PWM(machine.Pin(3)), 1000, None, 3000, 0)
    assert sim.pwm[3].freq() == 1000


# -- LED --------------------------------------------------------------------------------

def test_mono_led_shows_the_brightest_channel(sim):
    led = hal_board.PwmLed(machine.PWM(machine.Pin(25)))
    assert sim.duty(25) == 0
    led.set(10, 200, 30)
    assert sim.duty(25) == 200 * 257
    led.set(0, 0, 255)
    assert sim.duty(25) == 65535
    led.set(0, 0, 0)
    assert sim.duty(25) == 0
    led.set(300, -5, 0)
    assert sim.duty(25) == 65535


def test_neopixel_led_shows_the_colour(sim):
    np = neopixel.NeoPixel(machine.Pin(16), 1)
    led = hal_board.PixelLed(np)
    assert sim.pixel(16) == (0, 0, 0)
    led.set(255, 140, 0)
    assert sim.pixel(16) == (255, 140, 0)
    assert bytes(np.buf) == bytes([140, 255, 0])  # GRB on the wire
    led.set(-1, 999, 7)
    assert sim.pixel(16) == (0, 255, 7)


# -- button -----------------------------------------------------------------------------

def make_button(sim, active_low=True, pin=14):
    pull = machine.Pin.PULL_UP if active_low else machine.Pin.PULL_DOWN
    return hal_button.Button(machine.Pin(pin, machine.Pin.IN, pull), active_low)


def drain(b):
    edges = []
    while b.pending():
        edges.append((b.peek_pressed(), b.peek_ms()))
        b.drop()
    return edges


@pytest.mark.parametrize("active_low", [True, False])
def test_button_irq_records_edges_with_ticks(sim, active_low):
    b = make_button(sim, active_low)
    assert not b.is_pressed() and b.pending() == 0
    sim.clock_obj.ms = 5000
    sim.press(14, True)
    assert b.is_pressed()
    sim.clock_obj.ms = 5120
    sim.press(14, False)
    assert not b.is_pressed()
    assert b.pending() == 2
    assert drain(b) == [(True, 5000), (False, 5120)]
    assert b.get() is None


def test_button_get_returns_the_oldest_edge(sim):
    b = make_button(sim)
    sim.press(14, True)
    assert b.get() == (True, sim.clock_obj.ms)
    assert b.get() is None


def test_button_calls_notify_from_the_irq(sim):
    b = make_button(sim)
    calls = []
    b.notify = lambda: calls.append(1)
    sim.press(14, True)
    sim.press(14, False)
    assert len(calls) == 2


def test_button_full_ring_drops_the_newest_edges(sim):
    b = make_button(sim)
    capacity = b.size - 1
    for i in range(capacity + 5):
        sim.clock_obj.ms = 1000 + i
        sim.press(14, i % 2 == 0)
    assert b.pending() == capacity
    assert b.dropped == 5
    edges = drain(b)
    assert [ms for _, ms in edges] == list(range(1000, 1000 + capacity))  # the oldest kept
    assert [p for p, _ in edges] == [i % 2 == 0 for i in range(capacity)]
    sim.press(14, True)
    sim.press(14, False)
    assert drain(b) == [(True, sim.clock_obj.ms), (False, sim.clock_obj.ms)]


def test_button_clear_forgets_waiting_edges(sim):
    b = make_button(sim)
    sim.press(14, True)
    b.clear()
    assert b.pending() == 0
    b.drop()  # nothing waiting: harmless
    assert b.pending() == 0


IRQ_SCRIPT = r"""
import gc
import micropython
import machine
from massager.hal.button import Button

sim = machine.sim
b = Button(machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP))


def edges(k):  # the IRQ as hardware calls it; past the ring's size, so it drops too
    for i in range(k):
        sim.press(14, i % 2 == 0)


def reader():
    n = 0
    while b.pending():
        b.peek_pressed()
        b.peek_ms()
        b.drop()
        n += 1
    b.is_pressed()
    return n


def locked(f, arg):  # any allocation in f raises MemoryError
    gc.collect()
    micropython.heap_lock()
    try:
        return f(arg) if arg is not None else f()
    finally:
        micropython.heap_unlock()


locked(edges, 40)
print("pending", b.pending(), "dropped", b.dropped, "read", locked(reader, None))
"""


def test_button_irq_allocates_nothing_on_micropython(tmp_path):
    """The IRQ path and the reader run on real MicroPython with the heap locked."""
    mp = pytest.importorskip("simulator.micropython")
    try:
        mp.node_command()
    except RuntimeError as e:
        pytest.skip(str(e))
    script = tmp_path / "irq.py"
    script.write_text(IRQ_SCRIPT)
    r = mp.run_file(str(script), paths=[SIM_BOARD, FIRMWARE])
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0, out
    size = hal_button.Button.size
    assert "pending %d dropped %d read %d" % (size - 1, 41 - size, size - 1) in out, out


# -- battery, watchdog --------------------------------------------------------------------

@pytest.mark.parametrize("cell_mv", [2600, 3300, 3700, 4200])
def test_battery_reads_a_cell_through_the_divider(sim, cell_mv):
    # esp32's read_u16 is not a 3.3 V full scale: only read_uv() gets this right there.
    bat = hal_battery.Battery(machine.ADC(machine.Pin(26)), 200)
    sim.set_adc_mv(26, cell_mv / 2)
    assert abs(bat.millivolts() - cell_mv) <= 20


@pytest.mark.parametrize("wiring", ["floating", "0 V", "USB 5 V"])
def test_battery_that_is_not_there_reads_none(sim, wiring):
    # The Pico's 2:1 divider on GP26 with nothing, ground or USB's 5 V at its top.
    bat = hal_battery.Battery(machine.ADC(machine.Pin(26)), 200)
    if wiring == "floating":
        sim.float_adc(26)
    else:
        sim.set_adc_mv(26, 0 if wiring == "0 V" else 5000 // 2)
    assert bat.millivolts() is None


@pytest.mark.parametrize("wiring", ["floating", "0 V"])
def test_battery_without_its_reference_reads_none(sim, wiring):
    # The RP2040-Zero's wiring: the cell read against a 2.048 V reference on GP27 (rp2
    # only: esp32's calibrated read_uv needs none).
    sim.set_port("rp2")
    bat = hal_battery.Battery(machine.ADC(machine.Pin(26)), 200, machine.ADC(machine.Pin(27)),
                              2048)
    sim.set_adc_mv(26, 1850)  # a 3.7 V cell
    if wiring == "floating":
        sim.float_adc(27)
    else:
        sim.set_adc_mv(27, 0)
    assert bat.millivolts() is None


def test_watchdog_is_idle_until_started(sim):
    wd = hal_watchdog.Watchdog(5000)
    wd.feed()
    assert sim.wdt is None and not wd.running
    wd.start()
    assert sim.wdt.timeout == 5000 and wd.running
    feeds = sim.wdt.feeds
    wd.feed()
    assert sim.wdt.feeds == feeds + 1
    assert not sim.wdt_expired()
    sim.clock_obj.ms += 5001
    assert sim.wdt_expired()


def test_watchdog_timeout_limit_is_the_ports(sim):
    # rp2: a 24-bit counter, at most 8388 ms (ports/rp2/machine_wdt.c); esp32: none.
    if sim.port.name == "rp2":
        with pytest.raises(ValueError):
            machine.WDT(timeout=8389)
    else:
        machine.WDT(timeout=20000)
        assert sim.wdt.timeout == 20000
    with pytest.raises(ValueError):
        machine.WDT(1, 5000)  # only WDT 0 exists


def test_machine_reset_raises_for_the_simulator(sim):
    with pytest.raises(SystemExit):
        machine.reset()
    with pytest.raises(machine.Reset) as e:
        machine.soft_reset()
    assert e.value.soft and sim.resets == 2


# -- board ------------------------------------------------------------------------------

def read(path):
    with open(path) as f:
        return json.load(f)


@pytest.mark.parametrize("path", BOARD_FILES, ids=lambda p: os.path.basename(os.path.dirname(p)))
def test_board_builds_from_each_board_json(sim, path):
    config = read(path)
    assert hal_config.check_config(config) is None
    board = hal_board.Board(config)
    motor, led = config["motor"]["pin"], config["led"]["pin"]
    assert sim.duty(motor) == 0  # still at power-up
    assert sim.level(motor) == 0
    board.show(60, 30, 255, 80)
    # 60 % of the rated voltage from a cell it has not read yet: a full one is assumed.
    want = 60 * config["motor"]["rated_mv"] // 100 * 65535 // FULL_CELL
    kick = config["motor"]["start_mv"] * 65535 // FULL_CELL
    assert 0 < sim.duty(motor) <= max(want, kick)  # the soft start's first step
    ramp(sim, board.motor)
    assert sim.duty(motor) == want
    if config["led"]["kind"] == "neopixel":
        assert sim.pixel(led) == (30, 255, 80)
    else:
        assert sim.duty(led) == 255 * 257
    board.all_off()
    assert sim.duty(motor) == 0
    assert sim.pixel(led) in (None, (0, 0, 0)) and (sim.duty(led) == 0)
    sim.press(config["button"]["pin"], True)
    assert board.button.pending() == 1 and board.button.is_pressed()
    assert (board.battery is None) == (config["battery"] is None)
    if board.battery is not None:  # the board's circuit, its reference pin included
        adc_view.apply(sim, adc_view.adc_view(config, 3900))
        assert abs(board.battery.millivolts() - 3900) <= 20
    board.watchdog.start()
    assert sim.wdt.timeout == config["watchdog_ms"]


def test_board_show_error_and_safe_mode_stop_the_motor(sim):
    board = hal_board.Board(hal_config.DEFAULT)
    board.show(80, 0, 0, 0)
    board.show_error()
    assert sim.duty(15) == 0
    r, g, b = feel.COLORS[feel.ERROR_LED[0]]
    assert sim.duty(25) == max(r, g, b) * feel.ERROR_LED[1] // 100 * 257
    board.show(80, 0, 0, 0)
    board.show_safe_mode()
    assert sim.duty(15) == 0 and sim.duty(25) > 0


class Broken:
    def __getattr__(self, name):
        raise OSError("gone")


def test_board_all_off_never_raises(sim):
    board = hal_board.Board(hal_config.DEFAULT)
    board.show(50, 1, 2, 3)
    board.led = Broken()
    board.all_off()
    assert sim.duty(15) == 0
    board.motor = Broken()
    board.all_off()
    board.show_error()


# -- load_config ------------------------------------------------------------------------

def test_load_config_without_file_is_the_pico(tmp_path):
    config, err = hal_config.load_config(str(tmp_path / "board.json"))
    assert err is None and config["name"] == "pico" and config == hal_config.DEFAULT
    # The Pico's pin map, less its power latch: with no board.json nothing says there is
    # one, and off stays the sleep of a board without.
    pico = read(os.path.join(ROOT, "boards", "pico", "board.json"))
    assert "power" in pico and "power" not in config
    del pico["power"]
    assert config == pico


def test_load_config_reads_the_file(tmp_path):
    path = tmp_path / "board.json"
    esp = read(os.path.join(ROOT, "boards", "esp32-devkit", "board.json"))
    path.write_text(json.dumps(esp))
    assert hal_config.load_config(str(path)) == (esp, None)


@pytest.mark.parametrize("text, words", [
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
    ("[" * 5000, "not valid JSON"),
    ("[]", "must be an object"),
    ('{"name": "x"}', "arch"),
])
def test_load_config_broken_file_falls_back_with_a_message(tmp_path, text, words):
    path = tmp_path / "board.json"
    path.write_text(text)
    config, err = hal_config.load_config(str(path))
    assert config == hal_config.DEFAULT
    assert str(path) in err and words in err and "\n" not in err


@pytest.mark.parametrize("change, field", [
    (lambda c: c["motor"].pop("pin"), "motor.pin: missing"),
    (lambda c: c["motor"].update(pin="15"), "motor.pin"),
    (lambda c: c["motor"].update(freq=5), "motor.freq"),
    (lambda c: c["led"].update(kind="rgbw"), "led.kind"),
    (lambda c: c["button"].update(active_low="yes"), "button.active_low"),
    (lambda c: c["battery"].update(divider_x100=True), "battery.divider_x100"),
    (lambda c: c["battery"].update(ref_pin=27), "battery.ref_pin and battery.ref_mv"),
    (lambda c: c["battery"].update(ref_mv=2048), "battery.ref_pin and battery.ref_mv"),
    (lambda c: c["battery"].update(ref_pin=27, ref_mv=4096), "battery.ref_mv: must be"),
    (lambda c: c["battery"].update(ref_pin=27, ref_mv=True), "battery.ref_mv: must be"),
    (lambda c: c["battery"].update(ref_pin=26, ref_mv=2048), "battery.ref_pin: must be another"),
    (lambda c: c["battery"].update(ref_pin=64, ref_mv=2048), "battery.ref_pin: must be a whole"),
    (lambda c: c["battery"].update(ref_pin="27", ref_mv=2048), "battery.ref_pin: must be a whole"),
    (lambda c: c.update(watchdog_ms=-1), "watchdog_ms"),
    (lambda c: c.update(power=1), "power: must be an object"),
    (lambda c: c.update(power={"hold": 13}), "power.hold: unknown key"),
    (lambda c: c.update(power={"hold_pin": "13"}), "power.hold_pin: must be a whole"),
    (lambda c: c.update(power={"hold_pin": 64}), "power.hold_pin: must be a whole"),
    (lambda c: c.update(power={"hold_pin": 15}), "power.hold_pin: must be another pin than "
                                                  "motor.pin"),
    (lambda c: c.update(power={"hold_pin": 14}), "power.hold_pin: must be another pin than "
                                                  "button.pin"),
    (lambda c: c.update(power={"hold_pin": 26}), "power.hold_pin: must be another pin than "
                                                  "battery.pin"),
    (lambda c: c.update(power={"hold_pin": 13, "usb_pin": 13}),
     "power.usb_pin: must be another pin than power.hold_pin"),
    (lambda c: c.update(power={"hold_pin": 13, "usb_pin": -1}), "power.usb_pin: must be a"),
    (lambda c: c.update(power={"usb_pin": 24}), "power.usb_pin: only with power.hold_pin"),
    (lambda c: (c.update(power={"hold_pin": 13}), c["button"].update(active_low=False)),
     "power.hold_pin: the latch needs a button to GND"),
    (lambda c: c.update(colour="red"), "colour: unknown key"),
    (lambda c: c["led"].update(pins=3), "led.pins: unknown key"),
])
def test_check_config_names_the_field(change, field):
    # (the default board's battery is on GP26, so a ref_pin of 26 is the same pin)
    config = json.loads(json.dumps(hal_config.DEFAULT))
    change(config)
    err = hal_config.check_config(config)
    assert err is not None and err.startswith(field), err


@pytest.mark.parametrize("power", [None, {}, {"hold_pin": 13}, {"hold_pin": 13, "usb_pin": 24}])
def test_check_config_takes_a_board_with_or_without_a_latch(power):
    config = json.loads(json.dumps(hal_config.DEFAULT))
    if power is not None:
        config["power"] = power
    assert hal_config.check_config(config) is None


def test_frozen_board_config_wins(monkeypatch, tmp_path):
    zero = read(os.path.join(ROOT, "boards", "rp2040-zero", "board.json"))
    frozen = type(sys)("board_config")
    frozen.CONFIG = zero
    monkeypatch.setitem(sys.modules, "board_config", frozen)
    path = tmp_path / "board.json"
    path.write_text(json.dumps(hal_config.DEFAULT))
    assert hal_config.load_config(str(path)) == (zero, None)
    frozen.CONFIG = {"name": "broken"}
    config, err = hal_config.load_config(str(path))
    assert config == hal_config.DEFAULT and err.startswith("board_config.CONFIG: arch")
