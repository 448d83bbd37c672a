# Running virtual devices, for the host tools to find: a pty is not on any USB bus, so each
# `massager vdev` (either engine) writes one small JSON file into a runtime folder while it
# runs, and listens on a Unix socket beside it for its button:
#
#   <run dir>/vdev-<pid>.json   {"port", "pid", "engine", "board", "trace", "pins", "control"}
#   <run dir>/vdev-<pid>.sock   lines "press MS down|up ..." (edges at MS after the line;
#                               answered "ok" at once, played in time order by one thread)
#
# The run dir is $MASSAGER_RUN_DIR, else $XDG_RUNTIME_DIR/massager, else
# /tmp/massager-<uid>. An entry whose process has gone (a kill -9) is dropped when listed.
import heapq
import itertools
import json
import os
import socket
import tempfile
import threading
import time

EDGES = ("down", "up")
MAX_EDGES = 16  # a gesture has at most four edges: more is not a person's hand
MAX_MS = 10000  # how far ahead an edge may be queued


def run_dir():
    if os.environ.get("MASSAGER_RUN_DIR"):
        return os.environ["MASSAGER_RUN_DIR"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "massager")
    return os.path.join(tempfile.gettempdir(), "massager-%d" % os.getuid())


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running():
    """The entries of the virtual devices that run now, sorted by port."""
    folder = run_dir()
    try:
        names = sorted(n for n in os.listdir(folder) if n.startswith("vdev-")
                       and n.endswith(".json"))
    except OSError:
        return []
    found = []
    for name in names:
        path = os.path.join(folder, name)
        try:
            with open(path) as f:
                entry = json.load(f)
        except (OSError, ValueError):
            continue  # being written, or not ours
        if _alive(entry.get("pid", -1)) and os.path.exists(entry.get("port", "")):
            found.append(entry)
        else:
            for stale in (path, entry.get("control"), entry.get("trace_owned")):
                if stale:
                    try:
                        os.remove(stale)
                    except OSError:
                        pass
    return sorted(found, key=lambda e: e["port"])


class Registration:
    """`with Registration(port, engine, board, press) as reg:` lists this virtual device
    while it runs; reg.trace is a trace file made for the mirror when none was asked for
    (trace=True). press(bool) is the device's button."""

    def __init__(self, port, engine, board, press, trace=None, pins=None):
        self.folder = run_dir()
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        base = os.path.join(self.folder, "vdev-%d" % os.getpid())
        self.path = base + ".json"
        self.control = base + ".sock"
        self.trace = trace
        self.owned = None
        if trace is True:  # the mirror reads it; removed with the entry
            self.trace = self.owned = base + ".trace"
            open(self.owned, "w").close()
        self.press = press
        self._queue = []  # (monotonic time due, arrival order, pressed): edges still to play
        self._order = itertools.count()
        self._queued = threading.Condition()
        self._closed = False
        self.entry = {"port": port, "pid": os.getpid(), "engine": engine, "board": board,
                      "trace": self.trace and os.path.abspath(self.trace),
                      "pins": pins and os.path.abspath(pins), "control": self.control,
                      "trace_owned": self.owned}
        self._sock = None

    def __enter__(self):
        if os.path.exists(self.control):
            os.remove(self.control)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(self.control)
        self._sock.listen(4)
        threading.Thread(target=self._serve, daemon=True).start()
        threading.Thread(target=self._play, daemon=True).start()
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.entry, f)
        os.replace(tmp, self.path)  # a reader never sees half an entry
        return self

    def __exit__(self, *exc):
        with self._queued:
            self._closed = True
            self._queued.notify()
        for path in (self.path, self.control, self.owned):
            if path:
                try:
                    os.remove(path)
                except OSError:
                    pass
        if self._sock:
            self._sock.close()

    def _serve(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed at exit
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.makefile("r").readline()
                    conn.sendall((self._do(line) + "\n").encode())
                except (OSError, ValueError):
                    pass

    def _do(self, line):
        words = line.split()
        if words[:1] != ["press"] or not 1 < len(words) <= 1 + 2 * MAX_EDGES or \
                len(words) % 2 == 0:
            return "error: expected press MS EDGE ..."
        edges = []
        for ms, edge in zip(words[1::2], words[2::2]):
            if not ms.isdigit() or edge not in EDGES or int(ms) > MAX_MS:
                return "error: bad edge %s %s" % (ms, edge)
            edges.append((int(ms), edge))
        # Queued, not played here: the next line may hold an edge due before these (the
        # studio's page sends each edge of its button as it happens, with its time).
        start = time.monotonic()
        with self._queued:
            for ms, edge in edges:
                heapq.heappush(self._queue, (start + ms / 1000, next(self._order),
                                             edge == "down"))
            self._queued.notify()
        return "ok"

    def _play(self):
        """The queued edges, each at its time, in time order (then in the order they came)."""
        while True:
            with self._queued:
                while not self._closed and (
                        not self._queue or self._queue[0][0] > time.monotonic()):
                    self._queued.wait(self._queue[0][0] - time.monotonic()
                                      if self._queue else None)
                if self._closed:
                    return
                _, _, pressed = heapq.heappop(self._queue)
            try:
                self.press(pressed)
            except (OSError, ValueError):
                pass  # the device going away under its button: the next edge tries again


def press(entry, edges):
    """Press the button of a running virtual device: edges [(ms from now, "down"|"up")],
    played in its own process at their times. Returns its answer ("ok" once queued, or
    "error: ...")."""
    text = "press " + " ".join("%d %s" % (ms, edge) for ms, edge in edges) + "\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(15)
        s.connect(entry["control"])
        s.sendall(text.encode())
        return s.makefile("r").readline().strip()
