# JSON Schema of the routine format, generated from the validator's own field tables and
# text rules, so an editor and `massager validate` give the same verdict (the differences
# JSON Schema cannot avoid are listed in docs/routine-format.md).
from massager import routine, text

# What each field means, by its path ("steps[]." for a step's fields): the editor's hint.
# The device does not need this text, so it lives here and not in the validator's tables.
HELP = {
    "format": "routine format version",
    "name": "short name; the file on the device is <name>.json",
    "title": "human title; default: the name",
    "intensity": "glide strength, %; the user scales it on the device",
    "rounds": "how many times the whole list of steps is done",
    "breath": "breath pacing: a rep lasts one breath",
    "breath.first_ms": "length of one rep (one breath) in the first round, ms",
    "breath.last_ms": "length of one rep in the last round, ms; at least first_ms: the pace "
                      "only slows",
    "press": "acupressure pulse shape",
    "press.intensity": "strength of an acupressure pulse, %",
    "press.on_ms": "length of one pulse, ms",
    "press.off_ms": "pause after a pulse, ms",
    "cues": "which transitions get a cue",
    "cues.step": "cue before each new step",
    "cues.side": "cue when switching from the left to the right side",
    "cues.round": "cue before each new round",
    "color": "LED colour [r, g, b] for this routine",
    "steps": "the steps, in order",
    "steps[].name": "what to do, shown in the simulator",
    "steps[].zone": "face zone",
    "steps[].direction": "stroke direction",
    "steps[].reps": "strokes per side, one breath each",
    "steps[].sides": "both: one series of strokes; left-right: the series on the left, a "
                     "side cue, then the same on the right",
    "steps[].moves": "what one stroke is made of, in order: glide (smooth vibration) or "
                     "press (one short acupressure pulse)",
    "steps[].intensity": "glide strength for this step, %",
}


def _field(spec, path):
    key, kind, required, lo, hi, default = spec
    out = {"description": HELP[path]}
    if kind == routine.INT:
        out.update(type="integer", minimum=lo, maximum=hi)
    elif kind == routine.BOOL:
        out["type"] = "boolean"
    elif kind == routine.TEXT:
        out.update(type="string", minLength=lo, maxLength=hi,
                   **{"not": {"pattern": _UNPRINTABLE}})
    elif kind == routine.NAME:
        # Only these characters, start to end: "(?![\s\S])" is the end of the text in
        # ECMA 262 and in Python's re (whose `$` would let a final newline through).
        out.update(type="string", minLength=lo, maxLength=hi,
                   pattern="^[%s]*(?![\\s\\S])" % _class(routine.NAME_CHARS),
                   patternErrorMessage="use only a-z, 0-9, '-' and '_' (it becomes a "
                                       "file name on the device)")
    elif kind == routine.CHOICE:
        out.update(type="string", enum=list(hi))
    elif kind == routine.COLOR:
        out.update(type="array", minItems=3, maxItems=3,
                   items={"type": "integer", "minimum": 0, "maximum": 255})
    elif kind == routine.MOVE_LIST:
        out.update(type="array", minItems=lo, maxItems=hi,
                   items={"type": "string", "enum": list(routine.MOVES)})
    elif kind == routine.OBJECT:
        out.update(_object(hi, path + "."))
    elif kind == routine.LIST:
        out.update(type="array", minItems=lo, maxItems=hi,
                   items=_object(default, path + "[]."))
    if default is not None and kind not in (routine.OBJECT, routine.LIST):
        out["default"] = list(default) if isinstance(default, tuple) else default
    return out


def _char(code):
    # \uXXXX reads the same in ECMA 262 and Python regexes; beyond the BMP only the
    # character itself does (with ECMA's "u" flag, which JSON Schema asks for).
    return "\\u%04x" % code if code <= 0xFFFF else chr(code)


def _class(chars):
    """A regex character class body for a plain alphabet, runs as ranges ("a-z0-9_-";
    a literal "-" last)."""
    codes = sorted(ord(c) for c in set(chars) if c != "-")
    runs = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    body = "".join(chr(a) if a == b else chr(a) + chr(b) if b == a + 1 else
                   "%s-%s" % (chr(a), chr(b)) for a, b in runs)
    return body + ("-" if "-" in chars else "")


def _without(ranges, code):
    for lo, hi in ranges:
        for a, b in ((lo, min(hi, code - 1)), (max(lo, code + 1), hi)):
            if a <= b:
                yield a, b


_ZWJ = _char(text.ZWJ)
# What printable() refuses, and a zero-width joiner anywhere but between two visible
# non-ASCII characters (text.first_unprintable).
_UNPRINTABLE = "|".join(["[%s]" % "".join(
    _char(lo) if lo == hi else "%s-%s" % (_char(lo), _char(hi))
    for lo, hi in _without(text.unprintable_ranges(), text.ZWJ)),
    "^" + _ZWJ, _ZWJ + "$", "[\\u0000-\\u007e]" + _ZWJ, _ZWJ + "[\\u0000-\\u007e]",
    _ZWJ + _ZWJ])


def _object(fields, prefix=""):
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f[0] for f in fields if f[2]],
        "properties": {f[0]: _field(f, prefix + f[0]) for f in fields},
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
