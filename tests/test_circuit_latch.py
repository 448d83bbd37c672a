"""The soft power latch (board.json power.hold_pin; simulator/circuit/blocks.power_latch):
its rule checks, each failing on the circuit broken the way it guards against, and ngspice
on every board: off, the cell gives only the datasheets' worst-case leakages; a press turns
the switched net on, the hold keeps it on after the press, releasing the hold turns it
off; the chip still reads the button as a low."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import circuit
from simulator.circuit import parts, power, rules, simulate, spice

BOARDS = circuit.board_names()
LIPO = parts.LIPO_500


def _problems(c, words):
    problems = rules.check(c)
    assert any(words in p for p in problems), problems
    return problems


def test_every_board_has_a_latch_and_hangs_everything_else_on_it():
    for name in BOARDS:
        c = circuit.load(name)
        assert c.latch and c.feed == "VSW"
        q = c.part("Q2")
        assert (q.spec.name, q.nets["s"], q.nets["d"]) == ("AO3401A", "VBAT", "VSW")
        # Off, nothing but the latch and the protection board is on the cell.
        on_cell = {p.ref for p, _ in c.on("VBAT")}
        assert on_cell == {"SW2", "Q2", "R8"}, on_cell


def test_a_board_without_a_hold_pin_is_wired_as_before():
    cfg = circuit.load_config("pico")
    del cfg["power"]
    c = circuit.load("pico", cfg)
    assert not c.latch and not c.of_kind("PMOS")
    assert c.part("SW1").nets["1"] == "GP14" and c.part("M1").nets["p"] == "VBAT"
    assert rules.check(c) == []
    assert power.cut(c) == []


@pytest.mark.parametrize("name", BOARDS)
def test_a_missing_or_weak_latch_pull_up_fails(name):
    c = circuit.load(name)
    _problems(c.without("R8"), "no pull-up from the latch's gate")
    # The 100 kΩ a first sketch had: the worst-case leakages (3.1 µA) pull the gate 0.31 V,
    # over half the AO3401A's lowest threshold.
    _problems(c.replaced("R8", parts.resistor(100e3)), "lets the leakages pull the gate 0.31 V")


@pytest.mark.parametrize("name", BOARDS)
def test_a_hold_pin_without_its_pull_down_or_its_mosfet_fails(name):
    c = circuit.load(name)
    _problems(c.without("R9"), "no pull-down on power.hold_pin")
    _problems(c.replaced("Q3", g="GPX"), "power.hold_pin drives no N-MOSFET")


@pytest.mark.parametrize("name", BOARDS)
def test_a_reversed_button_diode_fails(name):
    c = circuit.load(name)
    pin = c.pin_nets()["button"]
    _problems(c.replaced("D3", a="BTN", k="PGATE"), "D3: reversed")
    _problems(c.replaced("D4", a="BTN", k=pin), "D4: reversed")
    _problems(c.without("D4"), "no diode from the button pin")


def test_a_latch_mosfet_rated_only_at_a_full_gate_fails():
    # Rds(on) given at |Vgs| 4.5 V only: a press at a 3.0 V cell gives 2.76 V.
    bad = parts.AO3401A.but(name="AO3407", rds_on={4.5: 0.05, 10: 0.04})
    _problems(circuit.load("pico").replaced("Q2", bad), "not logic-level for the latch")
    # ... and a diode with a larger drop eats the margin of one rated at 2.5 V.
    slow = parts.BAT54.but(name="slow", vf_max={1e-4: 0.6})
    _problems(circuit.load("pico").replaced("D3", slow), "not logic-level for the latch")


def test_the_esp32_hold_pin_is_no_strapping_pin():
    cfg = circuit.load_config("esp32-devkit")
    cfg["power"]["hold_pin"] = 12
    _problems(circuit.load("esp32-devkit", cfg), "GPIO12 (power.hold_pin): a strapping pin")


@pytest.mark.parametrize("name", BOARDS)
def test_the_netlist_names_the_hold_pin_like_its_label(name):
    c = circuit.load(name)
    label = c.label(c.config["power"]["hold_pin"])
    assert c.pin_nets()["hold"] == label
    lines = spice.netlist(c).splitlines()
    assert any(ln.startswith("XQ3 PGATE %s 0 " % label) for ln in lines)
    assert any(ln.startswith("R9 %s 0 " % label) for ln in lines)


# --- ngspice -----------------------------------------------------------------------------

def _leak_sum(c):
    """The latch's leakage by the model (without the protection board, not simulated)."""
    return sum(r.amps for r in power.cut(c) if r.ref != "U4")


@pytest.mark.parametrize("name", BOARDS)
def test_off_the_cell_gives_only_the_datasheets_worst_leakages(name):
    c = circuit.load(name)
    r = simulate.latch_off(c)
    assert r["i_off"] == pytest.approx(_leak_sum(c), rel=0.05), r
    assert r["i_off"] < 5e-6, r  # 1 + 1 + 2 + 0.1 µA
    assert r["v_sw"] < 0.05, r  # the board unpowered
    assert r["v_gs"] < c.part("Q2").spec.vth_min / 2, r  # held off with a margin


@settings(max_examples=6, deadline=None)
@given(st.floats(min_value=LIPO.v_empty, max_value=LIPO.v_full))
def test_off_current_holds_over_the_whole_cell(cell_v):
    c = circuit.load("pico")
    r = simulate.latch_off(c, cell_v=cell_v)
    assert r["i_off"] == pytest.approx(_leak_sum(c), rel=0.05), (cell_v, r)
    assert r["v_sw"] < 0.05, (cell_v, r)


def test_without_the_pull_up_the_latch_turns_itself_on():
    r = simulate.latch_off(circuit.load("pico").without("R8"))
    assert r["v_sw"] > 4.0 and r["i_off"] > 1e-3, r


def test_a_reversed_reading_diode_lets_the_cell_into_the_dead_chip_and_turns_it_on():
    c = circuit.load("pico")
    r = simulate.latch_off(c.replaced("D4", a="BTN", k=c.pin_nets()["button"]))
    assert r["i_off"] > 1e-3, r


@pytest.mark.parametrize("name,cell_v", [(n, v) for n in BOARDS
                                         for v in (LIPO.v_empty, LIPO.v_full)])
def test_a_press_turns_it_on_the_hold_keeps_it_and_the_release_turns_it_off(name, cell_v):
    c = circuit.load(name)
    r = simulate.latch_cycle(c, cell_v)
    q = c.part("Q2").spec
    assert r["v_sw_pressed"] > cell_v - 0.01, r  # on, the latch's drop a few mV
    assert r["vgs_pressed"] >= min(q.rds_on), r  # a gate drive its Rds(on) is rated at
    assert r["v_sw_held"] > cell_v - 0.01, r  # the press over, the hold keeps it on
    assert r["v_button_read"] < 0.3, r  # a press still reads low (about 0.25 V)
    assert r["v_rail_released"] < 0.3, r  # hold released: the board is unpowered
    assert r["i_released"] < 5e-6, r  # and the cell gives the leakage again


@pytest.mark.parametrize("name", BOARDS)
def test_without_the_hold_the_end_of_the_press_turns_it_off(name):
    # What a press too short for the boot does: the chip never holds the latch.
    r = simulate.latch_cycle(circuit.load(name), LIPO.v_empty, hold=False)
    assert r["v_sw_pressed"] > 2.9, r
    assert r["v_rail_held"] < 0.3, r  # the press over: the board unpowered


def test_a_reversed_press_diode_never_turns_it_on():
    c = circuit.load("pico").replaced("D3", a="BTN", k="PGATE")
    r = simulate.latch_cycle(c, LIPO.v_empty)
    assert r["v_sw_pressed"] < 0.1, r


def test_the_pin_table_and_bill_list_the_latch():
    from host_tools import schematic

    c = circuit.load("pico")
    table = schematic.pin_table(c)
    assert "| power latch hold | GP13 |" in table
    assert "| USB sense | GP24 |" in table
    bom = schematic.bom_table(c)
    assert "AO3401A" in bom and "BAT54" in bom
    assert json.loads(json.dumps(c.config))["power"] == {"hold_pin": 13, "usb_pin": 24}
