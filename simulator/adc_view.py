"""What a board's ADC sees of its cell, for every engine: the voltage on each ADC pin the
circuit drives, and the rail the rp2 ADC measures against. The one place the simulator
turns a cell voltage into ADC inputs, from the board's circuit (simulator.circuit.sense,
which tests/test_circuit_spice.py holds to ngspice), with the board awake.

    view = adc_view("rp2040-zero", 3200)
    # about {"ref_mv": 2950, "pins": {26: 1600, 27: 2049}, "motor": {...}}: the rail sagged
    apply(machine.sim, view)       # the simulated machine.ADC (CPython, MicroPython)
    codes(view)                    # about {26: 2222, 27: 2846}: the emulated RP2040's codes

On the RP2040-Zero the cell feeds the board through a Schottky and an LDO, so below about
3.5 V the rail follows the cell down and a plain divider's reading rises: the board's
shunt reference on a second pin is what lets the firmware see the cell. A fixed 3.3 V
reference would hide that.

The cell in mV is its open-circuit voltage (its charge). None is nothing wired (a bench
board: every ADC pin floats, the board runs on USB's 3.3 V rail); 0 is a shorted cell (the
rail the cell gave is gone: every code reads 0, as sense.State.raw says).

The cell sags (simulator/circuit/cell.py): its internal resistance, new or old, times
what the board draws. "ref_mv" and "pins" are the inputs while the motor rests (the board's
own draw only); "motor" says what they become with the motor's PWM pin at each duty:
STEPS + 1 entries, entry k at duty_u16 k * 65536 // STEPS, the pins' voltages taken
linearly in the cell's sag between the rest and a full-duty stroke (exact for a divider
and a shunt reference; a regulator's rail moves as little). The simulated machine reads
them at the motor pin's duty of the moment (machine.Sim.set_adc_view), so a reading during
a stroke is lower than one between strokes. cell=None is an ideal source: no sag, no
"motor".
"""

import json

from simulator import circuit
from simulator.circuit import cell as cells
from simulator.circuit import power, sense

USB_RAIL_MV = 3300.0  # the rail with no cell: the board's regulator fed from USB
STEPS = 16  # the motor's duty in 16 steps of 4096 (machine.py: SAG_SHIFT)
CELL_AGES = cells.AGES
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
    from simulator.vdev_common import board_config

    return board_config(board)


def adc_view(board, cell_mv, load="awake", cell="new"):
    """{"ref_mv": the rail in mV, "pins": {gpio: mV, or None where the pin floats},
    "motor": the same under the motor (see above)} for `board` (a name under boards/, a
    board.json path, or its config) with the cell at `cell_mv` open-circuit, `cell` its
    age ("new", "old"; None: no internal resistance). Every ADC-capable pin the circuit
    drives is in "pins"."""
    config = _config(board)
    if config.get("battery") is None:
        return {"ref_mv": USB_RAIL_MV, "pins": {}}
    c = _circuit(config)
    if cell_mv is None:
        pins = {gpio: None for gpio in c.mcu.adc_pins if c.label(gpio) in c.nets()}
        return {"ref_mv": USB_RAIL_MV, "pins": pins}
    ocv = cell_mv / 1000
    rest_v = cells.terminal_v(c, ocv, 0.0, cell, load)
    ref_mv, pins = _inputs(c, rest_v, load)
    view = {"ref_mv": ref_mv, "pins": pins, "cell_mv": rest_v * 1000}
    if cells.resistance(c, cell) > 0 and ocv > 0:
        view["motor"] = _under_motor(c, config, ocv, cell, load, rest_v, ref_mv, pins)
    return view


def _inputs(c, volts, load):
    """(rail mV, {gpio: mV}) with the cell's terminals at `volts`."""
    s = sense.state(c, volts, load)
    pins = {}
    for gpio in c.mcu.adc_pins:
        v = s.pins_v.get(c.label(gpio))
        if v is not None:
            pins[gpio] = v * 1000
    return s.rail_v * 1000, pins


def _under_motor(c, config, ocv, age, load, rest_v, ref_mv, pins):
    board_amps = power.total(c, load, rest_v)  # moves by a few µA over a stroke's dip
    volts = [rest_v] + [cells.terminal_v(c, ocv, k / STEPS, age, load, board_amps)
                        for k in range(1, STEPS + 1)]
    full_ref, full = _inputs(c, volts[-1], load)
    span = rest_v - volts[-1]

    def along(rest, stroke):
        return [rest + (stroke - rest) * ((rest_v - v) / span if span > 0 else 0.0)
                for v in volts]

    return {"pin": config["motor"]["pin"], "ref_mv": along(ref_mv, full_ref),
            "pins": {gpio: along(mv, full[gpio]) for gpio, mv in pins.items()},
            "cell_mv": [v * 1000 for v in volts]}


def cell_mv(view, duty_u16=0):
    """The cell's voltage at the board's terminals in a view, with the motor pin at
    `duty_u16` (what its ADC pins show): mV, or None when nothing is wired."""
    motor = view.get("motor")
    if motor is None:
        return view.get("cell_mv")
    steps = motor["cell_mv"]
    k, frac = duty_u16 * STEPS // 65536, duty_u16 * STEPS % 65536
    if k >= STEPS:
        return steps[-1]
    return steps[k] + (steps[k + 1] - steps[k]) * frac / 65536


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
    """Give a simulated board (machine.sim) the view: its reference, every pin, and what
    they become under the motor (machine.Sim.set_adc_view, the one place)."""
    sim.set_adc_view(view)


def jsonable(view):
    """The view with text keys, as the virtual device's host sends it (set_adc_view takes
    either)."""
    out = dict(view, pins={str(g): v for g, v in view["pins"].items()})
    motor = view.get("motor")
    if motor is not None:
        out["motor"] = dict(motor, pins={str(g): v for g, v in motor["pins"].items()})
    return out

