# What the studio's server does with real and virtual devices: list them, push the routine
# in the editor (routine_sync, as `massager push`), read a virtual device's trace for the
# mirror, press its button, read the sessions it remembers (history, as `massager history`).
# Every failure is one line, the CLI's.
import math
import os
import threading
import time

from host_tools import history, routine_sync
from host_tools.device import Device, DeviceError, detected_ports
from host_tools.routines import RoutineError
from simulator import registry

EDITOR = "the editor"  # the label of the routine in the page, where push names a file
MIRROR_CHUNK = 256 * 1024  # trace bytes per answer: a page that fell behind catches up


def devices():
    """[{port, kind, engine, board, mirror, button}]: USB boards, then virtual devices."""
    found = [{"port": p, "kind": "usb", "engine": None, "board": None, "mirror": False,
              "button": False} for p in detected_ports()]
    for e in registry.running():
        found.append({"port": e["port"], "kind": "virtual", "engine": e["engine"],
                      "board": e["board"], "mirror": bool(e.get("trace")), "button": True})
    return found


def _virtual(port):
    for e in registry.running():
        if e["port"] == port:
            return e
    raise DeviceError("%s is not a running virtual device (the list is out of date: "
                      "refresh it)" % port)


def _known(port):
    if port not in [d["port"] for d in devices()]:
        raise DeviceError("no device at %s (refresh the list)" % port)


def push(port, text, progress=None):
    """Validate the editor's routine and install it on `port`; the line `massager push`
    prints. progress(done, total) after each chunk sent."""
    data = text.encode("utf-8")
    items = routine_sync.prepare_data([(EDITOR, data)])  # refuses an invalid routine
    _known(port)
    lines = []
    sent = [0]

    def chunk(n):
        sent[0] += n
        if progress:
            progress(sent[0], len(data))

    with Device(port, soft_reset=False) as dev:
        routine_sync.push(dev, items, out=lines.append, progress=chunk)
    return "; ".join(lines)


def mirror(port, offset):
    """(trace lines from byte `offset` on, the next offset) of a virtual device; offset -1:
    its last lines only (where a mirror starts). A trace that restarted (shorter than
    offset) is read from its start."""
    path = _virtual(port).get("trace")
    if not path:
        raise DeviceError("%s gives no trace to mirror" % port)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            tail = offset < 0
            if tail:
                offset = max(0, size - 8192)
            elif offset > size:
                offset = 0
            f.seek(offset)
            data = f.read(MIRROR_CHUNK)
            if tail and offset:  # from the first whole line
                cut = data.find(b"\n") + 1
                data, offset = data[cut:], offset + cut
    except OSError as e:
        raise DeviceError("%s: cannot read its trace: %s" % (port, e.strerror or e)) from None
    whole = data[:data.rfind(b"\n") + 1]  # a line being written waits for the next read
    return whole.decode("utf-8", "replace").splitlines(), offset + len(whole)


class PageClock:
    """The page's clock mapped onto this one, for the edges of its button.

    Each edge comes in a request of its own, and a request's way through the server takes
    as long as the machine lets it: played when they come, a double press could become two
    clicks, or a release come before its press. So each edge carries the page's time of it
    (`at`); the first to come after a quiet spell fixes the two clocks' offset, and every
    edge plays LAG_MS after its page time. Every edge whose request takes at most LAG_MS
    longer than that first one's keeps the hand's timing exactly, in whatever order they
    come; a later one plays at once."""

    LAG_MS = 200  # felt as the mirror's delay; far more than a request takes on an idle host
    QUIET_MS = 5000  # longer than any gesture: the next edge starts afresh (a reloaded page)

    def __init__(self):
        self._offset = None  # this clock's ms minus the page's
        self._last = None  # the page time of the latest edge

    def delay(self, at, now):
        """ms from `now` (this clock) until the edge made at page time `at` plays."""
        if self._offset is None or abs(at - self._last) > self.QUIET_MS:
            self._offset = now - at
            self._last = at
        self._last = max(self._last, at)
        due = at + self._offset + self.LAG_MS
        return due - now if due > now else 0


_buttons = {}  # port -> (its page's PageClock, ms when the edges queued for it have played)
_buttons_lock = threading.Lock()  # the server answers each request on a thread of its own


def press(port, edges, at=None):
    """Press the virtual device's button: edges [(ms, "down"|"up")], ms from now (a
    gesture: after the edges still queued, as a hand's next one), or from the page's time
    `at` (ms) when it is given (the page's own button: see PageClock)."""
    entry = _virtual(port)
    edges = [(float(ms), str(edge)) for ms, edge in edges]
    if not edges:
        raise ValueError("no edges")
    if at is not None:
        at = float(at)
        if not math.isfinite(at):
            raise ValueError("at: not a time")
    with _buttons_lock:
        now = time.monotonic() * 1000
        clock, free_at = _buttons.get(port) or (PageClock(), now)
        start = clock.delay(at, now) if at is not None else max(0.0, free_at - now)
        edges = [(start + ms, edge) for ms, edge in edges]
        last = max(ms for ms, _ in edges)
        if last > registry.MAX_MS:
            raise DeviceError("%s: its button still has %.1f s of presses to play: press "
                              "again after them" % (port, start / 1000))
        _buttons[port] = (clock, max(free_at, now + last))
    try:
        answer = registry.press(entry, [(int(ms), edge) for ms, edge in edges])
    except OSError as e:
        raise DeviceError("%s: its button does not answer: %s" % (port, e.strerror or e)) \
            from None
    if answer != "ok":
        raise DeviceError("%s: %s" % (port, answer))


def sessions(port):
    """The device's remembered sessions, the week's summary and the table, as `massager
    history --json` gives them (plus its lines)."""
    _known(port)
    with Device(port) as dev:
        records = history.fetch(dev)
    summary = history.summary(records)
    return {"records": records, "summary": summary,
            "lines": history.table(records) + [""] + history.summary_lines(summary),
            "per_day": {d.isoformat(): round(m, 2) for d, m in
                        history.minutes_per_day(records).items()}}


__all__ = ["devices", "push", "mirror", "press", "sessions", "PageClock", "DeviceError",
           "RoutineError"]
