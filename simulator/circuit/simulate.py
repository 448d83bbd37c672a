"""The checks ngspice runs on a board's netlist, each returning the figures a test holds
to a promise (tests/test_circuit_spice.py) and the docs quote:

- pwm(): the motor driver at the board's PWM frequency from a given cell and duty: the
  cell's average current, the average voltage across the motor, the drain's peak, the
  motor's speed;
- floating_gate(): the cell switched on while the motor pin floats (reset, boot, sleep),
  the pin's worst-case leakage flowing in: the gate's peak and the motor's current;
- sense(): the battery sense path over the whole discharge (a DC sweep of the cell): the
  rail and every pin's voltage, for the firmware's conversion;
- latch_off(), latch_cycle(): the power latch (a board with board.json power.hold_pin):
  what the cell gives while everything is off, and a press, the hold, the press's end,
  the hold's release, in order.

On a board with a latch, the checks other than the latch's own run with the hold pin
driven high (the chip has held the latch on), as on the device.
"""

import os
import tempfile

from simulator.circuit import parts as catalogue
from simulator.circuit import spice
from simulator.circuit.spice import motor_constants


def _motor(c):
    return c.of_kind("MOTOR")[0]


def _hold_on(c):
    """The chip awake on a board with a latch: its hold pin driven high, its button pin's
    pull-up on (the button's net is otherwise left floating between two diodes), and the
    board's capacitance behind the latch (_board_caps). Nothing without a latch."""
    pins = c.pin_nets()
    hold = pins.get("hold")
    if not (hold and c.latch):
        return ""
    return "VHOLD %s 0 DC %s\nRPU %s V3V3 %s\n%s" % (
        hold, c.mcu.vdd, pins["button"], PIN_PULLUP_OHMS, _board_caps(c))


def steady_speed(spec, volts):
    """The motor's speed (rad/s) with `volts` across it, held: where the torque of its
    current meets its friction. 0 below the start voltage (static friction holds it)."""
    k = motor_constants(spec)
    if volts <= spec.v_start:
        return 0.0
    lo, hi = 0.0, volts / k["KE"]
    for _ in range(60):
        w = (lo + hi) / 2
        torque = k["KE"] * (volts - k["KE"] * w) / k["R"]
        friction = k["TC"] + k["BV"] * w
        if torque > friction:
            lo = w
        else:
            hi = w
    return lo


def pwm(c, cell_v, duty, freq=None, ms=12, from_still=False):
    """The motor driver switched at `duty` (0..1) from a cell at `cell_v`. The motor starts
    at the speed the average voltage would hold (from_still: at rest), and the figures
    average the last 4 ms of `ms`."""
    freq = freq or c.config["motor"].get("freq", 20000)
    motor = _motor(c)
    period = 1.0 / freq
    pin = c.pin_nets()["motor"]
    w0 = 0.0 if from_still else steady_speed(motor.spec, duty * cell_v)
    on = max(duty * period - 40e-9, 0.0)
    t_end = ms * 1e-3
    t_from = t_end - 4e-3
    body = """
VB VBAT 0 DC {cell}
{hold}
VP {pin} 0 PULSE(0 {vdd} 0 20n 20n {on} {period})
.ic v({mref}_W)={w0}
.options reltol=1e-3
.tran 0.5u {t_end}
.meas tran i_cell AVG i(VB) from={t_from} to={t_end}
.meas tran v_motor AVG par('v(VBAT)-v(DRAIN)') from={t_from} to={t_end}
.meas tran v_drain_max MAX v(DRAIN) from={t_from} to={t_end}
.meas tran i_motor_max MAX i(VB) from={t_from} to={t_end}
.meas tran speed AVG v({mref}_W) from={t_from} to={t_end}
""".format(cell=cell_v, pin=pin, vdd=c.mcu.vdd, on=on, period=period, mref=motor.ref,
           w0=w0, t_end=t_end, t_from=t_from, hold=_hold_on(c))
    res, _ = spice.run(spice.deck(c, body))
    return {"i_cell": -res["i_cell"], "v_motor": res["v_motor"],
            "v_drain_max": res["v_drain_max"], "speed": res["speed"]}


def floating_gate(c, cell_v=4.2, leak=None, ms=20):
    """The cell connected (a 1 µs edge, as a switch closes) while the motor pin floats,
    the chip's worst-case input leakage flowing into the pin. Figures: the gate's peak at
    the edge (the drain's step couples in through Cgd), the gate once settled, and the
    largest current the cell gives the motor."""
    leak = c.mcu.leak_max if leak is None else leak
    pin = c.pin_nets()["motor"]
    body = """
VB VBAT 0 PWL(0 0 1u {cell})
{hold}
ILEAK 0 {pin} DC {leak}
.options rshunt=1e12
.tran 1u {t_end}m
.meas tran v_gate_edge MAX v(GATE) from=0 to=100u
.meas tran v_gate_settled AVG v(GATE) from={t_half}m to={t_end}m
.meas tran i_motor_max MAX par('abs(i(v.x{mref}.vi))') from=200u to={t_end}m
""".format(cell=cell_v, pin=pin, leak=leak, t_end=ms, t_half=ms / 2,
           mref=_motor(c).ref.lower(), hold=_hold_on(c))
    res, _ = spice.run(spice.deck(c, body, params={"load_u1": 0.0}))
    return res


def sense(c, corner=None, lo=3.0, hi=4.2, step=0.05):
    """The sense path over a cell from `lo` to `hi` volts: [(cell, rail, {pin: volts})].
    `corner` moves the parts to a tolerance corner: {"divider": +1 or -1 (top resistor
    high and bottom low, or the reverse), "reference": +1 or -1 (the reference's initial
    accuracy)}."""
    corner = corner or {}
    c = _at_corner(c, corner)
    labels = sorted(c.pin_nets()[k] for k in ("battery", "battery_ref") if k in c.pin_nets())
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "sense.txt")
        vecs = " ".join(["v(V3V3)"] + ["v(%s)" % n for n in labels])
        body = """
VB VBAT 0 DC 3.7
{hold}
.options rshunt=1e12
.control
dc VB {lo} {hi} {step}
wrdata {out} {vecs}
quit
.endc
""".format(lo=lo, hi=hi + step / 2, step=step, out=out, vecs=vecs, hold=_hold_on(c))
        spice.run(spice.deck(c, body))
        rows = []
        with open(out) as f:
            for line in f:
                cols = [float(x) for x in line.split()]
                if not cols:
                    continue
                # wrdata writes the sweep value before every vector: x v1 x v2 ...
                cell, vals = cols[0], cols[1::2]
                rows.append((cell, vals[0], dict(zip(labels, vals[1:]))))
    return rows


def _at_corner(c, corner):
    d = corner.get("divider", 0)
    if d:
        for ref, sign in (("R3", d), ("R4", -d)):
            p = c.part(ref)
            c = c.replaced(ref, catalogue.resistor(p.spec.ohms * (1 + sign * p.spec.tolerance),
                                                   p.spec.tolerance))
    r = corner.get("reference", 0)
    if r:
        for p in c.of_kind("SHUNTREF"):
            c = c.replaced(p.ref, p.spec.but(volts=p.spec.volts * (1 + r * p.spec.accuracy)))
    return c


def volts_table(c, cell_v, duties=(0.1, 0.3, 0.5, 0.7, 0.9)):
    """[(duty, average volts across the motor)] at a cell of cell_v, from ngspice, with
    (0, 0) and (1, the cell) as the ends: what a duty puts on the motor, for interpolating
    a whole session's duties."""
    rows = [(0.0, 0.0)]
    rows += [(d, pwm(c, cell_v, d)["v_motor"]) for d in duties]
    rows.append((1.0, cell_v))
    return rows


def volts_at(table, duty):
    """The table's average motor volts at `duty`, interpolated between its rows."""
    for (d0, v0), (d1, v1) in zip(table, table[1:]):
        if d0 <= duty <= d1:
            return v0 + (v1 - v0) * (duty - d0) / (d1 - d0)
    return table[-1][1]


def stroke_volts(table, writes, strokes):
    """The average volts on the motor over each stroke: `writes` are the firmware's
    [(ms, duty_u16)] in time order, `strokes` [(key, start ms, end ms)]; {key: volts}."""
    out = {}
    for key, start, end in strokes:
        total, level, at = 0.0, 0.0, start
        for t, duty in writes:
            if t <= start:
                level = volts_at(table, duty / 65535)
                continue
            if t >= end:
                break
            total += level * (t - at)
            level, at = volts_at(table, duty / 65535), t
        total += level * (end - at)
        out[key] = total / (end - start) if end > start else 0.0
    return out


def kick(c, cell_v, kick_duty, kick_ms, then_duty, ms):
    """A still motor given the firmware's start: `kick_duty` for `kick_ms`, then
    `then_duty`, at the board's PWM frequency from a cell at cell_v. Returns the motor's
    speed (rad/s) at the end of the kick and at `ms`, and its rated speed."""
    freq = c.config["motor"].get("freq", 20000)
    period = 1.0 / freq
    motor = _motor(c)
    pin = c.pin_nets()["motor"]
    body = """
VB VBAT 0 DC {cell}
{hold}
VSAW SAW 0 PULSE(0 1 0 {rise} 10n 0 {period})
BPIN {pin} 0 V=V(SAW) < (time < {kick_s} ? {dk} : {dt}) ? {vdd} : 0
.ic v({mref}_W)=0
.options reltol=1e-3
.tran 0.5u {t_end}
.meas tran w_kick FIND v({mref}_W) AT={kick_s}
.meas tran w_end FIND v({mref}_W) AT={t_end}
""".format(cell=cell_v, rise=period - 10e-9, period=period, pin=pin, kick_s=kick_ms / 1000,
           dk=kick_duty, dt=then_duty, vdd=c.mcu.vdd, mref=motor.ref, t_end=ms / 1000,
           hold=_hold_on(c))
    res, _ = spice.run(spice.deck(c, body))
    return {"w_kick": res["w_kick"], "w_end": res["w_end"],
            "w_rated": motor_constants(motor.spec)["W_RATED"]}


# --- The power latch ------------------------------------------------------------------------

# An unpowered chip's pins: their pads' protection diodes into a dead rail, taken as a
# low resistance to ground (the harder case for the button-reading diode's leakage, which
# then sees the whole cell in reverse).
DEAD_PIN_OHMS = 1e3
# The MCU's own pull-up on the button pin, powered from its rail (RP2040: 50-80 kΩ; ESP32
# about 45 kΩ): the strongest, which makes a press read highest.
PIN_PULLUP_OHMS = 45e3


def latch_off(c, cell_v=4.2, ms=50):
    """Everything off: the cell connected, the chip unpowered (its hold pin undriven, its
    button pin at a dead pad), no press. Figures: the cell's current once settled (the
    latch's leakages), the switched net, the P-MOSFET's gate-source voltage."""
    pins = c.pin_nets()
    body = """
VB VBAT 0 DC {cell}
RDEAD {button} 0 {dead}
.options rshunt=1e12
.tran 10u {t_end}m
.meas tran i_off AVG par('-i(VB)') from={t_half}m to={t_end}m
.meas tran v_sw MAX v(VSW) from={t_half}m to={t_end}m
.meas tran v_gs AVG par('v(VBAT)-v(PGATE)') from={t_half}m to={t_end}m
""".format(cell=cell_v, button=pins["button"], dead=DEAD_PIN_OHMS, t_end=ms, t_half=ms / 2)
    res, _ = spice.run(spice.deck(c, body, params={"load_u1": c.part("U1").spec.awake}))
    return res


# What the switched net and the rail carry besides the parts drawn: the dev board's input
# and output capacitors and the wiring, taken as 1 µF each (the boards have more); without
# them the steps at the latch's edges are stiffer than on any board, and the solver stalls.
BULK_F = 1e-6
def _board_caps(c):
    """The capacitance behind a latch that the circuit does not draw: on VSW, the rail and
    the dev board's supply pin (where a diode lies between it and VSW), BULK_F each; a
    little on a reference pin."""
    lines = ["CBULK VSW 0 %s" % BULK_F, "CRAIL V3V3 0 %s" % BULK_F]
    reg = [p for p in c.of_kind("LDO", "BUCKBOOST") if p.nets["out"] == "V3V3"]
    if reg and reg[0].nets["in"] not in ("VSW", "VBAT"):
        lines.append("CIN %s 0 %s" % (reg[0].nets["in"], BULK_F))
    # A shunt reference's sharp knee, swept by a rail that rises in microseconds, stalls
    # the solver: the pin's and the wiring's capacitance (10 nF taken) smooths it.
    for i, ref in enumerate(c.of_kind("SHUNTREF")):
        lines.append("CREF%d %s 0 10n" % (i, ref.nets["k"]))
    return "\n".join(lines)


EDGE_MS = 0.1  # a contact's or a pin's edge, slowed for the solver (the timeline is ms)
# The latch's timeline (ms): the press, the hold, the press's end, a press while held (the
# button read), the hold's release.
PRESS_MS, HOLD_MS, RELEASE_MS, READ_MS, READ_END_MS, UNHOLD_MS, END_MS = (
    2, 10, 20, 30, 34, 40, 60)


def latch_cycle(c, cell_v=3.0, hold=True, pullup=True):
    """From off: the button pressed at PRESS_MS (its net to ground, a switch's few ohms);
    the chip, once its rail is up, drives the hold pin high at HOLD_MS (hold=False: never);
    the press ends at RELEASE_MS; a second press READ_MS..READ_END_MS, which the chip reads
    on its button pin (its pull-up on the rail; pullup=False: none); the hold released at
    UNHOLD_MS. Figures: the switched net (v_sw_*) at each stage, the latch's |Vgs| in the
    first press, the button pin during the second, and the cell's current at the end."""
    pins = c.pin_nets()
    vdd = c.mcu.vdd
    # The chip's pins: the hold pin driven from HOLD_MS (the rail is up well before), the
    # button pin's pull-up on the rail.
    edge = EDGE_MS
    hold_wave = "PWL(0 0 {a}m 0 {a1}m {vdd} {b}m {vdd} {b1}m 0)".format(
        a=HOLD_MS, a1=HOLD_MS + edge, b=UNHOLD_MS, b1=UNHOLD_MS + edge,
        vdd=vdd) if hold else "DC 0"
    press = "PWL(0 0 {p}m 0 {p1}m 1 {r}m 1 {r1}m 0 {q}m 0 {q1}m 1 {e}m 1 {e1}m 0)".format(
        p=PRESS_MS, p1=PRESS_MS + edge, r=RELEASE_MS, r1=RELEASE_MS + edge, q=READ_MS,
        q1=READ_MS + edge, e=READ_END_MS, e1=READ_END_MS + edge)
    body = """
VB VBAT 0 DC {cell}
VHOLD {hold} 0 {hold_wave}
VPRESS PR 0 {press}
SPRESS BTN 0 PR 0 SWPRESS
.model SWPRESS SW(VT=0.5 VH=0.1 RON=1 ROFF=1e9)
{pullup}
{caps}
.options rshunt=1e12 gmin=1e-10
.tran 10u {t_end}m
.meas tran v_sw_pressed AVG v(VSW) from={p_mid}m to={h}m
.meas tran vgs_pressed AVG par('v(VBAT)-v(PGATE)') from={p_mid}m to={h}m
.meas tran v_sw_held AVG v(VSW) from={r_mid}m to={q}m
.meas tran v_rail_held MIN v(V3V3) from={r_mid}m to={q}m
.meas tran v_button_read AVG v({button}) from={q_mid}m to={e}m
.meas tran v_rail_released MAX v(V3V3) from={u_mid}m to={t_end}m
.meas tran i_released AVG par('-i(VB)') from={u_mid}m to={t_end}m
""".format(cell=cell_v, hold_wave=hold_wave, caps=_board_caps(c), hold=pins["hold"], press=press,
           pullup="RPU %s V3V3 %s" % (pins["button"], PIN_PULLUP_OHMS) if pullup else "",
           t_end=END_MS, p_mid=(PRESS_MS + HOLD_MS) / 2, h=HOLD_MS,
           r_mid=(RELEASE_MS + READ_MS) / 2, q=READ_MS, q_mid=(READ_MS + READ_END_MS) / 2,
           e=READ_END_MS, u_mid=(UNHOLD_MS + END_MS) / 2, button=pins["button"])
    res, _ = spice.run(spice.deck(c, body))
    return res
