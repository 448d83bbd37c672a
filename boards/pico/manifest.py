# Raspberry Pi Pico (RP2040, armv6m). Build from micropython/ports/rp2:
#     make BOARD=RPI_PICO FROZEN_MANIFEST=/path/to/massager/boards/pico/manifest.py
# Pins (board.json): motor GP15 (PWM 7B) and button GP14 to GND (internal pull-up, active
# low) are header pins 20 and 19, next to GND on pin 18; LED GP25 is the on-board LED
# (PWM 4B); battery on VSYS through the on-board 3:1 divider on GP29/ADC3 (divider 300).
# include, package, module and options are globals that makemanifest provides.
# ruff: noqa: F821
include("$(PORT_DIR)/boards/manifest.py")  # the port's own (asyncio, neopixel)
include("../manifest.py", board="pico")
