# Routine format 1: parse and validate routine JSON.
#
# One implementation for the device, the simulator and the host tools, so it must run
# unchanged on CPython and MicroPython. The rules live in the FIELDS tables below; the
# validator walks them and host_tools/schema.py turns them into a JSON Schema, so a rule
# is written down exactly once. Messages never embed engine-specific text (exception
# strings, float reprs), so CPython and MicroPython give the same verdict word for word.
import json

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


def _line_of(text, i):
    return text.count("\n", 0, i) + 1


def _prescan(text):
    # Reject what json.loads treats differently on CPython and MicroPython (NaN, huge
    # numbers, raw control characters in strings, very deep nesting) before parsing.
    depth = 0
    digits = 0
    in_str = False
    esc = False
    i = 0
    for c in text:
        if in_str:
            if esc:
                esc = False
                # CPython joins an escaped surrogate pair into one character, MicroPython
                # keeps two: refuse them (a character can always be written as itself).
                hi = text[i + 1:i + 3].lower() if c == "u" else ""
                if len(hi) == 2 and hi[0] == "d" and hi[1] in "89abcdef":
                    return "not valid JSON: \\u escape of a surrogate at line %d; write the " \
                           "character itself" % _line_of(text, i)
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
            elif ord(c) < 32:
                return "not valid JSON: control character in a string at line %d" % _line_of(
                    text, i)
        elif c == '"':
            in_str = True
            digits = 0
        elif c == "[" or c == "{":
            depth += 1
            if depth > MAX_DEPTH:
                return "nested deeper than %d levels at line %d" % (MAX_DEPTH, _line_of(text, i))
        elif c == "]" or c == "}":
            depth -= 1
        elif "0" <= c <= "9":
            digits += 1
            if digits > MAX_DIGITS:
                return "number longer than %d digits at line %d" % (MAX_DIGITS, _line_of(text, i))
        elif c in "NI":
            return "not valid JSON: NaN and Infinity are not numbers, at line %d" % _line_of(
                text, i)
        else:
            digits = 0
        i += 1
    return None


def _no_constant(name):
    raise ValueError(name)


# CPython's json accepts NaN/Infinity unless told not to; MicroPython's takes no keywords.
try:
    json.loads("0", parse_constant=_no_constant)
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
    problem = _prescan(text)
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
    for key in value:
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
