# The button's pin IRQ: records raw edges, nothing else.
#
# The handler is bound once and writes into buffers allocated here, so it never allocates
# (it runs as a hard IRQ where the port allows). Debounce and gestures happen later, in the
# main loop (massager.button.Gestures). Edge times are time.ticks_ms() values: wrapping
# ticks, so compare them only with time.ticks_diff().
#
# When the ring is full the NEWEST edge is dropped (and counted in `dropped`): only the IRQ
# moves the head and only the reader moves the tail, so neither needs a lock. is_pressed()
# reads the pin to resynchronise.
#
# Reading, allocation-free:
#     while button.pending():
#         pressed, ms = button.peek_pressed(), button.peek_ms()
#         button.drop()
import time
from array import array

import machine


class Button:
    size = 16  # ring slots, a power of two (holds size - 1 edges); drained every wake

    def __init__(self, pin, active_low=True):
        self.pin = pin  # a machine.Pin configured as an input with its pull
        self.active_low = active_low
        self.notify = None  # called (no arguments) from the IRQ: e.g. ThreadSafeFlag.set
        self._pressed = bytearray(self.size)
        self._ms = array("i", bytes(4 * self.size))
        self._head = 0  # next slot the IRQ writes
        self._tail = 0  # oldest slot the reader has not dropped
        self.dropped = 0  # edges lost because the ring was full
        self._handler = self._irq  # bound once: binding in the IRQ would allocate
        trigger = machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING
        try:
            pin.irq(handler=self._handler, trigger=trigger, hard=True)
        except TypeError:  # a port without hard pin IRQs: still allocation-free
            pin.irq(handler=self._handler, trigger=trigger)

    def _irq(self, pin):
        head = self._head
        nxt = (head + 1) & (self.size - 1)
        if nxt == self._tail:
            self.dropped += 1
        else:
            level = pin.value()
            self._pressed[head] = (level == 0) if self.active_low else (level != 0)
            # The stubs keep ticks opaque; the ring stores them raw, read back via ticks_diff.
            self._ms[head] = time.ticks_ms()  # pyright: ignore[reportArgumentType, reportCallIssue]
            self._head = nxt
        notify = self.notify
        if notify is not None:
            notify()

    def is_pressed(self):
        """The button as it is now, read from the pin (boot.py: safe mode)."""
        level = self.pin.value()
        return level == 0 if self.active_low else level != 0

    def pending(self):
        """How many edges are waiting."""
        return (self._head - self._tail) & (self.size - 1)

    def peek_pressed(self):
        """The oldest waiting edge: True = pressed. Only when pending()."""
        return self._pressed[self._tail] != 0

    def peek_ms(self):
        """The oldest waiting edge's time, in time.ticks_ms(). Only when pending()."""
        return self._ms[self._tail]

    def drop(self):
        """Done with the oldest waiting edge."""
        if self._tail != self._head:
            self._tail = (self._tail + 1) & (self.size - 1)

    def get(self):
        """(pressed, ms) of the oldest waiting edge and drop it, or None. Allocates."""
        if self._tail == self._head:
            return None
        edge = (self.peek_pressed(), self.peek_ms())
        self.drop()
        return edge

    def clear(self):
        """Forget every waiting edge."""
        self._tail = self._head
