"""The serial link between a host and the virtual device, one direction at a time.

A pty passes bytes as fast as two processes can copy them; a board's link does not. A
Link is told when bytes enter it (push) and says when each one has crossed (take, due):

    none        no pacing: a byte crosses as soon as it is pushed (the default for tests)
    uart115200  an ESP32 devkit's USB-UART bridge at 115200 baud: 10 bits a byte (start,
                8 data, stop), back to back, about 11.5 KB/s
    usb-fs      a Pico's USB CDC at full speed, as a first model: one packet of at most 64
                bytes per 1 ms frame and direction, bytes pushed during a frame leaving
                with the next one, about 64 KB/s

Times are seconds on any monotonic clock (the caller passes `now`), so the schedule is
the model's and can be checked exactly, whatever the machine's load.
"""

import collections
import math

KINDS = ("none", "uart115200", "usb-fs")
UART_BAUD = 115200
UART_BITS_PER_BYTE = 10
USB_FRAME_S = 0.001
USB_PACKET = 64
HISTORY = 4096  # pushes remembered for busy_periods()


class Link:
    def __init__(self, kind="none"):
        if kind not in KINDS:
            raise ValueError("link %r: one of %s" % (kind, ", ".join(KINDS)))
        self.kind = kind
        # [t0, step, bytearray]: byte k of the entry crosses at t0 + (k + 1) * step
        self._queue = collections.deque()
        self._free = 0.0  # uart: when the wire can start the next byte
        self._frame = -1  # usb: the last frame holding bytes, and the room left in it
        self._room = 0
        # (pushed at, when its first byte starts crossing, when its last has crossed, n)
        self.history = collections.deque(maxlen=HISTORY)
        self.bytes = 0  # pushed so far

    def push(self, data, now):
        """Bytes enter the link at `now`."""
        if not data:
            return
        self.bytes += len(data)
        if self.kind == "none":
            self._queue.append([now, 0.0, bytearray(data)])
            start = last = now
        elif self.kind == "uart115200":
            byte_s = UART_BITS_PER_BYTE / UART_BAUD
            start = max(self._free, now)  # back to back behind what is still on the wire
            self._queue.append([start, byte_s, bytearray(data)])
            last = self._free = start + len(data) * byte_s
        else:
            start, last = self._push_frames(data, now)
        self.history.append((now, start, last, len(data)))

    def _push_frames(self, data, now):
        # A byte pushed during frame k-1 (after k-1 ms, up to k ms) leaves with frame k.
        frame = math.floor(now / USB_FRAME_S + 1e-9) + 1
        if frame > self._frame:
            self._frame, self._room = frame, USB_PACKET
        if self._room == 0:
            self._frame, self._room = self._frame + 1, USB_PACKET
        start = (self._frame - 1) * USB_FRAME_S  # the frame period that collects it
        i = 0
        while i < len(data):
            if self._room == 0:
                self._frame, self._room = self._frame + 1, USB_PACKET
            n = min(self._room, len(data) - i)
            due = self._frame * USB_FRAME_S
            if self._queue and self._queue[-1][0] == due:
                self._queue[-1][2] += data[i:i + n]
            else:
                self._queue.append([due, 0.0, bytearray(data[i:i + n])])
            self._room -= n
            i += n
        return start, self._frame * USB_FRAME_S

    def take(self, now):
        """The bytes that have crossed by `now`, in order."""
        out = bytearray()
        q = self._queue
        while q and q[0][0] + q[0][1] <= now:
            t0, step, buf = q[0]
            n = len(buf) if step == 0 else min(len(buf), int((now - t0) / step + 1e-9))
            out += buf[:n]
            if n == len(buf):
                q.popleft()
            else:
                del buf[:n]
                q[0][0] = t0 + n * step
        return bytes(out)

    def due(self):
        """When the next byte crosses, or None when the link is empty."""
        return self._queue[0][0] + self._queue[0][1] if self._queue else None

    def pending(self):
        return sum(len(e[2]) for e in self._queue)

    def busy_periods(self, since=0.0):
        """[(bytes, seconds)] of each stretch the link was busy without a break, from what
        was pushed at or after `since`, by the model's schedule: a transfer's own time,
        whatever the machine's load did to the processes at either end."""
        periods = []
        for pushed, start, last, n in self.history:
            if pushed < since:
                continue
            if periods and start <= periods[-1][1] + 1e-9:
                periods[-1][1] = max(periods[-1][1], last)
                periods[-1][2] += n
            else:
                periods.append([start, last, n])
        return [(n, last - start) for start, last, n in periods]
