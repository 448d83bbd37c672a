# The board: builds the hal drivers from a pin map and is the App's output (show()).
#
# The pin map is a dict, the same as boards/<name>/board.json; load_config() (from
# hal/config.py, re-exported here) finds it. The status LED's two small drivers live here
# too, with the one that builds them: one file fewer to look up at power-up.
import machine

from massager import feel
from massager.hal.battery import Battery
from massager.hal.button import Button
from massager.hal.config import DEFAULT, check_config, load_config  # noqa: F401 - API
from massager.hal.motor import Motor
from massager.hal.power import Power
from massager.hal.watchdog import Watchdog


# The status LED: a mono LED on PWM, or one RGB NeoPixel. Both take set(r, g, b), 0-255.
# A mono LED shows the brightest channel, so every colour the app uses stays visible.
class PwmLed:
    freq = 1000  # Hz: flicker-free to the eye, gentle on the PWM slice

    def __init__(self, pwm, freq=None):
        self.pwm = pwm  # a machine.PWM, already built on the LED pin
        pwm.freq(self.freq if freq is None else freq)
        pwm.duty_u16(0)

    def set(self, r, g, b):
        v = r if r > g else g
        if b > v:
            v = b
        if v < 0:
            v = 0
        elif v > 255:
            v = 255
        self.pwm.duty_u16(v * 257)  # 255 * 257 = 65535


class PixelLed:
    def __init__(self, np):
        self.np = np  # a neopixel.NeoPixel with (at least) one pixel
        # One colour list, refilled for every change: NeoPixel.__setitem__ reads v[0..bpp)
        # (micropython-lib's driver), so no tuple is made per change. RGBW: white stays 0.
        self._rgb = [0] * getattr(np, "bpp", 3)
        self.set(0, 0, 0)

    def set(self, r, g, b):
        c = self._rgb
        c[0] = _byte(r)
        c[1] = _byte(g)
        c[2] = _byte(b)
        self.np[0] = c
        self.np.write()


def _byte(v):
    return 0 if v < 0 else 255 if v > 255 else v


_WHITE = (255, 255, 255)  # a look that names the routine's colour: there is none here
FRESH_BOOT_MS = 10000  # main.py starts within this of a chip reset; mpremote's come later


class Board:
    def __init__(self, config):
        self.config = config
        self.name = config["name"]
        self.power = Power(config["arch"], config.get("power"))
        m = config["motor"]
        # Drive the pin low before the PWM takes it: the motor never twitches at power-up.
        pin = machine.Pin(m["pin"], machine.Pin.OUT, value=0)
        self.power.unhold(pin)  # esp32: held low through a deep sleep until now
        self.motor = Motor(machine.PWM(pin, freq=m.get("freq", Motor.freq), duty_u16=0),
                           m.get("freq"), pin, m["rated_mv"], m["start_mv"])
        led = config["led"]
        if led["kind"] == "neopixel":
            import neopixel

            self.led = PixelLed(neopixel.NeoPixel(machine.Pin(led["pin"], machine.Pin.OUT), 1))
        else:
            pin = machine.Pin(led["pin"], machine.Pin.OUT, value=0)
            self.led = PwmLed(machine.PWM(pin, freq=PwmLed.freq, duty_u16=0))
        b = config["button"]
        active_low = b.get("active_low", True)
        pull = machine.Pin.PULL_UP if active_low else machine.Pin.PULL_DOWN
        self.button = Button(machine.Pin(b["pin"], machine.Pin.IN, pull), active_low)
        bat = config.get("battery")
        self.battery = None
        if bat is not None:
            adc = machine.ADC(machine.Pin(bat["pin"]))
            atten = getattr(machine.ADC, "ATTN_11DB", None)
            if atten is not None and hasattr(adc, "atten"):
                adc.atten(atten)  # esp32: full range up to about 3.1 V instead of 1.1 V
            ref = machine.ADC(machine.Pin(bat["ref_pin"])) if "ref_pin" in bat else None
            self.battery = Battery(adc, bat["divider_x100"], ref, bat.get("ref_mv", 0))
        self.watchdog = Watchdog(config.get("watchdog_ms", DEFAULT["watchdog_ms"]),
                                 config["arch"])

    def show(self, motor, r, g, b):
        """The App's output: motor strength (% of its rated voltage, already clamped by
        safety), LED colour."""
        self.motor.set(motor)
        self.led.set(r, g, b)

    def show_error(self):
        """Motor off, the error light on (the loop gave up; the REPL is free)."""
        self._look(feel.ERROR_LED)

    def show_safe_mode(self):
        """Motor off, the safe-mode light on (boot.py: button held at power-up)."""
        self._look(feel.SAFE_MODE_LED)

    def _look(self, look):
        self.all_off()
        color = feel.COLORS[look[0]] or _WHITE
        try:
            self.led.set(color[0] * look[1] // 100, color[1] * look[1] // 100,
                         color[2] * look[1] // 100)
        except Exception:
            pass

    def all_off(self):
        """Motor and LED off. Never raises: it is what error paths call."""
        try:
            self.motor.release()  # the pin itself low: safe whatever the PWM is doing
        except Exception:  # the last line of defence must not fail: try the PWM
            try:
                self.motor.off()
            except Exception:
                pass
        try:
            self.led.set(0, 0, 0)
        except Exception:
            pass

    def sleep(self, ms):
        """Off: the LED dark, the motor pin low, the board asleep until the button (rp2:
        or `ms`; esp32: the wake is a boot). False when it cannot sleep."""
        self.all_off()
        return self.power.sleep(ms, self.button, self.motor, self.watchdog)

    def watchdog_reset_at_boot(self, uptime_ms):
        """True when this boot follows a watchdog reset. The cause outlives soft resets
        (rp2 keeps its reset reason; so does esp32 for the chip): only a boot in the first
        seconds after the chip reset counts, so each bite is reported once."""
        try:
            return (machine.reset_cause() == machine.WDT_RESET
                    and uptime_ms < FRESH_BOOT_MS)
        except Exception:  # a port without reset_cause
            return False
