# The board's pin map: where it comes from and what a valid one looks like.
#
# No hardware import: the host tools check boards/*/board.json with the same code.
import json

from massager import safety

CONFIG_FILE = "/board.json"
CONFIG_MODULE = "board_config"  # a frozen module with CONFIG = {...} wins over the file

# Raspberry Pi Pico: the safe default when nothing says otherwise (boards/pico/board.json,
# less its power latch: a board without one keeps the sleep of boards before it).
DEFAULT = {
    "name": "pico",
    "arch": "armv6m",
    "motor": {"pin": 15, "freq": 20000, "rated_mv": 3000, "start_mv": 2500},
    "led": {"kind": "pwm", "pin": 25},
    "button": {"pin": 14, "active_low": True},
    "battery": {"pin": 26, "divider_x100": 200},
    "watchdog_ms": safety.WATCHDOG_MS,
}

# mpy-cross -march values, in the order of their number in sys.implementation._mpy >> 10
# (1 is x86; py/persistentcode.h). The one list of arch names: flash and checks use it too.
ARCHS = ("x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc", "rv64imc")
LED_KINDS = ("pwm", "neopixel")
# Keys a board.json may have beyond DEFAULT's. power: the soft power latch (hold_pin: the
# pin that keeps the power on while high; usb_pin: reads high on USB, where releasing the
# hold cannot cut the power). Both optional; without hold_pin, off is a sleep as before.
OPTIONAL = ("power",)


def check_config(config):
    """None if `config` is a usable pin map, else a one-line message naming the field."""
    if not isinstance(config, dict):
        return "must be an object"
    name = config.get("name")
    if not isinstance(name, str) or not name:
        return "name: must be a non-empty string"
    if config.get("arch") not in ARCHS:
        return "arch: must be one of " + ", ".join(ARCHS)
    if isinstance(config.get("motor"), dict) and "start_min" in config["motor"]:
        return ("motor.start_min: this firmware drives the motor in volts: give "
                "motor.rated_mv and motor.start_mv instead")
    err = (_check_part(config, "motor", ("pin", "rated_mv", "start_mv"), ("freq",))
           or _check_part(config, "led", ("pin", "kind"), ())
           or _check_part(config, "button", ("pin",), ("active_low",)))
    if err:
        return err
    motor = config["motor"]
    freq = motor.get("freq")
    if freq is not None and not (_is_int(freq) and 100 <= freq <= 100000):
        return "motor.freq: must be 100..100000 Hz"
    rated = motor["rated_mv"]
    if not (_is_int(rated) and 1000 <= rated <= 5000):
        # A coin or cylinder ERM: 1.5 to 3.7 V rated; a 1S cell gives at most 4.2 V.
        return "motor.rated_mv: must be 1000..5000 mV (the motor's rated voltage), got %s" % (
            _show(rated))
    start = motor["start_mv"]
    if not (_is_int(start) and 0 <= start <= rated):
        # The kick from still may not exceed the rated voltage, whatever the motor needs.
        return "motor.start_mv: must be 0..%d mV (motor.rated_mv), got %s" % (
            rated, _show(start))
    if config["led"]["kind"] not in LED_KINDS:
        return "led.kind: must be one of " + ", ".join(LED_KINDS)
    if not isinstance(config["button"].get("active_low", True), bool):
        return "button.active_low: must be true or false"
    if config.get("battery") is not None:
        err = _check_part(config, "battery", ("pin", "divider_x100"), ("ref_pin", "ref_mv"))
        if err:
            return err
        bat = config["battery"]
        if not 100 <= bat["divider_x100"] <= 10000:
            return "battery.divider_x100: must be 100..10000"
        if ("ref_pin" in bat) != ("ref_mv" in bat):
            return "battery.ref_pin and battery.ref_mv: give both or neither"
        ref_mv = bat.get("ref_mv", 1000)
        if not (_is_int(ref_mv) and 500 <= ref_mv <= 3000):
            # A reference the ADC can read below a sagged rail: 0.5 to 3 V.
            return "battery.ref_mv: must be 500..3000 mV, got %s" % _show(ref_mv)
        if bat.get("ref_pin") == bat["pin"]:
            return "battery.ref_pin: must be another pin than battery.pin"
    if config.get("power") is not None:
        err = _check_power(config)
        if err:
            return err
    if "watchdog_ms" in config:
        # A motor device always has one. Its timeout must leave the loop, which feeds it
        # every FEED_MS, WAKE_SPARE_MS to spare, and fit the port (rp2: at most 8388 ms).
        wd = config["watchdog_ms"]
        lo = safety.FEED_MS + safety.WAKE_SPARE_MS
        hi = wdt_max_ms(config["arch"])
        if not (_is_int(wd) and lo <= wd <= hi):
            return "watchdog_ms: must be %d..%d ms (the loop feeds it every %d ms), got %s" % (
                lo, hi, safety.FEED_MS, _show(wd))
    if config["arch"] == "armv6m" and config["led"]["kind"] == "pwm":
        # rp2: pins 2k and 2k+1 share a PWM slice, and with it one frequency: the LED's
        # 1 kHz would retune the motor into an audible whine (ports/rp2/machine_pwm.c).
        motor, led = config["motor"]["pin"], config["led"]["pin"]
        if (motor >> 1) & 7 == (led >> 1) & 7:
            return ("led.pin: GP%d shares PWM slice %d with the motor's GP%d; "
                    "use a pin of another slice" % (led, (led >> 1) & 7, motor))
    for key in config:
        if key not in DEFAULT and key not in OPTIONAL:
            return "%s: unknown key" % key
    return None


def _check_power(config):
    err = _check_part(config, "power", (), ("hold_pin", "usb_pin"))
    if err:
        return err
    power = config["power"]
    if "usb_pin" in power and "hold_pin" not in power:
        return "power.usb_pin: only with power.hold_pin (it says when the hold cannot cut)"
    taken = {"motor.pin": config["motor"]["pin"], "led.pin": config["led"]["pin"],
             "button.pin": config["button"]["pin"]}
    bat = config.get("battery")
    if bat is not None:
        taken["battery.pin"] = bat["pin"]
        if "ref_pin" in bat:
            taken["battery.ref_pin"] = bat["ref_pin"]
    for key in ("hold_pin", "usb_pin"):
        if key not in power:
            continue
        for other, pin in taken.items():
            if power[key] == pin:
                return "power.%s: must be another pin than %s" % (key, other)
        taken["power." + key] = power[key]
    if "hold_pin" in power and not config["button"].get("active_low", True):
        # The button turns the latch on by pulling its gate to ground.
        return "power.hold_pin: the latch needs a button to GND (button.active_low true)"
    return None


# The longest watchdog timeout each port accepts, by arch (rp2: a 24-bit counter at 2
# ticks per us, 8388 ms on the RP2040; ports/rp2/machine_wdt.c). Others: a minute.
WDT_MAX_MS = {"armv6m": 8388}
WDT_DEFAULT_MAX_MS = 60000


def wdt_max_ms(arch):
    return WDT_MAX_MS.get(arch, WDT_DEFAULT_MAX_MS)


def _show(v):
    return "null" if v is None else repr(v)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _check_part(config, part, required, optional):
    section = config.get(part)
    if not isinstance(section, dict):
        return part + ": must be an object"
    for key in required:
        if key not in section:
            return "%s.%s: missing" % (part, key)
    for key in section:
        if key not in required and key not in optional:
            return "%s.%s: unknown key" % (part, key)
    for key in ("pin", "divider_x100", "ref_pin", "hold_pin", "usb_pin"):
        if key in section:
            v = section[key]
            if not _is_int(v) or v < 0 or (key != "divider_x100" and v > 63):
                return "%s.%s: must be a whole number%s" % (
                    part, key, " 0..63" if key != "divider_x100" else "")
    return None


def load_config(path=CONFIG_FILE):
    """(config, error): the frozen board_config, else `path`, else DEFAULT.

    `error` is None, or one line saying why the frozen module or the file was not used
    (the config returned is then DEFAULT). Never raises.
    """
    try:
        mod = __import__(CONFIG_MODULE)
    except ImportError:
        mod = None
    except Exception as e:  # a frozen module that fails to run
        return DEFAULT, "%s: %s" % (CONFIG_MODULE, _text(e))
    if mod is not None:
        config = getattr(mod, "CONFIG", None)
        err = check_config(config)
        if err:
            return DEFAULT, "%s.CONFIG: %s" % (CONFIG_MODULE, err)
        return config, None
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return DEFAULT, None  # no file: the default board, not an error
    try:
        config = json.loads(text)
    except ValueError as e:
        return DEFAULT, "%s: not valid JSON (%s)" % (path, _text(e))
    except Exception as e:  # deep nesting: RuntimeError on MicroPython
        return DEFAULT, "%s: not valid JSON (%s)" % (path, _text(e))
    err = check_config(config)
    if err:
        return DEFAULT, "%s: %s" % (path, err)
    return config, None


def _text(e):
    s = str(e)
    return s if s else type(e).__name__
