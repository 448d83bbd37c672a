# What the studio's server does with real and virtual devices: list them, push the routine
# in the editor (routine_sync, as `massager push`), read a virtual device's trace for the
# mirror, press its button, read the sessions it remembers (history, as `massager history`).
# Every failure is one line, the CLI's.
import os

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


def press(port, edges):
    """Press the virtual device's button: edges [(ms, "down"|"up")]."""
    entry = _virtual(port)
    try:
        answer = registry.press(entry, [(int(ms), str(edge)) for ms, edge in edges])
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


__all__ = ["devices", "push", "mirror", "press", "sessions", "DeviceError", "RoutineError"]
