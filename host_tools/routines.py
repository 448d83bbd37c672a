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
            if len(data) > routine.MAX_BYTES:  # say how big it really is
                raise RoutineError("%s: file is %d bytes, limit is %d" % (
                    path, os.fstat(f.fileno()).st_size, routine.MAX_BYTES))
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
    """(label, Program or None, errors) for one routine reference; each error about a field
    ends with the line it is on (or its object's, for a missing one)."""
    label, data = source(ref)
    prog, errors = program.load(data)
    return label, prog, with_lines(data, errors)


def with_lines(data, errors):
    """The validator's "path: problem" errors with " (line N)" added where it has none."""
    try:
        lines = field_lines(data.decode("utf-8") if isinstance(data, bytes) else data)
    except ValueError:  # not JSON: the one error already says where
        return errors
    out = []
    for error in errors:
        path = error.split(": ", 1)[0]
        while path not in lines and path:
            path = path[:max(path.rfind("."), path.rfind("["), 0)]
        out.append(error if "line " in error else "%s (line %d)" % (error, lines.get(path, 1)))
    return out


def field_lines(text):
    """{path: line} for every key and list item of a JSON text, paths as the validator
    writes them ("steps[3].reps"; "" is the whole routine). ValueError if not JSON."""
    import bisect
    import json
    from json.decoder import scanstring

    newlines = [i for i, c in enumerate(text) if c == "\n"]
    decode = json.JSONDecoder().raw_decode
    lines = {}

    def line(i):
        return bisect.bisect_left(newlines, i) + 1

    def skip(i):
        while i < len(text) and text[i] in " \t\r\n\ufeff":
            i += 1
        return i

    def value(i, path):
        i = skip(i)
        lines.setdefault(path, line(i))
        opening = text[i:i + 1]
        if opening not in ("{", "["):
            return decode(text, i)[1]
        i = skip(i + 1)
        n = 0
        while text[i:i + 1] not in ("}", "]", ""):
            if opening == "{":
                key, end = scanstring(text, i + 1)
                sub = path + "." + key if path else key
                lines[sub] = line(i)
                i = skip(end) + 1  # the colon
            else:
                sub = "%s[%d]" % (path, n)
            i = skip(value(i, sub))
            i = skip(i + 1) if text[i:i + 1] == "," else i
            n += 1
        if not text[i:i + 1]:
            raise ValueError("the text ends early")
        return i + 1

    value(0, "")
    return lines


def load(ref):
    """The compiled Program, or RoutineError with the first problem."""
    label, prog, errors = check(ref)
    if errors:
        more = " (+%d more)" % (len(errors) - 1) if len(errors) > 1 else ""
        raise RoutineError("%s: %s%s" % (label, errors[0], more))
    return prog


def count(n, word, plural=None):
    """"1 step", "2 steps": a number and its noun, agreed."""
    return "%d %s" % (n, word if n == 1 else plural or word + "s")


def builtins():
    return [load(name) for name in builtin.NAMES]
