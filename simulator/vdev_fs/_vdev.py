# Virtual-device side of simulator/vdev: a VFS at "/" that serves the host flash directory.
# Runs inside MicroPython WebAssembly. Every call goes straight to the host filesystem through
# the JS module `vdevhost` (vdev_host.mjs), so what a program writes is on the host at once
# and survives soft resets, interpreter restarts (Ctrl-C on a hung program) and vdev restarts.
# JS returns a negative MicroPython errno on failure (ENOENT 2, EEXIST 17, ...).
import io
import json
import sys

import vdevhost

S_IFDIR = 0x4000
S_IFREG = 0x8000
BLOCK = 4096
FLASH_BLOCKS = 512  # a 2 MB flash
PRIVATE = "/.vdev"


def _check(r):
    if isinstance(r, int) and r < 0:
        raise OSError(-r)
    return r


class HostFile(io.IOBase):
    # Binary file: io.IOBase gives it the stream protocol, so read(), readline(), import and
    # hashlib-by-readinto all work through readinto() and write().
    def __init__(self, fd):
        self.fd = fd

    def read(self, n=-1):
        return bytes(_check(vdevhost.read(self.fd, n if n >= 0 else 1 << 30)))

    def readline(self):
        out = b""
        while True:
            c = self.read(1)
            out += c
            if not c or c == b"\n":
                return out

    def readinto(self, buf):
        data = _check(vdevhost.read(self.fd, len(buf)))
        n = len(data)
        if n:
            buf[:n] = bytes(data)
        return n

    def write(self, buf):
        return _check(vdevhost.write(self.fd, bytes(buf)))

    def ioctl(self, req, arg):
        if req == 4:  # close
            self.close()
        elif req == 2:  # seek: arg is a (offset, whence) buffer handled in seek()
            return -1
        return 0

    def seek(self, offset, whence=0):
        return _check(vdevhost.seek(self.fd, offset, whence))

    def tell(self):
        return self.seek(0, 1)

    def flush(self):
        pass

    def close(self):
        if self.fd is not None:
            vdevhost.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __del__(self):
        self.close()


class TextFile(HostFile):
    # Text mode: str in, str out (UTF-8), like a board's open(path) / open(path, 'w').
    def read(self, n=-1):
        data = bytes(_check(vdevhost.read(self.fd, n if n >= 0 else 1 << 30)))
        for _ in range(3):
            try:
                return data.decode()
            except UnicodeError:  # a multi-byte character split at the end: read on
                more = bytes(_check(vdevhost.read(self.fd, 1)))
                if not more:
                    break
                data += more
        return data.decode()

    def readline(self):
        out = b""
        while True:
            c = bytes(_check(vdevhost.read(self.fd, 1)))
            out += c
            if not c or c == b"\n":
                return out.decode()

    def readlines(self):
        return list(iter(self.readline, ""))

    def __iter__(self):
        return iter(self.readline, "")

    def write(self, s):
        if isinstance(s, str):
            s = s.encode()
        return _check(vdevhost.write(self.fd, s))


class HostVFS:
    # Paths under /.vdev (this package and --lib dirs, in the wasm's own filesystem) go to an
    # unmounted VfsPosix, so they are importable but not listed on the device.
    def __init__(self, internal):
        self.cwd = "/"
        self.internal = internal

    def __repr__(self):
        return "<HostVFS>"

    def _p(self, path):
        if not path.startswith("/"):
            path = self.cwd.rstrip("/") + "/" + path
        return path

    def _int(self, path):
        path = self._p(path)
        if path == PRIVATE or path.startswith(PRIVATE + "/"):
            return path[len(PRIVATE):] or "/"
        return None

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def open(self, path, mode):
        p = self._int(path)
        if p is not None:
            return self.internal.open(p, mode)
        fd = _check(vdevhost.open(self._p(path), mode))
        return HostFile(fd) if "b" in mode else TextFile(fd)

    def ilistdir(self, path):
        for name, kind, size in json.loads(_check(vdevhost.listdir(self._p(path)))):
            yield (name, S_IFDIR if kind == "d" else S_IFREG, 0, size)

    def stat(self, path):
        p = self._int(path)
        if p is not None:
            return self.internal.stat(p)
        kind, size, mtime = json.loads(_check(vdevhost.stat(self._p(path))))
        mode = S_IFDIR if kind == "d" else S_IFREG
        return (mode, 0, 0, 0, 0, 0, size, mtime, mtime, mtime)

    def statvfs(self, path):
        used = _check(vdevhost.usedBlocks(BLOCK))
        free = max(0, FLASH_BLOCKS - used)
        return (BLOCK, BLOCK, FLASH_BLOCKS, free, free, 0, 0, 0, 0, 255)

    def mkdir(self, path):
        _check(vdevhost.mkdir(self._p(path)))

    def rmdir(self, path):
        _check(vdevhost.rmdir(self._p(path)))

    def remove(self, path):
        _check(vdevhost.remove(self._p(path)))

    def rename(self, old, new):
        _check(vdevhost.rename(self._p(old), self._p(new)))

    def chdir(self, path):
        path = self._p(path)
        if self.stat(path)[0] != S_IFDIR:
            raise OSError(20)
        self.cwd = path

    def getcwd(self):
        return self.cwd


def _no_input(prompt=""):
    # There is no interactive stdin on the virtual device: never block.
    print(prompt, end="")
    raise EOFError("no input on the virtual device")


def setup():
    import builtins
    import os

    import vfs

    vfs.umount("/")
    vfs.mount(HostVFS(vfs.VfsPosix("/vdev")), "/")
    os.chdir("/")
    builtins.input = _no_input
    sys.path[:] = ["", ".frozen", "/lib", "/.vdev"]


FROZEN = None  # a --frozen image's directory: its boot.py and main.py win over files


def run_file(name):
    # Run /boot.py or /main.py in __main__'s globals, like a board's pyexec_file.
    import __main__

    src = None
    for path in ((FROZEN + name) if FROZEN else None, name):
        if path is None:
            continue
        try:
            with open(path) as f:
                src = f.read()
            break
        except OSError:
            pass
    if src is None:
        return
    try:
        exec(compile(src, name, "exec"), __main__.__dict__)
    except SystemExit:
        raise
    except BaseException as e:
        s = io.StringIO()
        sys.print_exception(e, s)
        lines = s.getvalue().split("\n")
        print("\n".join(ln for ln in lines if '"<stdin>"' not in ln), end="")


_motor_pin = None  # the board's motor pin (the host's board.json): traces read its duty


def trace(line):
    # A line of the firmware's trace (massager.trace.line), with the duty the motor's PWM
    # pin holds now, read from the simulated pin: what the motor gets, not what the app
    # asked for.
    import machine

    from massager import trace as fmt

    duty = machine.sim.duty(_motor_pin) if _motor_pin is not None else 0
    vdevhost.trace(fmt.with_duty(line, duty))


def restore_chip(text):
    # What outlives this interpreter's start on a board: the port, the reset cause, the
    # watchdog (armed, and how long since its last feed), RTC memory, the ADC inputs, and
    # the power: the latch (hold pin still driven high across a soft reset), USB, a finger
    # on the button.
    import binascii

    import machine
    import vdevhost

    global _motor_pin
    state = json.loads(text)
    _motor_pin = state.get("motor_pin")
    sim = machine.sim
    sim.set_port(state["port"])
    _be_the_port(state["port"])
    sim.cause = state["cause"]
    sim.rtc_memory = binascii.unhexlify(state["rtc"])
    if state.get("clock") is not None:
        sim.rtc_s = state["clock"]
    sim.set_adc_view(state["adc"])
    if state["wdt"]:
        timeout, since = state["wdt"]
        sim.wdt = machine._Watchdog()
        sim.wdt.timeout = timeout
        sim.wdt.last_feed = sim.now() - since
    latch = state.get("latch")
    if latch:
        hold, button, active_low = latch
        sim.latch = (hold, button, active_low)
        if state.get("hold"):
            pin = sim.pin(hold)
            pin.func, pin.mode, pin.level = "out", machine.Pin.OUT, 1
        if state.get("pressed"):
            sim.set_level(button, 0 if active_low else 1)
    set_usb(state.get("usb", True), state.get("usb_pin"))
    sim.host = vdevhost


_usb_pin = None  # the board's power.usb_pin (VBUS on a Pico), or None


def set_usb(on, usb_pin=None):
    # USB plugged in or pulled (the host's "usb" command): VBUS on the board's usb_pin.
    import machine

    global _usb_pin
    if usb_pin is not None:
        _usb_pin = usb_pin
    machine.sim.usb = bool(on)
    if _usb_pin is not None:
        machine.sim.set_level(_usb_pin, 1 if on else 0)


def hold_level():
    # The latch's hold pin now: 1 driven high, 0 not, -1 no latch (told to the host after
    # boot.py, which drives it first of all on a latched board).
    import machine

    sim = machine.sim
    if sim.latch is None:
        return -1
    h = sim.pins.get(sim.latch[0])
    return 1 if h is not None and h.func == "out" and h.level else 0
# What a build of each port says it is: sys.platform (MICROPY_PY_SYS_PLATFORM in
# ports/*/mpconfigport.h) and the native arch in sys.implementation._mpy >> 10 (py/
# persistentcode.h: MPY_FEATURE_ARCH; rp2 emits Thumb for ARMV6M, 4; an ESP32 build
# MICROPY_EMIT_XTENSAWIN, 10). The wasm build says webassembly and no arch: the host tools
# must see the board, or they would pick a board by a guess a real one never allows.
PORT_IDENTITY = {"rp2": (b"rp2", 4), "esp32": (b"esp32", 10)}
_platform = None  # the bytes sys.platform points at now: kept alive here


def _be_the_port(port):
    # sys and its implementation tuple are constants in the image (no attribute can be
    # set): write the two words in place, in the wasm's linear memory.
    import struct

    import uctypes

    global _platform
    name, arch = PORT_IDENTITY[port]
    impl = sys.implementation
    words = uctypes.bytearray_at(id(impl), 4 * (2 + len(impl)))  # base, len, items
    old = impl._mpy << 1 | 1  # a small int, as MICROPY_OBJ_REPR_A stores it
    at = [i for i in range(len(impl)) if struct.unpack_from("<I", words, 8 + 4 * i)[0] == old]
    struct.pack_into("<I", words, 8 + 4 * at[0], ((impl._mpy & 0x3FF) | arch << 10) << 1 | 1)
    _platform = name + b"\0"
    text = uctypes.bytearray_at(id(sys.platform), 16)  # mp_obj_str_t: base, hash, len, data
    struct.pack_into("<III", text, 4, 0, len(name), uctypes.addressof(_platform))


def set_adc(text):
    # The host changed the cell (VirtualDevice.set_battery): its "adc" command, the ADC's
    # inputs from simulator/adc_view.py (the rail, each pin, and the cell's sag under the
    # motor).
    import machine

    machine.sim.set_adc_view(json.loads(text))


def interrupt():
    # Ctrl-C reaching a firmware that runs as asyncio tasks: stop it the way a board's
    # KeyboardInterrupt would, through its own cleanup. False: no firmware loop to stop.
    try:
        from massager import runtime
    except ImportError:
        return False
    rt = getattr(runtime, "current", None)
    return rt is not None and rt.interrupt()
