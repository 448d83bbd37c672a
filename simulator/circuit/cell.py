"""The cell under load: its voltage at the board's terminals is the open-circuit voltage
less its internal resistance times the current drawn, the board's own and the motor's.
A reading taken during a stroke is lower than one taken while the motor rests.

    c = circuit.load("pico")
    terminal_v(c, 3.9, duty=1.0, age="old")   # about 3.85 V: the cell during a full stroke
    motor_amps(c, 3.9, 0.5)                  # the motor's average current from the cell

The motor's current at a duty comes from its model (simulate.steady_speed, the constants
spice.motor_constants derives from the datasheet) switched by the low-side MOSFET at the
board's PWM frequency: during each on-time the cell drives the winding (R, L) against the
back-EMF of the speed the average voltage holds; during the off-time the current goes
round the flyback diode, not through the cell. tests/test_cell_sag.py holds it to ngspice's
transient of the same driver (simulate.pwm) within a few mA.

The divider's capacitor (100 nF on 50 kOhm: 5 ms) averages the PWM's ripple away, so the ADC
sees the cell's average voltage over a stroke: what this module gives.
"""

import math

from simulator.circuit import power, simulate
from simulator.circuit.sense import forward_v
from simulator.circuit.spice import motor_constants

AGES = ("new", "old")
ITERATIONS = 6  # the sag and the current it leaves: each step shrinks the error 100-fold


def cell(c):
    """The circuit's cell (a Part), or None on a board without one."""
    cells = c.of_kind("CELL")
    return cells[0] if cells else None


def resistance(c, age):
    """The cell's internal resistance in ohm for `age` ("new", "old"; None: an ideal
    source, 0)."""
    if age is None:
        return 0.0
    if age not in AGES:
        raise ValueError("cell age: one of %s, got %r" % (", ".join(AGES), age))
    part = cell(c)
    return 0.0 if part is None else getattr(part.spec, "r_" + age)


def motor_amps(c, cell_v, duty):
    """The motor's average current from a cell at `cell_v` volts switched at `duty` (0..1):
    the periodic steady state of the winding's R and L over one PWM period."""
    if duty <= 0 or cell_v <= 0:
        return 0.0
    motors = c.of_kind("MOTOR")
    if not motors:
        return 0.0
    motor = motors[0]
    duty = min(duty, 1.0)
    k = motor_constants(motor.spec)
    emf = k["KE"] * simulate.steady_speed(motor.spec, duty * cell_v)
    r, tau = k["R"], k["L"] / k["R"]
    period = 1.0 / c.config["motor"].get("freq", 20000)
    t_on, t_off = duty * period, (1 - duty) * period
    i_on = (cell_v - emf) / r  # where the current heads while the switch is on
    flyback = [d for d in c.of_kind("D") if d.nets["a"] == motor.nets["n"]
               and d.nets["k"] == motor.nets["p"]]
    i0 = 0.0  # the current at the start of an on-time
    for _ in range(200):
        i1 = i_on + (i0 - i_on) * math.exp(-t_on / tau)
        if not flyback or t_off <= 0:
            nxt = i1 if t_off <= 0 else 0.0
        else:  # it decays round the diode against its drop and the back-EMF, down to 0
            i_off = -(forward_v(flyback[0].spec, max(i1, 1e-6)) + emf) / r
            nxt = max(0.0, i_off + (i1 - i_off) * math.exp(-t_off / tau))
        if abs(nxt - i0) < 1e-9:
            i0 = nxt
            break
        i0 = nxt
    # The cell carries the on-time's current only: its average over the period.
    return (i_on * t_on + (i0 - i_on) * tau * (1 - math.exp(-t_on / tau))) / period


def terminal_v(c, ocv, duty=0.0, age="new", load="awake", board_amps=None):
    """The cell's voltage at the board for an open-circuit voltage `ocv` (V), the motor at
    `duty` (0..1) and the board `load` ("awake", "asleep"): ocv less R times what the
    board and the motor draw at that voltage, solved by fixed-point iteration.
    `board_amps`: the board's own draw, held (else worked out at each voltage)."""
    r = resistance(c, age)
    if r <= 0 or ocv <= 0:
        return ocv
    v = ocv
    for _ in range(ITERATIONS):
        board = power.total(c, load, v) if board_amps is None else board_amps
        v = ocv - r * (board + motor_amps(c, v, duty))
    return v


def drawn_amps(c, ocv, duty=0.0, age="new", load="awake"):
    """The current the cell gives: the board's own and the motor's, at the terminal."""
    v = terminal_v(c, ocv, duty, age, load)
    return power.total(c, load, v) + motor_amps(c, v, duty)
