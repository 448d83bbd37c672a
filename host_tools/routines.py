# Find and load routines on the host: a built-in name or a file, through the firmware's
# own validator and compiler (never a second copy of the rules).
import os

from massager import program, routine
from massager import routines as builtin


class RoutineError(Exception):
    """One line: what and where."""


def read_file(path):
    """The bytes of a routine file, reading no more than the format allows."""
    try:
        with open(path, "rb") as f:
            data = f.read(routine.MAX_BYTES + 1)
    except IsADirectoryError:
        raise RoutineError("%s: is a directory, not a routine file" % path) from None
    except OSError as e:
        raise RoutineError("%s: cannot read: %s" % (path, e.strerror or e)) from None
    return data


def source(ref):
    """(label, bytes or str) for a built-in name or a file path."""
    if not os.path.exists(ref) and ref in builtin.NAMES:
        return "builtin:" + ref, builtin.text(ref)
    if not os.path.exists(ref):
        names = ", ".join(builtin.NAMES)
        raise RoutineError("%s: no such file or built-in routine (built-ins: %s)" % (ref, names))
    return ref, read_file(ref)


def check(ref):
    """(label, Program or None, errors) for one routine reference."""
    label, data = source(ref)
    prog, errors = program.load(data)
    return label, prog, errors


def load(ref):
    """The compiled Program, or RoutineError with the first problem."""
    label, prog, errors = check(ref)
    if errors:
        more = " (+%d more)" % (len(errors) - 1) if len(errors) > 1 else ""
        raise RoutineError("%s: %s%s" % (label, errors[0], more))
    return prog


def builtins():
    return [load(name) for name in builtin.NAMES]
