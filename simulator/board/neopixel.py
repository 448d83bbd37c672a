# A simulated `neopixel` module (see machine.py): NeoPixel with MicroPython's interface
# (micropython-lib's drivers/led/neopixel, frozen into the rp2 and esp32 ports). The
# colours written out by write() are in `shown`; machine.sim.pixel(pin) reads them. Like
# the real write() (a bitstream from buf), it allocates nothing, so allocation figures
# taken on the simulated board are the firmware's own.
import machine


class NeoPixel:
    ORDER = (1, 0, 2, 3)  # GRB, as the real driver stores them in buf

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self.timing = timing
        self.buf = bytearray(n * bpp)
        self._out = bytearray(n * bpp)  # buf as the last write() sent it
        self.writes = 0
        machine.sim.pixels[machine._pin_id(pin)] = self

    def __len__(self):
        return self.n

    def __setitem__(self, i, v):
        offset = i * self.bpp
        for k in range(self.bpp):
            self.buf[offset + self.ORDER[k]] = v[k]

    def __getitem__(self, i):
        return self._pixel(self.buf, i)

    def _pixel(self, buf, i):
        offset = i * self.bpp
        return tuple(buf[offset + self.ORDER[k]] for k in range(self.bpp))

    @property
    def shown(self):
        """What the LEDs show: [(r, g, b), ...] as of the last write()."""
        return [self._pixel(self._out, i) for i in range(self.n)]

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def write(self):
        self.writes += 1
        out, buf = self._out, self.buf
        for i in range(len(buf)):
            out[i] = buf[i]
        if machine.sim.log_writes:
            machine.sim.log.append(("pixel", machine._pin_id(self.pin), self.shown[0]))
