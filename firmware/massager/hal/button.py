# The button's pin IRQ: records raw edges, nothing else.
#
# The handler is bound once and writes into buffers allocated here, so it never allocates
# (it may run as a hard IRQ). Debounce and gestures happen later, in the main loop
# (massager.button.Gestures). Edge times are time.ticks_ms() values: wrap-around ticks,
# compare them only with time.ticks_diff().
#
# When the ring is full the newest edge is dropped (and counted in `dropped`): only the
# IRQ moves the head and only the reader moves the tail, so neither needs a lock. The
# pin level is always at hand through is_pressed() to resynchronise.
from array import array

import machine
import time


class Button:
    size = 16  # edges the ring holds (a power of two); the loop drains it every wake

    def __init__(self, pin, active_low=True, flag=None):
        self.pin = pin  # a machine.Pin configured as an input with its pull
        self.active_low = active_low
        self.flag = flag  # optional: .set() from the IRQ (an asyncio.ThreadSafeFlag)
        self._pressed = bytearray(self.size)
        self._ms = array("i", bytes(4 * self.size))
        self._head = 0  # next slot the IRQ writes
        self._tail = 0  # next slot the reader takes
        self.dropped = 0  # edges lost because the ring was full
        self.ms = 0  # ticks_ms of the edge pop() returned last
        self._handler = self._irq  # bound once: binding in the IRQ would allocate
        pin.irq(handler=self._handler,
                trigger=machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING, hard=True)

    def _irq(self, pin):
        head = self._head
        nxt = (head + 1) & (self.size - 1)
        if nxt == self._tail:
            self.dropped += 1
            return
        level = pin.value()
        self._pressed[head] = (level == 0) if self.active_low else (level != 0)
        self._ms[head] = time.ticks_ms()
        self._head = nxt
        flag = self.flag
        if flag is not None:
            flag.set()

    def is_pressed(self):
        """The button as it is now (read from the pin)."""
        level = self.pin.value()
        return level == 0 if self.active_low else level != 0

    def pending(self):
        """How many edges are waiting."""
        return (self._head - self._tail) & (self.size - 1)

    def pop(self):
        """The oldest waiting edge: True = pressed; its time goes to `self.ms`.

        Call only when pending() is non-zero. Allocates nothing.
        """
        tail = self._tail
        self.ms = self._ms[tail]
        pressed = self._pressed[tail] != 0
        self._tail = (tail + 1) & (self.size - 1)
        return pressed

    def get(self):
        """(pressed, ms) of the oldest waiting edge, or None. Allocates a tuple."""
        if self._head == self._tail:
            return None
        pressed = self.pop()
        return pressed, self.ms

    def clear(self):
        self._tail = self._head
