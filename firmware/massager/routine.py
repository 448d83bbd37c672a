# Routine format 1: parse and validate routine JSON.
#
# One implementation for the device, the simulator and the host tools, so it must run
# unchanged on CPython and MicroPython. The rules live in the FIELDS tables below; the
# validator walks them and host_tools/schema.py turns them into a JSON Schema, so a rule
# is written down exactly once. Messages never embed engine-specific text (exception
# strings, float reprs), so CPython and MicroPython give the same verdict word for word.
import json

from massager.compat import const

FORMAT = 1
MAX_BYTES = 16384  # checked before parsing: a routine is a few KB
MAX_DEPTH = 6  # deepest legal nesting is 4 (routine > steps > step > moves)
MAX_DIGITS = 9  # longest legal number is a 5-digit duration
MAX_ERRORS = 20

ZONES = ("chin", "jaw", "cheekbone", "cheek", "forehead", "lower-lip", "upper-lip",
         "nose", "nostrils", "ear", "neck", "eyes", "face")
DIRECTIONS = ("up", "outward", "up-outward", "along", "around")
SIDES = ("both", "left-right")
MOVES = ("glide", "press")

# Field kinds. A field spec is (key, kind, required, lo, hi, default, help): lo..hi is
# the range of an INT or the length of a TEXT/NAME/MOVE_LIST/LIST; a CHOICE has its
# choices in `hi`, an OBJECT its fields in `hi`, a LIST its item fields in `default`.
INT = "int"
BOOL = "bool"
TEXT = "text"  # printable unicode
NAME = "name"  # a-z 0-9 - _ (it becomes a file name on the device)
CHOICE = "choice"
COLOR = "color"
MOVE_LIST = "moves"
OBJECT = "object"
LIST = "list"

BREATH_FIELDS = (
    ("first_ms", INT, True, 1000, 12000, None,
     "length of one rep (one breath) in the first round, ms"),
    ("last_ms", INT, True, 1000, 12000, None,
     "length of one rep in the last round, ms; at least first_ms: the pace only slows"),
)
PRESS_FIELDS = (
    ("intensity", INT, False, 0, 100, 80, "strength of an acupressure pulse, %"),
    ("on_ms", INT, False, 80, 1000, 220, "length of one pulse, ms"),
    ("off_ms", INT, False, 80, 1000, 160, "pause after a pulse, ms"),
)
CUE_FIELDS = (
    ("step", BOOL, False, 0, 0, True, "cue before each new step"),
    ("side", BOOL, False, 0, 0, True, "cue when switching from the left to the right side"),
    ("round", BOOL, False, 0, 0, True, "cue before each new round"),
)
STEP_FIELDS = (
    ("name", TEXT, True, 1, 40, None, "what to do, shown in the simulator"),
    ("zone", CHOICE, True, 0, ZONES, None, "face zone"),
    ("direction", CHOICE, True, 0, DIRECTIONS, None, "stroke direction"),
    ("reps", INT, True, 1, 10, None, "strokes per side, one breath each"),
    ("sides", CHOICE, False, 0, SIDES, "both",
     "both: one series of strokes; left-right: the series on the left, a side cue, "
     "then the same on the right"),
    ("moves", MOVE_LIST, False, 1, 8, ("glide",),
     "what one stroke is made of, in order: glide (smooth vibration) or press "
     "(one short acupressure pulse)"),
    ("intensity", INT, False, 0, 100, None, "glide strength for this step, %"),
)
ROUTINE_FIELDS = (
    ("format", INT, True, FORMAT, FORMAT, None, "routine format version"),
    ("name", NAME, True, 1, 24, None, "short name; the file on the device is <name>.json"),
    ("title", TEXT, False, 0, 48, "", "human title"),
    ("intensity", INT, False, 0, 100, 60, "glide strength, %; the user scales it on the device"),
    ("rounds", INT, True, 1, 12, None, "how many times the whole list of steps is done"),
    ("breath", OBJECT, True, 0, BREATH_FIELDS, None, "breath pacing: a rep lasts one breath"),
    ("press", OBJECT, False, 0, PRESS_FIELDS, None, "acupressure pulse shape"),
    ("cues", OBJECT, False, 0, CUE_FIELDS, None, "which transitions get a cue"),
    ("color", COLOR, False, 0, 0, (255, 110, 40), "LED colour [r, g, b] for this routine"),
    ("steps", LIST, True, 1, 16, STEP_FIELDS, "the steps, in order"),
)

_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_"


class Invalid(Exception):
    """Raised by load_or_raise with every problem found."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


def _show(value):
    # A short, engine-independent description of a bad value for messages.
    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return "a decimal number"
    if t is str:
        s = "".join(c if 32 <= ord(c) < 127 else "?" for c in value[:24])
        return '"' + s + ('..."' if len(value) > 24 else '"')
    if t is list:
        return "a list"
    if t is dict:
        return "an object"
    return "a value"


class _Bad(Exception):
    pass


_SPACE = b" \t\n\r"
_DIGITS = b"0123456789"
_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = b'"\\/bfnrtu'
# What may come next while checking JSON syntax.
_VALUE = const(0)  # a value
_VALUE_OR_CLOSE = const(1)  # just after "["
_KEY = const(2)  # after "," in an object
_KEY_OR_CLOSE = const(3)  # just after "{"
_COLON = const(4)
_NEXT = const(5)  # after a value: "," or the closing bracket
_END = const(6)  # after the top-level value


def _string_end(b, i):
    # b[i] is the opening quote; returns the index after the closing one.
    n = len(b)
    i += 1
    while i < n:
        c = b[i]
        if c == 0x22:  # "
            return i + 1
        if c == 0x5C:  # backslash
            e = b[i + 1] if i + 1 < n else 0
            if e not in _ESCAPES:
                raise _Bad("bad escape in a string", i)
            if e == 0x75:  # u: four hex digits
                hexa = b[i + 2:i + 6]
                if len(hexa) < 4 or any(h not in _HEX for h in hexa):
                    raise _Bad("bad \\u escape in a string", i)
                # CPython joins an escaped surrogate pair into one character, MicroPython
                # keeps two: refuse them (a character can always be written as itself).
                if hexa[0] in b"dD" and hexa[1] in b"89abcdefABCDEF":
                    raise _Bad("\\u escape of a surrogate; write the character itself", i)
                i += 6
            else:
                i += 2
        elif c < 0x20:
            raise _Bad("control character in a string", i)
        else:
            i += 1
    raise _Bad("string not closed", i)


def _digits_end(b, i, what):
    j = i
    while j < len(b) and b[j] in _DIGITS:
        j += 1
    if j == i:
        raise _Bad("digit expected in " + what, i)
    if j - i > MAX_DIGITS:
        raise _Bad("number longer than %d digits" % MAX_DIGITS, i)
    return j


def _number_end(b, i):
    if b[i] == 0x2D:  # -
        i += 1
    if i < len(b) and b[i] == 0x30 and i + 1 < len(b) and b[i + 1] in _DIGITS:
        raise _Bad("numbers do not start with 0", i)
    i = _digits_end(b, i, "a number")
    if i < len(b) and b[i] == 0x2E:  # .
        i = _digits_end(b, i + 1, "a number")
    if i < len(b) and b[i] in b"eE":
        i += 1
        if i < len(b) and b[i] in b"+-":
            i += 1
        i = _digits_end(b, i, "an exponent")
    return i


def _syntax(b):
    # Strict JSON syntax (RFC 8259) plus the format's nesting and number limits, checked
    # before json.loads: MicroPython's json accepts some broken JSON (a missing comma, for
    # one) and CPython's accepts NaN, so checking here gives both the same verdict. Works
    # on bytes: indexing a non-ASCII str is slow on MicroPython.
    n = len(b)
    i = 0
    stack = bytearray(MAX_DEPTH)  # the open brackets; MicroPython's bytearray has no pop()
    depth = 0
    expect = _VALUE
    while True:
        while i < n and b[i] in _SPACE:
            i += 1
        if i >= n:
            break
        c = b[i]
        if expect == _END:
            raise _Bad("more after the end of the routine", i)
        if expect == _COLON:
            if c != 0x3A:
                raise _Bad("':' expected", i)
            expect = _VALUE
            i += 1
            continue
        if expect == _NEXT:
            top = stack[depth - 1]
            if c == 0x2C:  # ,
                expect = _KEY if top == 0x7B else _VALUE
                i += 1
                continue
            if c != top + 2:  # "{" + 2 is "}", "[" + 2 is "]"
                raise _Bad("',' or '%s' expected" % chr(top + 2), i)
        elif expect == _KEY or expect == _KEY_OR_CLOSE:
            if c == 0x22:
                i = _string_end(b, i)
                expect = _COLON
                continue
            if c != 0x7D or expect == _KEY:
                raise _Bad('a "key" expected', i)
        elif c == 0x5D and expect == _VALUE_OR_CLOSE:
            pass  # an empty list: closed below
        elif c == 0x7B or c == 0x5B:  # { [
            if depth >= MAX_DEPTH:
                raise _Bad("nested deeper than %d levels" % MAX_DEPTH, i)
            stack[depth] = c
            depth += 1
            expect = _KEY_OR_CLOSE if c == 0x7B else _VALUE_OR_CLOSE
            i += 1
            continue
        else:
            if c == 0x22:
                i = _string_end(b, i)
            elif c in b"NI" or b[i:i + 2] in (b"-I", b"-N"):
                raise _Bad("NaN and Infinity are not numbers", i)
            elif c == 0x2D or c in _DIGITS:
                i = _number_end(b, i)
            elif b[i:i + 4] in (b"true", b"null"):
                i += 4
            elif b[i:i + 5] == b"false":
                i += 5
            else:
                raise _Bad("a value expected", i)
            expect = _NEXT if depth else _END
            continue
        # A closing bracket.
        depth -= 1
        expect = _NEXT if depth else _END
        i += 1
    if expect != _END:
        raise _Bad("the file ends too early", n)


def _syntax_problem(b):
    try:
        _syntax(b)
    except _Bad as e:
        what, i = e.args
        line = b[:i].count(b"\n") + 1
        if what.startswith("nested") or what.startswith("number longer"):
            return "%s at line %d" % (what, line)
        return "not valid JSON at line %d: %s" % (line, what)
    return None


def _no_constant(name):
    raise ValueError(name)


# CPython's json accepts NaN/Infinity unless told not to; MicroPython's takes no keywords.
try:
    json.loads("0", parse_constant=_no_constant)  # pyright: ignore[reportCallIssue]
    _LOADS_KW = {"parse_constant": _no_constant}
except TypeError:
    _LOADS_KW = {}


def parse(data):
    """Bytes or str -> (document, None) or (None, message). Never raises."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_BYTES:
            return None, "file is %d bytes, limit is %d" % (len(data), MAX_BYTES)
        try:
            text = bytes(data).decode("utf-8")
        except Exception:
            return None, "not UTF-8 text"
    elif isinstance(data, str):
        text = data
        if len(text) > MAX_BYTES:
            return None, "file is over %d bytes" % MAX_BYTES
    else:
        return None, "not text"
    if not text.strip():
        return None, "file is empty"
    problem = _syntax_problem(data if isinstance(data, (bytes, bytearray)) else
                              text.encode("utf-8"))
    if problem:
        return None, problem
    try:
        doc = json.loads(text, **_LOADS_KW)
    except MemoryError:
        return None, "too large to parse"
    except Exception:
        return None, "not valid JSON"
    if type(doc) is not dict:
        return None, "must be a JSON object {...}, got " + _show(doc)
    return doc, None


def _check_value(value, spec, where, errors):
    # Returns the cleaned value (tuples for lists), or None after recording an error.
    kind, lo, hi = spec[1], spec[3], spec[4]
    t = type(value)
    if kind == INT:
        if t is not int:
            errors.append("%s: must be a whole number, got %s" % (where, _show(value)))
        elif not lo <= value <= hi:
            if lo == hi:
                errors.append("%s: must be %d, got %d" % (where, lo, value))
            else:
                errors.append("%s: must be %d..%d, got %d" % (where, lo, hi, value))
        else:
            return value
    elif kind == BOOL:
        if t is bool:
            return value
        errors.append("%s: must be true or false, got %s" % (where, _show(value)))
    elif kind == TEXT or kind == NAME:
        if t is not str:
            errors.append("%s: must be a string, got %s" % (where, _show(value)))
        elif not lo <= len(value) <= hi:
            errors.append("%s: must be %d..%d characters, got %d" % (where, lo, hi, len(value)))
        elif kind == NAME and any(c not in _NAME_CHARS for c in value):
            errors.append("%s: use only a-z, 0-9, '-' and '_', got %s" % (where, _show(value)))
        elif kind == TEXT and any(ord(c) < 32 or ord(c) == 127 for c in value):
            errors.append("%s: must not contain control characters" % where)
        else:
            return value
    elif kind == CHOICE:
        if t is str and value in hi:
            return value
        errors.append("%s: must be one of %s, got %s" % (where, ", ".join(hi), _show(value)))
    elif kind == COLOR:
        if t is list and len(value) == 3 and all(type(c) is int and 0 <= c <= 255
                                                  for c in value):
            return tuple(value)
        errors.append("%s: must be [r, g, b] with each 0..255, got %s" % (where, _show(value)))
    elif kind == MOVE_LIST:
        if t is not list or not lo <= len(value) <= hi:
            errors.append("%s: must be a list of %d..%d moves, got %s" % (
                where, lo, hi, _show(value)))
            return None
        for i, m in enumerate(value):
            if m not in MOVES or type(m) is not str:
                errors.append("%s[%d]: must be one of %s, got %s" % (
                    where, i, ", ".join(MOVES), _show(m)))
                return None
        return tuple(value)
    elif kind == OBJECT:
        return _check_object(value, hi, where, errors)
    elif kind == LIST:
        if t is not list:
            errors.append("%s: must be a list, got %s" % (where, _show(value)))
        elif not lo <= len(value) <= hi:
            errors.append("%s: must have %d..%d entries, got %d" % (where, lo, hi, len(value)))
        else:
            out = []
            for i, item in enumerate(value):
                out.append(_check_object(item, spec[5], "%s[%d]" % (where, i), errors))
            return out
    return None


def _check_object(value, fields, where, errors):
    prefix = where + "." if where else ""
    if type(value) is not dict:
        errors.append("%s: must be an object {...}, got %s" % (where or "routine", _show(value)))
        return None
    known = [f[0] for f in fields]
    for key in sorted(value):  # sorted: MicroPython's dicts do not keep the file's order
        if key not in known:
            errors.append("%s%s: unknown field (known: %s)" % (prefix, _show(key)[1:-1],
                                                              ", ".join(known)))
    out = {}
    for spec in fields:
        key = spec[0]
        if key in value:
            out[key] = _check_value(value[key], spec, prefix + key, errors)
        elif spec[2]:
            errors.append("%s%s: missing" % (prefix, key))
            out[key] = None
        elif spec[1] == OBJECT:
            out[key] = _check_object({}, spec[4], prefix + key, errors)
        else:
            out[key] = spec[5]
    return out


def _check_rules(doc, errors):
    # Rules that tie fields together; run only on fields that passed their own checks.
    breath = doc["breath"]
    if breath and breath["first_ms"] and breath["last_ms"]:
        if breath["last_ms"] < breath["first_ms"]:
            errors.append("breath.last_ms: must be at least breath.first_ms (%d): the pace "
                          "only slows down, got %d" % (breath["first_ms"], breath["last_ms"]))
    steps = doc["steps"] or ()
    seen = {}
    for i, step in enumerate(steps):
        if not step or not step["name"]:
            continue
        key = step["name"].lower()
        if key in seen:
            errors.append("steps[%d].name: same as steps[%d].name %s" % (
                i, seen[key], _show(step["name"])))
        else:
            seen[key] = i


def validate(data):
    """Bytes, str or an already parsed dict -> (clean routine dict, []) or (None, errors).

    Errors are "path: problem" strings (e.g. "steps[3].reps: must be 1..10, got 0");
    the caller prefixes the file name. Never raises on any input.
    """
    if isinstance(data, dict):
        doc = data
    else:
        doc, problem = parse(data)
        if problem:
            return None, [problem]
    errors = []
    try:
        clean = _check_object(doc, ROUTINE_FIELDS, "", errors)
        if not errors:
            _check_rules(clean, errors)
    except MemoryError:
        return None, ["too large to check"]
    if errors:
        return None, errors[:MAX_ERRORS]
    return clean, []
