"""The circuit descriptions (boards/*/circuit.py) and their electrical rule checks: every
board passes, and each rule fails on the circuit broken the way it guards against."""

import json
import os

import pytest

from simulator import circuit
from simulator.circuit import parts, rules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = circuit.board_names()


def test_every_board_with_a_pin_map_has_a_circuit():
    with_json = sorted(n for n in os.listdir(os.path.join(ROOT, "boards"))
                       if os.path.isfile(os.path.join(ROOT, "boards", n, "board.json")))
    assert BOARDS == with_json


@pytest.mark.parametrize("name", BOARDS)
def test_every_board_passes_the_rule_checks(name):
    assert rules.check(circuit.load(name)) == []


@pytest.mark.parametrize("name", BOARDS)
def test_the_circuit_takes_its_pins_from_board_json(name):
    c = circuit.load(name)
    cfg = c.config
    assert c.part("R1").nets["1"] == c.label(cfg["motor"]["pin"])
    # With the power latch the pin reads the button through D4; the switch is on BTN.
    assert c.part("D4").nets["a"] == c.label(cfg["button"]["pin"])
    assert c.part("SW1").nets["1"] == c.part("D4").nets["k"] == "BTN"
    assert c.part("R4").nets["1"] == c.label(cfg["battery"]["pin"])
    assert c.part("Q3").nets["g"] == c.label(cfg["power"]["hold_pin"])
    moved = json.loads(json.dumps(cfg))
    moved["motor"]["pin"] = 2
    assert circuit.load(name, moved).part("R1").nets["1"] == c.label(2)


@pytest.mark.parametrize("name", BOARDS)
def test_a_reversed_flyback_diode_fails(name):
    c = circuit.load(name)
    broken = c.replaced("D1", a=c.feed, k="DRAIN")
    problems = rules.check(broken)
    assert any("D1: flyback diode reversed" in p for p in problems), problems
    assert any("no flyback diode" in p for p in rules.check(c.without("D1")))


@pytest.mark.parametrize("name", BOARDS)
def test_a_missing_gate_pull_down_fails(name):
    problems = rules.check(circuit.load(name).without("R2"))
    assert any("no pull-down on the gate" in p for p in problems), problems
    # A pull-down too weak to hold the gate against the pin's leakage is none.
    weak = circuit.load(name).replaced("R2", parts.resistor(10e6))
    assert any("no pull-down on the gate" in p for p in rules.check(weak))


@pytest.mark.parametrize("name", BOARDS)
def test_a_halved_divider_puts_the_adc_pin_out_of_range(name):
    c = circuit.load(name)
    # Halve the ratio (2:1 -> 1:1): the pin sees the whole cell.
    top = c.part("R3").spec.ohms
    bottom = c.part("R4").spec.ohms
    ratio = (top + bottom) / bottom
    half = c.replaced("R3", parts.resistor(bottom * (ratio / 2 - 1) + 1e-3))
    problems = rules.check(half)
    assert any("on the ADC pin with a 4.24 V cell" in p for p in problems), problems


def test_a_divider_on_usb_power_is_checked_on_usb():
    # The RP2040-Zero's 5V pin is VBUS on USB: a 2:1 divider there reads 2.6 V, inside
    # 3.3 V; on an ESP32 (2.45 V range at 11 dB) the same divider would not be.
    c = circuit.load("rp2040-zero").replaced("R3", **{"1": "V5"})
    assert rules.check(c) == []
    esp = circuit.load("esp32-devkit")
    esp.supply = "5V"
    esp = esp.replaced("R3", **{"1": "V5"})
    problems = rules.check(esp)
    assert any("with USB, over its 2.45 V range" in p for p in problems), problems


def test_an_adc_pin_that_is_not_one_fails():
    cfg = circuit.load_config("pico")
    cfg["battery"]["pin"] = 22
    problems = rules.check(circuit.load("pico", cfg))
    assert any("battery.pin is not an ADC pin" in p for p in problems), problems


def test_a_mosfet_without_a_logic_level_rating_fails():
    # A 2N7000-like part: Rds(on) given at 4.5 V and 10 V only.
    bad = parts.AO3400A.but(name="2N7000", rds_on={4.5: 5.3, 10: 5.0}, vth_max=3.0)
    problems = rules.check(circuit.load("pico").replaced("Q1", bad))
    assert any("not a logic-level MOSFET" in p for p in problems), problems


@pytest.mark.parametrize("name", BOARDS)
def test_a_gate_resistor_too_small_for_the_pin_fails(name):
    c = circuit.load(name)
    limit = c.mcu.pin_ma_max
    small = c.replaced("R1", parts.resistor(c.mcu.vdd / limit * 0.8))
    problems = rules.check(small)
    assert any("(motor): up to" in p for p in problems), problems


def test_the_esp32_button_must_be_an_rtc_pin():
    cfg = circuit.load_config("esp32-devkit")
    cfg["button"]["pin"] = 5  # not an RTC pin, and a strapping one
    problems = rules.check(circuit.load("esp32-devkit", cfg))
    assert any("must be an RTC pin" in p for p in problems), problems
    cfg = circuit.load_config("esp32-devkit")
    cfg["motor"]["pin"] = 12  # strapping: its level at reset sets the flash voltage
    assert any("a strapping pin" in p for p in rules.check(circuit.load("esp32-devkit", cfg)))


def test_solve_dc_is_a_divider_solver():
    c = circuit.load("pico")
    v = rules.solve_dc(c, {"VSW": 4.0, "V3V3": 3.3, "VSYS": 3.0})
    assert v["GP26"] == pytest.approx(2.0)
    assert v["GP29"] == pytest.approx(1.0)


def test_the_bill_of_materials_counts_what_is_bought():
    bom = circuit.load("rp2040-zero").bom()
    rows = {(cat, value): qty for cat, value, _, qty in bom}
    assert rows[("resistor", "100 kΩ 0.1 %")] == 2  # the divider
    assert rows[("resistor", "100 kΩ")] == 2  # the gate pull-down, the hold pull-down
    assert rows[("voltage reference", parts.LM4040_2V0.value)] == 1
    # The board's own regulator and pixel are not bought.
    assert not any("RT9013" in value for _, value, _, _ in bom)


def test_a_part_on_the_wrong_pins_is_refused():
    c = circuit.load("pico")
    with pytest.raises(circuit.CircuitError, match="pins a, k"):
        c.add("D9", parts.SS14, x="VBAT", k="VSYS")
    with pytest.raises(circuit.CircuitError, match="two parts"):
        c.add("D1", parts.SS14, a="VBAT", k="VSYS")
    with pytest.raises(circuit.CircuitError, match="no circuit for board"):
        circuit.load("nonesuch")


def test_the_reference_on_the_ref_pin_is_the_one_board_json_names():
    cfg = circuit.load_config("rp2040-zero")
    cfg["battery"]["ref_mv"] = 2500  # an LM4040-2.5 in the firmware's mind, 2.048 V fitted
    problems = rules.check(circuit.load("rp2040-zero", cfg))
    assert any("board.json says battery.ref_mv 2500" in p for p in problems), problems
    missing = circuit.load("rp2040-zero").without("U3")
    assert any("has no voltage reference" in p for p in rules.check(missing))


def test_board_json_motor_volts_are_the_motors():
    cfg = circuit.load_config("pico")
    cfg["motor"]["rated_mv"] = 3600  # the 310-103's maximum, not its rating
    problems = rules.check(circuit.load("pico", cfg))
    assert any("motor.rated_mv 3600 is over" in p for p in problems), problems
    cfg = circuit.load_config("pico")
    cfg["motor"]["start_mv"] = 2000
    problems = rules.check(circuit.load("pico", cfg))
    assert any("motor.start_mv 2000 is under" in p for p in problems), problems
