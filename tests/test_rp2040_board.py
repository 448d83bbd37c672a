# The simulated board (simulator/board/, behind the WebAssembly virtual device) against the
# real rp2 port on an emulated RP2040: for each behaviour the simulated rp2 board models,
# the same probe runs on both and what they show must agree.
#
# Each probe runs MicroPython over the REPL and looks at the pins from the host side: on
# the emulated chip at its peripheral registers, on the simulated board through its
# `machine.sim` registry (its rp2 profile, simulator/board/port_rp2.py).
import json
import os
import subprocess
import sys
import time

import pytest

from helpers import mpremote
from host_tools.device import Device
from simulator.adc_view import adc_view, codes
from simulator.pico import EmulatedPico
from simulator.vdev import VirtualDevice, board_config

MOTOR, BUTTON, BATTERY = 15, 14, 26  # boards/pico/board.json; GP14 and GP15 share slice 7
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Real:
    """The stock rp2 port on the emulated RP2040 (held between steps: time is emulated)."""

    name = "rp2040"

    def __init__(self, pico):
        self.pico = pico

    def link(self, soft_reset=False):
        return Device(self.pico.port, soft_reset=soft_reset)

    def wait(self, ms):
        self.pico.run(ms)

    def press(self, pressed):
        self.pico.press(pressed)
        time.sleep(0.3)  # the host has the port open: the chip runs at wall speed

    def set_battery(self, mv):
        self.pico.set_battery(mv)

    def driven_high(self, dev, pin):
        c = self.pico.changes(pin)[-1]
        return c.fn != "input" and c.duty == 1

    def resets(self):
        return self.pico.count("watchdog")


class Simulated:
    """The simulated board on the WebAssembly virtual device (wall-clock time)."""

    name = "simulated"

    def __init__(self, vdev):
        self.vdev = vdev

    def link(self, soft_reset=False):
        return Device(self.vdev.port, soft_reset=soft_reset)

    def wait(self, ms):
        time.sleep(ms / 1000)

    def press(self, pressed):
        self.vdev.press(pressed)
        time.sleep(0.3)

    def set_battery(self, mv):
        self.vdev.set_battery(mv)

    def driven_high(self, dev, pin):
        duty, level = dev.eval("(__import__('machine').sim.duty(%d), "
                               "__import__('machine').sim.level(%d))" % (pin, pin))
        return duty == 65535 or (duty == 0 and level == 1)

    def resets(self):
        return None


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    image = tmp_path_factory.mktemp("probe") / "flash.img"  # no firmware: the bare port
    with EmulatedPico(str(image), hold=True) as pico:
        yield Real(pico)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    with VirtualDevice(str(tmp_path_factory.mktemp("probe-flash"))) as vdev:
        yield Simulated(vdev)


def on_both(real, simulated, probe):
    """(what the real port showed, what the simulated board showed)."""
    return probe(real), probe(simulated)


# -- the probes: each returns what the board showed ----------------------------------------

def watchdog_across_soft_reset(board):
    # ports/rp2/machine_wdt.c: nothing stops the watchdog, a soft reset included.
    with board.link(soft_reset=True) as dev:
        dev.exec("import machine\nmachine.WDT(timeout=2000)")
        dev.reset_on_close = True  # leave through a soft reset in the friendly REPL
    board.wait(3000)
    with board.link() as dev:
        return dev.eval("__import__('machine').reset_cause()")


def pwm_deinit(board):
    # ports/rp2/machine_pwm.c: deinit() only disables the slice; the pin keeps its level.
    shown = []
    with board.link(soft_reset=True) as dev:
        for duty in (65535, 0):
            dev.exec("import machine, time\np = machine.PWM(machine.Pin(%d), freq=1000, "
                     "duty_u16=%d)\ntime.sleep_ms(5)\np.deinit()\ntime.sleep_ms(5)"
                     % (MOTOR, duty))
            shown.append(board.driven_high(dev, MOTOR))
    return shown


def slice_sharing(board):
    # ports/rp2/machine_pwm.c: one DIV and TOP per slice; freq() re-applies both duties.
    with board.link(soft_reset=True) as dev:
        dev.exec("import machine\na = machine.PWM(machine.Pin(%d), freq=1000, duty_u16=32768)\n"
                 "b = machine.PWM(machine.Pin(%d), freq=20000, duty_u16=16384)"
                 % (BUTTON, MOTOR))
        return dev.eval("(a.freq(), b.freq(), a.duty_u16(), b.duty_u16())")


IRQ_SETUP = """
from machine import Pin
import array
seen = bytearray(8)
n = array.array('i', [0])
def edge(p):  # hard IRQ: no allocation
    if n[0] < 8:
        seen[n[0]] = p.value()
        n[0] += 1
btn = Pin(%d, Pin.IN, Pin.PULL_UP)
btn.irq(edge, Pin.IRQ_FALLING | Pin.IRQ_RISING, hard=True)
""" % BUTTON


def button_irq(board):
    # ports/rp2/machine_pin.c: both edges, the level read in the handler.
    with board.link(soft_reset=True) as dev:
        dev.exec(IRQ_SETUP)
        before = dev.eval("btn.value()")
        board.press(True)
        board.press(False)
        return before, dev.eval("list(seen[:n[0]])"), dev.eval("btn.value()")


CELLS_MV = (0, 3900)


def battery_adc(board):
    # ports/rp2/machine_adc.c: 12 bits against the rail, scaled to 16.
    shown = []
    for mv in CELLS_MV:
        board.set_battery(mv)
        with board.link() as dev:
            shown.append(dev.eval("__import__('machine').ADC(__import__('machine').Pin(%d))"
                                  ".read_u16()" % BATTERY))
    return shown


# -- the comparisons ----------------------------------------------------------------------

def test_the_watchdog_outlives_a_soft_reset_on_both(real, simulated):
    was = real.resets()
    shown = on_both(real, simulated, watchdog_across_soft_reset)
    assert real.resets() == was + 1  # the emulated chip did reset
    assert shown == (3, 3)  # machine.WDT_RESET


def test_pwm_deinit_leaves_the_pin_at_its_level_on_both(real, simulated):
    shown = on_both(real, simulated, pwm_deinit)
    assert shown[0] == [True, False]  # stuck high after full duty: the motor would run
    assert shown[1] == shown[0]


def test_two_pins_on_one_slice_share_a_frequency_on_both(real, simulated):
    shown = on_both(real, simulated, slice_sharing)
    assert shown[0][:2] == (20000, 20000) and abs(shown[0][2] - 32768) <= 8  # a retuned
    assert shown[1][:2] == shown[0][:2]  # (duty within a step of the 20 kHz slice: 1/6250)
    assert all(abs(s - r) <= 11 for s, r in zip(shown[1][2:], shown[0][2:]))


def test_button_irq_sees_both_edges_on_both(real, simulated):
    shown = on_both(real, simulated, button_irq)
    assert shown[0] == (1, [0, 1], 1)  # pulled up; pressed reads 0 in the handler
    assert shown[1] == shown[0]


def test_battery_adc_reads_the_same_code_on_both(real, simulated):
    shown = on_both(real, simulated, battery_adc)
    config = board_config("pico")  # both boards' circuit: the codes simulator/adc_view.py says
    views = [adc_view(config, mv) for mv in CELLS_MV]
    want = [codes(view)[BATTERY] for view in views]
    # Half the cell at the board's terminals (its resistance times the board's own draw
    # below its open-circuit voltage), within one 12-bit step (0.8 mV) and the power
    # latch's drop (Q2's Rds(on) at the board's draw: under a mV at the pin).
    assert want[0] == 0 and abs(want[1] * 3300 / 4096 - views[1]["cell_mv"] / 2) < 2
    assert shown[0] == shown[1] == [raw << 4 | raw >> 8 for raw in want]


def test_the_emulated_board_resets_and_keeps_its_flash_like_a_board(tmp_path):
    image = str(tmp_path / "flash.img")
    with EmulatedPico(image, hold=True) as pico:
        with Device(pico.port) as dev:
            dev.write_file("/kept.txt", b"kept")
            assert dev.eval("__import__('machine').reset_cause()") == 1  # power-on
        assert mpremote(pico.port, "reset").returncode == 0  # machine.reset()
        pico.run(100)
        assert [e["cause"] for e in pico.events if e["ev"] == "boot"] == ["power", "reset"]
        with Device(pico.port) as dev:  # rp2 resets through its watchdog: WDT_RESET
            assert dev.eval("__import__('machine').reset_cause()") == 3
        pico.power_cycle()
        with Device(pico.port) as dev:
            assert dev.eval("__import__('machine').reset_cause()") == 1
            assert dev.read_file("/kept.txt") == b"kept"
    with EmulatedPico(image, hold=True) as pico:  # another run, the same image file
        with Device(pico.port) as dev:
            assert dev.read_file("/kept.txt") == b"kept"
            assert dev.exec("print(1 + 1)").strip() == "2"


def test_the_vdev_command_serves_the_emulated_pico(tmp_path):
    cmd = [sys.executable, "-m", "host_tools", "vdev", "--engine", "rp2040"]
    bad = subprocess.run(cmd + ["--board", "esp32-devkit"], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert bad.returncode == 1 and bad.stderr.startswith("vdev: board esp32-devkit is not")
    pins = tmp_path / "pins.jsonl"
    p = subprocess.Popen(cmd + ["--flash", str(tmp_path / "pico.img"), "--pins", str(pins)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                         stdin=subprocess.DEVNULL)
    try:
        port = p.stdout.readline().decode().strip()
        r = mpremote(port, "exec", "import machine\nmachine.PWM(machine.Pin(%d), freq=20000, "
                     "duty_u16=32768)\nprint(machine.unique_id() != b'')" % MOTOR)
        assert r.stdout.split() == ["True"], r
    finally:
        p.terminate()
        _, err = p.communicate(timeout=60)
    assert p.returncode == 0 and b"Traceback" not in err, err
    lines = [json.loads(line) for line in pins.read_text().splitlines()]
    assert {"pin": "motor", "fn": "pwm", "duty": 0.5, "freq": 20000}.items() <= lines[-1].items()
    assert (tmp_path / "pico.img").stat().st_size == 2 * 1024 * 1024
