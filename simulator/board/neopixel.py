# A simulated `neopixel` module (see machine.py): NeoPixel with MicroPython's interface.
# The colours written out by write() are in `shown`; machine.sim.pixel(pin) reads them.
import machine


class NeoPixel:
    ORDER = (1, 0, 2, 3)  # GRB, as the real driver stores them in buf

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self.timing = timing
        self.buf = bytearray(n * bpp)
        self.shown = [(0,) * bpp] * n  # what the LEDs show (after write())
        self.writes = 0
        machine.sim.pixels[machine._pin_id(pin)] = self

    def __len__(self):
        return self.n

    def __setitem__(self, i, v):
        offset = i * self.bpp
        for k in range(self.bpp):
            self.buf[offset + self.ORDER[k]] = v[k]

    def __getitem__(self, i):
        offset = i * self.bpp
        return tuple(self.buf[offset + self.ORDER[k]] for k in range(self.bpp))

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def write(self):
        self.writes += 1
        self.shown = [self[i] for i in range(self.n)]
        if machine.sim.log_writes:
            machine.sim.log.append(("pixel", machine._pin_id(self.pin), self.shown[0]))
