# Espressif ESP32-DevKitC (ESP32-WROOM-32, xtensawin). Build from micropython/ports/esp32:
#     make BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/massager/boards/esp32-devkit/manifest.py
# Pins (board.json), all clear of the boot strapping pins (0, 2, 5, 12, 15) and the flash
# pins (6-11): motor GPIO25 (LEDC PWM), LED GPIO26 (external, the DevKitC has no user LED),
# button GPIO27 to GND (internal pull-up; not GPIO0/BOOT, whose hold at reset means
# "bootloader", so safe mode could never be reached), battery through a 2:1 divider on
# GPIO34 (ADC1: ADC2 stops working while Wi-Fi is on; input-only pin, 11 dB attenuation).
# include, package, module and options are globals that makemanifest provides.
# ruff: noqa: F821
include("$(PORT_DIR)/boards/manifest.py")  # the port's own (asyncio, neopixel)
include("../manifest.py", board="esp32-devkit")
