"""docs/hardware.md and its schematics: drawn by code from each board's circuit, kept
current, and read back to prove that each drawing is its circuit."""

import json
import os

import pytest

from host_tools import schematic, schematic_check
from simulator import circuit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = circuit.board_names()


def test_every_board_with_a_pin_map_has_a_circuit_to_draw():
    with_json = sorted(n for n in os.listdir(os.path.join(ROOT, "boards"))
                       if os.path.isfile(os.path.join(ROOT, "boards", n, "board.json")))
    assert BOARDS == with_json


def test_the_committed_drawings_are_the_ones_make_docs_draws(tmp_path):
    assert schematic.main(["--out", str(tmp_path)]) == 0
    written = sorted(os.listdir(tmp_path))
    assert written == sorted(["%s.svg" % b for b in BOARDS] + ["pico.png"])
    for name in written:
        with open(tmp_path / name, "rb") as f:
            fresh = f.read()
        with open(os.path.join(ROOT, "docs", "hardware", name), "rb") as f:
            assert f.read() == fresh, "docs/hardware/%s is stale: run make docs" % name


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_drawing_twice_gives_the_same_bytes(fmt):
    c = circuit.load("pico")
    assert schematic.render(c, fmt) == schematic.render(c, fmt)


@pytest.mark.parametrize("name", BOARDS)
def test_each_drawing_shows_the_pins_of_its_board_json(name):
    c = circuit.load(name)
    svg = schematic.render(c, "svg").decode()
    for role, label in c.pin_nets().items():
        assert ">%s<" % label in svg, role
    assert ">%s<" % c.supply in svg
    # Another pin in board.json is another drawing: no pin is drawn by hand.
    moved = json.loads(json.dumps(c.config))
    moved["motor"]["pin"] = 12  # a pin no board uses
    svg = schematic.render(circuit.load(name, config=moved), "svg").decode()
    assert ">%s<" % c.label(12) in svg
    assert ">%s<" % c.pin_nets()["motor"] not in svg


@pytest.mark.parametrize("name", BOARDS)
def test_every_part_is_drawn_with_its_reference_and_value(name):
    c = circuit.load(name)
    svg = schematic.render(c, "svg").decode()
    for p in c.parts:
        assert ">%s %s<" % (p.ref, schematic.shown_value(p.spec)) in svg, p.ref


# The drawing is its circuit ---------------------------------------------------------------

@pytest.mark.parametrize("name", BOARDS)
def test_each_drawing_connects_exactly_what_its_circuit_does(name):
    c = circuit.load(name)
    assert schematic_check.check(schematic.draw(c), c) == []


def _drawn_with(monkeypatch, ref, change):
    """The pico's drawing with part `ref`'s symbol changed by `change` before placing."""
    part = schematic.Sheet.part

    def changed(self, r, cls, *args, **kwargs):
        if r == ref:
            return part(self, r, lambda: change(cls()), *args, **kwargs)
        return part(self, r, cls, *args, **kwargs)

    monkeypatch.setattr(schematic.Sheet, "part", changed)
    return schematic.draw(circuit.load("pico"))


def test_a_flyback_diode_drawn_backwards_is_caught(monkeypatch):
    # The old drawings' mistake: the diode reversed, its cathode on the drain. Built so,
    # each PWM on-phase shorts the cell through the diode and the MOSFET.
    c = circuit.load("pico")
    problems = schematic_check.check(_drawn_with(monkeypatch, "D1", lambda e: e.reverse()), c)
    assert any("D1.a" in p and c.feed in p for p in problems), problems
    with pytest.raises(schematic.DrawingError, match="D1"):
        schematic.render(c, "svg")


@pytest.mark.parametrize("ref", ["D2", "LED1", "D3", "D4"])
def test_any_diode_drawn_backwards_is_caught(monkeypatch, ref):
    c = circuit.load("pico")
    assert schematic_check.check(_drawn_with(monkeypatch, ref, lambda e: e.reverse()), c)


def test_the_cell_drawn_the_wrong_way_round_is_caught(monkeypatch):
    c = circuit.load("pico")
    problems = schematic_check.check(_drawn_with(monkeypatch, "BT1", lambda e: e.reverse()), c)
    assert any("BT1" in p for p in problems), problems


def _swapped(c, ref):
    p = c.part(ref)
    a, b = p.spec.pins[:2]
    return c.replaced(ref, **{a: p.nets[b], b: p.nets[a]})


# Circuits unlike the drawing: each must be told apart from it.
WRONG = {
    "flyback diode reversed": lambda c: c.replaced("D1", a=c.feed, k="DRAIN"),
    "supply diode reversed": lambda c: _swapped(c, "D2") if c.supply != "3V3" else None,
    "pull-down on the gate side": lambda c: c.replaced("R2", **{"2": "GATE"}),
    "gate resistor to the drain": lambda c: c.replaced("R1", **{"2": "DRAIN"}),
    "motor to 3V3": lambda c: c.replaced("M1", p="V3V3"),
    "MOSFET source on VBAT": lambda c: c.replaced("Q1", s="VBAT"),
    "divider across the cell": lambda c: c.replaced("R4", **{"1": "VBAT"}),
    "divider after the diode": lambda c: c.replaced("R3", **{"1": supply_net(c)}),
    "cell reversed": lambda c: _swapped(c, "BT1"),
    "charger outputs swapped": lambda c: c.replaced("U4", op="0", on="OUT+"),
    "button to VBAT": lambda c: c.replaced("SW1", **{"2": "VBAT"}),
    "chip's ground on VBAT": lambda c: c.replaced("U1", n="VBAT"),
    "reference reversed": lambda c: (_swapped(c, "U3") if "U3" in [p.ref for p in c.parts]
                                     else None),
    # The power latch.
    "press diode reversed": lambda c: _swapped(c, "D3") if c.latch else None,
    "reading diode reversed": lambda c: _swapped(c, "D4") if c.latch else None,
    "latch source and drain swapped": lambda c: (c.replaced("Q2", s="VSW", d="VBAT")
                                                 if c.latch else None),
    "hold pull-down to the latch's gate": lambda c: (c.replaced("R9", **{"2": "PGATE"})
                                                     if c.latch else None),
    "latch pull-up to VSW": lambda c: c.replaced("R8", **{"1": "VSW"}) if c.latch else None,
}


def supply_net(c):
    return schematic.net_of(c.supply)


# Each wrong circuit on every board that has the part it breaks.
WRONG_CASES = [(name, wrong) for name in BOARDS for wrong in sorted(WRONG)
               if WRONG[wrong](circuit.load(name)) is not None]


@pytest.mark.parametrize("name,wrong", WRONG_CASES)
def test_a_circuit_unlike_the_drawing_is_told_apart(name, wrong):
    c = circuit.load(name)
    assert schematic_check.check(schematic.draw(c), WRONG[wrong](c)), wrong


def test_a_part_left_out_or_added_is_caught():
    c = circuit.load("rp2040-zero")
    problems = schematic_check.check(schematic.draw(c), c.without("C1"))
    assert "C1 is drawn but not in the circuit" in problems
    s = schematic.draw(c)
    s.d.elements[:] = [e for e in s.d.elements if getattr(e, "ref", None) != "R5"]
    assert "R5 is in the circuit but not drawn" in schematic_check.check(s, c)


def test_a_junction_without_its_dot_is_caught(monkeypatch):
    monkeypatch.setattr(schematic.Sheet, "dot", lambda self, p: None)
    c = circuit.load("pico")
    problems = schematic_check.check(schematic.draw(c), c)
    assert problems and all("without a dot" in p for p in problems)


@pytest.mark.parametrize("cls", ["Diode", "Schottky", "LED", "Zener"])
@pytest.mark.parametrize("reverse", [False, True])
def test_a_diode_symbol_is_read_as_schemdraw_draws_it(cls, reverse):
    # schemdraw draws a diode from start (anode) to end (cathode); .reverse() mirrors the
    # symbol and keeps start and end where they are, so the anode is then at the end.
    import schemdraw
    import schemdraw.elements as elm

    d = schemdraw.Drawing(show=False)
    e = getattr(elm, cls)().endpoints((0, 0), (3, 0))
    if reverse:
        e.reverse()
    d.add(e)
    e.ref, e.kind = "D9", "D"
    pins = schematic_check.part_pins(e)
    anode, cathode = (e.end, e.start) if reverse else (e.start, e.end)
    assert (tuple(pins["a"]), tuple(pins["k"])) == (tuple(anode), tuple(cathode))


def test_a_battery_symbol_is_read_as_schemdraw_draws_it():
    # The long plate is +; schemdraw puts it at the start.
    import schemdraw
    import schemdraw.elements as elm

    d = schemdraw.Drawing(show=False)
    e = d.add(elm.Battery().endpoints((0, 0), (0, -2)))
    e.ref, e.kind = "BT9", "CELL"
    assert tuple(schematic_check.part_pins(e)["p"]) == tuple(e.start)


# No caption over another --------------------------------------------------------------------

@pytest.mark.parametrize("name", BOARDS)
def test_no_caption_lies_over_another_or_over_a_line(name):
    assert schematic_check.layout_problems(schematic.draw(circuit.load(name))) == []


def test_a_caption_over_another_is_seen():
    s = schematic.draw(circuit.load("pico"))
    r1 = [e for e in s.d.elements if getattr(e, "ref", None) == "R1"][0]
    s.text(r1.center, "R1 330 Ω over the resistor")
    assert any("over the resistor" in p for p in schematic_check.layout_problems(s))


# The tables -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n in BOARDS if "battery" in circuit.load_config(n)])
def test_the_divider_drawn_gives_the_ratio_in_board_json(name):
    c = circuit.load(name)
    top, bottom = c.part("R3").spec.ohms, c.part("R4").spec.ohms
    assert (top + bottom) / bottom == pytest.approx(c.config["battery"]["divider_x100"] / 100)


def test_hardware_md_shows_one_drawing_per_board_its_pins_and_parts():
    with open(os.path.join(ROOT, "docs", "hardware.md"), encoding="utf-8") as f:
        text = f.read()
    for name in BOARDS:
        c = circuit.load(name)
        assert "hardware/%s.svg" % name in text
        assert "<!-- pins: %s -->" % name in text and "<!-- bom: %s -->" % name in text
        for role, label in c.pin_nets().items():
            assert "| %s |" % label in text, (name, role)
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        assert "docs/hardware/pico.png" in f.read()


def test_the_pin_tables_and_bills_of_materials_in_hardware_md_are_current():
    with open(os.path.join(ROOT, "docs", "hardware.md"), encoding="utf-8") as f:
        text = f.read()
    assert schematic.update_markdown(text) == text, "run make docs"
    config = dict(circuit.load_config("pico"), button={"pin": 9, "active_low": True})
    assert "| button | GP9 |" in schematic.pin_table(circuit.load("pico", config=config))


@pytest.mark.parametrize("name", BOARDS)
def test_the_bill_of_materials_counts_what_the_drawing_shows_to_buy(name):
    c = circuit.load(name)
    rows = [r.strip("| ").split(" | ") for r in schematic.bom_table(c).splitlines()[3:]]
    bought = [p for p in c.parts if not p.on_board]
    assert sum(int(qty) for _, _, _, qty in rows) == len(bought)
    for p in bought:
        assert [p.spec.category, p.spec.value_text()] in [r[:2] for r in rows], p.ref


def test_make_docs_check_passes_as_make_runs_it():
    # `python -m host_tools.schematic`: run as __main__, the module must still read its
    # drawings back (a second copy of its classes would fail every check).
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "host_tools.schematic", "--check"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
