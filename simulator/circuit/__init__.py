"""Each board's circuit as data: parts with their datasheet values, and the nets that join
them. One description per board (boards/<name>/circuit.py) feeds the drawings, the pin
tables, the bill of materials, the electrical rule checks and the SPICE netlist; the pins
come from the board's board.json, so the firmware's pin map and the wiring are one fact.

    from simulator import circuit
    c = circuit.load("pico")          # a Circuit
    c.part("D1").nets                  # {"a": "DRAIN", "k": "VBAT"}

Net names: "0" is ground, "VBAT" the cell's + after its protection board, "VSW" what the
power latch switches from it (on a board with one: board.json power.hold_pin), "V3V3" the
board's 3.3 V rail, and each MCU pin's net is named like its label ("GP15", "GPIO25").
Circuit.feed is the net that feeds the board: VSW with a latch, else VBAT.
"""

import copy
import importlib.util
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOARDS = os.path.join(ROOT, "boards")
GND = "0"


class CircuitError(Exception):
    """A board without a circuit, or a description that does not hold together."""


class Part:
    """One placed part: a catalogue entry (parts.Spec), the net on each of its pins, what
    it is for (a few words for the drawing and the bill of materials), and whether it is
    on the dev board already (not bought, drawn inside the board)."""

    def __init__(self, ref, spec, nets, what="", on_board=False):
        missing = set(spec.pins) - set(nets)
        extra = set(nets) - set(spec.pins)
        if missing or extra:
            raise CircuitError("%s (%s): pins %s, got %s" % (
                ref, spec.name, ", ".join(spec.pins), ", ".join(sorted(nets))))
        self.ref = ref
        self.spec = spec
        self.nets = dict(nets)
        self.what = what
        self.on_board = on_board

    @property
    def kind(self):
        return self.spec.kind

    def __repr__(self):
        return "<%s %s %s>" % (self.ref, self.spec.name, self.nets)


class Circuit:
    """A board's circuit outside the chip. `config` is its board.json; `mcu` the dev
    board's catalogue entry (parts.DevBoard), whose pin labels name the MCU pin nets."""

    def __init__(self, config, mcu):
        self.name = config["name"]
        self.config = config
        self.mcu = mcu
        self.parts = []
        self.supply = None  # the dev board pin the cell feeds, e.g. "VSYS"
        self.feed = "VBAT"  # the net everything but the latch hangs on (VSW with a latch)

    @property
    def latch(self):
        """True when the board has a power latch (board.json power.hold_pin)."""
        return self.feed != "VBAT"

    def label(self, gpio):
        """The MCU pin's label and net name: GP15 on the RP2040 boards, GPIO25 on ESP32."""
        return "%s%d" % (self.mcu.prefix, gpio)

    def add(self, ref, spec, what="", on_board=False, **nets):
        if any(p.ref == ref for p in self.parts):
            raise CircuitError("%s: two parts with that reference" % ref)
        part = Part(ref, spec, nets, what, on_board)
        self.parts.append(part)
        return part

    def part(self, ref):
        for p in self.parts:
            if p.ref == ref:
                return p
        raise KeyError(ref)

    def of_kind(self, *kinds):
        return [p for p in self.parts if p.kind in kinds]

    def on(self, net):
        """(part, pin) pairs connected to `net`."""
        return [(p, pin) for p in self.parts for pin, n in p.nets.items() if n == net]

    def nets(self):
        return sorted({n for p in self.parts for n in p.nets.values()})

    def pin_nets(self):
        """The MCU pin labels this circuit uses, from board.json, by role."""
        cfg = self.config
        out = {"motor": self.label(cfg["motor"]["pin"]), "led": self.label(cfg["led"]["pin"]),
               "button": self.label(cfg["button"]["pin"])}
        bat = cfg.get("battery")
        if bat is not None:
            out["battery"] = self.label(bat["pin"])
            if "ref_pin" in bat:
                out["battery_ref"] = self.label(bat["ref_pin"])
        power = cfg.get("power") or {}
        if "hold_pin" in power:
            out["hold"] = self.label(power["hold_pin"])
        return out

    # Copies with one thing changed: what the rule-check tests break on purpose.
    def replaced(self, ref, spec=None, **nets):
        """A copy with part `ref` given another catalogue entry and/or other nets."""
        c = copy.deepcopy(self)
        p = c.part(ref)
        if spec is not None:
            p.spec = spec
        p.nets.update(nets)
        return c

    def without(self, ref):
        c = copy.deepcopy(self)
        c.parts = [p for p in c.parts if p.ref != ref]
        return c

    def bom(self):
        """The bill of materials: [(part, value, what, qty)] for the parts to buy, in the
        order they were added, equal parts counted together."""
        rows = {}
        for p in self.parts:
            if p.on_board:
                continue
            key = (p.spec.category, p.spec.value_text())
            if key not in rows:
                rows[key] = [p.spec.category, p.spec.value_text(), [], 0]
            row = rows[key]
            row[3] += 1
            if p.what and p.what not in row[2]:
                row[2].append(p.what)
        return [(cat, value, ", ".join(what), qty) for cat, value, what, qty in rows.values()]


def board_names():
    return sorted(n for n in os.listdir(BOARDS)
                  if os.path.isfile(os.path.join(BOARDS, n, "circuit.py")))


def load_config(name):
    try:
        with open(os.path.join(BOARDS, name, "board.json")) as f:
            return json.load(f)
    except OSError:
        raise CircuitError("no board %r (boards: %s)" % (
            name, ", ".join(board_names()))) from None


def load(name, config=None):
    """The Circuit of boards/<name>/circuit.py, for its board.json (or `config`)."""
    path = os.path.join(BOARDS, name, "circuit.py")
    if not os.path.isfile(path):
        raise CircuitError("no circuit for board %r (boards with one: %s)" % (
            name, ", ".join(board_names())))
    if config is None:
        config = load_config(name)
    spec = importlib.util.spec_from_file_location("massager_circuit_" + name.replace("-", "_"),
                                                  path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build(config)
