# Play routines on the firmware's App at full speed on a virtual clock.
#
# MicroPython-compatible: the same driver runs on CPython and inside the MicroPython
# WebAssembly engine, which is how the two give byte-identical traces.
from massager import trace
from massager.app import PAUSED, RUNNING, App

EVENTS = ("down", "up", "short", "double", "long")
DEFAULT_BUTTONS = "0:short"


class NoHardware:
    """The App's output when only the trace matters."""

    def show(self, motor, r, g, b):
        pass


def parse_buttons(text):
    """'0:short,30000:down,30100:up' -> [(0, 'short'), ...], in time order as written.

    Raises ValueError with a one-line message naming the bad item (a time before the one
    of the item ahead of it is one: the script reads as a timeline).
    """
    script = []
    for i, item in enumerate(text.split(",")):
        item = item.strip()
        if not item:
            continue
        ms, sep, event = item.partition(":")
        ms = ms.strip()
        event = event.strip()
        if not sep or not ms.isdigit() or event not in EVENTS:
            raise ValueError("--buttons item %d %s: expected MS:EVENT with EVENT one of %s" % (
                i + 1, repr(item), ", ".join(EVENTS)))
        if script and int(ms) < script[-1][0]:
            raise ValueError("--buttons item %d %s: %s ms is before the %d ms of the item ahead "
                             "of it; list the events in time order" % (
                                 i + 1, repr(item), ms, script[-1][0]))
        script.append((int(ms), event))
    return script


class Player:
    """The App on a virtual clock, advanced in steps: button events wait in a queue and
    every change happens at its own time, however the caller slices time. So a live view
    (the studio page) and a run at full speed give the same trace for the same events.
    """

    def __init__(self, programs, emit, level=None):
        kwargs = {} if level is None else {"level": level}
        self.app = App(programs, NoHardware(),
                       on_change=lambda app, now: emit(trace.line(app, now)), **kwargs)
        self.now = 0
        self.queue = []  # (ms, event), in time order
        self.app.begin(0)

    def push(self, ms, event):
        """Queue a button event (EVENTS) at `ms`, after any queued at the same time."""
        i = len(self.queue)
        while i and self.queue[i - 1][0] > ms:
            i -= 1
        self.queue.insert(i, (ms, event))

    def next_time(self):
        """When the next event or change is due, or None."""
        event_at = self.queue[0][0] if self.queue else None
        wake = self.app.next_wake()
        if wake is None or (event_at is not None and event_at <= wake):
            return event_at
        return wake

    def step(self):
        """Play the next event or change (call only when next_time() is not None)."""
        t = self.next_time()
        a = self.app
        self.now = t if t > self.now else self.now
        if self.queue and self.queue[0][0] <= self.now:
            event = self.queue.pop(0)[1]
            if event == "down":
                a.edge(True, self.now)
            elif event == "up":
                a.edge(False, self.now)
            else:
                a.press(event, self.now)
        else:
            a.update(self.now)

    def advance(self, to):
        """Play everything due up to `to` (inclusive); the clock then reads `to`."""
        t = self.next_time()
        while t is not None and t <= to:
            self.step()
            t = self.next_time()
        if to > self.now:
            self.now = to

    def settled(self):
        """No event queued, no session running and no gesture pending."""
        a = self.app
        return (not self.queue and a.state not in (RUNNING, PAUSED)
                and a.gestures.deadline() is None)


def play(programs, script, emit, until=None, level=None):
    """Run the App on a virtual clock; emit(line) gets each trace line.

    Without `until`, stops once the script is used up and no session is running;
    with it, runs to that time. Returns the App.
    """
    p = Player(programs, emit, level)
    for ms, event in script:
        p.push(ms, event)
    while until is not None or not p.settled():
        t = p.next_time()
        if t is None or (until is not None and t > until):
            break
        p.step()
    return p.app
