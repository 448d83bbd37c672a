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


def play(programs, script, emit, until=None, level=None):
    """Run the App on a virtual clock; emit(line) gets each trace line.

    Without `until`, stops once the script is used up and no session is running;
    with it, runs to that time. Returns the App.
    """
    kwargs = {} if level is None else {"level": level}
    a = App(programs, NoHardware(), on_change=lambda app, now: emit(trace.line(app, now)),
            **kwargs)
    a.begin(0)
    now = 0
    i = 0
    while True:
        script_time = script[i][0] if i < len(script) else None
        if until is None and script_time is None and a.state not in (RUNNING, PAUSED):
            if a.gestures.deadline() is None:
                break
        wake = a.next_wake()
        t = script_time if wake is None or (script_time is not None
                                            and script_time <= wake) else wake
        if t is None or (until is not None and t > until):
            break
        now = t if t > now else now
        if script_time is not None and script_time <= now:
            event = script[i][1]
            i += 1
            if event == "down":
                a.edge(True, now)
            elif event == "up":
                a.edge(False, now)
            else:
                a.press(event, now)
        else:
            a.update(now)
    return a
