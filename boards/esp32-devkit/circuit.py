"""ESP32 DevKitC: its own AMS1117 needs more than a LiPo gives, so the 3V3 pin is fed
from an MCP1700 LDO (1.6 µA quiescent). The ESP32's ADC has its own calibrated reference
(read_uv), so the divider's reading holds while the rail sags near the end of the cell."""

from simulator.circuit import GND, Circuit, blocks, parts


def build(config):
    c = Circuit(config, parts.ESP32_DEVKITC)
    c.supply = "3V3"
    blocks.cell_and_charger(c)
    blocks.power_latch(c)  # with board.json power.hold_pin: VSW (c.feed) feeds the rest
    c.add("C2", parts.capacitor(1e-6, "1 µF"), "LDO in", **{"1": c.feed, "2": GND})
    c.add("U2", parts.MCP1700_3V3, "3.3 V", **{"in": c.feed, "out": "V3V3", "gnd": GND})
    c.add("C3", parts.capacitor(1e-6, "1 µF"), "LDO out", **{"1": "V3V3", "2": GND})
    c.add("U1", parts.ESP32_DEVKITC_LOAD, "chip and the board's bridge", True,
          p="V3V3", n=GND)
    blocks.motor_driver(c)
    blocks.mono_led(c)
    blocks.button(c)
    blocks.battery_divider(c)
    return c
