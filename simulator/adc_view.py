"""What a board's ADC sees of its cell, for every engine: the voltage on each ADC pin the
circuit drives, and the rail the rp2 ADC measures against. The one place the simulator
turns a cell voltage into ADC inputs, from the board's circuit (simulator.circuit.sense,
which tests/test_circuit_spice.py holds to ngspice), with the board awake.

    view = adc_view("rp2040-zero", 3200)
    # about {"ref_mv": 2950, "pins": {26: 1600, 27: 2049}}: the rail has sagged
    apply(machine.sim, view)       # the simulated machine.ADC (CPython)
    codes(view)                    # about {26: 2222, 27: 2846}: the emulated RP2040's codes

On the RP2040-Zero the cell feeds the board through a Schottky and an LDO, so below about
3.5 V the rail follows the cell down and a plain divider's reading rises: the board's
shunt reference on a second pin is what lets the firmware see the cell. A fixed 3.3 V
reference would hide that.

The cell in mV: None is nothing wired (a bench board: every ADC pin floats, the board runs
on USB's 3.3 V rail); 0 is a shorted cell (the rail the cell gave is gone: every code
reads 0, as sense.State.raw says).
"""

import json

from simulator import circuit
from simulator.circuit import sense

USB_RAIL_MV = 3300.0  # the rail with no cell: the board's regulator fed from USB
_CIRCUITS = {}  # board.json text -> its Circuit


def _circuit(config):
    key = json.dumps(config, sort_keys=True)
    c = _CIRCUITS.get(key)
    if c is None:
        try:
            c = circuit.load(config["name"], config)
        except circuit.CircuitError as e:
            raise RuntimeError("board %s: %s" % (config["name"], e)) from None
        _CIRCUITS[key] = c
    return c


def _config(board):
    if isinstance(board, dict):
        return board
    from simulator.vdev import board_config

    return board_config(board)


def adc_view(board, cell_mv, load="awake"):
    """{"ref_mv": the rail in mV, "pins": {gpio: mV, or None where the pin floats}} for
    `board` (a name under boards/, a board.json path, or its config) with the cell at
    `cell_mv`. Every ADC-capable pin the circuit drives is in "pins"."""
    config = _config(board)
    if config.get("battery") is None:
        return {"ref_mv": USB_RAIL_MV, "pins": {}}
    c = _circuit(config)
    if cell_mv is None:
        pins = {gpio: None for gpio in c.mcu.adc_pins if c.label(gpio) in c.nets()}
        return {"ref_mv": USB_RAIL_MV, "pins": pins}
    s = sense.state(c, cell_mv / 1000, load)
    pins = {}
    for gpio in c.mcu.adc_pins:
        v = s.pins_v.get(c.label(gpio))
        if v is not None:
            pins[gpio] = v * 1000
    return {"ref_mv": s.rail_v * 1000, "pins": pins}


def code(mv, ref_mv):
    """rp2's 12-bit code for `mv` on a pin against `ref_mv` (ports/rp2/machine_adc.c, as
    the simulated machine.ADC computes it)."""
    raw = int(mv * 4096 / ref_mv) if ref_mv > 0 else 0
    return max(0, min(4095, raw))


def codes(view):
    """{gpio: 12-bit code} of an rp2 board's view (a floating pin has no code)."""
    return {gpio: code(mv, view["ref_mv"]) for gpio, mv in view["pins"].items()
            if mv is not None}


def apply(sim, view):
    """Give a simulated board (machine.sim) the view: its reference, then every pin."""
    sim.set_adc_ref_mv(view["ref_mv"])
    for gpio, mv in view["pins"].items():
        if mv is None:
            sim.float_adc(gpio)
        else:
            sim.set_adc_mv(gpio, mv)

