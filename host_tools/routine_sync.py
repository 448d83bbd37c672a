# Routines on a device: push (validate here, atomic install there), pull, ls, rm.
#
# A push never leaves a half-written routine: the bytes go to /routines/.<name>.tmp, and the
# firmware's Store.install() checks their hash, validates them and renames them into place.
import hashlib
import os

from host_tools import routines
from host_tools.device import ConnectionLost, DeviceError, kb, probe, routine_files
from host_tools.routines import RoutineError
from massager import program
from massager.program import clock_text
from massager.store import Store, valid_name

STORE = Store("/")


def prepare(refs):
    """[(name, bytes, Program)] for routine files (or built-in names), each validated with
    the firmware's own validator; RoutineError names the file, step and field."""
    items = []
    for ref in refs:
        label, data = routines.source(ref)
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


def push(dev, items, out=print):
    """Install each (name, bytes, Program) on the device; one line per routine.

    A routine of one chunk is a single round trip: the check, the write to a temp file and
    the install (hash check, validation, rename) travel together."""
    for name, data, prog in items:
        sha = hashlib.sha256(data).hexdigest()
        install = "from massager.store import Store\nprint(Store('/').install(%r, %r))" % (
            name, sha)
        try:
            answer = dev.write_file(STORE.temp_path(name), data, then=install,
                                    before=_PRECHECK % (STORE.dir, len(data))).strip()
        except ConnectionLost:
            raise ConnectionLost("connection lost during push of %s: the device has its "
                                 "previous routine or the new one, whole (check with "
                                 "`massager ls`)" % name) from None
        except DeviceError as e:
            raise _precheck_error(str(e), dev.port, name, len(data)) from None
        if answer != "ok":
            raise DeviceError("%s: the device refused it: %s" % (name, answer))
        out("%s: installed (%s, %s)" % (name, clock_text(prog.total_ms), kb(len(data))))


def _precheck_error(message, port, name, size):
    if "PUSH:nofw" in message:
        return DeviceError("no massager firmware on %s: run `massager flash` first" % port)
    if "PUSH:full" in message:
        free = int(message.rsplit("PUSH:full", 1)[1].split()[0].strip("'\")"))
        return DeviceError("flash full: %s needs %s, %s free on %s (remove a routine with "
                           "`massager rm NAME`)" % (name, kb(size), kb(free), port))
    return DeviceError(message)


def pull(dev, name, dest, force=False):
    """Copy /routines/<name>.json byte for byte to `dest`."""
    check_name(name)
    if os.path.exists(dest) and not force:
        raise DeviceError("%s exists: add --force to overwrite it" % dest)
    path = "%s/%s.json" % (STORE.dir, name)
    try:
        data = dev.read_file(path)
    except ConnectionLost:
        raise
    except DeviceError:
        raise DeviceError(_missing(dev, name)) from None
    tmp = dest + ".part"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, dest)  # a pulled cable never leaves half a file here either
    return data


def _missing(dev, name):
    info = probe(dev)
    names = sorted(routine_files(info))
    if name in (info["builtins"] or ()):
        return "%s is built into the firmware, not a file on the device" % name
    return "no routine %s on the device (routines: %s)" % (name, ", ".join(names) or "none")


def check_name(name):
    if not valid_name(name):
        raise DeviceError("bad routine name %r: 1-24 of a-z 0-9 - _" % name)


def listing(dev):
    """Rows (name, title, duration, size, note) of the routines on the device."""
    info = probe(dev)
    rows = []
    user = routine_files(info)
    for name in sorted(user):
        try:
            data = dev.read_file("%s/%s.json" % (STORE.dir, name))
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
    for name in info["builtins"] or ():
        if name in user:
            continue
        try:
            prog = routines.load(name)  # the repo's copy: the same text as the firmware's
            rows.append((name, prog.title, clock_text(prog.total_ms), "-", "built-in"))
        except RoutineError:
            rows.append((name, "?", "?", "-", "built-in"))
    if info["builtins"] is None:
        rows.append(("", "", "", "", "no massager firmware: run `massager flash`"))
    return rows


def remove(dev, name):
    check_name(name)
    path = "%s/%s.json" % (STORE.dir, name)
    answer = dev.exec("import os\ntry:\n os.remove(%r)\n print('ok')\nexcept OSError:\n"
                      " print('missing')" % path).strip()
    if answer != "ok":
        raise DeviceError(_missing(dev, name))
