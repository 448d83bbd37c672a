"""Wiring schematics, pin tables and bills of materials drawn from each board's circuit
(host_tools.circuit: boards/<name>/circuit.py with the pins of its board.json).

    python -m host_tools.schematic [--out DIR] [--check]

writes docs/hardware/<board>.svg for every board, docs/hardware/<README_BOARD>.png for the
README, and the pin tables and bills of materials in docs/hardware.md (`make docs`). --check
compares instead of writing (exit 1: stale). The output is deterministic: the same circuit
and the same pinned schemdraw and matplotlib give the same bytes.

A drawing is not trusted to be the circuit because it was made from it: after drawing,
drawn_nets() reads back what the picture connects (each part's pins where its symbol puts
them, the wires, the rail and pin names) and check() compares that with the circuit. A
drawing that disagrees (a diode the wrong way round, a wire to the wrong node) is never
written.
"""

import argparse
import io
import math
import os
import sys

import schemdraw
import schemdraw.elements as elm
from schemdraw.elements import Element
from schemdraw.segments import Segment, SegmentCircle, SegmentPoly, SegmentText

from host_tools import circuit as circuits

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
    for draw_one, net in _right_circuits(c):
        s.wire(board.pin(net, y), (x, y))
        last, y = y, y - draw_one(s, c, x, y)
    board.finish(last)
    _title(s, c)
    return s


def _right_circuits(c):
    """The circuits right of the board, top to bottom: (drawer, MCU pin net)."""
    pins = c.pin_nets()
    out = [(_motor, pins["motor"])]
    if not any(p.on_board for p, _ in c.on(pins["led"])):
        out.append((_led, pins["led"]))
    out.append((_button, pins["button"]))
    if "battery" in pins:
        out.append((_divider, pins["battery"]))
    if "battery_ref" in pins:
        out.append((_reference, pins["battery_ref"]))
    return out


def _title(s, c):
    x0, y0, x1, y1 = s.d.get_bbox()
    s.text((x0, y1 + 0.5), "%s (boards/%s: circuit.py, board.json)" % (
        c.mcu.title, c.name), "left", "bottom", TITLE_PT)


# The power path -------------------------------------------------------------------------

def _supply_part(c):
    """The part between VBAT and the dev board's supply pin: a diode or a regulator."""
    supply = net_of(c.supply)
    return _only([p for p in c.parts if {"VBAT", supply} <= set(p.nets.values())],
                 "part from VBAT to the %s pin" % c.supply)


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
    q = _only(c.of_kind("NMOS"), "MOSFET")
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
    s.rail((xd, top), "VBAT")
    xk = xd + 1.6
    s.wire((xd, bottom), (xk, bottom))
    s.part(flyback.ref, elm.Schottky, (xk, bottom), (xk, top), "right", True)
    s.wire((xd, top), (xk, top))
    return 3.0


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


def _divider(s, c, x, y):
    """VBAT through a divider to the ADC pin, a capacitor across the lower resistor."""
    pin = c.pin_nets()["battery"]
    top = _only([p for p in _on(c, pin, "R") if "VBAT" in p.nets.values()], "divider top")
    bottom = _only([p for p in _on(c, pin, "R") if p is not top], "divider bottom")
    cap = _only(_on(c, pin, "C"), "divider capacitor")
    s.dot((x, y))
    s.part(top.ref, elm.Resistor, (x, y), (x, y + PART_LEN), "right")
    s.rail((x, y + PART_LEN), "VBAT")
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

    q = _only(c.of_kind("NMOS"), "MOSFET")
    r_gate = _only(_on(c, q.nets["g"], "R"), "gate resistor")
    m = cfg["motor"]
    rows = [("motor (N-MOSFET gate, through %s)" % with_value(r_gate), pins["motor"],
             "PWM %d Hz, start kick %d %%" % (m.get("freq", 20000), m.get("start_min", 0)))]
    led = [p for p, _ in c.on(pins["led"])]
    on_board = ", on the board" if all(p.on_board for p in led) else ""
    if cfg["led"]["kind"] == "neopixel":
        px = _only([p for p in led if p.kind == "PIXEL"], "pixel")
        rows.append(("NeoPixel data in", pins["led"], "%s%s" % (with_value(px), on_board)))
    else:
        r = _only([p for p in led if p.kind == "R"], "LED resistor")
        rows.append(("LED", pins["led"], "PWM, through %s%s" % (with_value(r), on_board)))
    sw = _only(_on(c, pins["button"], "SWITCH"), "button")
    to = _other(sw, pins["button"])
    rows.append(("button", pins["button"], "%s to %s, the pin's %s" % (
        sw.ref, name_of(to), "pull-up" if to == circuits.GND else "pull-down")))
    if "battery" in pins:
        rs = _on(c, pins["battery"], "R")
        top = _only([p for p in rs if "VBAT" in p.nets.values()], "divider top")
        bottom = _only([p for p in rs if p is not top], "divider bottom")
        rows.append(("battery sense (ADC)", pins["battery"],
                     "cell / pin = %g: %s from VBAT, %s to GND" % (
                         cfg["battery"]["divider_x100"] / 100, with_value(top),
                         with_value(bottom))))
    if "battery_ref" in pins:
        ref = _only(_on(c, pins["battery_ref"], "SHUNTREF"), "reference")
        feed = _only(_on(c, pins["battery_ref"], "R"), "reference feed")
        rows.append(("battery reference (ADC)", pins["battery_ref"],
                     "%s (%g V), fed through %s from %s" % (
                         with_value(ref), ref.spec.volts, with_value(feed),
                         name_of(_other(feed, pins["battery_ref"])))))
    supply = _supply_part(c)
    rows.append(("battery in", c.supply, "from VBAT through %s" % with_value(supply)))
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


# --- Reading the drawing back: what it connects -----------------------------------------

def _key(p):
    return (round(float(p[0]), 3), round(float(p[1]), 3))


def _on_segment(p, a, b, eps=1e-3):
    """Whether point p lies on the straight segment a-b."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    if length < eps:
        return math.hypot(px - ax, py - ay) < eps
    if abs((px - ax) * dy - (py - ay) * dx) / length > eps:
        return False
    t = ((px - ax) * dx + (py - ay) * dy) / (length * length)
    return -eps / length <= t <= 1 + eps / length


def _diode_pins(e):
    """A diode's (or LED's, or shunt reference's) anode and cathode where its symbol puts
    them: the triangle points from the anode's end to the cathode's bar, whichever way the
    element was placed, reversed or flipped."""
    tri = [seg for seg in e.segments if isinstance(seg, SegmentPoly) and len(seg.verts) == 3]
    if len(tri) != 1:
        raise ValueError("%s: no diode triangle in its symbol" % e.ref)
    verts = [e.transform.transform(v) for v in tri[0].verts]
    start, end = e.absanchors["start"], e.absanchors["end"]
    ux, uy = end[0] - start[0], end[1] - start[1]
    along = [round((v[0] - start[0]) * ux + (v[1] - start[1]) * uy, 6) for v in verts]
    apex = [a for a in along if along.count(a) == 1]
    base = [a for a in along if along.count(a) == 2]
    if len(apex) != 1 or not base:
        raise ValueError("%s: its triangle does not point along it" % e.ref)
    if apex[0] > base[0]:
        return {"a": start, "k": end}
    return {"a": end, "k": start}


def _cell_pins(e):
    """A battery's + and - where its symbol puts them: + beside the long plate."""
    start, end = e.absanchors["start"], e.absanchors["end"]
    ux, uy = end[0] - start[0], end[1] - start[1]
    n = math.hypot(ux, uy)
    plates = []
    for seg in e.segments:
        if not isinstance(seg, Segment) or len(seg.path) != 2:
            continue
        a, b = (e.transform.transform(p) for p in seg.path)
        if abs((b[0] - a[0]) * ux + (b[1] - a[1]) * uy) > 1e-6:
            continue  # not across the element
        at = ((a[0] - start[0]) * ux + (a[1] - start[1]) * uy) / n
        plates.append((at, math.hypot(b[0] - a[0], b[1] - a[1])))
    plates.sort()
    if len(plates) < 2:
        raise ValueError("%s: no battery plates in its symbol" % e.ref)
    if plates[0][1] > plates[-1][1]:
        return {"p": start, "n": end}
    return {"p": end, "n": start}


def part_pins(e):
    """{circuit pin: point} of a drawn part, read from its symbol."""
    kind = e.kind
    if kind in ("D", "LED", "SHUNTREF"):
        return _diode_pins(e)
    if kind == "CELL":
        return _cell_pins(e)
    if kind == "NMOS":
        return {"g": e.absanchors["gate"], "d": e.absanchors["drain"],
                "s": e.absanchors["source"]}
    if kind in BOX_PINS:
        return {pin: e.absanchors[label] for pin, label in BOX_PINS[kind].items()}
    if kind in SYMMETRIC:
        first, second = e.pins
        return {first: e.absanchors["start"], second: e.absanchors["end"]}
    raise ValueError("%s: no way to read the pins of a %s" % (e.ref, kind))


class Drawn:
    """What a drawing connects, read from its elements: parts[ref] = the part's symbol;
    pins[ref] = {pin: node}; names[node] = {the nets named on it}. A node is the points
    that wires, rails and names join (its id: one of them). Wires join where one ends on
    another or on a pin; two wires that only cross do not join."""

    def __init__(self, elements):
        self.parts = {}  # ref -> element
        wires, named, dots, ends, pins, headers = [], [], [], [], [], []
        for e in elements:
            if getattr(e, "ref", None):
                self.parts[e.ref] = e
                for pin, p in part_pins(e).items():
                    pins.append((e.ref, pin, _key(p)))
                if isinstance(e, Box):
                    for label in e.named:
                        named.append((_key(e.absanchors[label]), net_of(label)))
            elif isinstance(e, elm.Line):
                a, b = _key(e.absanchors["start"]), _key(e.absanchors["end"])
                wires.append((a, b))
                ends += [a, b]
            elif isinstance(e, Rail):
                named.append((_key(e.absanchors["start"]), net_of(e.name)))
            elif isinstance(e, Header):  # named, and marks its point as a dot would
                named.append((_key(e.absanchors["start"]), net_of(e.name)))
                headers.append(_key(e.absanchors["start"]))
            elif isinstance(e, elm.Ground):
                named.append((_key(e.absanchors["start"]), circuits.GND))
            elif isinstance(e, elm.Dot):
                dots.append(_key(e.absanchors["start"]))
        self.wires, self.dots = wires, dots
        points = sorted({p for p, _ in named} | set(ends) | {p for _, _, p in pins})
        parent = {p: p for p in points}

        def find(p):
            while parent[p] != p:
                parent[p] = parent[parent[p]]
                p = parent[p]
            return p

        def union(a, b):
            parent[find(a)] = find(b)

        for i, p in enumerate(points):  # one point, however its coordinates were reached
            for q in points[i + 1:]:
                if abs(q[0] - p[0]) > 2e-3:
                    break
                if abs(q[1] - p[1]) <= 2e-3:
                    union(p, q)
        for a, b in wires:
            for p in points:
                if _on_segment(p, a, b):
                    union(p, a)
        # Points named alike are one net, as a schematic's rail symbols and pin names are.
        first = {}
        for p, net in named:
            union(p, first.setdefault(net, p))
        self.names = {}
        for p, net in named:
            self.names.setdefault(find(p), set()).add(net)
        self.pins = {}
        for ref, pin, p in pins:
            self.pins.setdefault(ref, {})[pin] = find(p)
        self._pin_points = pins
        self._named_points = [p for p, _ in named if p not in headers]
        self._headers = headers

    def junction_problems(self):
        """Where three or more things meet there must be a dot, and a dot only there: a
        schematic reader takes two wires crossing without one as not joined."""
        count = {}
        for p in [p for _, _, p in self._pin_points] + self._named_points:
            count[p] = count.get(p, 0) + 1
        for a, b in self.wires:
            count[a] = count.get(a, 0) + 1
            count[b] = count.get(b, 0) + 1
        for a, b in self.wires:
            for p in count:
                if p not in (a, b) and _on_segment(p, a, b):
                    count[p] += 2  # a wire through the point
        problems = []
        dots = set(self.dots)
        for p, n in sorted(count.items()):
            if n >= 3 and p not in dots and p not in self._headers:
                problems.append("three or more connections meet at %s without a dot" % (p,))
        for p in sorted(dots):
            if count.get(p, 0) < 3:
                problems.append("a dot at %s where nothing joins" % (p,))
        return problems


def drawn_nets(sheet):
    return Drawn(sheet.d.elements)


def check(sheet, c):
    """What in the drawing disagrees with circuit `c`, as sentences (empty: none).

    Each part of the circuit must be drawn once, and no other; the pins the circuit puts
    on one net must land on one drawn node, two nets never on one node, and a node that
    carries a name (a rail, ground, a pin of the chip or the board) must carry its net's.
    A resistor's, capacitor's, switch's or motor's two ends are alike: either may be
    either pin."""
    drawn = drawn_nets(sheet)
    problems = []
    refs = {p.ref for p in c.parts}
    for ref in sorted(refs - set(drawn.parts)):
        problems.append("%s is in the circuit but not drawn" % ref)
    for ref in sorted(set(drawn.parts) - refs):
        problems.append("%s is drawn but not in the circuit" % ref)
    group_net = {}  # drawn node -> the net it is taken for
    for g, names in drawn.names.items():
        group_net[g] = sorted(names)[0]
    fixed, loose = [], []
    for p in c.parts:
        if p.ref not in drawn.parts:
            continue
        at = drawn.pins[p.ref]
        if p.kind in SYMMETRIC:
            loose.append(p)
        else:
            fixed += [(p.ref, pin, at[pin], p.nets[pin]) for pin in p.spec.pins]
    net_group = {}

    def claims(g, net):
        return group_net.get(g, net) == net and net_group.get(net, g) == g

    assigned = list(fixed)
    for _, _, g, net in fixed:
        group_net.setdefault(g, net)
        net_group.setdefault(net, g)
    # The alike ends: take the way round that agrees with what is already known; where
    # both or neither do, pin 1 at the start, and see whether the rest agrees.
    while loose:
        choice = None
        for p in loose:
            at = [drawn.pins[p.ref][pin] for pin in p.spec.pins]
            ways = [at, at[::-1]]
            fits = [all(claims(g, p.nets[pin]) for g, pin in zip(way, p.spec.pins))
                    for way in ways]
            if fits[0] != fits[1]:
                choice = (p, ways[fits.index(True)])
                break
        if choice is None:  # the way round with fewer disagreements, else as drawn
            p = loose[0]
            at = [drawn.pins[p.ref][pin] for pin in p.spec.pins]
            score = [sum(claims(g, p.nets[pin]) for g, pin in zip(way, p.spec.pins))
                     for way in (at, at[::-1])]
            choice = (p, at if score[0] >= score[1] else at[::-1])
        p, way = choice
        loose.remove(p)
        for g, pin in zip(way, p.spec.pins):
            assigned.append((p.ref, pin, g, p.nets[pin]))
            group_net.setdefault(g, p.nets[pin])
            net_group.setdefault(p.nets[pin], g)
    by_net, by_group, members = {}, {}, {}
    for ref, pin, g, net in assigned:
        by_net.setdefault(net, set()).add(g)
        by_group.setdefault(g, set()).add(net)
        members.setdefault(g, []).append("%s.%s" % (ref, pin))

    def who(g):
        names = ["'%s'" % name_of(n) for n in sorted(drawn.names.get(g, ()))]
        return ", ".join(sorted(members.get(g, [])) + names)

    for g, names in sorted(drawn.names.items(), key=lambda kv: sorted(kv[1])):
        if len(names) > 1:
            problems.append("one drawn node carries the names %s (%s)" % (
                " and ".join(sorted(name_of(n) for n in names)), who(g)))
    for net, gs in sorted(by_net.items()):
        if len(gs) > 1:
            problems.append("net %s is drawn in %d pieces: %s" % (
                name_of(net), len(gs), " | ".join(sorted(who(g) for g in gs))))
    for g, nets in sorted(by_group.items(), key=lambda kv: sorted(kv[1])):
        if len(nets) > 1:
            problems.append("nets %s are drawn joined: %s" % (
                " and ".join(sorted(name_of(n) for n in nets)), who(g)))
        for name in drawn.names.get(g, ()):
            if name not in nets and len(nets) == 1:
                problems.append("the node of net %s is named %s (%s)" % (
                    name_of(sorted(nets)[0]), name_of(name), who(g)))
    problems += drawn.junction_problems()
    return problems


# --- Reading the picture back: no caption over another, nor over a line -----------------

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


def _segments(xy):
    for a, b in zip(xy, xy[1:]):
        if all(map(math.isfinite, (a[0], a[1], b[0], b[1]))):
            yield a, b


def _crosses(box, a, b):
    """Whether the segment a-b touches the box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 <= t1


def layout_problems(s, pad=1.5):
    """Where the picture on Sheet `s` puts text over text or over a line, as matplotlib
    lays it out with its DejaVu Sans (wider than the fonts the SVG asks for): sentences,
    empty when none. Text boxes are in pixels at the PNG's resolution, grown by `pad`."""
    fig, renderer = _figure(s)
    try:
        ax = fig.axes[0]
        texts = []
        for t in ax.texts:
            if not t.get_text().strip():
                continue
            bb = t.get_window_extent(renderer)
            texts.append((t.get_text().replace("\n", " / "),
                          (bb.x0 - pad, bb.y0 - pad, bb.x1 + pad, bb.y1 + pad)))
        lines = []
        for line in ax.lines:
            xy = line.get_transform().transform(line.get_xydata())
            lines += list(_segments([tuple(p) for p in xy]))
        shapes = [tuple(patch.get_window_extent(renderer).extents) for patch in ax.patches]
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    def overlap(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    problems = []
    for i, (text, a) in enumerate(texts):
        for other, b in texts[i + 1:]:
            if overlap(a, b):
                problems.append("'%s' overlaps '%s'" % (text, other))
        if any(_crosses(a, p, q) for p, q in lines) or any(overlap(a, b) for b in shapes):
            problems.append("'%s' lies over a line or a symbol" % text)
    return problems


if __name__ == "__main__":
    sys.exit(main())
