# Decode raw button edges into gestures: short, double, long, hold and stuck.
#
# Pure and clock-injected, in the style of micropython-async's Pushbutton: timings are
# class attributes a user can tune. The IRQ only records edges; this runs in the loop.
from massager import safety

SHORT = "short"
DOUBLE = "double"
LONG = "long"  # reached while still held: acts at once (long press stops)
HOLD = "hold"  # held on past long: power off from idle
STUCK = "stuck"  # held past the stuck limit: ignored until released

_THRESHOLDS = (LONG, HOLD, STUCK)


class Gestures:
    debounce_ms = 50
    double_ms = 400
    long_ms = 1000
    hold_ms = 3000
    stuck_ms = safety.STUCK_BUTTON_MS

    def __init__(self):
        self.down = False
        self._down_at = 0
        self._edge_at = None
        self._fired = 0  # how many of LONG, HOLD, STUCK this press has reached
        self._clicks = 0
        self._click_until = 0
        self._settle = None  # the level the pin showed last inside a debounce window

    def edge(self, pressed, now):
        """A raw edge (True = pressed). Returns a gesture or None."""
        if self._edge_at is not None and now - self._edge_at < self.debounce_ms:
            # Contact bounce, or a tap quicker than the window: remember where the pin
            # went, and take that level once the window is over (poll()), so a quick tap
            # is a click and never a button the decoder believes held (a long press).
            self._settle = pressed
            return None
        self._settle = None
        if pressed == self.down:
            return None
        self._edge_at = now
        self.down = pressed
        if pressed:
            self._down_at = now
            self._fired = 0
            return None
        if self._fired:
            return None  # long, hold or stuck already acted on this press
        self._clicks += 1
        if self._clicks == 2:
            self._clicks = 0
            return DOUBLE
        self._click_until = now + self.double_ms
        return None

    def spend(self):
        """The press under way has acted already: it ends with no gesture, and only a
        stuck button is still reported."""
        if self.down and self._fired < 2:
            self._fired = 2
        self._clicks = 0

    def settled(self, now):
        """ms until the button has been still (up, nothing to decide) for debounce_ms: 0
        once it has, -1 while it is down or a gesture is still open."""
        if self.down or self._clicks:
            return -1
        if self._edge_at is None:
            return 0
        left = self._edge_at + self.debounce_ms - now
        return left if left > 0 else 0

    def shift(self, ms):
        """The clock goes back by `ms` (see App.shift)."""
        self._down_at -= ms
        self._click_until -= ms
        if self._edge_at is not None:
            self._edge_at -= ms

    def _limit(self, i):
        return (self.long_ms, self.hold_ms, self.stuck_ms)[i]

    def poll(self, now):
        """Gestures that time decides. Call when deadline() is reached."""
        settle = self._settle
        if settle is not None and now >= self._edge_at + self.debounce_ms:
            self._settle = None
            if settle != self.down:
                return self.edge(settle, self._edge_at + self.debounce_ms)
        if self.down:
            if self._fired < 3 and now - self._down_at >= self._limit(self._fired):
                self._clicks = 0
                self._fired += 1
                return _THRESHOLDS[self._fired - 1]
        elif self._clicks == 1 and now >= self._click_until:
            self._clicks = 0
            return SHORT
        return None

    def deadline(self):
        """When poll() next has something to decide, or None."""
        if self._settle is not None and self._settle != self.down:
            return self._edge_at + self.debounce_ms
        if self.down:
            if self._fired < 3:
                return self._down_at + self._limit(self._fired)
            return None
        if self._clicks == 1:
            return self._click_until
        return None

    @property
    def stuck(self):
        return self.down and self._fired == 3
