"""The pieces every board shares (the motor driver, the button, the LED, the battery sense,
the cell and its charger), placed on a Circuit with the MCU pins of its board.json. A
board's circuit.py adds its own supply path and calls these."""

from simulator.circuit import GND, CircuitError
from simulator.circuit.parts import (
    AO3400A,
    AO3401A,
    BAT54,
    COIN_ERM,
    D1N5819,
    LED_RED,
    LIPO_500,
    LM4040_2V0,
    SS12D00,
    TACT,
    TP4056_BOARD,
    capacitor,
    resistor,
)

# The gate resistor bounds the pin's current at each PWM edge to what the weakest chip
# allows (RP2040: 12 mA at its strongest drive): 3.3 V / 330 ohm = 10 mA. The gate's
# charge (about 6 nC) then moves in under a microsecond, 2 % of a 20 kHz period.
GATE_OHMS = 330
PULLDOWN_OHMS = 100e3
DIVIDER_TOP_OHMS = 100e3
LED_OHMS = 330
# The latch: the P-MOSFET's gate pull-up holds it off against the worst-case leakages
# that pull its gate down while off (the hold MOSFET's Idss, the reading diode's IR:
# 3 µA at their datasheet maxima): 47 kΩ x 3 µA = 0.14 V, under half its lowest
# threshold (0.5 V). The hold pin's pull-down keeps the hold off while the chip is
# unpowered or booting (its pad floats until boot drives it).
LATCH_PULLUP_OHMS = 47e3
HOLD_PULLDOWN_OHMS = 100e3
# The reference's feed: at least its minimum current (65 µA) from a rail sagged to 2.6 V.
REF_FEED_OHMS = 8.2e3


def cell_and_charger(c):
    """The cell, its charger and protection board, and the storage switch to VBAT."""
    c.add("BT1", LIPO_500, "cell", p="CELL+", n="CELL-")
    c.add("U4", TP4056_BOARD, "charger and protection", bp="CELL+", bn="CELL-",
          op="OUT+", on=GND)
    c.add("SW2", SS12D00, "storage", **{"1": "OUT+", "2": "VBAT"})


def power_latch(c):
    """A soft power latch (board.json power.hold_pin): a high-side P-MOSFET from VBAT to
    VSW, which then feeds the whole board; off by its gate pull-up, turned on by the
    button (which pulls the gate low through a Schottky) and held on by the hold pin
    through an N-MOSFET from the gate to ground. Off, only the latch and the protection
    board draw. Call before the parts that hang on c.feed."""
    power = c.config.get("power") or {}
    if "hold_pin" not in power:
        return
    if not c.config["button"].get("active_low", True):
        raise CircuitError("power.hold_pin: the latch needs a button to GND "
                           "(button.active_low true)")
    hold = c.label(power["hold_pin"])
    c.feed = "VSW"
    c.add("Q2", AO3401A, "power latch", g="PGATE", d="VSW", s="VBAT")
    c.add("R8", resistor(LATCH_PULLUP_OHMS), "latch pull-up", **{"1": "VBAT", "2": "PGATE"})
    c.add("Q3", AO3400A, "latch hold", g=hold, d="PGATE", s=GND)
    c.add("R9", resistor(HOLD_PULLDOWN_OHMS), "hold pull-down", **{"1": hold, "2": GND})
    # The button's own net (BTN): a press pulls the gate low through D3; the MCU reads it
    # through D4 (its pull-up on the anode): about 0.25 V when pressed, a low.
    c.add("D3", BAT54, "button turns on", a="PGATE", k="BTN")
    c.add("D4", BAT54, "button reads", a=c.label(c.config["button"]["pin"]), k="BTN")


def motor_driver(c):
    """Low-side N-MOSFET, gate resistor, pull-down on the pin side, flyback diode with its
    cathode on VBAT: the motor's current circulates through it at each switch-off."""
    pin = c.label(c.config["motor"]["pin"])
    c.add("R1", resistor(GATE_OHMS), "gate", **{"1": pin, "2": "GATE"})
    c.add("R2", resistor(PULLDOWN_OHMS), "gate pull-down", **{"1": pin, "2": GND})
    c.add("Q1", AO3400A, "motor switch", g="GATE", d="DRAIN", s=GND)
    c.add("M1", COIN_ERM, "motor", p=c.feed, n="DRAIN")
    c.add("D1", D1N5819, "flyback", a="DRAIN", k=c.feed)


def button(c):
    """A switch from the pin to GND (active low: the pin's own pull-up) or to 3V3."""
    b = c.config["button"]
    other = GND if b.get("active_low", True) else "V3V3"
    # With a latch the switch is on the button's own net, behind the two diodes.
    net = "BTN" if c.latch else c.label(b["pin"])
    c.add("SW1", TACT, "button", **{"1": net, "2": other})


def mono_led(c, on_board=False, ohms=LED_OHMS, led=LED_RED):
    """A mono LED on a PWM pin through its resistor (the board's own, or one to add)."""
    pin = c.label(c.config["led"]["pin"])
    c.add("R7", resistor(ohms), "LED", on_board, **{"1": pin, "2": "LED_A"})
    c.add("LED1", led, "status", on_board, a="LED_A", k=GND)


def battery_divider(c):
    """The cell through a divider to the ADC pin, before any diode (after the latch: off,
    it draws nothing): the pin reads the cell."""
    bat = c.config["battery"]
    pin = c.label(bat["pin"])
    bottom = DIVIDER_TOP_OHMS * 100 / (bat["divider_x100"] - 100)
    c.add("R3", resistor(DIVIDER_TOP_OHMS, 0.001), "divider", **{"1": c.feed, "2": pin})
    c.add("R4", resistor(bottom, 0.001), "divider", **{"1": pin, "2": GND})
    c.add("C1", capacitor(100e-9, "100 nF"), "divider", **{"1": pin, "2": GND})


def battery_reference(c):
    """A shunt reference on a second ADC pin: the firmware reads the cell against it, so a
    sagging 3.3 V rail (the ADC's own reference) cancels out."""
    bat = c.config["battery"]
    if "ref_pin" not in bat:
        return
    pin = c.label(bat["ref_pin"])
    c.add("R5", resistor(REF_FEED_OHMS), "reference feed", **{"1": "V3V3", "2": pin})
    c.add("U3", LM4040_2V0, "ADC reference", k=pin, a=GND)
