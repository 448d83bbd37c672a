# JSON Schema of the routine format, generated from the validator's own field tables and
# text rules, so an editor and `massager validate` give the same verdict (the differences
# JSON Schema cannot avoid are listed in docs/routine-format.md).
from massager import routine, text

_TYPES = {routine.INT: "integer", routine.BOOL: "boolean", routine.TEXT: "string",
          routine.NAME: "string", routine.CHOICE: "string"}


def _field(spec):
    key, kind, required, lo, hi, default, help_text = spec
    out = {"description": help_text}
    if kind == routine.INT:
        out.update(type="integer", minimum=lo, maximum=hi)
    elif kind == routine.BOOL:
        out["type"] = "boolean"
    elif kind == routine.TEXT:
        out.update(type="string", minLength=lo, maxLength=hi,
                   **{"not": {"pattern": _UNPRINTABLE_CLASS}})
    elif kind == routine.NAME:
        # "must not contain another character": `^...$` would let a final newline through
        # in Python's re, which jsonschema uses.
        out.update(type="string", minLength=lo, maxLength=hi,
                   **{"not": {"pattern": "[^%s]" % _class(routine.NAME_CHARS)}})
    elif kind == routine.CHOICE:
        out.update(type="string", enum=list(hi))
    elif kind == routine.COLOR:
        out.update(type="array", minItems=3, maxItems=3,
                   items={"type": "integer", "minimum": 0, "maximum": 255})
    elif kind == routine.MOVE_LIST:
        out.update(type="array", minItems=lo, maxItems=hi,
                   items={"type": "string", "enum": list(routine.MOVES)})
    elif kind == routine.OBJECT:
        out.update(_object(hi))
    elif kind == routine.LIST:
        out.update(type="array", minItems=lo, maxItems=hi, items=_object(default))
    if default is not None and kind not in (routine.OBJECT, routine.LIST):
        out["default"] = list(default) if isinstance(default, tuple) else default
    return out


def _char(code):
    # \uXXXX reads the same in ECMA 262 and Python regexes; beyond the BMP only the
    # character itself does (with ECMA's "u" flag, which JSON Schema asks for).
    return "\\u%04x" % code if code <= 0xFFFF else chr(code)


def _class(chars):
    """A regex character class body for a plain alphabet ("-" last, so it is literal)."""
    return "".join(c for c in chars if c != "-") + ("-" if "-" in chars else "")


_UNPRINTABLE_CLASS = "[%s]" % "".join(
    _char(lo) if lo == hi else "%s-%s" % (_char(lo), _char(hi))
    for lo, hi in text.unprintable_ranges())


def _object(fields):
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f[0] for f in fields if f[2]],
        "properties": {f[0]: _field(f) for f in fields},
    }


def schema():
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/massager/massager/routine-format-%d.json" % routine.FORMAT,
        "title": "massager routine, format %d" % routine.FORMAT,
        "description": "A guided facial massage routine. Rules that tie fields together "
                       "(breath.last_ms >= breath.first_ms, unique step names, strokes long "
                       "enough for their moves, total length) are checked by "
                       "`massager validate`.",
    }
    out.update(_object(routine.ROUTINE_FIELDS))
    return out
