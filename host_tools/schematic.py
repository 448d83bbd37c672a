"""Wiring schematics, pin tables and bills of materials drawn from each board's circuit
(simulator.circuit: boards/<name>/circuit.py with the pins of its board.json).

    python -m host_tools.schematic [--out DIR] [--check]

writes docs/hardware/<board>.svg for every board, docs/hardware/<README_BOARD>.png for the
README, and the pin tables and bills of materials in docs/hardware.md (`make docs`). --check
compares instead of writing (exit 1: stale). The output is deterministic: the same circuit
and the same pinned schemdraw and matplotlib give the same bytes.

A drawing is not trusted to be the circuit because it was made from it: render() reads
it back first (host_tools/schematic_check.py) and never writes one that connects anything
other than its circuit (a diode the wrong way round, a wire to the wrong node).
"""

import argparse
import io
import os
import sys

import schemdraw
import schemdraw.elements as elm
from schemdraw.elements import Element
from schemdraw.segments import Segment, SegmentCircle, SegmentText

from simulator import circuit as circuits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "hardware")
README_BOARD = "pico"

# Text sizes (points) and the gap between a part and its caption (drawing units).
FONT = "sans-serif"
TITLE_PT = 14
CAPTION_PT = 11
PIN_PT = 9.5
NOTE_PT = 10
RAIL_PT = 10.5
GAP = 0.4
PNG_DPI = 110
PART_LEN = 2.0  # a resistor, capacitor, diode or switch, leads included
LEAD = 0.5  # an IC pin's lead
# In the SVG, fonts a browser knows (schemdraw writes "sans", which is none), as wide as
# schemdraw's own estimate of the text (Arial's widths), which sizes the picture.
SVG_FONTS = 'font-family="Arial, Helvetica, \'Liberation Sans\', sans-serif"'

# The names printed on rails and header pins, and the nets they stand for.
NET_OF_NAME = {"GND": circuits.GND, "3V3": "V3V3", "5V": "V5"}
NAME_OF_NET = {net: name for name, net in NET_OF_NAME.items()}

# The pin labels of the parts drawn as boxes, by kind: the label printed at a pin is the
# circuit pin it stands for.
BOX_PINS = {
    "CHARGER": {"bp": "B+", "bn": "B-", "op": "OUT+", "on": "OUT-"},
    "LDO": {"in": "IN", "out": "OUT", "gnd": "GND"},
    "BUCKBOOST": {"in": "IN", "out": "OUT", "gnd": "GND"},
    "PIXEL": {"vdd": "VDD", "din": "DIN", "gnd": "GND"},
    "LOAD": {"p": "3V3", "n": "GND"},
}
# Parts whose two ends are alike: either end may carry either pin.
SYMMETRIC = ("R", "C", "SWITCH", "MOTOR")


def net_of(name):
    return NET_OF_NAME.get(name, name)


def name_of(net):
    return NAME_OF_NET.get(net, net)


def board_names():
    return circuits.board_names()


def load(name):
    return circuits.load(name)


# --- Drawing elements of our own -------------------------------------------------------

class Box(Element):
    """A part drawn as a box with pins (an IC, a module, the chip): `pins` are
    (label, side, offset), side one of L R T B, offset from the box's top (L, R) or
    left (T, B) edge. Each pin's lead ends at an anchor named like its label; the
    labels in `named` are MCU pins, whose nets are named like them."""
    _element_defaults = {"theta": 0}

    def __init__(self, w, h, pins, named=(), **kwargs):
        super().__init__(**kwargs)
        self.named = tuple(named)
        self.segments.append(Segment([(0, 0), (w, 0), (w, -h), (0, -h), (0, 0)]))
        inset = 0.14
        for label, side, off in pins:
            inner, outer, text, align = {
                "L": ((0, -off), (-LEAD, -off), (inset, -off), ("left", "center")),
                "R": ((w, -off), (w + LEAD, -off), (w - inset, -off), ("right", "center")),
                "T": ((off, 0), (off, LEAD), (off, -inset), ("center", "top")),
                "B": ((off, -h), (off, -h - LEAD), (off, -h + inset), ("center", "bottom")),
            }[side]
            self.segments.append(Segment([inner, outer]))
            self.segments.append(SegmentText(text, label, align=align, fontsize=PIN_PT))
            self.anchors[label] = outer
        self.anchors["center"] = (w / 2, -h / 2)


class Rail(Element):
    """A supply rail's symbol (a T), named: the net it joins."""
    _element_defaults = {"theta": 0}

    def __init__(self, name, **kwargs):
        super().__init__(**kwargs)
        self.name = name
        self.segments.append(Segment([(0, 0), (0, 0.4)]))
        self.segments.append(Segment([(-0.25, 0.4), (0.25, 0.4)]))
        self.segments.append(SegmentText((0, 0.5), name, align=("center", "bottom"),
                                         fontsize=RAIL_PT))
        self.anchors["start"] = (0, 0)


class Header(Element):
    """A dev board's header pin (an open circle on the board's edge), named."""
    _element_defaults = {"theta": 0}

    def __init__(self, name, **kwargs):
        super().__init__(**kwargs)
        self.name = name
        self.segments.append(SegmentCircle((0, 0), 0.1, fill="white", zorder=4))
        self.segments.append(SegmentText((-0.22, 0.12), name, align=("right", "bottom"),
                                         fontsize=PIN_PT))
        self.anchors["start"] = (0, 0)


class Text(Element):
    """Text at a point, aligned as asked (schemdraw's Label shifts it a little)."""
    _element_defaults = {"theta": 0}

    def __init__(self, text, halign="left", valign="center", size=CAPTION_PT,
                 rotation=0, **kwargs):
        super().__init__(**kwargs)
        self.segments.append(SegmentText((0, 0), text, align=(halign, valign),
                                         fontsize=size, rotation=rotation))


class Outline(Element):
    """The dashed outline of the dev board: what is inside comes with the board."""
    _element_defaults = {"theta": 0}

    def __init__(self, x0, y0, x1, y1, **kwargs):
        super().__init__(**kwargs)
        self.segments.append(Segment([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
                                     ls="--", lw=1, color="#555555", zorder=0))


# --- The sheet: a drawing that knows which part each symbol is ----------------------------

class Sheet:
    """A schemdraw Drawing being made from circuit `c`. Every part symbol is added through
    part() or box(), which mark it with its reference; check() reads the rest from the
    elements themselves."""

    def __init__(self, c):
        self.c = c
        self.d = schemdraw.Drawing(show=False)
        self.d.config(fontsize=CAPTION_PT, unit=PART_LEN, font=FONT, lw=1.5, margin=0.5)

    def add(self, element):
        self.d.add(element)
        return element

    def wire(self, *points):
        for p, q in zip(points, points[1:]):
            if abs(p[0] - q[0]) > 1e-9 and abs(p[1] - q[1]) > 1e-9:
                raise ValueError("a wire from %s to %s is not straight" % (p, q))
            self.add(elm.Line().endpoints(p, q))

    def dot(self, p):
        self.add(elm.Dot(radius=0.09).at(p))

    def ground(self, p):
        self.add(elm.Ground().at(p))

    def rail(self, p, net):
        self.add(Rail(name_of(net)).at(p))

    def header(self, p, name):
        self.add(Header(name).at(p))

    def text(self, p, text, halign="left", valign="center", size=CAPTION_PT, rotation=0):
        self.add(Text(text, halign, valign, size, rotation).at(p))

    def _mark(self, element, ref):
        part = self.c.part(ref)
        element.ref = ref
        element.kind = part.kind
        element.pins = part.spec.pins
        return element

    def part(self, ref, cls, start, end, side, what=None):
        """A two-terminal part from `start` to `end` (a diode's anode is its start, as
        schemdraw draws it), its caption on `side` (left, right, above, below)."""
        e = self._mark(self.add(cls().endpoints(start, end)), ref)
        self.caption(e, ref, side, what)
        return e

    def nmos(self, ref, gate, side="right", what=None):
        e = self._mark(self.add(elm.NMos().theta(0).anchor("gate").at(gate)), ref)
        self.caption(e, ref, side, what)
        return e

    def pmos(self, ref, gate, side="right", what=None):
        """A P-MOSFET, gate on the left, source at the top, drain at the bottom."""
        e = self._mark(self.add(elm.PMos().theta(0).anchor("gate").at(gate)), ref)
        self.caption(e, ref, side, what)
        return e

    def box(self, ref, w, h, pins, anchor, at, side=None, named=(), what=None):
        """A part drawn as a box with pins (Box), pin `anchor` placed at `at`."""
        e = self._mark(self.add(Box(w, h, pins, named).anchor(anchor).at(at)), ref)
        if side is not None:
            self.caption(e, ref, side, what)
        return e

    def caption(self, element, ref, side, what=None):
        """The part's reference and value (and what it is for) beside its symbol."""
        x0, y0, x1, y1 = element.get_bbox(transform=True, includetext=False)
        xc, yc = (x0 + x1) / 2, (y0 + y1) / 2
        at, h, v = {
            "left": ((x0 - GAP, yc), "right", "center"),
            "right": ((x1 + GAP, yc), "left", "center"),
            "above": ((xc, y1 + GAP * 0.6), "center", "bottom"),
            "below": ((xc, y0 - GAP * 0.6), "center", "top"),
        }[side]
        self.text(at, caption(self.c.part(ref), what), h, v)


def shown_value(spec):
    """What a caption calls the part: the value of a resistor, capacitor or LED, else the
    part's name."""
    return spec.value if spec.kind in ("R", "C", "LED") else spec.name


def caption(part, what=None):
    """'R1 330 Ω', with what the part is for on a second line when `what` (True: the
    circuit's own words, or a string)."""
    first = "%s %s" % (part.ref, shown_value(part.spec))
    if what is True:
        what = part.what
    return first + ("\n" + what if what else "")


# --- The layout ---------------------------------------------------------------------------
#
# The power path runs along the top, left to right, into the dev board's supply pin. The
# dev board is the dashed outline below it: its own parts inside, the chip U1 in the middle
# with the pins the circuits use on its right. Each circuit hangs on its pin right of the
# board, one under the other. The places are fixed here; which parts there are, their
# values and their pins come from the circuit, and check() holds the picture to it.

def _only(parts, what):
    if len(parts) != 1:
        raise circuits.CircuitError("expected one %s, found %s" % (
            what, ", ".join(p.ref for p in parts) or "none"))
    return parts[0]


def _on(c, net, *kinds):
    """The parts of these kinds with a pin on `net`."""
    return [p for p, _ in c.on(net) if p.kind in kinds]


def _other(part, net):
    """The net on a two-pin part's other pin."""
    return _only([n for n in part.nets.values() if n != net], "other net of %s" % part.ref)


def draw(c):
    """The schematic of circuit `c`: a Sheet, its schemdraw Drawing not yet rendered."""
    s = Sheet(c)
    hx = _power_path(s, c)
    board = _Board(s, c, hx)
    x = board.right + 1.0  # the column where each circuit meets its pin's wire
    y = board.chip_top - 0.6
    for draw_one, net, above in _right_circuits(c):
        y -= above  # room for what the circuit draws above its pin's line
        s.wire(board.pin(net, y), (x, y))
        last, y = y, y - draw_one(s, c, x, y)
    board.finish(last)
    _title(s, c)
    return s


def _right_circuits(c):
    """The circuits right of the board, top to bottom: (drawer, MCU pin net)."""
    pins = c.pin_nets()
    out = [(_motor, pins["motor"], 0)]
    if not any(p.on_board for p, _ in c.on(pins["led"])):
        out.append((_led, pins["led"], 0))
    if c.latch:  # right above the button, which it reaches through D3
        out.append((_latch, pins["hold"], LATCH_ABOVE))
    out.append((_button, pins["button"], 0))
    if "battery" in pins:
        out.append((_divider, pins["battery"], 0))
    if "battery_ref" in pins:
        out.append((_reference, pins["battery_ref"], 0))
    return out


def _title(s, c):
    x0, y0, x1, y1 = s.d.get_bbox()
    s.text((x0, y1 + 0.5), "%s (boards/%s: circuit.py, board.json)" % (
        c.mcu.title, c.name), "left", "bottom", TITLE_PT)


# The power path -------------------------------------------------------------------------

def _supply_part(c):
    """The part between the feed (VBAT, or VSW behind a latch) and the dev board's supply
    pin: a diode or a regulator."""
    supply = net_of(c.supply)
    return _only([p for p in c.parts if {c.feed, supply} <= set(p.nets.values())],
                 "part from %s to the %s pin" % (c.feed, c.supply))


def _power_path(s, c):
    """Cell, charger and protection, storage switch, VBAT, then the supply part into the
    board's supply pin at the board's top edge (y = 0); returns the pin's x."""
    supply = _supply_part(c)
    y = 3.0 if supply.kind == "D" else 6.4  # the line of B+ and OUT+
    cell = _only(c.of_kind("CELL"), "cell")
    charger = _only(c.of_kind("CHARGER"), "charger")
    x = 0.0
    bt = s.part(cell.ref, elm.Battery, (x, y), (x, y - 1.6), "left", True)
    u4 = s.box(charger.ref, 2.4, 2.2, [("B+", "L", 0.3), ("B-", "L", 1.9),
                                       ("OUT+", "R", 0.3), ("OUT-", "R", 1.9)],
               "B+", (x + 0.9, y), "above", what=True)
    s.wire(bt.start, u4.absanchors["B+"])
    s.wire(bt.end, u4.absanchors["B-"])
    s.ground(u4.absanchors["OUT-"])
    x = u4.absanchors["OUT+"][0]
    switch = _only([p for p in _on(c, "VBAT", "SWITCH")
                    if charger.nets["op"] in p.nets.values()], "storage switch")
    s.wire((x, y), (x + 0.5, y))
    s.part(switch.ref, elm.Switch, (x + 0.5, y), (x + 2.5, y), "below", True)
    x += 3.4
    s.wire((x - 0.9, y), (x, y))
    if c.latch:
        # The cell ends here; the board hangs on the latch's switched net (drawn on its
        # pin right of the board).
        s.rail((x, y), "VBAT")
        x += 1.4
        s.rail((x, y), c.feed)
    else:
        s.dot((x, y))
        s.rail((x, y), "VBAT")
    if supply.kind == "D":
        s.part(supply.ref, elm.Schottky, (x, y), (x + PART_LEN, y), "below", True)
        hx = x + PART_LEN + 0.6
        s.wire((x + PART_LEN, y), (hx, y), (hx, 0))
    else:  # a regulator above the supply pin, a capacitor to ground on either side
        vin, vout = supply.nets["in"], supply.nets["out"]
        hx = x + 4.0
        s.wire((x, y), (hx, y), (hx, y - 0.5))
        for cap in _on(c, vin, "C"):
            s.dot((x + 0.9, y))
            s.part(cap.ref, elm.Capacitor, (x + 0.9, y), (x + 0.9, y - PART_LEN), "right",
                   True)
            s.ground((x + 0.9, y - PART_LEN))
        u = s.box(supply.ref, 1.8, 1.6, [("IN", "T", 0.9), ("OUT", "B", 0.9),
                                         ("GND", "R", 0.8)], "IN", (hx, y - 0.5), "right",
                  what=True)
        s.ground(u.absanchors["GND"])
        yo = u.absanchors["OUT"][1]
        s.wire((hx, yo), (hx, 0))
        for cap in _on(c, vout, "C"):
            s.dot((hx, yo - 0.5))
            s.wire((hx, yo - 0.5), (hx - 1.3, yo - 0.5))
            s.part(cap.ref, elm.Capacitor, (hx - 1.3, yo - 0.5), (hx - 1.3, yo - 2.5), "left",
                   True)
            s.ground((hx - 1.3, yo - 2.5))
    s.header((hx, 0), c.supply)
    return hx


# The dev board --------------------------------------------------------------------------

def _chip_width(c):
    """Wide enough for a pin label on either side and the chip's name between them (a
    character of DejaVu Sans is about 0.62 of its size; 36 points to a unit)."""
    longest = max(len(label) for label in c.pin_nets().values())
    return max(2.6, 1.3 + 2 * longest * PIN_PT * 0.62 / 36)


class _Board:
    """The dev board under its supply pin at (hx, 0): its regulator, the chip U1 below
    it, the board's own parts left of the chip. The chip's right pins are added as the
    circuits right of the board ask for them (pin()); finish() closes the chip and the
    outline."""

    def __init__(self, s, c, hx):
        self.s, self.c, self.hx = s, c, hx
        self.chip = _only(c.of_kind("LOAD"), "chip")
        reg = [p for p in c.of_kind("LDO", "BUCKBOOST") if p.on_board]
        first = len(s.d.elements)
        if reg:
            u2 = s.box(reg[0].ref, 1.8, 1.6, [("IN", "T", 0.9), ("OUT", "B", 0.9),
                                              ("GND", "R", 0.8)], "IN", (hx, -0.9),
                       "left", what=True)
            s.wire((hx, 0), (hx, -0.9))
            s.ground(u2.absanchors["GND"])
            self.top = u2.absanchors["OUT"]
            self.chip_top = self.top[1] - 1.6
        else:
            self.top = (hx, 0)
            self.chip_top = -1.1
        self.w = _chip_width(c)
        self.right = hx + self.w / 2 + LEAD
        self.pins = []  # (net, side, y)
        self._own_parts()
        self.inside = s.d.elements[first:]

    def pin(self, net, y):
        """The end of the chip's pin `net` on its right, at height y."""
        self.pins.append((net, "R", y))
        return (self.right, y)

    def _own_parts(self):
        """The board's own parts on the chip's left pins: a divider from the supply pin,
        an LED through its resistor, an RGB pixel."""
        s, c, hx = self.s, self.c, self.hx
        xpin = hx - self.w / 2 - LEAD
        y = self.chip_top - 0.6
        supply = net_of(c.supply)
        sense = [p for p in _on(c, supply, "R") if p.on_board]
        if sense:
            top = _only(sense, "divider on the supply pin")
            net = _other(top, supply)
            bottom = _only([p for p in _on(c, net, "R") if p is not top], "lower resistor")
            x = hx - 4.6
            s.dot((hx, -0.45))
            s.wire((hx, -0.45), (x, -0.45), (x, y + PART_LEN))
            s.part(top.ref, elm.Resistor, (x, y + PART_LEN), (x, y), "left", True)
            s.dot((x, y))
            s.wire((x, y), (xpin, y))
            s.part(bottom.ref, elm.Resistor, (x, y), (x, y - PART_LEN), "left", True)
            s.ground((x, y - PART_LEN))
            self.pins.append((net, "L", y))
            y -= 3.2
        led_net = c.pin_nets()["led"]
        own = [p for p, _ in c.on(led_net) if p.on_board]
        if any(p.kind == "PIXEL" for p in own):
            px = _only([p for p in own if p.kind == "PIXEL"], "pixel")
            y -= 0.8
            u = s.box(px.ref, 1.8, 1.6, [("DIN", "R", 0.8), ("VDD", "T", 0.9),
                                         ("GND", "B", 0.9)], "DIN", (xpin - 1.0, y),
                      "left", what=True)
            s.wire((xpin, y), (xpin - 1.0, y))
            s.rail(u.absanchors["VDD"], px.nets["vdd"])
            s.ground(u.absanchors["GND"])
            self.pins.append((led_net, "L", y))
        elif own:
            r = _only([p for p in own if p.kind == "R"], "LED resistor")
            led = _only(_on(c, _other(r, led_net), "LED"), "LED")
            x = xpin - 2.4
            s.part(r.ref, elm.Resistor, (xpin, y), (x, y), "above")
            s.part(led.ref, elm.LED, (x, y), (x, y - PART_LEN), "left", True)
            s.ground((x, y - PART_LEN))
            self.pins.append((led_net, "L", y))
            y -= 3.2
        self.lowest_left = y

    def finish(self, lowest_right):
        s, c, hx = self.s, self.c, self.hx
        bottom = min(lowest_right, self.lowest_left) - 0.8
        pins = [("3V3", "T", self.w / 2), ("GND", "B", self.w / 2)]
        pins += [(net, side, self.chip_top - y) for net, side, y in self.pins]
        u1 = s.box(self.chip.ref, self.w, self.chip_top - bottom, pins, "3V3",
                   (hx, self.chip_top + LEAD), named=[net for net, _, _ in self.pins])
        if tuple(self.top) != (hx, self.chip_top + LEAD):
            s.wire(self.top, (hx, self.chip_top + LEAD))
        rail = self.chip.nets["p"]
        if any(p.kind not in ("LDO", "BUCKBOOST", "LOAD", "C") for p, _ in c.on(rail)):
            # Other parts take this rail by its name (the board's 3V3 pin).
            y = (self.top[1] + self.chip_top + LEAD) / 2
            s.dot((hx, y))
            s.wire((hx, y), (hx - 0.9, y))
            s.rail((hx - 0.9, y), rail)
        s.ground(u1.absanchors["GND"])
        s.text((hx, (self.chip_top + bottom) / 2), caption(self.chip), "center", "center",
               rotation=90)
        # The outline: round the board's own parts and their captions, with room for its
        # name under them.
        x0 = min(e.get_bbox(transform=True).xmin for e in self.inside + [u1]) - 0.5
        x0 = min(x0, self.right + 0.5 - 5.5)  # the name's width
        x1, y1 = self.right + 0.5, bottom - LEAD - 1.2
        s.add(Outline(x0, 0, x1, y1).at((0, 0)))
        s.text((x0 + 0.25, y1 + 0.25), "%s: on the board" % c.mcu.title, "left", "bottom",
               NOTE_PT)


# The circuits on the pins ---------------------------------------------------------------
#
# Each draws itself where its pin's wire arrives from the left, at (x, y), and returns how
# far below it the next pin's line may run.

def _motor(s, c, x, y):
    """Gate resistor and pull-down from the pin, the N-MOSFET, the motor from VBAT to the
    drain and the flyback diode across it, anode on the drain."""
    pin = c.pin_nets()["motor"]
    q = _motor_fet(c)
    r_gate = _only(_on(c, q.nets["g"], "R"), "gate resistor")
    r_pull = _only([p for p in _on(c, pin, "R") if p is not r_gate], "gate pull-down")
    motor = _only(c.of_kind("MOTOR"), "motor")
    flyback = _only(_on(c, q.nets["d"], "D"), "flyback diode")
    s.dot((x, y))
    s.part(r_pull.ref, elm.Resistor, (x, y), (x, y - PART_LEN), "right", "pull-down")
    s.ground((x, y - PART_LEN))
    s.part(r_gate.ref, elm.Resistor, (x, y), (x + 2.6, y), "above", True)
    qe = s.nmos(q.ref, (x + 2.6, y), "right", True)
    s.ground(qe.source)
    xd, yd = qe.drain
    bottom, top = yd + 0.5, yd + 0.5 + PART_LEN
    s.wire((xd, yd), (xd, bottom))
    s.dot((xd, bottom))
    s.part(motor.ref, elm.Motor, (xd, bottom), (xd, top), "left", True)
    s.dot((xd, top))
    s.rail((xd, top), motor.nets["p"])
    xk = xd + 1.6
    s.wire((xd, bottom), (xk, bottom))
    s.part(flyback.ref, elm.Schottky, (xk, bottom), (xk, top), "right", True)
    s.wire((xd, top), (xk, top))
    return 3.0


def _motor_fet(c):
    """The MOSFET that switches the motor (its drain on the motor)."""
    motor = _only(c.of_kind("MOTOR"), "motor")
    return _only([q for q in c.of_kind("NMOS") if q.nets["d"] in motor.nets.values()],
                 "motor MOSFET")


# The latch on its hold pin: how far above the pin's line it reaches (the P-MOSFET and the
# VBAT rail over it), and where the button's net lies right of the column (D3 comes down
# to it, the button's drawer puts D4 and the switch there).
LATCH_ABOVE = 4.6
LATCH_DOWN = 3.4  # from the hold pin's line to the button's
BTN_DX = 6.2  # from the column to the button's net


def _latch_parts(c):
    """(P-MOSFET, its gate pull-up, the hold N-MOSFET, the hold pull-down, the press diode,
    the reading diode)."""
    pins = c.pin_nets()
    q = _only([p for p in c.of_kind("PMOS") if p.nets["s"] == "VBAT"], "latch P-MOSFET")
    gate = q.nets["g"]
    pull_up = _only(_on(c, gate, "R"), "latch pull-up")
    hold = _only([n for n in c.of_kind("NMOS") if n.nets["d"] == gate], "hold MOSFET")
    pull_down = _only(_on(c, pins["hold"], "R"), "hold pull-down")
    press = _only([d for d in _on(c, gate, "D")], "press diode")
    btn = _other(press, gate)
    read = _only([d for d in _on(c, btn, "D") if d is not press], "reading diode")
    return q, pull_up, hold, pull_down, press, read


def _latch(s, c, x, y):
    """The power latch on the hold pin: the pin's pull-down, the N-MOSFET pulling the
    P-MOSFET's gate low, the P-MOSFET from VBAT to VSW with its gate pull-up, and the press
    diode from the gate down to the button's net (drawn by _button below)."""
    q, pull_up, hold, pull_down, press, _ = _latch_parts(c)
    s.dot((x, y))
    s.part(pull_down.ref, elm.Resistor, (x, y), (x, y - PART_LEN), "right", "pull-down")
    s.ground((x, y - PART_LEN))
    s.wire((x, y), (x + 2.6, y))
    he = s.nmos(hold.ref, (x + 2.6, y), "right", True)
    s.ground(he.source)
    xd, yd = he.drain
    yp = yd + 0.6  # the P-MOSFET's gate line
    xj = x + BTN_DX
    s.wire((xd, yd), (xd, yp), (xj, yp))
    s.dot((xj, yp))
    yt = yp + PART_LEN
    s.part(pull_up.ref, elm.Resistor, (xj, yp), (xj, yt), "left", "pull-up")
    qe = s.pmos(q.ref, (xj + 1.2, yp), "right", True)
    s.wire((xj, yp), (xj + 1.2, yp))
    xs, ys = qe.source
    s.wire((xj, yt), (xs, yt))
    s.wire((xs, ys), (xs, yt))
    s.dot((xs, yt))
    s.rail((xs, yt), q.nets["s"])
    xr = xs + 3.2
    _, yd2 = qe.drain
    s.wire(qe.drain, (xs, yd2 - 0.4), (xr, yd2 - 0.4))
    s.rail((xr, yd2 - 0.4), q.nets["d"])
    s.part(press.ref, elm.Schottky, (xj, yp), (xj, y - LATCH_DOWN), "right", True)
    return LATCH_DOWN


def _led(s, c, x, y):
    """A mono LED through its resistor to ground."""
    pin = c.pin_nets()["led"]
    r = _only(_on(c, pin, "R"), "LED resistor")
    led = _only(_on(c, _other(r, pin), "LED"), "LED")
    s.part(r.ref, elm.Resistor, (x + 0.6, y), (x + 3.0, y), "above")
    s.wire((x, y), (x + 0.6, y))
    s.part(led.ref, elm.LED, (x + 3.0, y), (x + 3.0, y - PART_LEN), "right", True)
    s.ground((x + 3.0, y - PART_LEN))
    return 3.6


def _button(s, c, x, y):
    """The button from the pin to ground (the pin's pull-up) or to 3V3 (its pull-down)."""
    pin = c.pin_nets()["button"]
    if c.latch:
        return _button_latched(s, c, x, y)
    sw = _only(_on(c, pin, "SWITCH"), "button")
    other = _other(sw, pin)
    s.wire((x, y), (x + 0.6, y))
    s.part(sw.ref, elm.Button, (x + 0.6, y), (x + 0.6 + PART_LEN, y), "above", True)
    end = (x + 0.6 + PART_LEN, y)
    if other == circuits.GND:
        s.ground(end)
        note = "to GND: the pin's pull-up;\na press wakes it from off"
    else:
        s.rail(end, other)
        note = "to %s: the pin's pull-down;\na press wakes it from off" % name_of(other)
    s.text((end[0] + 0.7, y - 0.1), note, "left", "center", NOTE_PT)
    return 3.5


def _button_latched(s, c, x, y):
    """With a latch: the pin reads the button's net through D4 (anode on the pin), the
    switch goes from that net to ground, and D3 comes down into it from the latch."""
    _, _, _, _, press, read = _latch_parts(c)
    btn = read.nets["k"]
    sw = _only(_on(c, btn, "SWITCH"), "button")
    xb = x + BTN_DX
    # Each part a little off the button's net, so their captions clear D3 coming down.
    s.wire((x, y), (xb - PART_LEN - 0.8, y))
    s.part(read.ref, elm.Schottky, (xb - PART_LEN - 0.8, y), (xb - 0.8, y), "above", True)
    s.wire((xb - 0.8, y), (xb + 0.8, y))
    s.dot((xb, y))
    end = (xb + 0.8 + PART_LEN, y)
    s.part(sw.ref, elm.Button, (xb + 0.8, y), end, "above", True)
    s.ground(end)
    s.text((end[0] + 0.7, y - 0.1), "to GND: a press turns the power\non (D3) and reads "
           "low (D4)", "left", "center", NOTE_PT)
    return 3.5


def _divider(s, c, x, y):
    """VBAT through a divider to the ADC pin, a capacitor across the lower resistor."""
    pin = c.pin_nets()["battery"]
    top = _only([p for p in _on(c, pin, "R") if c.feed in p.nets.values()], "divider top")
    bottom = _only([p for p in _on(c, pin, "R") if p is not top], "divider bottom")
    cap = _only(_on(c, pin, "C"), "divider capacitor")
    s.dot((x, y))
    s.part(top.ref, elm.Resistor, (x, y), (x, y + PART_LEN), "right")
    s.rail((x, y + PART_LEN), c.feed)
    s.part(bottom.ref, elm.Resistor, (x, y), (x, y - PART_LEN), "right")
    s.ground((x, y - PART_LEN))
    xc = x + 3.6
    s.wire((x, y), (xc, y))
    s.part(cap.ref, elm.Capacitor, (xc, y), (xc, y - PART_LEN), "right")
    s.ground((xc, y - PART_LEN))
    ratio = (top.spec.ohms + bottom.spec.ohms) / bottom.spec.ohms
    s.text((x + 0.5, y + PART_LEN + 0.2), "cell / pin = %g" % round(ratio, 3), "left",
           "center", NOTE_PT)
    return 5.8


def _reference(s, c, x, y):
    """A shunt reference on the second ADC pin, fed through a resistor from a rail."""
    pin = c.pin_nets()["battery_ref"]
    ref = _only(_on(c, pin, "SHUNTREF"), "shunt reference")
    feed = _only(_on(c, pin, "R"), "reference feed")
    s.dot((x, y))
    s.part(feed.ref, elm.Resistor, (x, y), (x, y + PART_LEN), "right", True)
    s.rail((x, y + PART_LEN), _other(feed, pin))
    # Drawn as a Zener, as a shunt reference is: cathode on the pin, anode to ground.
    s.part(ref.ref, elm.Zener, (x, y - PART_LEN), (x, y), "right", True)
    s.ground((x, y - PART_LEN))
    return 5.8


class DrawingError(Exception):
    """A drawing that is not its circuit."""


def render(c, fmt):
    """The drawing of circuit `c` as bytes: "svg" (schemdraw's SVG writer) or "png"
    (matplotlib). Refuses (DrawingError) a drawing that check() finds unlike `c`."""
    from host_tools.schematic_check import check

    s = draw(c)
    problems = check(s, c)
    if problems:
        raise DrawingError("the drawing of %s is not its circuit:\n  %s" % (
            c.name, "\n  ".join(problems)))
    if fmt == "svg":
        schemdraw.use("svg")
        return s.d.get_imagedata("svg").replace(b'font-family="sans"', SVG_FONTS.encode())
    fig, _ = _figure(s)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, bbox_inches="tight",
                metadata={"Software": None})  # no version stamp: the same bytes
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


# --- The tables in docs/hardware.md --------------------------------------------------------

def pin_table(c):
    """The board's pins as a Markdown table: what each is wired to, from the circuit."""
    pins = c.pin_nets()
    cfg = c.config

    def with_value(p):
        return "%s %s" % (p.ref, shown_value(p.spec))

    q = _motor_fet(c)
    r_gate = _only(_on(c, q.nets["g"], "R"), "gate resistor")
    m = cfg["motor"]
    rows = [("motor (N-MOSFET gate, through %s)" % with_value(r_gate), pins["motor"],
             "PWM %d Hz; rated %.1f V, start kick %.1f V" % (
                 m.get("freq", 20000), m["rated_mv"] / 1000, m["start_mv"] / 1000))]
    led = [p for p, _ in c.on(pins["led"])]
    on_board = ", on the board" if all(p.on_board for p in led) else ""
    if cfg["led"]["kind"] == "neopixel":
        px = _only([p for p in led if p.kind == "PIXEL"], "pixel")
        rows.append(("NeoPixel data in", pins["led"], "%s%s" % (with_value(px), on_board)))
    else:
        r = _only([p for p in led if p.kind == "R"], "LED resistor")
        rows.append(("LED", pins["led"], "PWM, through %s%s" % (with_value(r), on_board)))
    if c.latch:
        q, _, hold, pull_down, press, read = _latch_parts(c)
        sw = _only(_on(c, read.nets["k"], "SWITCH"), "button")
        rows.append(("button", pins["button"], "%s to GND through %s (anode on the pin), "
                     "the pin's pull-up; %s also pulls the latch's gate low through %s" % (
                         sw.ref, with_value(read), sw.ref, with_value(press))))
        rows.append(("power latch hold", pins["hold"], "%s gate (%s from the latch %s's "
                     "gate to GND), %s to GND; high: the power stays on" % (
                         with_value(hold), hold.ref, with_value(q), with_value(pull_down))))
    else:
        sw = _only(_on(c, pins["button"], "SWITCH"), "button")
        to = _other(sw, pins["button"])
        rows.append(("button", pins["button"], "%s to %s, the pin's %s" % (
            sw.ref, name_of(to), "pull-up" if to == circuits.GND else "pull-down")))
    usb = (cfg.get("power") or {}).get("usb_pin")
    if usb is not None:
        rows.append(("USB sense", c.label(usb), "the board's own VBUS divider: high on USB"))
    if "battery" in pins:
        rs = _on(c, pins["battery"], "R")
        top = _only([p for p in rs if c.feed in p.nets.values()], "divider top")
        bottom = _only([p for p in rs if p is not top], "divider bottom")
        rows.append(("battery sense (ADC)", pins["battery"],
                     "cell / pin = %g: %s from %s, %s to GND" % (
                         cfg["battery"]["divider_x100"] / 100, with_value(top), c.feed,
                         with_value(bottom))))
    if "battery_ref" in pins:
        ref = _only(_on(c, pins["battery_ref"], "SHUNTREF"), "reference")
        feed = _only(_on(c, pins["battery_ref"], "R"), "reference feed")
        rows.append(("battery reference (ADC)", pins["battery_ref"],
                     "%s (%g V), fed through %s from %s" % (
                         with_value(ref), ref.spec.volts, with_value(feed),
                         name_of(_other(feed, pins["battery_ref"])))))
    supply = _supply_part(c)
    rows.append(("battery in", c.supply, "from %s through %s" % (c.feed, with_value(supply))))
    lines = ["| what | pin | wired to |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % r for r in rows]
    return "\n".join(lines)


def bom_table(c):
    """The bill of materials as a Markdown table: the dev board, then Circuit.bom()."""
    lines = ["| part | value | what for | qty |", "|---|---|---|---|",
             "| dev board | %s | the chip and the board's own parts | 1 |" % c.mcu.title]
    lines += ["| %s | %s | %s | %d |" % row for row in c.bom()]
    return "\n".join(lines)


TABLES = {"pins": pin_table, "bom": bom_table}


def update_markdown(text):
    """`text` with every `<!-- pins: NAME -->` ... `<!-- /pins -->` block (and `bom`) made
    again from board NAME's circuit."""
    out = []
    rest = text
    while True:
        found = [(rest.find("<!-- %s: " % kind), kind) for kind in TABLES]
        found = [(i, kind) for i, kind in found if i >= 0]
        if not found:
            out.append(rest)
            return "".join(out)
        i, kind = min(found)
        head_end = rest.index("-->", i) + 3
        name = rest[i + len("<!-- %s: " % kind):head_end - 3].strip()
        j = rest.index("<!-- /%s -->" % kind, head_end)
        out.append(rest[:head_end] + "\n" + TABLES[kind](load(name)) + "\n")
        rest = rest[j:]


def outputs():
    """(file name, circuit, format) for every drawing `make docs` writes."""
    out = []
    for name in board_names():
        c = load(name)
        out.append(("%s.svg" % name, c, "svg"))
        if name == README_BOARD:
            out.append(("%s.png" % name, c, "png"))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m host_tools.schematic",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT, help="directory to write to (default docs/hardware)")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files in --out instead of writing them")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    stale = []
    for filename, c, fmt in outputs():
        try:
            data = render(c, fmt)
        except DrawingError as e:
            print("schematic: %s" % e, file=sys.stderr)
            return 1
        path = os.path.join(args.out, filename)
        if args.check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            if not same:
                stale.append(path)
            continue
        with open(path, "wb") as f:
            f.write(data)
        print("schematic: wrote %s" % os.path.relpath(path, ROOT))
    md = os.path.join(ROOT, "docs", "hardware.md")
    if os.path.exists(md):
        with open(md, encoding="utf-8") as f:
            text = f.read()
        fresh = update_markdown(text)
        if args.check and fresh != text:
            stale.append(md)
        elif not args.check and args.out == OUT and fresh != text:
            with open(md, "w", encoding="utf-8") as f:
                f.write(fresh)
            print("schematic: wrote the pin tables and bills of materials in docs/hardware.md")
    for path in stale:
        print("schematic: %s is not current: run make docs" % os.path.relpath(path, ROOT),
              file=sys.stderr)
    return 1 if stale else 0


def _figure(s):
    """The drawing rendered by matplotlib (Agg) at the PNG's resolution, and its renderer."""
    import matplotlib

    matplotlib.use("Agg")
    schemdraw.use("matplotlib")
    try:
        fig = s.d.draw(show=False).getfig()
    finally:
        schemdraw.use("svg")
    fig.set_dpi(PNG_DPI)
    return fig, fig.canvas.get_renderer()


if __name__ == "__main__":
    # Run as the imported module, not __main__: schematic_check reads the drawing's
    # elements by their classes in host_tools.schematic.
    from host_tools import schematic

    sys.exit(schematic.main())
