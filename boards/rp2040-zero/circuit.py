"""Waveshare RP2040-Zero: the cell into the 5V pin through a Schottky, then the board's
RT9013 LDO. Below about 3.7 V at the cell the 3.3 V rail follows the cell down, and the
RP2040's ADC measures against that rail: a plain divider's reading would rise as the cell
falls. So the cell is read against an LM4040 2.048 V shunt reference on a second ADC pin
(battery.ref_pin): the ratio of the two readings does not depend on the rail."""

from simulator.circuit import GND, Circuit, blocks, parts


def build(config):
    c = Circuit(config, parts.RP2040_ZERO)
    c.supply = "5V"
    blocks.cell_and_charger(c)
    blocks.power_latch(c)  # with board.json power.hold_pin: VSW (c.feed) feeds the rest
    c.add("D2", parts.SS14, "battery to 5V", a=c.feed, k="V5")
    c.add("U2", parts.RT9013_3V3, "3.3 V", True, **{"in": "V5", "out": "V3V3", "gnd": GND})
    c.add("U1", parts.RP2040_LOAD, "chip", True, p="V3V3", n=GND)
    c.add("LED1", parts.WS2812, "status", True,
          vdd="V3V3", din=c.label(config["led"]["pin"]), gnd=GND)
    blocks.motor_driver(c)
    blocks.button(c)
    blocks.battery_divider(c)
    blocks.battery_reference(c)
    return c
