"""What the chip's ADC sees of the cell: the board's 3.3 V rail and the voltage on each
ADC pin, for a cell voltage and the board's own draw, solved in closed form from the same
part models the SPICE netlist uses (tests/test_circuit_spice.py holds the two together).
The simulated board and the virtual devices take their ADC readings from here, so a rail
that sags with the cell lifts their readings as it lifts a real RP2040's.

    s = sense.state(circuit.load("rp2040-zero"), cell_v=3.4)
    s.rail_v, s.pins_v["GP26"], s.read_u16("GP26")
"""

import math
import re

from simulator.circuit import GND
from simulator.circuit.rules import solve_dc

VT = 0.025865  # kT/q at 27 °C, ngspice's default temperature


def _model(spec):
    """The diode parameters of a catalogue entry's .model text, as floats."""
    out = {}
    for key, val in re.findall(r"([A-Za-z]+)=([-+0-9.eE]+[a-zA-Z]*)", spec.spice):
        out[key.upper()] = _si(val)
    return out


_SUFFIX = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "meg": 1e6}


def _si(text):
    m = re.match(r"([-+0-9.eE]+)([a-zA-Z]*)", text)
    num, suffix = float(m.group(1)), m.group(2).lower()
    for s in ("meg", "f", "p", "n", "u", "m", "k"):
        if suffix.startswith(s):
            return num * _SUFFIX[s]
    return num


def forward_v(spec, amps):
    """A diode's forward drop at `amps`, from its SPICE model (Shockley with RS)."""
    p = _model(spec)
    if amps <= 0:
        return 0.0
    return p.get("N", 1.0) * VT * math.log(amps / p["IS"] + 1) + amps * p.get("RS", 0.0)


def _bisect(f, lo, hi, steps=60):
    """The x in [lo, hi] where the decreasing-to-increasing f crosses 0."""
    flo = f(lo)
    for _ in range(steps):
        mid = (lo + hi) / 2
        if (f(mid) > 0) == (flo > 0):
            lo, flo = mid, f(mid)
        else:
            hi = mid
    return (lo + hi) / 2


class State:
    def __init__(self, cell_v, rail_v, pins_v, adc_ref, bits):
        self.cell_v = cell_v
        self.rail_v = rail_v  # the 3.3 V rail, the rp2 ADC's reference
        self.pins_v = pins_v  # {net label: volts} on every pin the circuit reaches
        self.adc_ref = adc_ref  # "rail" (rp2) or "internal" (esp32, calibrated read_uv)
        self.bits = bits

    def raw(self, label):
        """The ADC's raw code on pin `label` (rp2: 12 bits against the rail)."""
        top = (1 << self.bits) - 1
        v = self.pins_v.get(label, 0.0)
        if self.rail_v <= 0:
            return 0
        return max(0, min(top, int(v / self.rail_v * (1 << self.bits))))

    def read_u16(self, label):
        """What machine.ADC.read_u16() returns on rp2 (ports/rp2/machine_adc.c: the 12-bit
        code shifted up, its top bits repeated below)."""
        raw = self.raw(label)
        return (raw << 4) | (raw >> 8)

    def read_uv(self, label):
        """esp32's calibrated read_uv(): the pin's voltage in µV."""
        return int(round(self.pins_v.get(label, 0.0) * 1e6))


def regulator(c):
    """The part that makes the 3.3 V rail (an LDO or a buck-boost), or None."""
    regs = [p for p in c.of_kind("LDO", "BUCKBOOST") if p.nets["out"] == "V3V3"]
    return regs[0] if regs else None


def reference_feeds(c):
    """[(shunt reference, its feed resistor from the rail)] of circuit `c`."""
    return [(ref, r) for ref in c.of_kind("SHUNTREF") for r in c.of_kind("R")
            if "V3V3" in r.nets.values() and ref.nets["k"] in r.nets.values()]


def _rail_load(c, rail_v, load):
    """Amps drawn from the rail: the board's own draw, a dark pixel, the reference feed."""
    amps = 0.0
    for p in c.parts:
        if p.kind == "LOAD" and p.nets["p"] == "V3V3":
            amps += getattr(p.spec, load)
        elif p.kind == "PIXEL" and p.nets["vdd"] == "V3V3":
            amps += p.spec.idle
    for ref, r in reference_feeds(c):
        amps += max(0.0, (rail_v - ref.spec.volts) / r.spec.ohms)
    return amps


def _latch_vds(c, cell_v, amps):
    """The drop across a power latch's P-MOSFET carrying `amps`, its gate held at ground
    (|Vgs| = the cell): the level-1 channel of its SPICE model in its linear region."""
    q = [p for p in c.of_kind("PMOS") if p.nets["s"] == "VBAT" and p.nets["d"] == c.feed]
    if not q or amps <= 0:
        return 0.0
    m = _model(q[0].spec)
    kp, vt, lam = m["KP"], abs(m["VTO"]), m.get("LAMBDA", 0.0)
    over = cell_v - vt
    if over <= 0:
        return cell_v  # off: nothing gets through

    def excess(vds):  # the channel's current at vds less the current asked
        return kp * (over * vds - vds * vds / 2) * (1 + lam * vds) - amps

    return _bisect(excess, 0.0, over)


def _feed_amps(c, feed_v):
    """What the parts on the feed draw besides the regulator: each resistor from it to a
    node with a resistor to ground (a divider), at the feed's voltage."""
    amps = 0.0
    for r in c.of_kind("R"):
        ends = (r.nets["1"], r.nets["2"])
        if c.feed not in ends:
            continue
        far = ends[1] if ends[0] == c.feed else ends[0]
        for r2 in c.of_kind("R"):
            if r2 is not r and far in r2.nets.values() and GND in r2.nets.values():
                amps += feed_v / (r.spec.ohms + r2.spec.ohms)
    return amps


def _rail(c, cell_v, load):
    """The rail for a cell voltage: through the latch (if any) and the regulator's input
    diode (if any). Returns (rail, (regulator input net, its volts), the feed's volts)."""
    reg = regulator(c)
    if reg is None:
        return 3.3, None, cell_v
    spec = reg.spec
    src = reg.nets["in"]
    diode = None
    if src != c.feed:
        diode = [d for d in c.of_kind("D") if d.nets["a"] == c.feed and d.nets["k"] == src][0]

    def out_v(vin):
        iout = _rail_load(c, spec.vout, load)
        if spec.kind == "BUCKBOOST":
            return spec.vout if vin > spec.vin_min else 0.0, iout
        return max(0.0, min(spec.vout, vin - spec.r_dropout * iout)), iout

    vin = feed = cell_v
    for _ in range(30):  # the drops depend on the input current, and back
        vout, iout = out_v(vin)
        if spec.kind == "BUCKBOOST":
            iin = vout * iout / (spec.efficiency * max(vin, 0.5)) + spec.iq
        else:
            iin = iout + spec.iq
        if c.latch:
            feed = cell_v - _latch_vds(c, cell_v, iin + _feed_amps(c, feed))
        vin = feed - (forward_v(diode.spec, iin) if diode is not None else 0.0)
    return out_v(vin)[0], (src, vin), feed


def _shunt_v(spec, feed_v, ohms):
    """A shunt reference fed from `feed_v` through `ohms`: the SPICE model's breakdown
    (volts at its minimum current, NBV 0.05), solved for its current."""
    nbv = 0.05

    def excess(v):  # current the resistor brings minus what the reference takes at v
        i_res = (feed_v - v) / ohms
        i_ref = spec.i_min * math.exp(min(50.0, (v - spec.volts) / (nbv * VT)))
        return i_res - i_ref

    if feed_v <= 0:
        return 0.0
    return _bisect(excess, 0.0, min(feed_v, spec.volts * 1.2))


def state(c, cell_v, load="awake"):
    """The ADC's view of a cell at `cell_v` volts with the board `load` ("awake" or
    "asleep")."""
    rail_v, vin, feed = _rail(c, cell_v, load) if cell_v > 0 else (0.0, None, 0.0)
    fixed = {"VBAT": cell_v, c.feed: feed, "V3V3": rail_v}
    if vin is not None and vin[0] != c.feed:
        fixed[vin[0]] = vin[1]  # the regulator's input, behind its diode
    refs = {}
    for ref, r in reference_feeds(c):
        refs[ref.nets["k"]] = _shunt_v(ref.spec, rail_v, r.spec.ohms)
    fixed.update(refs)
    volts = solve_dc(c, fixed)
    pins = {n: v for n, v in volts.items() if n.startswith(c.mcu.prefix)}
    return State(cell_v, rail_v, pins, c.mcu.adc_ref, c.mcu.adc_bits)


def firmware_mv(c, s):
    """What the firmware's own Battery (massager.hal.battery) says, fed the ADC codes of
    State `s`: the whole sense path, end to end."""
    from massager.hal.battery import Battery

    bat = c.config["battery"]

    class Adc:  # a machine.ADC on one pin, reading the solved circuit
        def __init__(self, label):
            self.label = label

        def read_u16(self):
            return s.read_u16(self.label)

    class AdcUv(Adc):
        def read_uv(self):
            return s.read_uv(self.label)

    kind = AdcUv if s.adc_ref == "internal" else Adc
    ref = kind(c.label(bat["ref_pin"])) if "ref_pin" in bat else None
    return Battery(kind(c.label(bat["pin"])), bat["divider_x100"], ref,
                   bat.get("ref_mv", 0)).millivolts()


def cell_reading_mv(c, cell_v, load="awake"):
    """The firmware's reading of a cell at `cell_v` volts, from the closed-form state."""
    return firmware_mv(c, state(c, cell_v, load))
