# A simulated `machine` module for running the firmware off the board.
#
# MicroPython-compatible plain Python: it runs on CPython and inside the MicroPython
# WebAssembly engine. Put simulator/board first on sys.path; the firmware imports it as
# `machine` unchanged. Only what the firmware uses, with MicroPython's signatures.
#
# Tests and the simulator drive it through `sim` (see Sim below):
#     machine.sim.press(14, True)    # the button on GPIO14 goes down; its IRQ runs
#     machine.sim.duty(15)           # the motor PWM's duty_u16 now
#     machine.sim.set_adc(29, 40000) # what the battery ADC reads
#     machine.sim.pixel(16)          # the NeoPixel colour on GPIO16, (r, g, b)
#     machine.sim.wdt.feeds          # how often the watchdog was fed
#     machine.sim.reset_all()        # forget every pin between tests
# The clock: WDT expiry is judged on sim.now(), which calls sim.clock (set it to the
# simulator's virtual clock) or falls back to time.ticks_ms.


class Reset(SystemExit):
    """What machine.reset()/soft_reset() raise: the simulator catches it and restarts."""

    def __init__(self, soft=False):
        SystemExit.__init__(self, "soft reset" if soft else "reset")
        self.soft = soft


class _PinState:
    # One per pin number, shared by every Pin object made for it (as on hardware).
    def __init__(self, pin_id):
        self.id = pin_id
        self.mode = -1
        self.pull = -1
        self.level = 0
        self.handler = None
        self.trigger = 0
        self.pin = None  # the Pin object the IRQ was registered on
        self.driven = False  # set from outside (a finger on the button): pulls do not win


class Sim:
    """The registry the simulator and tests use to see and drive the hardware."""

    def __init__(self):
        self.clock = None  # callable -> ms; None: time.ticks_ms
        # Record every output write in `log`. Writers test this before building the entry,
        # so with it off the firmware's output path allocates nothing here either.
        self.log_writes = True
        self.reset_all()

    def reset_all(self):
        self.pins = {}  # pin id -> _PinState
        self.pwm = {}  # pin id -> PWM
        self.adc_raw = {}  # pin id -> read_u16() value
        self.pixels = {}  # pin id -> neopixel.NeoPixel
        self.wdt = None  # the WDT, once the firmware made one
        self.log = []  # ("duty", pin, value), ("pixel", pin, (r, g, b)), ("wdt", ms)...
        self.resets = 0

    def now(self):
        if self.clock is not None:
            return self.clock()
        import time

        ticks = getattr(time, "ticks_ms", None)  # CPython has none: use its monotonic clock
        return ticks() if ticks is not None else int(time.monotonic() * 1000)

    def pin(self, pin_id):
        s = self.pins.get(pin_id)
        if s is None:
            s = self.pins[pin_id] = _PinState(pin_id)
        return s

    def set_level(self, pin_id, level):
        """Drive an input pin's level; runs its IRQ handler on a matching edge."""
        s = self.pin(pin_id)
        s.driven = True
        level = 1 if level else 0
        if level == s.level:
            return
        s.level = level
        trigger = Pin.IRQ_RISING if level else Pin.IRQ_FALLING
        if s.handler is not None and s.trigger & trigger:
            s.handler(s.pin)

    def press_button(self, pressed=True):
        """Press (or release) whichever input has an IRQ handler: the board's button."""
        for pin_id in sorted(self.pins):
            if self.pins[pin_id].handler is not None:
                self.press(pin_id, pressed)
                return pin_id
        return None

    def press(self, pin_id, pressed=True):
        """Press (or release) a button: the level follows the pin's pull, as wired."""
        active_low = self.pin(pin_id).pull != Pin.PULL_DOWN
        self.set_level(pin_id, (not pressed) if active_low else pressed)

    def level(self, pin_id):
        return self.pin(pin_id).level

    def duty(self, pin_id):
        """The duty_u16 of the PWM on a pin (0 when none or deinitialised)."""
        p = self.pwm.get(pin_id)
        return 0 if p is None or p._deinit else p._duty

    def duties(self, pin_id):
        """Every duty written to the pin's PWM, in order (from the log)."""
        return [e[2] for e in self.log if e[0] == "duty" and e[1] == pin_id]

    def set_adc(self, pin_id, raw):
        self.adc_raw[pin_id] = raw

    def pixel(self, pin_id, i=0):
        """The colour last written out to the NeoPixel on a pin, (r, g, b)."""
        np = self.pixels.get(pin_id)
        return None if np is None else np.shown[i]

    def wdt_expired(self, now=None):
        """True when a started watchdog was not fed within its timeout."""
        w = self.wdt
        if w is None:
            return False
        return (self.now() if now is None else now) - w.last_feed > w.timeout



sim = Sim()


def _pin_id(dest):
    return dest.id if isinstance(dest, Pin) else dest


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self._s = sim.pin(id)
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        s = self._s
        if mode != -1:
            s.mode = mode
        if pull != -1:
            s.pull = pull
            if s.mode == Pin.IN and pull is not None and not s.driven:
                s.level = 1 if pull == Pin.PULL_UP else 0  # nothing pressed yet
        if value is not None:
            s.level = 1 if value else 0

    def value(self, x=None):
        if x is None:
            return self._s.level
        self._s.level = 1 if x else 0
        return None

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self._s.level = 1

    def off(self):
        self._s.level = 0

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False):
        s = self._s
        s.handler = handler
        s.trigger = trigger
        s.pin = self
        return None

    def __repr__(self):
        return "Pin(%s)" % (self.id,)


class PWM:
    def __init__(self, dest, freq=None, duty_u16=None, duty_ns=None, invert=False):
        self.pin = _pin_id(dest)
        self._freq = 1000
        self._duty = 0
        self._deinit = False
        sim.pwm[self.pin] = self
        self.init(freq, duty_u16)

    def init(self, freq=None, duty_u16=None, duty_ns=None, invert=False):
        self._deinit = False
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value
        return None

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        if not 0 <= value <= 65535:
            raise ValueError("duty_u16 must be 0..65535")
        self._duty = value
        if sim.log_writes:
            sim.log.append(("duty", self.pin, value))
        return None

    def deinit(self):
        self._deinit = True
        self._duty = 0
        if sim.log_writes:
            sim.log.append(("duty", self.pin, 0))


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    default_raw = 40000  # about 2.0 V: a healthy cell behind a 2:1 divider

    def __init__(self, id, atten=None):
        self.pin = _pin_id(id)
        self._atten = atten

    def atten(self, value):
        self._atten = value

    def read_u16(self):
        return sim.adc_raw.get(self.pin, self.default_raw)


class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout <= 0:
            raise ValueError("WDT timeout too short")
        self.timeout = timeout
        self.feeds = 0
        self.last_feed = sim.now()
        sim.wdt = self

    def feed(self):
        self.feeds += 1
        self.last_feed = sim.now()
        if sim.log_writes:
            sim.log.append(("wdt", self.last_feed))

    def expired(self, now=None):
        return sim.wdt_expired(now)


class Timer:
    """Accepted and ignored: the firmware's timing comes from the injected clock."""

    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, mode=PERIODIC, period=-1, freq=-1, callback=None):
        self.callback = callback

    def init(self, mode=PERIODIC, period=-1, freq=-1, callback=None):
        self.callback = callback

    def deinit(self):
        self.callback = None


_freq = 125000000


def freq(hz=None):
    global _freq
    if hz is None:
        return _freq
    _freq = hz
    return None


def _restart(kind):
    sim.resets += 1
    try:
        import vdevhost  # on the virtual device, its host boots a fresh interpreter
    except ImportError:
        vdevhost = None
    if vdevhost is None:
        raise Reset(kind == "soft")
    vdevhost.restart(kind)


def reset():
    _restart("hard")


def soft_reset():
    _restart("soft")


PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
SOFT_RESET = 5


def reset_cause():
    return PWRON_RESET


def idle():
    pass


def lightsleep(ms=0):
    import time

    time.sleep_ms(ms)


deepsleep = lightsleep


class RTC:
    _dt = (2026, 1, 1, 3, 0, 0, 0, 0)

    def datetime(self, dt=None):
        if dt is None:
            return RTC._dt
        RTC._dt = tuple(dt)
        return None


def unique_id():
    return b"\xe6\x61\x40\x43\x87\x3c\x2a\x2b"  # 8 bytes, like an RP2040's flash id


def disable_irq():
    return 0


def enable_irq(state=0):
    pass
