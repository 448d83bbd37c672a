"""The motor driven in volts: a strength is a share of the motor's rated voltage, and the
duty that gives it follows the cell, so a session feels the same from a full cell to an
empty one; the average voltage never exceeds the rating, and the kick reaches the voltage
that starts the motor. The board's cell is the simulated circuit's (simulator/adc_view)."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hal import hal_motor, machine, ramp, sim  # noqa: F401

from promised import DUTY_CAP, FULL_CELL
from simulator.adc_view import adc_view, apply
from simulator.device import SimDevice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = ("pico", "rp2040-zero", "esp32-devkit")


def board_json(name):
    with open(os.path.join(ROOT, "boards", name, "board.json")) as f:
        return json.load(f)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # a new motor each
@given(percent=st.integers(1, 100), cell=st.integers(3000, 4200))
def test_a_strength_is_the_same_voltage_from_any_cell(sim, percent, cell):  # noqa: F811
    m = hal_motor.Motor(machine.PWM(machine.Pin(15)), None, None, 3000, 0)
    m.set_cell(cell)
    m.set(percent)
    ramp(sim, m)
    volts = sim.duty(15) * cell / 65535
    assert abs(volts - percent * 30) <= cell / 65535 + 1  # one duty step, one mV rounding


def test_a_new_reading_resets_a_running_motor_in_one_write(sim):  # noqa: F811
    m = hal_motor.Motor(machine.PWM(machine.Pin(15)), None, None, 3000, 0)
    m.set_cell(4000)
    m.set(50)
    ramp(sim, m)
    del sim.log[:]
    m.set_cell(3500)  # the cell has fallen: the same 1.5 V needs more duty
    assert sim.duties(15) == [1500 * 65535 // 3500]
    m.set_cell(3500)  # the same reading again: nothing to write
    m.set_cell(None)  # no plausible reading: a full cell, the least duty
    assert sim.duties(15) == [1500 * 65535 // 3500, 1500 * 65535 // FULL_CELL]
    m.off()
    del sim.log[:]
    m.set_cell(3300)  # still: nothing to write
    assert sim.duties(15) == []


def test_the_duty_is_the_voltage_over_the_cell_to_the_count(sim):  # noqa: F811
    m = hal_motor.Motor(machine.PWM(machine.Pin(15)), None, None, 3000, 0)
    m.set_cell(3700)
    m.set(45)  # 1350 mV
    ramp(sim, m)
    assert sim.duty(15) == 23911  # 1350 / 3700 of 65535, rounded down
    m.set_cell(3000)
    assert sim.duty(15) == 29490  # 1350 / 3000 of 65535: not 29491 (of 65536)


def test_a_cell_below_the_voltage_asked_gives_full_duty_and_no_more(sim):  # noqa: F811
    m = hal_motor.Motor(machine.PWM(machine.Pin(15)), None, None, 3700, 0)
    m.set_cell(3300)
    m.set(100)
    ramp(sim, m)
    assert sim.duty(15) == 65535


def _session_volts(name, cell_mv, minutes=3):
    """(mean mV across the motor while it runs, the largest mV of any duty written) over
    the first minutes of the weekly routine at the default level, from a cell at cell_mv."""
    config = board_json(name)
    dev = SimDevice("/nonexistent-%s-%d" % (name, cell_mv), config=config)
    apply(dev.sim, adc_view(config, cell_mv))
    dev.app.selected = [p.name for p in dev.app.programs].index("weekly")
    dev.run_until(61000)  # idle wakes within a minute: its battery check reads the cell
    dev.click()
    log_at = len(dev.sim.log)
    dev.run_until(dev.clock.ms + minutes * 60000)
    writes = [e for e in dev.sim.log[log_at:] if e[0] == "duty" and e[1] == dev.motor_pin]
    volts = [e[2] * cell_mv / 65535 for e in writes]
    running = [v for v in volts if v > 0]
    return sum(running) / len(running), max(volts)


@pytest.mark.parametrize("name", BOARDS)
def test_a_session_puts_the_same_volts_on_the_motor_from_a_full_and_a_low_cell(name):
    full, full_max = _session_volts(name, 4200)
    low, low_max = _session_volts(name, 3500)
    assert abs(full - low) <= 0.05 * full, (full, low)  # in duty it was about 17 %
    rated = board_json(name)["motor"]["rated_mv"]
    assert max(full_max, low_max) <= rated  # the kick at start_mv, strokes at most 90 %
    assert max(full_max, low_max) > DUTY_CAP * rated // 100 / 2  # it did run


def test_the_cell_is_read_while_the_motor_rests(tmp_path):
    # A reading during a stroke would see the cell dip under the motor's current: the
    # check waits for the next rest, which every stroke ends in, without a wake of its own.
    config = board_json("pico")
    dev = SimDevice(str(tmp_path), config=config)
    apply(dev.sim, adc_view(config, 3900))
    reads = []
    battery = dev.board.battery
    real = battery.millivolts

    def spy():
        reads.append(dev.app.motor)
        return real()

    battery.millivolts = spy
    dev.click()
    dev.run_until(5 * 60000)
    assert len(reads) >= 8 and set(reads) == {0}, reads
