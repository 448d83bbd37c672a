# The battery ADC on every engine sees the board's circuit: simulator/adc_view.py turns a
# cell voltage into each ADC pin's voltage and the rail the rp2 ADC measures against, from
# simulator.circuit.sense (held to ngspice by tests/test_circuit_spice.py). On the
# RP2040-Zero the cell feeds the board through a Schottky and an LDO, so below about 3.5 V
# the rail sags with the cell and a plain divider's reading rises: the board reads the cell
# against a 2.048 V reference on GP27 instead. A fixed 3.3 V reference in the simulator hid
# that the old wiring's cutoff could never fire.
import os
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_vdev_firmware import install_firmware, records, wait_for

from host_tools.device import Device
from promised import BATTERY_CUTOFF
from simulator import circuit
from simulator.adc_view import adc_view, apply, codes
from simulator.circuit import sense
from simulator.device import SimDevice
from simulator.pico import EmulatedPico
from simulator.vdev import VirtualDevice, board_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = ("pico", "rp2040-zero", "esp32-devkit")
ZERO = "rp2040-zero"
FLAT_MV, CHARGED_MV = 3200, 3900  # below the cutoff, and well above it
SECOND = 1000
BATTERY_CHECK_MS = 30 * SECOND  # the firmware reads the cell this often (runtime.py)


def cpython(config, flash="/nonexistent-flash", cell_mv=None):
    """The firmware on the CPython engine, the ADC showing a cell at `cell_mv`."""
    dev = SimDevice(flash, config=config)
    if cell_mv is not None:
        apply(dev.sim, adc_view(config, cell_mv))
    return dev


def old_zero():
    """The RP2040-Zero as first wired: the divider alone, no reference pin."""
    config = board_config(ZERO)
    for key in ("ref_pin", "ref_mv"):
        del config["battery"][key]
    return config


# -- (a) the simulated ADC reads what the circuit gives ------------------------------------

@pytest.mark.parametrize("board", BOARDS)
@given(cell_mv=st.floats(3000, 4200))
def test_the_simulated_adc_reads_the_codes_of_the_circuit(board, cell_mv):
    config = board_config(board)
    dev = cpython(config, cell_mv=cell_mv)
    c = circuit.load(board)
    view = adc_view(config, cell_mv)
    # The cell at the board's terminals: its open-circuit voltage less its internal
    # resistance times the board's own draw (the motor rests; tests/test_cell_sag.py).
    terminal_v = view["cell_mv"] / 1000
    assert 0 < cell_mv / 1000 - terminal_v < 0.010
    s = sense.state(c, terminal_v)
    pins = view["pins"]
    bat = config["battery"]
    assert {bat["pin"], bat.get("ref_pin", bat["pin"])} <= set(pins)
    for gpio in pins:
        adc = dev.machine.ADC(dev.machine.Pin(gpio))
        if s.adc_ref == "rail":  # rp2: 12 bits against the rail
            assert adc.read_u16() == s.read_u16(c.label(gpio))
        else:  # esp32: calibrated against its own reference
            assert adc.read_uv() == s.read_uv(c.label(gpio))
    # The firmware's own conversion sees the cell as sense's end-to-end model does.
    assert dev.board.battery.millivolts() == sense.cell_reading_mv(c, terminal_v)


def test_a_sagging_rail_lifts_every_rp2_reading():
    config = board_config(ZERO)
    view = adc_view(config, FLAT_MV)
    assert view["ref_mv"] < 3000  # the LDO's input is the cell less the Schottky's drop
    dev = cpython(config, cell_mv=FLAT_MV)
    divider = dev.machine.ADC(dev.machine.Pin(config["battery"]["pin"])).read_u16()
    dev.sim.set_adc_ref_mv(3300)  # the rail the old simulator assumed
    assert dev.machine.ADC(dev.machine.Pin(config["battery"]["pin"])).read_u16() < divider


# -- (b) the RP2040-Zero cuts off below 3.3 V ----------------------------------------------

def test_the_zero_stops_a_session_when_its_cell_falls_below_the_cutoff(tmp_path):
    config = board_config(ZERO)
    dev = cpython(config, str(tmp_path), CHARGED_MV)
    dev.click()
    dev.run_until(BATTERY_CHECK_MS + 5 * SECOND)
    assert dev.app.state == "running" and dev.motor_duty() > 0
    apply(dev.sim, adc_view(config, FLAT_MV))
    dev.run_until(dev.clock.ms + BATTERY_CHECK_MS + SECOND)
    assert dev.app.state == "off" and dev.motor_duty() == 0
    assert dev.board.battery.millivolts() < BATTERY_CUTOFF


def test_massager_vdev_on_a_flat_zero_powers_off(tmp_path):
    # The issue's demonstration: massager vdev --board rp2040-zero --battery 3200.
    flash = str(tmp_path / "flash")
    os.makedirs(flash)
    install_firmware(flash, ZERO)
    trace = str(tmp_path / "trace.jsonl")
    p = subprocess.Popen([sys.executable, "-m", "host_tools", "vdev", "--board", ZERO,
                          "--battery", str(FLAT_MV), "--flash", flash, "--trace", trace],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, cwd=ROOT)
    try:
        assert p.stdout.readline().startswith(b"/dev/")
        wait_for(lambda: records(trace) and records(trace)[-1]["state"] == "off")
    finally:
        p.terminate()
        _, err = p.communicate(timeout=60)
    assert p.returncode == 0 and b"Traceback" not in err, err
    assert all(r["motor"] == 0 for r in records(trace))


def test_the_virtual_zero_runs_a_session_on_a_charged_cell(tmp_path):
    flash = str(tmp_path / "flash")
    os.makedirs(flash)
    install_firmware(flash, ZERO)
    trace = str(tmp_path / "trace.jsonl")
    with VirtualDevice(flash, trace=trace, board=ZERO, battery_mv=CHARGED_MV) as dev:
        wait_for(lambda: any(r["state"] == "idle" for r in records(trace)))
        dev.press(True)
        time.sleep(0.2)  # a short press
        dev.press(False)
        wait_for(lambda: [r for r in records(trace) if r["motor"] > 0])
    assert "off" not in {r["state"] for r in records(trace)}


# -- (c) the old wiring, with the rail model -----------------------------------------------

def test_the_old_zero_wiring_never_reads_below_the_cutoff():
    config = old_zero()
    dev = cpython(config)
    for cell_mv in range(2500, 4201, 50):  # the whole discharge, to the protection IC
        apply(dev.sim, adc_view(config, cell_mv))
        assert dev.board.battery.millivolts() > BATTERY_CUTOFF, cell_mv


def test_the_old_zero_wiring_reads_a_flat_cell_as_charged(tmp_path):
    config = old_zero()
    dev = cpython(config, str(tmp_path), FLAT_MV)
    assert dev.board.battery.millivolts() > BATTERY_CUTOFF  # the rail sagged, not the cell
    dev.sim.set_adc_ref_mv(3300)  # what the old simulator's fixed reference showed
    assert abs(dev.board.battery.millivolts() - FLAT_MV) < 10
    apply(dev.sim, adc_view(config, FLAT_MV))
    dev.click()
    dev.run_until(2 * BATTERY_CHECK_MS + SECOND)
    assert dev.app.state == "running"  # the cutoff cannot fire: only the cell's own IC stops


# -- (d) every engine reads the same --------------------------------------------------------

BATTERY_SOURCE = os.path.join(ROOT, "firmware", "massager", "hal", "battery.py")
READ = "Battery(ADC(Pin(%d)), %d, ADC(Pin(%d)), %d).millivolts()"


def read_on(port, config):
    """The firmware's Battery on a board's raw REPL: the cell in mV, and the two codes."""
    bat = config["battery"]
    with open(BATTERY_SOURCE) as f:
        source = f.read()
    with Device(port, soft_reset=False) as dev:
        dev.reset_on_close = False
        dev.exec("from machine import ADC, Pin\n" + source)
        return dev.eval("(%s, ADC(Pin(%d)).read_u16(), ADC(Pin(%d)).read_u16())" % (
            READ % (bat["pin"], bat["divider_x100"], bat["ref_pin"], bat["ref_mv"]),
            bat["pin"], bat["ref_pin"]))


def test_every_engine_reads_the_same_cell_on_the_zero(tmp_path):
    config = board_config(ZERO)
    bat = config["battery"]
    want = []
    for mv in (FLAT_MV, CHARGED_MV):
        dev = cpython(config, cell_mv=mv)
        adc = dev.machine.ADC
        want.append((dev.board.battery.millivolts(),
                     adc(dev.machine.Pin(bat["pin"])).read_u16(),
                     adc(dev.machine.Pin(bat["ref_pin"])).read_u16()))
        raw = codes(adc_view(config, mv))
        assert want[-1][1:] == tuple(raw[g] << 4 | raw[g] >> 8
                                     for g in (bat["pin"], bat["ref_pin"]))
    assert want[0][0] < BATTERY_CUTOFF < want[1][0]
    shown = {"rp2040": [], "micropython": []}
    image = tmp_path / "flash.img"  # the bare port: the firmware's Battery sent over the REPL
    with EmulatedPico(str(image), board=ZERO, battery_mv=FLAT_MV, hold=True) as pico:
        shown["rp2040"].append(read_on(pico.port, config))
        pico.set_battery(CHARGED_MV)
        shown["rp2040"].append(read_on(pico.port, config))
    with VirtualDevice(str(tmp_path / "vdev"), board=ZERO, battery_mv=FLAT_MV) as vdev:
        shown["micropython"].append(read_on(vdev.port, config))
        vdev.set_battery(CHARGED_MV)
        shown["micropython"].append(read_on(vdev.port, config))
    assert shown == {"rp2040": want, "micropython": want}
