"""A board's circuit as a SPICE netlist, and ngspice to run it.

    massager circuit pico --spice > pico.cir

The netlist is the circuit outside the chip, meant to be `.include`d: no title line, no
analysis, no sources for the cell or the MCU pins (the caller adds them: a voltage source
on VBAT, a PWM source on GP15). Nodes: ground `0`, the cell's + `VBAT`, the 3.3 V rail
`V3V3`, each MCU pin named like its label (`GP15`, `GPIO25`; the power latch's hold pin
too). With a power latch (board.json power.hold_pin) the board hangs on `VSW`, which the
latch switches from VBAT: drive the hold pin high (or pull the button's net `BTN` to
ground) to turn it on. The dev board's own draw is a current of `.param load_<ref>` amps
(awake, by default), less when its rail is down. Models come from the catalogue
(parts.py), with their datasheets named beside them. Leakages (a MOSFET's Idss, a diode's
reverse current) are current sources at their datasheet maximum, from a tenth of a volt
of bias up: never kinder than the datasheet.
"""

import math
import os
import re
import shutil
import subprocess
import tempfile

from simulator.circuit import GND, CircuitError

NGSPICE = "ngspice"


def _node(net):
    return GND if net == GND else re.sub(r"[^A-Za-z0-9_+]", "_", net)


def _num(x):
    return "%.6g" % x


def motor_constants(spec):
    """The ERM's electromechanical constants from its datasheet figures. Speed is a node
    voltage (1 V = 1 rad/s), torque a current into it, the rotor's inertia a capacitance.
    - back-EMF constant: at the rated point, V = I R + Ke w;
    - static friction: the torque the start voltage makes from still, Ke Vstart / R;
    - running friction: at the rated point all torque (Ke I) goes to friction, taken as
      half a constant (Coulomb) and half proportional to speed (air, bearings);
    - inertia: the mechanical time constant J R / Ke^2 is the rise time (10-90 %) / 2.2.
    """
    w = spec.rpm_rated * 2 * math.pi / 60
    ke = (spec.v_rated - spec.i_rated * spec.r) / w
    t_run = ke * spec.i_rated
    return {
        "R": spec.r, "L": spec.l, "KE": ke, "TS": ke * spec.v_start / spec.r,
        "TC": t_run / 2, "BV": t_run / 2 / w, "J": spec.t_rise / 2.2 * ke * ke / spec.r,
        "W0": 1.0, "WS": w / 10, "W_RATED": w,
    }


def _model_name(spec):
    name = re.sub(r"[^A-Za-z0-9_]", "_", spec.name).upper()
    return name if name[0].isalpha() else "P" + name


def _ref(letter, ref):
    """The element name: the reference, with SPICE's letter in front where it differs."""
    return ref if ref[0].upper() == letter else letter + ref


# A leakage at its datasheet maximum once the part is biased, fading to nothing at zero bias
# (a constant source would drive an unpowered node negative).
LEAK_KNEE_V = 0.1


def _leak(name, hi, lo, amps):
    """A B-source line: `amps` of leakage from node `hi` to node `lo` while hi > lo."""
    return "%s %s %s I=%s*tanh(max(V(%s,%s),0)/%s)" % (name, hi, lo, _num(amps), hi, lo,
                                                      _num(LEAK_KNEE_V))


def _subckt(spec):
    """The .model / .subckt text for one catalogue entry (None: an element needs none)."""
    name = _model_name(spec)
    kind = spec.kind
    if kind in ("D", "LED"):
        return "* %s\n.model D_%s D(%s)" % (spec.source, name, spec.spice)
    if kind in ("NMOS", "PMOS"):
        # Level 1 channel with the datasheet's capacitances as parts, the body diode
        # breaking down a little above the rated Vds (an unclamped spike shows), and the
        # drain's leakage (Idss) where the datasheet gives it.
        n = kind == "NMOS"
        leak = []
        if "idss" in spec.facts:
            leak = [_leak("BIDSS", "d" if n else "s", "s" if n else "d", spec.idss)]
        return "\n".join([
            "* %s" % spec.source,
            ".subckt %s d g s" % name,
            "M1 d g s s %s" % ("NCH" if n else "PCH"),
            "CGS g s %s" % _num(spec.ciss - spec.crss),
            "CGD g d %s" % _num(spec.crss),
            "CDS d s %s" % _num(spec.coss - spec.crss),
            "DBODY s d DB" if n else "DBODY d s DB",
        ] + leak + [
            ".model %s %s(%s)" % (("NCH", "NMOS", spec.spice) if n else
                                  ("PCH", "PMOS", spec.spice)),
            ".model DB D(IS=1e-11 N=1.2 RS=0.02 BV=%s IBV=250u)" % _num(spec.vds_max * 1.1),
            ".ends %s" % name,
        ])
    if kind == "MOTOR":
        k = motor_constants(spec)
        return "\n".join([
            "* %s" % spec.source,
            "* electromechanical: node w is speed (1 V = 1 rad/s), see motor_constants()",
            ".subckt %s p n w" % name,
            "RW p 1 %s" % _num(k["R"]),
            "LW 1 2 %s" % _num(k["L"]),
            "VI 2 3 0",
            "BEMF 3 n V=%s*V(w)" % _num(k["KE"]),
            "CJ w 0 %s" % _num(k["J"]),
            "BT 0 w I=%s*I(VI) - %s*V(w) - tanh(V(w)/%s)*(%s + %s*exp(-abs(V(w))/%s))" % (
                _num(k["KE"]), _num(k["BV"]), _num(k["W0"]), _num(k["TC"]),
                _num(k["TS"] - k["TC"]), _num(k["WS"])),
            ".ends %s" % name,
        ])
    if kind == "LDO":
        # Regulates to vout; below it the output follows the input less the dropout, a
        # resistance (the datasheet's maximum dropout / its current). Its input carries
        # the output current and the quiescent current.
        return "\n".join([
            "* %s" % spec.source,
            ".subckt %s in out gnd" % name,
            "BREG reg gnd V=min(%s, max(V(in,gnd) - %s*I(VS), 0))" % (
                _num(spec.vout), _num(spec.r_dropout)),
            "VS reg out 0",
            "BIN in gnd I=I(VS) + %s*min(1, max(V(in,gnd), 0))" % _num(spec.iq),
            ".ends %s" % name,
        ])
    if kind == "BUCKBOOST":
        # Regulates from vin_min up; its input draws the output power over its efficiency.
        return "\n".join([
            "* %s" % spec.source,
            ".subckt %s in out gnd" % name,
            # (a smooth step at vin_min: the solver needs no jump when the input falls)
            "BREG reg gnd V=%s*(0.5 + 0.5*tanh((V(in,gnd) - %s)/0.02))" % (
                _num(spec.vout), _num(spec.vin_min)),
            "VS reg out 0",
            "BIN in gnd I=V(out,gnd)*I(VS)/(%s*max(V(in,gnd), 0.5))"
            " + %s*min(1, max(V(in,gnd), 0))" % (
                _num(spec.efficiency), _num(spec.iq)),
            ".ends %s" % name,
        ])
    if kind == "SHUNTREF":
        # A shunt reference as a sharp breakdown: volts at its minimum operating current.
        return "* %s\n.model D_%s D(IS=1e-14 N=1 RS=0.3 BV=%s IBV=%s NBV=0.05)" % (
            spec.source, name, _num(spec.volts), _num(spec.i_min))
    return None


# SPICE's letter and the pin order of each kind simulated as one element.
_ELEMENTS = {"R": ("R", ("1", "2")), "C": ("C", ("1", "2")), "D": ("D", ("a", "k")),
             "LED": ("D", ("a", "k")), "SHUNTREF": ("D", ("a", "k")),
             "NMOS": ("X", ("d", "g", "s")), "PMOS": ("X", ("d", "g", "s")),
             "LDO": ("X", ("in", "out", "gnd")),
             "BUCKBOOST": ("X", ("in", "out", "gnd"))}


def _on_rail(p, n):
    return "min(1, max(V(%s,%s), 0)/1.5)" % (p, n)


def _element(p, params):
    """The netlist lines of one placed part."""
    k = p.kind
    tag = " ; %s%s" % (p.what, " (on the board)" if p.on_board else "")
    n = {pin: _node(net) for pin, net in p.nets.items()}
    if k in _ELEMENTS:
        letter, pins = _ELEMENTS[k]
        if k == "R":
            value = _num(p.spec.ohms)
        elif k == "C":
            value = _num(p.spec.farads)
        elif letter == "D":
            value = "D_" + _model_name(p.spec)
        else:
            value = _model_name(p.spec)
        lines = ["%s %s %s%s" % (_ref(letter, p.ref), " ".join(n[x] for x in pins), value, tag)]
        if k == "D" and "ir" in p.spec.facts:  # its reverse leakage at the datasheet's max
            lines.append(_leak("B%s_IR" % p.ref, n["k"], n["a"], p.spec.ir) + tag + ", leakage")
        return lines
    if k == "MOTOR":  # its third node is the speed, for the caller to read
        return ["%s %s %s %s_W %s%s" % (_ref("X", p.ref), n["p"], n["n"], p.ref,
                                        _model_name(p.spec), tag)]
    # A board's draw: its full current on a live rail, less below 1.5 V (an unpowered
    # board draws nothing, and a constant source would drive its rail negative).
    if k == "LOAD":
        param = "load_%s" % p.ref.lower()
        return [".param %s=%s" % (param, _num(params.get(param, p.spec.awake))),
                "%s %s %s I={%s}*%s%s" % (_ref("B", p.ref), n["p"], n["n"], param,
                                          _on_rail(n["p"], n["n"]), tag)]
    if k == "PIXEL":
        return ["%s %s %s I=%s*%s%s, dark" % (_ref("B", p.ref), n["vdd"], n["gnd"],
                                              _num(p.spec.idle), _on_rail(n["vdd"], n["gnd"]),
                                              tag)]
    # The cell, its charger and the switches are the caller's source on VBAT or open
    # contacts: nothing to simulate.
    return ["* %s %s: %s%s" % (p.ref, p.spec.name, ", ".join(
        "%s=%s" % kv for kv in sorted(p.nets.items())), tag)]


def netlist(c, params=None):
    """The SPICE text of circuit `c` (see the module docstring)."""
    params = params or {}
    lines = [
        "* massager: %s (boards/%s), the circuit outside the chip" % (c.mcu.title, c.name),
        "* nodes: 0 ground, VBAT the cell's + after its protection, V3V3 the 3.3 V rail, "
        "MCU pins by label",
        "* no sources: add the cell on VBAT and the pins' drive yourself",
    ]
    models = {}
    for p in c.parts:
        text = _subckt(p.spec)
        if text is not None:
            models[_model_name(p.spec)] = text
    for p in c.parts:
        lines.extend(_element(p, params))
    lines.append("")
    lines.extend(models[k] for k in sorted(models))
    return "\n".join(lines) + "\n"


def available():
    return shutil.which(NGSPICE) is not None


_MEAS = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*=\s*([-+0-9.eE]+)", re.M)


def run(deck, timeout=120):
    """Run a whole deck (title first, .end last) with `ngspice -b`; return the `.meas`
    results as {name: float} and the raw output."""
    if not available():
        raise CircuitError("ngspice not found: install it (Debian: apt-get install ngspice)")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "deck.cir")
        with open(path, "w") as f:
            f.write(deck)
        proc = subprocess.run([NGSPICE, "-b", path], capture_output=True, text=True,
                              timeout=timeout, cwd=d)
        out = proc.stdout + proc.stderr
    if proc.returncode != 0 or re.search(r"^\s*Error", out, re.M):
        tail = [ln for ln in out.splitlines() if "rror" in ln][:3]
        raise CircuitError("ngspice failed: %s" % ("; ".join(tail) or out[-300:]))
    return {m.group(1): float(m.group(2)) for m in _MEAS.finditer(out)}, out


def deck(c, body, params=None, title=None):
    """A runnable deck: a title, the board's netlist, then `body` (sources, analysis,
    .meas lines)."""
    return "%s\n%s\n%s\n.end\n" % (title or "massager %s" % c.name, netlist(c, params),
                                   body.strip())
