# Routines on a device: push (validate here, atomic install there), pull, ls, rm.
#
# A push never leaves a half-written routine: the bytes go to /routines/.<name>.tmp, and the
# firmware's Store.install() checks their hash, validates them and renames them into place.
import hashlib
import os

from host_tools import routines
from host_tools.device import PUSH_PROBE, ConnectionLost, DeviceError, kb, probe, routine_files
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


def _blocks(n, block):
    return (n + block - 1) // block * block


def push(dev, items, out=print):
    """Install each (name, bytes, Program) on the device; one line per routine."""
    info = probe(dev, PUSH_PROBE)
    if info["version"] is None:
        raise DeviceError("no massager firmware on %s: run `massager flash` first" % dev.port)
    block = info["block"] or 4096
    # The temp file lives next to the old routine until the rename, so both must fit.
    need = sum(_blocks(len(data), block) for _, data, _ in items) + block
    if need > info["free"]:
        raise DeviceError("flash full: %s needs %s, %s free on %s (remove a routine with "
                          "`massager rm NAME`)" % (", ".join(n for n, _, _ in items),
                                                   kb(need), kb(info["free"]), dev.port))
    for name, data, prog in items:
        sha = hashlib.sha256(data).hexdigest()
        # The install (hash check, validation, rename) rides on the last write.
        install = "from massager.store import Store\nprint(Store('/').install(%r, %r))" % (
            name, sha)
        try:
            answer = dev.write_file(STORE.temp_path(name), data, then=install).strip()
        except ConnectionLost:
            raise ConnectionLost("connection lost during push of %s: the device has its "
                                 "previous routine or the new one, whole (check with "
                                 "`massager ls`)" % name) from None
        if answer != "ok":
            raise DeviceError("%s: the device refused it: %s" % (name, answer))
        out("%s: installed (%s, %s)" % (name, clock_text(prog.total_ms), kb(len(data))))


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
