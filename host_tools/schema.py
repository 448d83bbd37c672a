# JSON Schema of the routine format, generated from the validator's own field tables.
from massager import routine

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
        out.update(type="string", minLength=lo, maxLength=hi)
    elif kind == routine.NAME:
        out.update(type="string", minLength=lo, maxLength=hi, pattern="^[a-z0-9_-]+$")
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
