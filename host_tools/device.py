# A connection to one MicroPython device over mpremote's SerialTransport.
#
# Everything that can go wrong on the wire ends as a DeviceError (one line): the CLI prints
# it like a routine error. A serial failure in the middle of a command is ConnectionLost,
# so callers can say what state the device is left in.
import binascii
import contextlib
import inspect
import io
import os
import sys

import serial
import serial.tools.list_ports
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from host_tools.routines import RoutineError
from massager import store

# USB vendor ids of boards that run MicroPython: Raspberry Pi (RP2040), Espressif, and the
# usual USB-serial bridges on ESP32 dev kits (Silicon Labs, WCH, FTDI), MicroPython's own.
MICROPYTHON_VIDS = (0x2E8A, 0x303A, 0x10C4, 0x1A86, 0x0403, 0xF055)
CHUNK = 2048  # bytes per write command: small enough for an RP2040 heap, few round trips
ANSWER_TIMEOUT = 10  # seconds a device may stay silent in the middle of a reply
RAW_REPL_ATTEMPTS = 2  # tries at the raw REPL once the device has answered
# A port that says nothing at all for this long is given up on: a board answers Ctrl-C at
# once, or within its boot (about 1 s for the firmware on an RP2040; 2 s on the emulated
# one, which runs slower than the chip).
SILENT_S = 5
KNOCK_S = 1.0  # Ctrl-C again after this long without an answer (and say we wait)
# Ctrl-C (stops running code, ends a raw-paste or paste), Ctrl-B (friendly REPL, which
# prints its banner): every state a device can be left in answers these.
RECOVER = b"\r\x03\x03\x02"
SILENT_ADVICE = ("not a MicroPython board, or it hangs: press its reset button or unplug "
                 "and replug it (a virtual device: restart `massager vdev`), then try again")
STUCK_ADVICE = ("a program on it ignores Ctrl-C: press its reset button or unplug and "
                "replug it (a virtual device: restart `massager vdev`), then try again")
# The firmware's own rename-over-a-file rule, sent as code: it must work before the
# firmware is on the device (flash writes through it).
_REPLACE_FILE = "import os\n" + inspect.getsource(store.replace_file)


class DeviceError(RoutineError):
    """One line about a device: printed by cli.main, exit 1."""


class ConnectionLost(DeviceError):
    """The serial link broke in the middle of a command."""


def detected_ports():
    """Serial ports that look like MicroPython boards, sorted by name."""
    found = [p.device for p in serial.tools.list_ports.comports()
             if p.vid is not None and p.vid in MICROPYTHON_VIDS]
    return sorted(found)


def candidate_ports(ports):
    """The ports given with --port (used as is, e.g. a vdev pty; each once), else the
    detected ones."""
    return list(dict.fromkeys(ports)) if ports else detected_ports()


def pick_port(ports):
    """The one port to use: a given one, or the only connected device."""
    if ports and len(ports) > 1:
        raise DeviceError("give one --port for this command, got %d" % len(ports))
    found = candidate_ports(ports)
    if not found:
        raise DeviceError("no device: connect one by USB or give --port PORT")
    if len(found) > 1:
        raise DeviceError("%d devices found, pick one with --port: %s" % (
            len(found), ", ".join(found)))
    return found[0]


def _open_problem(port):
    """Why `port` cannot be opened, in one line."""
    try:
        serial.Serial(port, exclusive=True).close()
    except serial.SerialException as e:
        text = str(e)
        if "configure port" in text:  # termios refused: a file, not a terminal
            return "%s is not a serial port" % port
        if e.errno == 13 or "ermission denied" in text:  # EACCES
            return ("no permission to open %s (on Linux: add yourself to the dialout group, "
                    "then log in again)" % port)
        if "exclusively lock" not in text:
            return "cannot open %s: %s" % (port, _last_line(text))
    return ("device busy: %s is open in another program (close mpremote, Thonny or a "
            "serial monitor)" % port)


def _last_line(text):
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


class Device:
    """`with Device(port) as dev:` -> raw REPL on the device, closed (and reset) at exit."""

    def __init__(self, port, timeout=None, soft_reset=True, silent=None):
        self.port = port
        self.timeout = timeout or ANSWER_TIMEOUT
        self.silent = min(silent or SILENT_S, self.timeout)  # see _wake
        self.soft_reset = soft_reset
        # Every command leaves the firmware running again: a soft reset in the friendly
        # REPL runs main.py (mpremote alone would leave the board at its REPL). Not after
        # a flash that failed half-way: `writing_firmware` holds that back.
        self.reset_on_close = True
        self.writing_firmware = False
        self._t = None

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close(reset=self.reset_on_close and (exc[0] is None or not self.writing_firmware))

    def open(self):
        if not os.path.exists(self.port):
            raise DeviceError("no device at %s" % self.port)
        try:
            self._t = SerialTransport(self.port, exclusive=True)
        except TransportError:  # mpremote keeps no reason: ask the port again for one
            raise DeviceError(_open_problem(self.port)) from None
        # mpremote reads a pty with blocking read(1): a silent one would hang it forever.
        # Bounded reads let its own timeouts (self.timeout of silence) apply.
        self._t.serial.timeout = self.timeout
        self._wake()
        # A board that is still booting (every command ends with a soft reset, and the
        # firmware compiles its routines at start) can drop the Ctrl-A that follows
        # mpremote's Ctrl-C: the USB stack flushes what came with the Ctrl-C. Ask again.
        for attempt in range(RAW_REPL_ATTEMPTS):
            got = io.StringIO()  # enter_raw_repl prints what it got when it fails
            try:
                with contextlib.redirect_stdout(got):
                    self._t.enter_raw_repl(soft_reset=self.soft_reset,
                                           timeout_overall=self.timeout)
                break
            except (TransportError, serial.SerialException, OSError):
                if attempt == RAW_REPL_ATTEMPTS - 1 or not os.path.exists(self.port):
                    self.close()
                    raise DeviceError("%s answers but gives no raw REPL: %s" % (
                        self.port, STUCK_ADVICE)) from None
                self._write(RECOVER)
        self.set_clock()

    def set_clock(self, now=None):
        """Set the device's clock to this computer's local time, as mpremote's `rtc --set`
        does, so the sessions it remembers carry dates (firmware/massager/history.py).
        Every command connects here, so every command sets it."""
        import time

        t = time.localtime(now)
        self.exec("try:\n import machine\n machine.RTC().datetime(%r)\nexcept Exception:\n"
                  " pass\n" % ((t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour,
                                t.tm_min, t.tm_sec, 0),))

    def _wake(self):
        """Make the device say something, whatever state a killed host left it in
        (running code, raw REPL, raw-paste, paste mode): Ctrl-C stops code and ends a
        paste, Ctrl-B leaves the raw REPL with a banner. A port that stays silent is given
        up on after self.silent, with a word on a terminal's stderr while it waits (a
        script gets only the one line of the error)."""
        port = self._t.serial
        wait = self.silent
        heard, waited = b"", 0
        while not heard and waited < wait:
            # Knock again each time: a board that is booting (a soft reset restarts its
            # USB) drops what came before it was ready.
            self._write(RECOVER)
            port.timeout = min(KNOCK_S, wait - waited)
            heard = port.read(1)
            waited += port.timeout
            if not heard and waited == KNOCK_S and sys.stderr.isatty():  # for a person:
                print("massager: waiting for %s to answer..." % self.port, file=sys.stderr,
                      flush=True)
        port.timeout = self.timeout
        if not heard:
            self.close()
            raise DeviceError("no answer from %s in %g s: %s" % (self.port, wait,
                                                                 SILENT_ADVICE))

    def _write(self, data):
        try:
            self._t.serial.write(data)
        except (serial.SerialException, OSError):
            self.close()
            raise ConnectionLost("connection to %s lost" % self.port) from None

    def close(self, reset=False):
        t, self._t = self._t, None
        if t is None:
            return
        try:
            if t.in_raw_repl:
                # Maybe cut mid-command (Ctrl-C, a failure): end a raw-paste or stop the
                # code first, or the Ctrl-B would be more of the code (at an idle raw
                # prompt Ctrl-C only clears the empty line).
                t.serial.write(b"\r\x03")
            if reset:
                t.exit_raw_repl()  # friendly REPL: a soft reset there runs main.py too
                t.serial.write(b"\x04")
                t.read_until(1, b"soft reboot\r\n", timeout=self.timeout)
            elif t.in_raw_repl:
                t.exit_raw_repl()
        except (TransportError, serial.SerialException, OSError):
            pass  # closing a dead link: nothing left to tell the device
        try:
            t.close()
        except (serial.SerialException, OSError):
            pass

    # -- commands ----------------------------------------------------------------------

    def exec(self, code):
        """Run code in the raw REPL; its stdout as str. A device exception is a
        DeviceError with the exception's last line; a broken link is ConnectionLost."""
        try:
            out, err = self._t.exec_raw(code, timeout=self.timeout)
        except (TransportError, serial.SerialException, OSError) as e:
            raise ConnectionLost("connection to %s lost: %s" % (self.port,
                                                                 _last_line(str(e)))) from None
        if err:
            raise DeviceError("%s: %s" % (self.port, _last_line(err.decode("utf-8",
                                                                          "replace"))))
        return out.decode("utf-8", "replace")

    def eval(self, expr):
        """The value of a Python literal the device prints with repr()."""
        import ast

        return ast.literal_eval(self.exec("print(repr(%s))" % expr).strip())

    def write_file(self, path, data, tmp=None, progress=None, then="", before=""):
        """Write bytes to `path`; through `tmp` and a rename when given, so the file at
        `path` is always whole. progress(n) is called after each chunk. `before` is code
        run first (it may raise to stop the write), `then` code run right after, both in
        the same round trips; the last one's output is returned."""
        target = tmp or path
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        finish = "_f.close()\ndel _f,_w\n"
        if tmp:
            finish += _REPLACE_FILE + "replace_file(%r,%r)\ndel replace_file\n" % (tmp, path)
        out = ""
        # One round trip per chunk: the first also opens the file, the last also closes it
        # (and runs `then`), so a small file costs a single exec.
        for n, chunk in enumerate(chunks):
            code = before + "import binascii\n_f=open(%r,'wb')\n_w=_f.write\n" % target \
                if n == 0 else ""
            if chunk:
                code += "_w(%s)\n" % _literal(chunk)
            if n == len(chunks) - 1:
                code += finish + then
            out = self.exec(code)
            if progress:
                progress(len(chunk))
        return out

    def read_file(self, path):
        """The bytes of a file; DeviceError 'no such file' when it is missing."""
        code = ("import binascii\ntry:\n _f=open(%r,'rb')\nexcept OSError:\n print('-')\n"
                "else:\n while 1:\n  _b=_f.read(%d)\n  if not _b:\n   break\n"
                "  print(binascii.b2a_base64(_b).decode(),end='')\n _f.close()\n print('.')"
                % (path, CHUNK))
        out = self.exec(code).split()
        if out[:1] == ["-"]:
            raise DeviceError("%s: no such file on the device" % path)
        return b"".join(binascii.a2b_base64(line) for line in out[:-1])


def _literal(chunk):
    """Python source for the bytes, as few as the link can carry: a bytes literal for
    text (a routine: about 1.0x), base64 for binary (.mpy: 1.33x, where repr is ~2x)."""
    lit = repr(chunk)
    b64 = "binascii.a2b_base64(%r)" % binascii.b2a_base64(chunk, newline=False)
    return lit if len(lit) <= len(b64) else b64


# One round trip for everything the commands want to know about a device. Never raises on
# the device: a missing firmware or file is simply None.
_PROBE = """
import os, sys, json
def _probe():
    r = {'mpy': getattr(sys.implementation, '_mpy', 0), 'platform': sys.platform,
         'micropython': '.'.join(str(v) for v in sys.implementation.version[:3])}
    def text(p):
        try:
            with open(p) as f:
                return f.read()
        except OSError:
            return None
    r['board_json'] = text('/board.json')
    r['manifest'] = text('/lib/massager/manifest.json')
    try:
        import massager
        r['version'] = massager.VERSION
        # Frozen into the image: .frozen comes before /lib on sys.path, so it wins.
        r['frozen'] = not getattr(massager, '__file__', '/lib/').startswith('/lib/')
    except Exception:
        r['version'] = None
        r['frozen'] = False
    log = text('/error.log') or ''
    r['watchdog_resets'] = log.count('boot: watchdog reset')
    try:
        from massager import routines
        r['builtins'] = list(routines.NAMES)
    except Exception:
        r['builtins'] = None
    s = os.statvfs('/')
    r['free'] = s[0] * s[4]
    r['total'] = s[0] * s[2]
    r['block'] = s[0]
    files = []
    try:
        for e in os.ilistdir('/routines'):
            files.append([e[0], os.stat('/routines/' + e[0])[6]])
    except OSError:
        pass
    r['routine_files'] = files
    print(json.dumps(r))
_probe()
del _probe
"""


def probe(dev, code=_PROBE):
    """A dict: mpy, micropython, version, builtins, board_json, manifest, free, total,
    block, routine_files ([name, size])."""
    import json

    out = dev.exec(code)
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise DeviceError("%s: unexpected answer: %s" % (dev.port, _last_line(out))) from None


def routine_files(info):
    """{name: size} of the user routines (/routines/<name>.json) in a probe()."""
    return {store.routine_name(f): size for f, size in info["routine_files"]
            if store.routine_name(f)}


def kb(n):
    return "%.1f KB" % (n / 1024)
