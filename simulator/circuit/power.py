"""What a board draws from its cell, part by part, from the circuit description: the
chip's own draw at the rail taken back through the board's regulator, the regulator's
quiescent current, every resistor path from the cell or the supply to ground, the dark
pixel, the reference's feed and the protection board. bench/battery.py turns it into
battery life.

    for row in power.draw(circuit.load("pico"), "asleep"): ...
"""

from simulator.circuit import GND
from simulator.circuit.rules import solve_dc
from simulator.circuit.sense import forward_v, reference_feeds, regulator, state

CELL_V = 3.7  # a 1S LiPo at its nominal voltage


class Row:
    def __init__(self, ref, what, amps, source):
        self.ref = ref
        self.what = what
        self.amps = amps  # from the cell
        self.source = source


def _rail_loads(c, rail_v, mode):
    """[(ref, what, amps at the rail, source)]."""
    out = []
    for p in c.parts:
        if p.kind == "LOAD" and p.nets["p"] == "V3V3":
            out.append((p.ref, p.spec.name + (" (awake)" if mode == "awake" else " (off)"),
                        getattr(p.spec, mode), p.spec.source))
        elif p.kind == "PIXEL" and p.nets["vdd"] == "V3V3":
            out.append((p.ref, p.spec.name + ", dark", p.spec.idle, p.spec.source))
    for ref, r in reference_feeds(c):
        amps = max(0.0, (rail_v - ref.spec.volts) / r.spec.ohms)
        out.append((ref.ref, "%s and its feed %s" % (ref.spec.name, r.ref), amps,
                    "(rail - %g V) / %s" % (ref.spec.volts, r.spec.value)))
    return out


def draw(c, mode="asleep", cell_v=CELL_V):
    """[Row] of the current each part draws from the cell at `cell_v`, with the board
    `mode` "asleep" (the off state's sleep) or "awake" (the loop running, motor and LED
    off)."""
    s = state(c, cell_v, mode)
    rows = []
    reg = regulator(c)
    loads = _rail_loads(c, s.rail_v, mode)
    rail_amps = sum(a for _, _, a, _ in loads)
    vin = cell_v
    if reg is not None and reg.nets["in"] != c.feed:
        diode = [d for d in c.of_kind("D") if d.nets["k"] == reg.nets["in"]][0]
        vin = cell_v - forward_v(diode.spec, rail_amps)
    for ref, what, amps, source in loads:
        if reg is not None and reg.kind == "BUCKBOOST":
            # The regulator's input power is its output's over its efficiency.
            amps = amps * reg.spec.vout / (reg.spec.efficiency * vin)
            source += "; through %s at %d %%" % (reg.spec.name, reg.spec.efficiency * 100)
        rows.append(Row(ref, what, amps, source))
    if reg is not None:
        rows.append(Row(reg.ref, "%s quiescent" % reg.spec.name, reg.spec.iq, reg.spec.source))
    # Resistor paths from the cell's side (VBAT, the regulator's input) to ground.
    fixed = {"VBAT": cell_v, c.feed: cell_v, "V3V3": s.rail_v}
    if reg is not None and reg.nets["in"] != c.feed:
        fixed[reg.nets["in"]] = vin
    volts = solve_dc(c, fixed)
    for r in c.of_kind("R"):
        for here, there in (("1", "2"), ("2", "1")):
            a, b = r.nets[here], r.nets[there]
            if a in fixed and a != "V3V3" and b not in fixed and b in volts:
                # Its current flows on to ground (a divider's upper resistor).
                amps = (fixed[a] - volts[b]) / r.spec.ohms
                if _reaches_ground(c, b):
                    rows.append(Row(r.ref, "divider %s from %s" % (r.ref, a), amps,
                                    "Ohm's law (%s)" % r.spec.value))
    for p in c.of_kind("CHARGER"):
        rows.append(Row(p.ref, "charger and protection, idle", p.spec.iq, p.spec.source))
    return rows


def _reaches_ground(c, net):
    return any(r.nets["1"] == net and r.nets["2"] == GND or
               r.nets["2"] == net and r.nets["1"] == GND for r in c.of_kind("R"))


def total(c, mode="asleep", cell_v=CELL_V):
    return sum(r.amps for r in draw(c, mode, cell_v))


def cut(c):
    """[Row] of what the cell gives with the power latch off (the chip unpowered, nothing
    but the latch and the protection board on the cell): each leakage at its datasheet
    maximum. ngspice's latch_off() holds the sum (tests/test_circuit_latch.py). Empty for
    a board without a latch."""
    from simulator.circuit.rules import _gate_leak, _latches

    rows = []
    for q in _latches(c):
        rows.append(Row(q.ref, "%s drain leakage (Idss), off" % q.spec.name,
                        q.spec.facts.get("idss", 0.0), q.spec.source))
        gate_amps = _gate_leak(c, q)
        parts = []
        for n in c.of_kind("NMOS"):
            if n.nets["d"] == q.nets["g"]:
                parts.append("%s Idss %s" % (n.ref, _ua(n.spec.facts.get("idss", 0.0))))
        for d in c.of_kind("D"):
            if d.nets["a"] == q.nets["g"]:
                parts += ["%s IR %s" % (o.ref, _ua(o.spec.facts.get("ir", 0.0)))
                          for o in c.of_kind("D") if o is not d and o.nets["k"] == d.nets["k"]]
        if "igss" in q.spec.facts:
            parts.append("%s Igss %s" % (q.ref, _ua(q.spec.igss)))
        rows.append(Row(q.ref, "through the gate pull-up: %s" % ", ".join(parts), gate_amps,
                        "the datasheets' maxima at 25 °C (parts.py)"))
    if not rows:
        return rows
    for p in c.of_kind("CHARGER"):
        rows.append(Row(p.ref, "charger and protection, idle", p.spec.iq, p.spec.source))
    return rows


def _ua(amps):
    return "%g µA" % round(amps * 1e6, 3)
