# Routine format 1: parse and validate routine JSON.
#
# One implementation for the device, the simulator and the host tools, so it must run
# unchanged on CPython and MicroPython. The rules live in the FIELDS tables below; the
# validator walks them and host_tools/schema.py turns them into a JSON Schema, so a rule
# is written down exactly once. Messages never embed engine-specific text (exception
# strings, float reprs), so CPython and MicroPython give the same verdict word for word.
import json

from massager import const, text

FORMAT = 1
MAX_BYTES = 16384  # checked before parsing: a routine is a few KB
MAX_DEPTH = 6  # deepest legal nesting is 4 (routine > steps > step > moves)
MAX_DIGITS = 9  # digits in each part of a number, and in its value: the longest legal
# number is a 5-digit duration, so this only keeps absurd numbers away from the parser
MAX_ERRORS = 20

ZONES = ("chin", "jaw", "cheekbone", "cheek", "forehead", "lower-lip", "upper-lip",
         "nose", "nostrils", "ear", "neck", "eyes", "face")
DIRECTIONS = ("up", "outward", "up-outward", "along", "around")
SIDES = ("both", "left-right")
MOVES = ("glide", "press")

# Field kinds. A field spec is (key, kind, required, lo, hi, default): lo..hi is the range
# of an INT or the length of a TEXT/NAME/MOVE_LIST/LIST; a CHOICE has its choices in
# `hi`, an OBJECT its fields in `hi`, a LIST its item fields in `default`; a slot a kind
# does not read is None. What each field means, for people, is in host_tools/schema.py:
# the device does not carry that text.
INT = const(0)
BOOL = const(1)
TEXT = const(2)  # printable unicode
NAME = const(3)  # a-z 0-9 - _ (it becomes a file name on the device)
CHOICE = const(4)
COLOR = const(5)
MOVE_LIST = const(6)
OBJECT = const(7)
LIST = const(8)

BREATH_FIELDS = (
    ("first_ms", INT, True, 1000, 12000, None),
    ("last_ms", INT, True, 1000, 12000, None),
)
PRESS_FIELDS = (
    ("intensity", INT, False, 0, 100, 80),
    ("on_ms", INT, False, 80, 1000, 220),
    ("off_ms", INT, False, 80, 1000, 160),
)
CUE_FIELDS = (
    ("step", BOOL, False, None, None, True),
    ("side", BOOL, False, None, None, True),
    ("round", BOOL, False, None, None, True),
)
STEP_FIELDS = (
    ("name", TEXT, True, 1, 40, None),
    ("zone", CHOICE, True, None, ZONES, None),
    ("direction", CHOICE, True, None, DIRECTIONS, None),
    ("reps", INT, True, 1, 10, None),
    ("sides", CHOICE, False, None, SIDES, "both"),
    ("moves", MOVE_LIST, False, 1, 8, ("glide",)),
    ("intensity", INT, False, 0, 100, None),
)
ROUTINE_FIELDS = (
    ("format", INT, True, FORMAT, FORMAT, None),
    ("name", NAME, True, 1, 24, None),
    ("title", TEXT, False, 0, 48, None),
    ("intensity", INT, False, 0, 100, 60),
    ("rounds", INT, True, 1, 12, None),
    ("breath", OBJECT, True, None, BREATH_FIELDS, None),
    ("press", OBJECT, False, None, PRESS_FIELDS, None),
    ("cues", OBJECT, False, None, CUE_FIELDS, None),
    ("color", COLOR, False, None, None, (255, 110, 40)),
    ("steps", LIST, True, 1, 16, STEP_FIELDS),
)

NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_"  # a NAME's alphabet
_BOM = b"\xef\xbb\xbf"


def valid_name(name):
    """The routine-name rule (it becomes a file name on the device)."""
    lo, hi = ROUTINE_FIELDS[1][3], ROUTINE_FIELDS[1][4]
    return (type(name) is str and lo <= len(name) <= hi
            and all(c in NAME_CHARS for c in name))


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
        # Whole floats come from 3.0 or 3e0; a single-precision board rounds big ones, so
        # only small ones are shown as they are.
        if -1e6 < value < 1e6 and value == int(value):
            return str(int(value))
        return "a decimal number" if -1e6 < value < 1e6 else "a number out of range"
    if t is str:
        return '"' + _escape(value[:24]) + ('..."' if len(value) > 24 else '"')
    if t is list:
        return "a list"
    if t is dict:
        return "an object"
    return "a value"


def _escape(s):
    # As the file could have written it: what does not print is shown as an escape.
    out = ""
    for c in s:
        code = ord(c)
        if c == '"' or c == "\\":
            out += "\\" + c
        elif text.printable(code):
            out += c
        elif code > 0xFFFF:
            out += "\\U%08x" % code
        else:
            out += "\\u%04x" % code
    return out


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
# Kinds of problem found by the syntax check (the second argument of _Bad).
_JSON = const(0)  # not JSON
_UTF8 = const(1)  # not UTF-8
_LIMIT = const(2)  # JSON, but beyond what a routine can hold
_NOT_WHOLE = const(3)  # a number with a fraction: the format has none


def _utf8_end(b, i):
    end = text.char_end(b, i)
    if end < 0:
        raise _Bad(text.char_problem(b, i), _UTF8, i)
    return end


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
                raise _Bad("bad escape in a string", _JSON, i)
            if e == 0x75:  # u: four hex digits
                hexa = b[i + 2:i + 6]
                if len(hexa) < 4 or any(h not in _HEX for h in hexa):
                    raise _Bad("bad \\u escape in a string", _JSON, i)
                # CPython joins an escaped surrogate pair into one character, MicroPython
                # keeps two: refuse them (a character can always be written as itself).
                if hexa[0] in b"dD" and hexa[1] in b"89abcdefABCDEF":
                    raise _Bad("\\u escape of a surrogate; write the character itself",
                               _JSON, i)
                i += 6
            else:
                i += 2
        elif c < 0x20:
            raise _Bad("control character in a string", _JSON, i)
        elif c < 0x80:
            i += 1
        else:
            i = _utf8_end(b, i)
    raise _Bad("string not closed", _JSON, i)


def _digits_end(b, i, what):
    j = i
    while j < len(b) and b[j] in _DIGITS:
        j += 1
    if j == i:
        raise _Bad("digit expected in " + what, _JSON, i)
    if j - i > MAX_DIGITS:
        raise _Bad("number longer than %d digits" % MAX_DIGITS, _LIMIT, i)
    return j


def _number_end(b, i):
    # Every number of the format is a whole number, but JSON may write one as 3.0 or 3e0
    # (a JSON Schema "integer" accepts them): whether a number is whole, and how big, is
    # read from its digits, so a single-precision board judges it as the host does.
    start = i
    if b[i] == 0x2D:  # -
        i += 1
    if i < len(b) and b[i] == 0x30 and i + 1 < len(b) and b[i + 1] in _DIGITS:
        raise _Bad("numbers do not start with 0", _JSON, i)
    whole_end = _digits_end(b, i, "a number")
    j = whole_end
    if j < len(b) and b[j] == 0x2E:  # .
        j = _digits_end(b, j + 1, "a number")
    fraction = j - whole_end - 1 if j > whole_end else 0
    exp = 0
    if j < len(b) and b[j] in b"eE":
        j += 1
        sign = 1
        if j < len(b) and b[j] in b"+-":
            sign = -1 if b[j] == 0x2D else 1
            j += 1
        k = _digits_end(b, j, "an exponent")
        exp = sign * int(b[j:k].decode())
        j = k
    if j == whole_end:
        return j  # a plain integer: the common case, nothing to allocate
    digits = b[i:whole_end] + b[whole_end + 1:whole_end + 1 + fraction]
    exp -= fraction
    if exp < 0:  # whole when every digit behind the point is a zero
        behind = digits[exp:] if -exp < len(digits) else digits
        if behind.strip(b"0"):
            raise _Bad(b[start:j].decode(), _NOT_WHOLE, start, j)
    significant = len(digits.lstrip(b"0"))
    if significant and significant + exp > MAX_DIGITS:
        raise _Bad("number longer than %d digits" % MAX_DIGITS, _LIMIT, start)
    return j


def _syntax(b, i, where, notes=None):
    # Strict JSON syntax (RFC 8259), strict UTF-8 (RFC 3629) and the format's nesting and
    # number limits, checked before json.loads: the engines' json and UTF-8 decoders
    # accept different things, so checking here gives both the same verdict. Works on
    # bytes: indexing a non-ASCII str is slow on MicroPython. `where` keeps, per open
    # bracket, the position of the current key or the current list index, so a problem
    # in a value can name its field. With a `notes` list, a number with a fraction is
    # noted there (its field's problem) instead of ending the check.
    n = len(b)
    stack = bytearray(MAX_DEPTH)  # the open brackets; MicroPython's bytearray has no pop()
    depth = 0
    expect = _VALUE
    while True:
        while i < n and b[i] in _SPACE:
            i += 1
        if i >= n:
            break
        c = b[i]
        if c >= 0x80:
            _utf8_end(b, i)  # UTF-8 or not, it is out of place here: say which first
        if expect == _END:
            raise _Bad("more after the end of the routine", _JSON, i)
        if expect == _COLON:
            if c != 0x3A:
                raise _Bad("':' expected", _JSON, i)
            expect = _VALUE
            i += 1
            continue
        if expect == _NEXT:
            top = stack[depth - 1]
            if c == 0x2C:  # ,
                if top == 0x7B:
                    expect = _KEY
                else:
                    expect = _VALUE
                    where[depth - 1] += 1
                i += 1
                continue
            if c != top + 2:  # "{" + 2 is "}", "[" + 2 is "]"
                raise _Bad("',' or '%s' expected" % chr(top + 2), _JSON, i)
        elif expect == _KEY or expect == _KEY_OR_CLOSE:
            if c == 0x22:
                where[depth - 1] = i
                i = _string_end(b, i)
                expect = _COLON
                continue
            if c != 0x7D or expect == _KEY:
                raise _Bad('a "key" expected', _JSON, i)
        elif c == 0x5D and expect == _VALUE_OR_CLOSE:
            pass  # an empty list: closed below
        elif c == 0x7B or c == 0x5B:  # { [
            if depth >= MAX_DEPTH:
                raise _Bad("nested deeper than %d levels" % MAX_DEPTH, _LIMIT, i)
            stack[depth] = c
            where[depth] = 0
            depth += 1
            expect = _KEY_OR_CLOSE if c == 0x7B else _VALUE_OR_CLOSE
            i += 1
            continue
        else:
            if c == 0x22:
                i = _string_end(b, i)
            elif c in b"NI" or b[i:i + 2] in (b"-I", b"-N"):
                raise _Bad("NaN and Infinity are not numbers", _JSON, i)
            elif c == 0x2D or c in _DIGITS:
                try:
                    i = _number_end(b, i)
                except _Bad as e:
                    path = _path(b, stack, where, depth)
                    if e.args[1] != _NOT_WHOLE or notes is None:
                        raise _Bad(e.args[0], e.args[1], e.args[2], path) from None
                    # a field's problem, not the file's: noted, and the check goes on
                    notes.append(_not_whole(path, e.args[0], b, e.args[2]))
                    i = e.args[3]
            elif b[i:i + 4] in (b"true", b"null"):
                i += 4
            elif b[i:i + 5] == b"false":
                i += 5
            else:
                raise _Bad("a value expected", _JSON, i)
            expect = _NEXT if depth else _END
            continue
        # A closing bracket.
        depth -= 1
        expect = _NEXT if depth else _END
        i += 1
    if expect != _END:
        raise _Bad("the file ends too early", _JSON, n)


def _path(b, stack, where, depth):
    # "steps[3].reps" for the value being read, as the validator names fields.
    out = ""
    for d in range(depth):
        if stack[d] == 0x7B:
            key = b[where[d] + 1:_string_end(b, where[d]) - 1].decode()
            out += ("." if out else "") + key
        else:
            out += "[%d]" % where[d]
    return out


def _not_whole(path, what, b, i):
    return "%s: must be a whole number, got %s (line %d)" % (path or "routine", what,
                                                           b[:i].count(b"\n") + 1)


def _syntax_problem(b, start, notes=None):
    try:
        _syntax(b, start, [0] * MAX_DEPTH, notes)
    except _Bad as e:
        what, kind, i = e.args[0], e.args[1], e.args[2]
        path = e.args[3] if len(e.args) > 3 else ""
        line = b[:i].count(b"\n") + 1
        if kind == _UTF8:
            return "not UTF-8 text at line %d (byte %d): %s; save the file as UTF-8" % (
                line, i, what)
        if kind == _NOT_WHOLE:
            return _not_whole(path, what, b, i)
        if kind == _LIMIT:
            return ("%s: %s (line %d)" % (path, what, line) if path else
                    "%s at line %d" % (what, line))
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


def parse(data, notes=None):
    """Bytes or str -> (document, None) or (None, message). Never raises. With a `notes`
    list, numbers with a fraction go there as "path: problem" and parsing goes on."""
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeError:  # CPython: a lone surrogate
            return None, "not UTF-8 text"
    elif isinstance(data, bytearray):
        data = bytes(data)
    elif not isinstance(data, bytes):
        return None, "not text"
    if len(data) > MAX_BYTES:
        return None, "file is %d bytes, limit is %d" % (len(data), MAX_BYTES)
    # A byte-order mark: some editors write one; RFC 8259 lets a parser ignore it.
    start = 3 if data[:3] == _BOM else 0
    if not data[start:].strip():
        return None, "file is empty"
    problem = _syntax_problem(data, start, notes)
    if problem:
        return None, problem
    try:
        doc = json.loads(data[start:].decode("utf-8"), **_LOADS_KW)
    except MemoryError:
        return None, "too large to parse"
    except Exception:
        return None, "not valid JSON"
    if type(doc) is not dict:
        return None, notes[0] if notes else "must be a JSON object {...}, got " + _show(doc)
    return doc, None


_BYTE = (None, INT, None, 0, 255, None)  # one colour channel


def _range(lo, hi):
    return "%d" % lo if lo == hi else "%d..%d" % (lo, hi)


def _check_value(value, spec, where, errors):
    # Returns the cleaned value (tuples for lists), or None after recording an error.
    kind, lo, hi = spec[1], spec[3], spec[4]
    t = type(value)
    if kind == INT:
        if t is float and -1e6 < value < 1e6 and value == int(value):
            value, t = int(value), int  # written 3.0 or 3e0: the syntax check read it whole
        if t is float and value == value and not -1e6 < value < 1e6:
            errors.append("%s: must be %s, got a number out of range" % (where, _range(lo, hi)))
        elif t is not int:
            errors.append("%s: must be a whole number, got %s" % (where, _show(value)))
        elif not lo <= value <= hi:
            errors.append("%s: must be %s, got %d" % (where, _range(lo, hi), value))
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
        elif kind == NAME and any(c not in NAME_CHARS for c in value):
            errors.append("%s: use only a-z, 0-9, '-' and '_', got %s" % (where, _show(value)))
        elif kind == TEXT and text.first_unprintable(value) >= 0:
            k = text.first_unprintable(value)
            errors.append("%s: character %d is %s, an invisible or control character" % (
                where, k + 1, _escape(value[k])))
        else:
            return value
    elif kind == CHOICE:
        if t is str and value in hi:
            return value
        errors.append("%s: must be one of %s, got %s" % (where, ", ".join(hi), _show(value)))
    elif kind == COLOR:
        if t is not list:
            errors.append("%s: must be [r, g, b], got %s" % (where, _show(value)))
        elif len(value) != 3:
            errors.append("%s: must be [r, g, b]: 3 numbers 0..255, got %d" % (
                where, len(value)))
        else:
            rgb = [_check_value(c, _BYTE, "%s[%d]" % (where, i), errors)
                   for i, c in enumerate(value)]
            if None not in rgb:
                return tuple(rgb)
    elif kind == MOVE_LIST:
        if t is not list:
            errors.append("%s: must be a list of moves (%s), got %s" % (
                where, ", ".join(MOVES), _show(value)))
        elif not lo <= len(value) <= hi:
            errors.append("%s: must have %d..%d moves, got %d" % (where, lo, hi, len(value)))
        else:
            for i, m in enumerate(value):
                if type(m) is not str or m not in MOVES:
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
        errors.append("%s: must be an object {...}, got %s" % (where, _show(value)))
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
    # Rules that tie fields together, checked wherever those fields passed their own
    # checks (a field that failed is None), so they are reported with the field errors.
    breath = doc["breath"] or {}
    first, last = breath.get("first_ms"), breath.get("last_ms")
    if first is not None and last is not None and last < first:
        errors.append("breath.last_ms: must be at least breath.first_ms (%d): the pace "
                      "only slows down, got %d" % (first, last))
    seen = {}
    for i, step in enumerate(doc["steps"] or ()):
        name = step and step["name"]
        if name is None:
            continue
        key = name.lower()
        if key in seen:
            errors.append("steps[%d].name: %s is steps[%d].name %s again: names must differ "
                          "in more than capitals" % (i, _show(name), seen[key][0],
                                                     _show(seen[key][1])))
        else:
            seen[key] = (i, name)


def validate(data):
    """Bytes, str or an already parsed dict -> (clean routine dict, []) or (None, errors).

    Errors are "path: problem" strings (e.g. "steps[3].reps: must be 1..10, got 0");
    the caller prefixes the file name. Never raises on any input.
    """
    notes = []
    if isinstance(data, dict):
        doc = data
    else:
        doc, problem = parse(data, notes)
        if problem:
            return None, [problem]
    errors = []
    try:
        clean = _check_object(doc, ROUTINE_FIELDS, "", errors)
        if clean is not None:
            _check_rules(clean, errors)
    except MemoryError:
        return None, ["too large to check"]
    if notes:  # the syntax check's word on a fraction stands for its field's
        fields = [n[:n.index(": ")] + ":" for n in notes]
        errors = notes + [e for e in errors if e[:e.find(":") + 1] not in fields]
    if errors:
        return None, errors[:MAX_ERRORS]
    return clean, []
