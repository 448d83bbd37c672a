"""Electrical rule checks on a board's circuit description: what a hardware engineer
checks on a schematic before anything is soldered. Each rule reads the topology (which
part sits on which net), never a part's label, so a wrong drawing of the right parts fails.

    problems = rules.check(circuit.load("pico"))   # [] when the circuit passes
"""

from simulator.circuit import GND

# The cell at the charger's end of charge (4.2 V + 1 %) and a USB host's VBUS (5 V, with
# the USB 2.0 tolerance's upper end).
CELL_MAX_V = 4.2 * 1.01
USB_V = 5.25
PULLDOWN_MAX_OHMS = 1e6  # a weaker pull-down loses to the pin's leakage and the gate's


def _other(part, pin):
    a, b = part.spec.pins[:2]
    return part.nets[b if pin == a else a]


def _motor_switches(c):
    """(motor, mosfet, supply net, switched net) for every motor on a low-side switch."""
    out = []
    for m in c.of_kind("MOTOR"):
        for q in c.of_kind("NMOS"):
            if q.nets["d"] in (m.nets["p"], m.nets["n"]):
                low = q.nets["d"]
                high = m.nets["p"] if low == m.nets["n"] else m.nets["n"]
                out.append((m, q, high, low))
    return out


def rule_flyback(c):
    problems = []
    for m, q, high, low in _motor_switches(c):
        across = [d for d in c.of_kind("D")
                  if {d.nets["a"], d.nets["k"]} == {high, low}]
        if not across:
            problems.append("%s: no flyback diode across the motor (%s to %s): each "
                            "switch-off drives %s's drain past its rating" % (
                                m.ref, high, low, q.ref))
        for d in across:
            if d.nets["k"] != high:
                problems.append("%s: flyback diode reversed: cathode on %s (the switch "
                                "side), it must be on %s; as drawn it shorts the supply "
                                "each time %s turns on" % (d.ref, low, high, q.ref))
    return problems


def _resistors_between(c, net_a, net_b):
    return [r for r in c.of_kind("R") if {r.nets["1"], r.nets["2"]} == {net_a, net_b}]


def _gate_drive(c, q):
    """(MCU pin net, series resistors) driving the MOSFET's gate: the gate net itself, or
    the net one resistor away from it."""
    gate = q.nets["g"]
    if gate.startswith(c.mcu.prefix):
        return gate, []
    for r in c.of_kind("R"):
        if gate in (r.nets["1"], r.nets["2"]):
            other = _other(r, "1" if r.nets["1"] == gate else "2")
            if other.startswith(c.mcu.prefix):
                return other, [r]
    return None, []


def rule_gate_pulldown(c):
    problems = []
    for _, q, _, _ in _motor_switches(c):
        pin, _ = _gate_drive(c, q)
        nets = [q.nets["g"]] + ([pin] if pin else [])
        pulls = [r for n in nets for r in _resistors_between(c, n, GND)
                 if r.spec.ohms <= PULLDOWN_MAX_OHMS]
        if not pulls:
            problems.append("%s: no pull-down on the gate (%s): while the pin floats "
                            "(reset, boot, sleep) the motor can run" % (
                                q.ref, " or ".join(nets)))
        if pin is None:
            problems.append("%s: the gate is not driven by an MCU pin" % q.ref)
    return problems


def rule_logic_level(c):
    """A MOSFET driven from a 3.3 V pin needs its Rds(on) guaranteed at a gate voltage the
    pin always reaches (its lowest high level); a threshold alone says nothing about how
    well it conducts."""
    problems = []
    voh = c.mcu.voh_min
    for _, q, _, _ in _motor_switches(c):
        specified = [v for v in q.spec.rds_on if v <= voh]
        if not specified:
            problems.append("%s: %s is not a logic-level MOSFET for this pin: Rds(on) is "
                            "specified at Vgs %s V, the pin gives %.2f V at least" % (
                                q.ref, q.spec.name, ", ".join(
                                    "%g" % v for v in sorted(q.spec.rds_on)), voh))
    return problems


def _led_vf(c, net):
    for led in c.of_kind("LED"):
        if led.nets["a"] == net and led.nets["k"] == GND:
            return led.spec.vf
    return None


def pin_current(c, pin_net):
    """The largest current (A) the pin gives when driven to its supply: through each
    resistor to ground, to an LED, or into a gate (whose charge moves through the series
    resistor alone at the edge)."""
    vdd = c.mcu.vdd
    total = 0.0
    for p, pin in c.on(pin_net):
        if p.kind != "R":
            continue
        far = _other(p, pin)
        ohms = p.spec.ohms
        if far == GND:
            total += vdd / ohms
        elif _led_vf(c, far) is not None:
            total += (vdd - _led_vf(c, far)) / ohms
        elif any(q.nets["g"] == far for q in c.of_kind("NMOS", "PMOS")):
            total += vdd / ohms
    return total


def rule_pin_current(c):
    problems = []
    limit = c.mcu.pin_ma_max
    for role in ("motor", "led"):
        net = c.pin_nets()[role]
        amps = pin_current(c, net)
        if amps > limit:
            problems.append("%s (%s): up to %.1f mA, over the chip's %.0f mA per pin" % (
                net, role, amps * 1e3, limit * 1e3))
    return problems


def solve_dc(c, fixed):
    """Node voltages through the resistors alone, with the nets in `fixed` held at their
    voltage (Gaussian elimination; diodes, sources and open contacts left out). Nets
    without a resistor path to a fixed one stay unknown (absent)."""
    fixed = dict(fixed)
    fixed[GND] = 0.0
    rs = c.of_kind("R")
    nets = sorted({n for r in rs for n in r.nets.values()} - set(fixed))
    idx = {n: i for i, n in enumerate(nets)}
    size = len(nets)
    a = [[0.0] * (size + 1) for _ in range(size)]
    for r in rs:
        g = 1.0 / r.spec.ohms
        n1, n2 = r.nets["1"], r.nets["2"]
        for here, there in ((n1, n2), (n2, n1)):
            if here not in idx:
                continue
            i = idx[here]
            a[i][i] += g
            if there in idx:
                a[i][idx[there]] -= g
            else:
                a[i][size] += g * fixed[there]
    # Nets with no conductance to anything fixed make the matrix singular: drop them.
    for i in range(size):
        piv = max(range(i, size), key=lambda k: abs(a[k][i]))
        if abs(a[piv][i]) < 1e-15:
            continue
        a[i], a[piv] = a[piv], a[i]
        for k in range(size):
            if k != i and a[k][i]:
                f = a[k][i] / a[i][i]
                a[k] = [x - f * y for x, y in zip(a[k], a[i])]
    out = dict(fixed)
    for n, i in idx.items():
        if abs(a[i][i]) > 1e-15:
            out[n] = a[i][size] / a[i][i]
    return out


def supply_on_usb(c):
    """The nets USB holds up when the board is plugged in (the cell may be there too)."""
    if c.supply == "VSYS":
        return {"VSYS": USB_V}  # VBUS through the Pico's own Schottky: at most VBUS
    if c.supply == "5V":
        return {"V5": USB_V}
    return {"V3V3": 3.3}  # the DevKitC's own regulator makes 3V3 from VBUS


def rule_adc_range(c):
    problems = []
    bat = c.config.get("battery")
    if bat is None:
        return problems
    for key in ("pin", "ref_pin"):
        if key not in bat:
            continue
        gpio = bat[key]
        net = c.label(gpio)
        if gpio not in c.mcu.adc_pins:
            problems.append("%s: battery.%s is not an ADC pin of this chip (%s)" % (
                net, key, ", ".join(c.label(p) for p in c.mcu.adc_pins)))
            continue
        cell = {"VBAT": CELL_MAX_V, c.feed: CELL_MAX_V}  # the latch on: VSW is the cell
        for what, fixed in (("a %.2f V cell" % CELL_MAX_V, cell),
                            ("USB", dict(cell, **supply_on_usb(c)))):
            fixed.setdefault("V3V3", 3.3)
            v = solve_dc(c, fixed).get(net)
            if v is not None and v > c.mcu.adc_max_v:
                problems.append("%s: %.2f V on the ADC pin with %s, over its %.2f V range" % (
                    net, v, what, c.mcu.adc_max_v))
    return problems


def rule_wake_pin(c):
    """esp32: only an RTC pin can wake the chip from deep sleep (ext0)."""
    if not c.mcu.rtc_pins:
        return []
    pin = c.config["button"]["pin"]
    if pin in c.mcu.rtc_pins:
        return []
    return ["%s: the button must be an RTC pin to wake the chip from deep sleep (%s)" % (
        c.label(pin), ", ".join(str(p) for p in c.mcu.rtc_pins))]


def rule_output_pins(c):
    """Outputs on neither a strapping pin (boot mode) nor an input-only one."""
    problems = []
    outputs = [(role, c.config[role]["pin"]) for role in ("motor", "led")]
    hold = (c.config.get("power") or {}).get("hold_pin")
    if hold is not None:
        outputs.append(("power.hold_pin", hold))
    for role, pin in outputs:
        if pin in getattr(c.mcu, "strapping", ()):
            problems.append("%s (%s): a strapping pin: its level at reset picks the boot "
                            "mode" % (c.label(pin), role))
        if pin in getattr(c.mcu, "input_only", ()):
            problems.append("%s (%s): input only, it cannot drive" % (c.label(pin), role))
    return problems


def rule_reference(c):
    """A battery.ref_pin has a shunt reference on it, of the voltage battery.ref_mv says
    (the firmware scales every reading by it)."""
    bat = c.config.get("battery") or {}
    if "ref_pin" not in bat:
        return []
    net = c.label(bat["ref_pin"])
    refs = [p for p in c.of_kind("SHUNTREF") if p.nets["k"] == net and p.nets["a"] == GND]
    if not refs:
        return ["%s: battery.ref_pin has no voltage reference on it" % net]
    mv = round(refs[0].spec.volts * 1000)
    if mv != bat["ref_mv"]:
        return ["%s: %s is %d mV, board.json says battery.ref_mv %d" % (
            net, refs[0].spec.name, mv, bat["ref_mv"])]
    return []


def rule_motor_volts(c):
    """board.json's motor voltages are the motor's: the drive's 100 % no more than its
    rated voltage, the kick at least the voltage that starts it."""
    m = c.config["motor"]
    problems = []
    for motor in c.of_kind("MOTOR"):
        spec = motor.spec
        if m["rated_mv"] > round(spec.v_rated * 1000):
            problems.append("%s: board.json motor.rated_mv %d is over the %s's rated %g V" % (
                motor.ref, m["rated_mv"], spec.name, spec.v_rated))
        if m["start_mv"] < round(spec.v_start * 1000):
            problems.append("%s: board.json motor.start_mv %d is under the %s's start "
                            "voltage %g V: a gentle stroke would leave it still" % (
                                motor.ref, m["start_mv"], spec.name, spec.v_start))
    return problems


# --- The power latch (board.json power.hold_pin) ------------------------------------------

def _latches(c):
    """The high-side P-MOSFETs from VBAT: the latch switches (usually one)."""
    return [q for q in c.of_kind("PMOS") if q.nets["s"] == "VBAT"]


def _gate_leak(c, q):
    """The worst-case current (A) that pulls latch `q`'s gate down while everything is off:
    the Idss of an N-MOSFET on the gate, the reverse leakage of every diode that a diode
    from the gate feeds (the button-reading diode: its cathode shares the button's net),
    and the P-MOSFET's own gate leakage, each at its datasheet maximum."""
    gate = q.nets["g"]
    amps = q.spec.facts.get("igss", 0.0)
    for n in c.of_kind("NMOS"):
        if n.nets["d"] == gate:
            amps += n.spec.facts.get("idss", 0.0)
    for d in c.of_kind("D"):
        if d.nets["a"] != gate:
            continue
        for other in c.of_kind("D"):
            if other is not d and other.nets["k"] == d.nets["k"]:
                amps += other.spec.facts.get("ir", 0.0)
    return amps


def rule_latch_pullup(c):
    """The latch's gate is pulled up to its source, strongly enough that the worst-case
    leakages pulling it down leave it under half the P-MOSFET's lowest threshold: off
    stays off."""
    problems = []
    for q in _latches(c):
        pulls = [r for r in _resistors_between(c, q.nets["g"], q.nets["s"])
                 if r.spec.ohms <= PULLDOWN_MAX_OHMS]
        if not pulls:
            problems.append("%s: no pull-up from the latch's gate (%s) to its source: the "
                            "latch can turn on by itself" % (q.ref, q.nets["g"]))
            continue
        ohms = 1.0 / sum(1.0 / r.spec.ohms for r in pulls)
        vgs = ohms * _gate_leak(c, q)
        if vgs >= q.spec.vth_min / 2:
            problems.append("%s: the gate pull-up %s lets the leakages pull the gate %.2f V "
                            "below the source while off, over half the lowest threshold "
                            "(%.2f V)" % (q.ref, " + ".join(r.ref for r in pulls), vgs,
                                          q.spec.vth_min / 2))
    return problems


def rule_hold_pin(c):
    """power.hold_pin drives the N-MOSFET that holds the latch's gate low, and is pulled
    down so the hold is off while the chip is unpowered or booting."""
    hold = c.pin_nets().get("hold")
    if hold is None:
        return []
    problems = []
    gates = {q.nets["g"] for q in _latches(c)}
    if not any(n.nets["g"] == hold and n.nets["d"] in gates and n.nets["s"] == GND
               for n in c.of_kind("NMOS")):
        problems.append("%s: power.hold_pin drives no N-MOSFET from the latch's gate to GND"
                        % hold)
    if not [r for r in _resistors_between(c, hold, GND) if r.spec.ohms <= PULLDOWN_MAX_OHMS]:
        problems.append("%s: no pull-down on power.hold_pin: while the chip is unpowered or "
                        "booting the pin floats and the latch may hold itself on" % hold)
    return problems


def rule_button_diodes(c):
    """With a latch, the button's switch (to GND) pulls the latch's gate low through a
    diode (anode on the gate) and the MCU reads it through another (anode on the pin):
    either reversed, a press does nothing, or the cell drives the pin."""
    latches = _latches(c)
    if not latches:
        return []
    pin = c.pin_nets()["button"]
    gate = latches[0].nets["g"]
    sw = [p for p in c.of_kind("SWITCH") if GND in p.nets.values() and
          any(d.nets["a"] == gate or d.nets["k"] == gate for d in c.of_kind("D")
              if set(d.nets.values()) & set(p.nets.values()) - {GND})]
    problems = []
    if not sw:
        return ["%s: no button to GND that reaches the latch's gate (%s) through a diode" % (
            pin, gate)]
    btn = [n for n in sw[0].nets.values() if n != GND][0]
    for end, what in ((gate, "the latch's gate"), (pin, "the button pin")):
        ds = [d for d in c.of_kind("D") if {d.nets["a"], d.nets["k"]} == {end, btn}]
        if not ds:
            problems.append("%s: no diode from %s (%s) to the button's net %s" % (
                sw[0].ref, what, end, btn))
        for d in ds:
            if d.nets["a"] != end:
                problems.append("%s: reversed: its cathode is on %s (%s), it must be on the "
                                "button's net %s (anode on %s)" % (d.ref, what, end, btn, end))
    return problems


def diode_vf_max(spec, amps):
    """A diode's maximum forward drop at `amps`, from its datasheet points (the first
    point at or above the current: no kinder than the datasheet)."""
    points = sorted(spec.vf_max.items())
    for i, v in points:
        if i >= amps:
            return v
    return points[-1][1]


def rule_latch_logic_level(c):
    """A press turns the latch on with the gate one diode drop above ground: at the
    emptiest cell the P-MOSFET must have its Rds(on) specified at that |Vgs| or less."""
    problems = []
    cells = c.of_kind("CELL")
    v_low = cells[0].spec.v_empty if cells else 3.0
    for q in _latches(c):
        pulls = _resistors_between(c, q.nets["g"], q.nets["s"])
        amps = v_low / min(r.spec.ohms for r in pulls) if pulls else 1e-4
        ds = [d for d in c.of_kind("D") if d.nets["a"] == q.nets["g"]]
        vf = max((diode_vf_max(d.spec, amps) for d in ds if "vf_max" in d.spec.facts),
                 default=0.0)
        vgs = v_low - vf
        if not [v for v in q.spec.rds_on if v <= vgs]:
            problems.append("%s: %s is not logic-level for the latch: a press gives |Vgs| "
                            "%.2f V at a %.1f V cell (less the button diode's %.2f V), its "
                            "Rds(on) is specified at %s V" % (
                                q.ref, q.spec.name, vgs, v_low, vf, ", ".join(
                                    "%g" % v for v in sorted(q.spec.rds_on))))
    return problems


RULES = (rule_flyback, rule_gate_pulldown, rule_logic_level, rule_pin_current,
         rule_adc_range, rule_wake_pin, rule_output_pins, rule_reference,
         rule_motor_volts, rule_latch_pullup, rule_hold_pin, rule_button_diodes,
         rule_latch_logic_level)


def check(c):
    """Every problem of circuit `c`, one line each (an empty list: it passes)."""
    problems = []
    for rule in RULES:
        problems.extend(rule(c))
    return problems
