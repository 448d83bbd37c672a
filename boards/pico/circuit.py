"""Raspberry Pi Pico: the cell into VSYS through a Schottky (the Pico datasheet's way to
add a battery beside USB), the board's own RT6150B buck-boost making 3V3 from 1.8-5.5 V,
so its ADC reference stays at 3.3 V over the whole discharge. The cell is read through a
divider of its own on GP26, ahead of the Schottky: the board's VSYS/3 divider on GP29 reads
the cell less the diode's drop, which moves with the load."""

from simulator.circuit import GND, Circuit, blocks, parts


def build(config):
    c = Circuit(config, parts.PICO)
    c.supply = "VSYS"
    blocks.cell_and_charger(c)
    blocks.power_latch(c)  # with board.json power.hold_pin: VSW (c.feed) feeds the rest
    c.add("D2", parts.SS14, "battery to VSYS", a=c.feed, k="VSYS")
    c.add("U2", parts.RT6150B, "3.3 V", True, **{"in": "VSYS", "out": "V3V3", "gnd": GND})
    c.add("U1", parts.RP2040_LOAD, "chip", True, p="V3V3", n=GND)
    # The Pico's own VSYS divider (R5 200k, R6 100k) on GP29: there, always drawing.
    c.add("R5", parts.resistor(200e3), "VSYS sense", True, **{"1": "VSYS", "2": "GP29"})
    c.add("R6", parts.resistor(100e3), "VSYS sense", True, **{"1": "GP29", "2": GND})
    blocks.motor_driver(c)
    if config["led"]["pin"] == 25:  # the board's own LED and its resistor
        blocks.mono_led(c, on_board=True, ohms=470, led=parts.PICO_LED)
    else:
        blocks.mono_led(c)
    blocks.button(c)
    blocks.battery_divider(c)
    return c
