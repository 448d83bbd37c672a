# The status LED: a mono LED on PWM, or one RGB NeoPixel. Both take set(r, g, b), 0-255.
#
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
