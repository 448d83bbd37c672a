# `massager studio`: a local web page where the firmware itself runs in the browser.
#
# A small static server on 127.0.0.1: the page (simulator/studio/), the firmware's Python
# files as they are in firmware/ right now (no copies: edit a file, reload the page), the
# headless driver from simulator/ with the simulated board it plays on (simulator/board/
# machine.py and the port profiles it imports, and sim_board.json: the Pico's pin map and
# what its ADC sees of a new cell at 3900 mV, worked out here from its circuit), and the
# pinned MicroPython WebAssembly engine from simulator/node_modules. Nothing else is served
# and the page loads nothing from elsewhere (its Content-Security-Policy says so to the
# browser).
#
# /api/...: the page's device panel (host_tools/studio_device.py): the connected boards and
# running virtual devices, push (validated here first, progress as JSON lines), the mirror
# (a virtual device's trace from an offset), its button, the sessions a device remembers.
import errno
import http.server
import json
import os
import sys
import threading
import urllib.parse
import webbrowser

from host_tools import studio_device
from simulator.device import port_modules

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PAGE = os.path.join(ROOT, "simulator", "studio")
FIRMWARE = os.path.join(ROOT, "firmware")
ENGINE = os.path.join(ROOT, "simulator", "node_modules", "@micropython",
                      "micropython-webassembly-pyscript")
ENGINE_FILES = ("micropython.mjs", "micropython.wasm")
# The simulator's MicroPython-compatible driver, shared with `massager sim --headless`.
DRIVER_FILES = ("headless.py", "batch.py")
BOARD_FILE = "sim_board.json"  # engines.sim_board(), made when asked
# The simulated machine and the port profiles it imports (simulator/board/port_*.py).
BOARD_FILES = ("machine.py",) + tuple(name + ".py" for name in port_modules())
PAGE_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
              ".py": "text/plain", ".svg": "image/svg+xml", ".png": "image/png"}
TYPES = dict(PAGE_TYPES, **{".mjs": "text/javascript", ".wasm": "application/wasm",
                            ".json": "application/json"})
# 'wasm-unsafe-eval' lets the engine compile its WebAssembly; everything else is this server.
POLICY = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
          "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "connect-src 'self'; base-uri 'none'; form-action 'none'")


class StudioError(Exception):
    """Cannot serve: one line."""


def python_files():
    """{path in the engine's /lib: URL} for every file the page's Python imports."""
    files = {}
    package = os.path.join(FIRMWARE, "massager")
    for folder, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        for name in sorted(names):
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, name), FIRMWARE).replace(os.sep, "/")
                files[rel] = "/firmware/" + rel
    for name in DRIVER_FILES:
        files[name] = "/simulator/" + name
    for name in BOARD_FILES:
        files[name] = "/simulator/board/" + name
    files[BOARD_FILE] = "/" + BOARD_FILE
    files["bridge.py"] = "/studio/bridge.py"
    return files


def board_json():
    """The simulated board the page plays on, as `massager sim --headless` plays it."""
    from simulator.engines import sim_board

    return json.dumps(sim_board())


def resolve(url_path):
    """The file behind a URL path, or None: only what the page needs is reachable."""
    path = url_path.split("?", 1)[0].split("#", 1)[0]
    if path == "/":
        return os.path.join(PAGE, "index.html")
    parts = path.lstrip("/").split("/")
    if any(p in ("", ".", "..") or "\\" in p for p in parts):
        return None
    head, rest = parts[0], parts[1:]
    if head == "studio" and len(rest) == 1 and os.path.splitext(rest[0])[1] in PAGE_TYPES:
        found = os.path.join(PAGE, rest[0])
    elif head == "engine" and len(rest) == 1 and rest[0] in ENGINE_FILES:
        found = os.path.join(ENGINE, rest[0])
    elif head == "simulator" and len(rest) == 1 and rest[0] in DRIVER_FILES:
        found = os.path.join(ROOT, "simulator", rest[0])
    elif head == "simulator" and len(rest) == 2 and rest[0] == "board" and \
            rest[1] in BOARD_FILES:
        found = os.path.join(ROOT, "simulator", "board", rest[1])
    elif head == "firmware" and rest[:1] == ["massager"] and rest[-1].endswith(".py"):
        found = os.path.join(FIRMWARE, *rest)
    else:
        return None
    return found if os.path.isfile(found) else None


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "massager-studio"
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self._answer(head_only=False)

    def do_HEAD(self):
        self._answer(head_only=True)

    def do_POST(self):
        if not self._local_host():
            return self._fail(403, "this server answers only to 127.0.0.1 and localhost")
        # A page from another site can post to 127.0.0.1 too: only this page's own
        # requests (same origin, JSON, which a plain form cannot send) reach a device.
        origin = self.headers.get("Origin")
        if origin is not None and origin != "http://" + self.headers.get("Host", ""):
            return self._fail(403, "only the studio page may use its devices")
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return self._fail(415, "send JSON")
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 <= length <= 2 * 1024 * 1024:
                raise ValueError
            request = json.loads(self.rfile.read(length))
            port = str(request["port"])
        except (ValueError, KeyError, TypeError):
            return self._fail(400, "expected JSON with a port")
        path = self.path.split("?", 1)[0]
        if path == "/api/push":
            return self._push(port, str(request.get("text", "")))
        if path == "/api/button":
            edges, at = request.get("edges"), request.get("at")
            return self._api(lambda: studio_device.press(port, edges, at) or {"ok": True})
        return self._fail(404, "not part of the studio: " + self.path)

    def _api(self, work):
        """Answer with work()'s JSON, or {"error": one line} (the CLI's)."""
        try:
            answer = work()
        except (studio_device.DeviceError, studio_device.RoutineError) as e:
            answer = {"error": str(e)}
        except (ValueError, TypeError) as e:
            answer = {"error": "bad request: %s" % e}
        self._send_json(answer)

    def _send_json(self, answer):
        body = json.dumps(answer).encode()
        self.send_response(200)
        self._headers("application/json; charset=utf-8", len(body))
        self.wfile.write(body)

    def _push(self, port, text):
        """JSON lines: {"progress": [sent, total]} per chunk, then {"ok": the line
        `massager push` prints} or {"error": its one-line error}."""
        self.send_response(200)
        self._headers("application/x-ndjson; charset=utf-8", None)
        self.close_connection = True

        def line(obj):
            self.wfile.write(json.dumps(obj).encode() + b"\n")
            self.wfile.flush()

        try:
            line({"ok": studio_device.push(port, text, lambda done, total: line(
                {"progress": [done, total]}))})
        except (studio_device.DeviceError, studio_device.RoutineError) as e:
            line({"error": str(e)})

    def _answer(self, head_only):
        if not self._local_host():
            return self._fail(403, "this server answers only to 127.0.0.1 and localhost")
        path, _, query = self.path.partition("?")
        if path.startswith("/api/"):
            return self._get_api(path, urllib.parse.parse_qs(query))
        if self.path.split("?", 1)[0] == "/files.json":
            body = json.dumps(python_files()).encode()
            kind = ".json"
        elif self.path.split("?", 1)[0] == "/" + BOARD_FILE:
            body = board_json().encode()
            kind = ".json"
        else:
            path = resolve(self.path)
            if path is None:
                return self._fail(404, "not part of the studio: " + self.path)
            with open(path, "rb") as f:
                body = f.read()
            kind = os.path.splitext(path)[1]
        self.send_response(200)
        ctype = TYPES.get(kind, "application/octet-stream")
        if ctype.startswith("text/") or ctype == "application/json":
            ctype += "; charset=utf-8"
        self._headers(ctype, len(body))
        if not head_only:
            self.wfile.write(body)

    def _get_api(self, path, query):
        port = query.get("port", [""])[0]
        if path == "/api/devices":
            return self._api(lambda: {"devices": studio_device.devices()})
        if path == "/api/mirror":
            def mirror():
                lines, offset = studio_device.mirror(port, int(query.get("from", ["0"])[0]))
                return {"lines": lines, "from": offset}
            return self._api(mirror)
        if path == "/api/history":
            return self._api(lambda: studio_device.sessions(port))
        return self._fail(404, "not part of the studio: " + self.path)

    def _local_host(self):
        # A page elsewhere could point a DNS name at 127.0.0.1; such requests are refused.
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        return host in ("127.0.0.1", "localhost")

    def _fail(self, code, message):
        body = (message + "\n").encode()
        self.send_response(code)
        self._headers("text/plain; charset=utf-8", len(body))
        self.wfile.write(body)

    def _headers(self, ctype, length):
        self.send_header("Content-Type", ctype)
        if length is None:  # a stream: it ends when the connection closes
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(length))
        # Always fresh: a firmware file edited in the tree shows on the next reload.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()

    def log_message(self, format, *args):
        pass  # quiet: the terminal shows the address and errors only


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A browser that closes a connection it no longer needs is not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Studio:
    """The server on 127.0.0.1, in a background thread: `with Studio() as s: s.url`."""

    def __init__(self, port=0):
        if not 0 <= port <= 65535:
            raise StudioError("--port must be 0..65535, got %d" % port)
        missing = [f for f in ENGINE_FILES if not os.path.isfile(os.path.join(ENGINE, f))]
        if missing:
            raise StudioError("MicroPython WebAssembly is not installed (%s missing): run "
                              "`make setup` (npm ci --prefix simulator)" % ", ".join(missing))
        try:
            self.httpd = Server(("127.0.0.1", port), Handler)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise StudioError("port %d is in use: choose another --port, or leave it out "
                                  "for a free one" % port) from None
            raise StudioError("cannot listen on 127.0.0.1:%d: %s" % (
                port, e.strerror or e)) from None
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/" % self.port
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def close(self):
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def open_browser(url):
    """Open `url` in a graphical browser where there is one; False when there is none."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return False  # only text browsers could start here, and they would take the terminal
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def main(port=0, browser=True, out=sys.stdout):
    """Serve until Ctrl-C. Returns the exit code; problems are one line on stderr."""
    try:
        studio = Studio(port)
    except StudioError as e:
        print("massager studio: %s" % e, file=sys.stderr)
        return 1
    with studio:
        try:
            print("massager studio: serving %s (Ctrl-C to stop)" % studio.url, file=out,
                  flush=True)
            if browser and not open_browser(studio.url):
                print("massager studio: no browser found here: open the address above in one",
                      file=out, flush=True)
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0
