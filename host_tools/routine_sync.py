# Routines on a device: push (validate here, atomic install there), pull, ls, rm.
#
# A push never leaves a half-written routine: the bytes go to /routines/.<name>.tmp, and the
# firmware's Store.install() checks their hash, validates them and renames them into place.
import binascii
import hashlib
import json
import os
import sys

from host_tools import routines
from host_tools.device import ConnectionLost, DeviceError, kb, probe, routine_files
from host_tools.routines import RoutineError
from massager import program, routine
from massager.program import clock_text
from massager.store import Store

STORE = Store("/")


def prepare(refs):
    """[(name, bytes, Program)] for routine files (or built-in names), each validated with
    the firmware's own validator; RoutineError names the file, step and field."""
    return prepare_data(routines.source(ref) for ref in refs)


def prepare_data(sources):
    """prepare() for [(label, bytes or str)] already read (the studio's editor)."""
    items = []
    for label, data in sources:
        if isinstance(data, str):
            data = data.encode("utf-8")
        prog, errors = program.load(data)
        if errors:
            more = " (+%d more)" % (len(errors) - 1) if len(errors) > 1 else ""
            raise RoutineError("%s: %s%s" % (label, errors[0], more))
        items.append((prog.name, data, prog))
    return items


# Run on the device before the first bytes of a routine are written, in the same round
# trip: is the firmware there, is there room for the temp file beside the old routine?
# It raises to stop the write; push() turns that into a one-line error. Terse on purpose:
# every byte of it crosses the link on every push (at 115200 baud, 100 bytes take 9 ms).
_PRECHECK = """import os
try:
 import massager
except ImportError:
 raise OSError('PUSH:nofw')
try:
 os.mkdir(%r)
except OSError:
 pass
_s=os.statvfs('/')
_b=_s[0]
if _b*_s[4]<(%d+_b-1)//_b*_b+_b:
 raise OSError('PUSH:full %%d'%%(_b*_s[4]))
del _s,_b
"""


def push(dev, items, out=print, progress=None):
    """Install each (name, bytes, Program) on the device; one line per routine.
    progress(n) after each chunk of n bytes is written.

    A routine of one chunk is a single round trip: the check, the write to a temp file and
    the install (hash check, validation, rename) travel together."""
    for name, data, prog in items:
        sha = hashlib.sha256(data).hexdigest()
        # the answer: the install's verdict, and whether a built-in had that name
        install = ("from massager.store import Store\nfrom massager import routines\n"
                   "print(Store('/').install(%r, %r), %r in routines.NAMES)" % (name, sha, name))
        try:
            answer = dev.write_file(STORE.temp_path(name), data, then=install,
                                    before=_PRECHECK % (STORE.dir, len(data)),
                                    progress=progress).strip()
        except ConnectionLost:
            raise ConnectionLost("connection lost during push of %s: the device has its "
                                 "previous routine or the new one, whole (check with "
                                 "`massager ls`)" % name) from None
        except DeviceError as e:
            raise _precheck_error(str(e), dev.port, name, len(data)) from None
        verdict, _, builtin = answer.rpartition(" ")
        if verdict != "ok":
            raise DeviceError("%s: the device refused it: %s" % (name, verdict or answer))
        out("%s: installed (%s, %s)%s" % (
            name, clock_text(prog.total_ms), kb(len(data)),
            "; it replaces the built-in %s (`massager rm %s` brings the built-in back)" % (
                name, name) if builtin == "True" else ""))


def _precheck_error(message, port, name, size):
    if "PUSH:nofw" in message:
        return DeviceError("no massager firmware on %s: run `massager flash` first" % port)
    if "PUSH:full" in message:
        free = int(message.rsplit("PUSH:full", 1)[1].split()[0].strip("'\")"))
        return DeviceError("flash full: %s needs %s, %s free on %s (remove a routine with "
                           "`massager rm NAME`)" % (name, kb(size), kb(free), port))
    return DeviceError(message)


def output_path(name, output):
    """Where `pull` writes: NAME.json, FILE, DIR/NAME.json, or "-" for stdout."""
    if output == "-":
        return output
    dest = output or name + ".json"
    return os.path.join(dest, name + ".json") if os.path.isdir(dest) else dest


def pull(dev, name, dest, force=False):
    """Copy /routines/<name>.json byte for byte to `dest` ("-": stdout)."""
    check_name(name)
    if dest != "-" and os.path.exists(dest) and not force:
        raise DeviceError("%s exists: add --force to overwrite it" % dest)
    try:
        data = dev.read_file(STORE.path(name))
    except ConnectionLost:
        raise
    except DeviceError:
        data = _builtin(dev, name)  # a routine to start from: the firmware's own
        if data is None:
            raise DeviceError(_missing(dev, name)) from None
    if dest == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return data
    tmp = dest + ".part"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)  # a pulled cable never leaves half a file here either
    except OSError as e:
        if os.path.isfile(tmp):
            os.remove(tmp)
        raise DeviceError("%s: cannot write: %s" % (dest, e.strerror or e)) from None
    return data


_BUILTIN_TEXT = """import binascii
from massager import routines
print(binascii.b2a_base64(routines.text(%r).encode()).decode() if %r in routines.NAMES
      else '-')
"""


def _builtin(dev, name):
    """The JSON of the device firmware's built-in routine `name`, or None."""
    try:
        out = dev.exec(_BUILTIN_TEXT % (name, name)).strip()
    except ConnectionLost:
        raise
    except DeviceError:  # no firmware
        return None
    return None if out == "-" else binascii.a2b_base64(out)


def _missing(dev, name):
    info = probe(dev)
    names = sorted(routine_files(info))
    if name in (info["builtins"] or ()):
        return "%s is built into the firmware, not a file on the device" % name
    return "no routine %s on the device (routines: %s)" % (name, ", ".join(names) or "none")


def check_name(name):
    if name.endswith(".json") and routine.valid_name(name[:-5]):
        raise DeviceError("%s: give the routine's name, without .json: %s" % (name, name[:-5]))
    if not routine.valid_name(name):
        raise DeviceError("bad routine name %r: 1-24 of a-z 0-9 - _" % name)


# The device's own built-ins, as its firmware compiles them: [name, title, ms] per line.
_BUILTINS = """import json
from massager import program, routines
for _n in routines.NAMES:
    _p = program.load(routines.text(_n))[0]
    print(json.dumps([_n, _p.title, _p.total_ms] if _p else [_n, None, None]))
del _n, _p
"""


def listing(dev):
    """(rows (name, title, duration, size, note) of the routines on the device, whether
    its firmware is there)."""
    info = probe(dev)
    rows = []
    user = routine_files(info)
    for name in sorted(user):
        try:
            data = dev.read_file(STORE.path(name))
            prog, errors = program.load(data)
        except ConnectionLost:
            raise
        except DeviceError:
            prog, errors = None, ["cannot read"]
        note = "INVALID: %s" % errors[0] if errors else ""
        if not errors and name in (info["builtins"] or ()):
            note = "replaces the built-in"
        rows.append((name, prog.title if prog else "?",
                     clock_text(prog.total_ms) if prog else "?", kb(user[name]), note))
    if info["builtins"] is None:
        return rows, False
    for line in dev.exec(_BUILTINS).splitlines():
        name, title, ms = json.loads(line)
        if name not in user:
            rows.append((name, title or "?", clock_text(ms) if ms else "?", "-", "built-in"))
    return rows, True


def remove(dev, name):
    """Remove /routines/<name>.json with the firmware's own Store.remove."""
    check_name(name)
    try:
        answer = dev.exec("from massager.store import Store\nprint(Store('/').remove(%r))"
                          % name).strip()
    except ConnectionLost:
        raise
    except DeviceError as e:
        if "massager" in str(e) and "ImportError" in str(e):
            raise DeviceError("no massager firmware on %s: run `massager flash` first, or "
                              "remove the file with mpremote" % dev.port) from None
        raise
    if answer != "ok":
        raise DeviceError(_missing(dev, name))
