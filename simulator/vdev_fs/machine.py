# Minimal `machine` for the virtual device (the WebAssembly build has none). Enough for
# mpremote (reset, soft_reset, RTC) and for firmware that only needs the API to exist.
# A richer fake (recording to the trace) can be put earlier on sys.path with --lib.
import time

import vdevhost

_freq = 125000000


def reset():
    vdevhost.restart("hard")  # the host ends this interpreter and boots a new one


def soft_reset():
    vdevhost.restart("soft")


def freq(hz=None):
    global _freq
    if hz is None:
        return _freq
    _freq = hz


def unique_id():
    return b"vdev0001"


def reset_cause():
    return 1  # PWRON_RESET


PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
SOFT_RESET = 5


def idle():
    pass


def lightsleep(ms=0):
    time.sleep_ms(ms)


deepsleep = lightsleep


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self._v = 0 if value is None else value
        self._pull = pull

    def init(self, *a, **k):
        pass

    def value(self, v=None):
        if v is None:
            return self._v if self._pull != self.PULL_UP else 1
        self._v = 1 if v else 0

    __call__ = value

    def on(self):
        self._v = 1

    def off(self):
        self._v = 0

    def irq(self, handler=None, trigger=0, hard=False):
        self._irq = handler


class PWM:
    def __init__(self, pin, freq=1000, duty_u16=0):
        self.pin = pin
        self._f = freq
        self._d = duty_u16

    def freq(self, f=None):
        if f is None:
            return self._f
        self._f = f

    def duty_u16(self, d=None):
        if d is None:
            return self._d
        self._d = d

    def deinit(self):
        self._d = 0


class ADC:
    def __init__(self, pin, *a, **k):
        self.pin = pin

    def read_u16(self):
        return 48000


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout

    def feed(self):
        pass


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, *a, **k):
        pass

    def init(self, *a, **k):
        pass

    def deinit(self):
        pass


class RTC:
    _dt = (2025, 1, 1, 2, 0, 0, 0, 0)

    def datetime(self, dt=None):
        if dt is None:
            return RTC._dt
        RTC._dt = tuple(dt)
