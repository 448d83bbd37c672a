"""The pieces every board shares (the motor driver, the button, the LED, the battery sense,
the cell and its charger), placed on a Circuit with the MCU pins of its board.json. A
board's circuit.py adds its own supply path and calls these."""

from simulator.circuit import GND
from simulator.circuit.parts import (
    AO3400A,
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
# The reference's feed: at least its minimum current (65 µA) from a rail sagged to 2.6 V.
REF_FEED_OHMS = 8.2e3


def cell_and_charger(c):
    """The cell, its charger and protection board, and the storage switch to VBAT."""
    c.add("BT1", LIPO_500, "cell", p="CELL+", n="CELL-")
    c.add("U4", TP4056_BOARD, "charger and protection", bp="CELL+", bn="CELL-",
          op="OUT+", on=GND)
    c.add("SW2", SS12D00, "storage", **{"1": "OUT+", "2": "VBAT"})


def motor_driver(c):
    """Low-side N-MOSFET, gate resistor, pull-down on the pin side, flyback diode with its
    cathode on VBAT: the motor's current circulates through it at each switch-off."""
    pin = c.label(c.config["motor"]["pin"])
    c.add("R1", resistor(GATE_OHMS), "gate", **{"1": pin, "2": "GATE"})
    c.add("R2", resistor(PULLDOWN_OHMS), "gate pull-down", **{"1": pin, "2": GND})
    c.add("Q1", AO3400A, "motor switch", g="GATE", d="DRAIN", s=GND)
    c.add("M1", COIN_ERM, "motor", p="VBAT", n="DRAIN")
    c.add("D1", D1N5819, "flyback", a="DRAIN", k="VBAT")


def button(c):
    """A switch from the pin to GND (active low: the pin's own pull-up) or to 3V3."""
    b = c.config["button"]
    other = GND if b.get("active_low", True) else "V3V3"
    c.add("SW1", TACT, "button", **{"1": c.label(b["pin"]), "2": other})


def mono_led(c, on_board=False, ohms=LED_OHMS, led=LED_RED):
    """A mono LED on a PWM pin through its resistor (the board's own, or one to add)."""
    pin = c.label(c.config["led"]["pin"])
    c.add("R7", resistor(ohms), "LED", on_board, **{"1": pin, "2": "LED_A"})
    c.add("LED1", led, "status", on_board, a="LED_A", k=GND)


def battery_divider(c):
    """VBAT through a divider to the ADC pin, before any diode: the pin reads the cell."""
    bat = c.config["battery"]
    pin = c.label(bat["pin"])
    bottom = DIVIDER_TOP_OHMS * 100 / (bat["divider_x100"] - 100)
    c.add("R3", resistor(DIVIDER_TOP_OHMS, 0.001), "divider", **{"1": "VBAT", "2": pin})
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
