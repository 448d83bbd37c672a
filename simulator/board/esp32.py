# A simulated `esp32` module: the deep-sleep wake sources and pad hold the firmware uses,
# as strict as ports/esp32/modesp32.c in MicroPython 1.29. Importable only while the
# simulated board plays the esp32 port, as the module exists only there.
import machine

if "esp32" not in machine.sim.port.modules:
    raise ImportError("no module named 'esp32'")

WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True


def _pin_id(pin):
    return pin.id if isinstance(pin, machine.Pin) else pin


def _check(pin_id):
    if pin_id not in machine.sim.port.rtc_pins:
        raise ValueError("invalid pin")  # RTC_IS_VALID_EXT_PIN


def wake_on_ext0(pin=None, level=None):
    sim = machine.sim
    if level is None:
        level = sim.ext0[1] if sim.ext0 is not None else False
    if pin is None:
        sim.ext0 = None
        return
    pin_id = _pin_id(pin)
    _check(pin_id)
    sim.ext0 = (pin_id, bool(level))


def wake_on_ext1(pins=None, level=None):
    sim = machine.sim
    if level is None:
        level = sim.ext1[1] if sim.ext1 is not None else False
    ids = []
    for p in pins or ():
        pin_id = _pin_id(p)
        _check(pin_id)
        ids.append(pin_id)
    sim.ext1 = (tuple(ids), bool(level)) if ids else None


def gpio_deep_sleep_hold(enable):
    machine.sim.deep_hold = bool(enable)
