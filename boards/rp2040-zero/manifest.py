# Waveshare RP2040-Zero (RP2040, armv6m, one WS2812 RGB LED). Build from micropython/ports/rp2:
#     make BOARD=WAVESHARE_RP2040_ZERO FROZEN_MANIFEST=/path/to/boards/rp2040-zero/manifest.py
# Pins (board.json): LED = the on-board NeoPixel on GP16 (always powered, unlike the QT Py's
# GPIO11-switched one), motor GP14 and button GP15 (neighbouring edge pins; GP15 to GND with
# the internal pull-up, active low), battery through a 2:1 divider on GP26/ADC0 (the Zero
# has no VSYS divider of its own).
# include, package, module and options are globals that makemanifest provides.
# ruff: noqa: F821
include("$(PORT_DIR)/boards/manifest.py")  # the port's own (asyncio, neopixel)
include("../manifest.py", board="rp2040-zero")
