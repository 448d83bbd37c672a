# `massager schema` and `massager validate` give the same verdict: an editor that checks a
# routine against the schema shows green exactly when the device would accept the fields.
import json

import jsonschema
from hypothesis import example, given
from hypothesis import strategies as st

from helpers import routine_doc
from host_tools.schema import schema
from massager import routine
from strategies import paths, routines

SCHEMA = schema()
CHECK = jsonschema.Draft202012Validator(SCHEMA)

# What JSON Schema cannot say (docs/routine-format.md lists them): rules that tie two
# fields together. The validator may refuse a document the schema accepts only for these.
CROSS_FIELD = ("breath.last_ms: must be at least breath.first_ms",)


def _cross_field(error):
    return error.startswith(CROSS_FIELD) or "names must differ in more than capitals" in error


def verdicts(doc):
    """(schema accepts, validator errors) for a document written as a person would."""
    data = json.dumps(doc, ensure_ascii=False)  # characters as themselves, not \\u escapes
    return CHECK.is_valid(doc), routine.validate(data)[1]


def assert_same_verdict(doc):
    schema_ok, errors = verdicts(doc)
    if schema_ok:
        assert all(_cross_field(e) for e in errors), (doc, errors)
    else:
        assert errors, (doc, [e.message for e in CHECK.iter_errors(doc)])


# Values of every kind, dense around the format's limits and the text rules.
_TEXT = st.text(st.one_of(st.characters(), st.sampled_from(
    "\u200b\u200d\u202e\ufeff\u00ad\u0007\u007f\u0085\u2028\ue000\ufffe\U000e0041 aé🌸")),
    max_size=50)
_NUMBERS = st.one_of(
    st.integers(-2, 13000), st.sampled_from([0, 1, 3, 8, 10, 12, 16, 24, 40, 48, 80, 100,
                                            255, 256, 1000, 12000, 12001, -1]),
    st.integers(-2, 13000).map(float),  # whole numbers written 3.0
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10 ** 12), max_value=10 ** 12))
_WORDS = st.sampled_from(routine.ZONES + routine.DIRECTIONS + routine.SIDES + routine.MOVES
                         + ("Up", "glide ", "", "x" * 25, "a_b-c", "été"))
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXT, _WORDS)
VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=9), st.dictionaries(st.one_of(_WORDS, _TEXT), inner, max_size=3)),
    max_leaves=12)


@st.composite
def documents(draw):
    """A valid routine with a few fields replaced, removed or added."""
    doc = draw(routines())
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(list(paths(doc))[1:]))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.one_of(_WORDS, _TEXT))] = draw(VALUES)
    return doc


@given(documents())
@example(routine_doc(rounds=3.0))  # whole, written as a decimal: fine on both
@example(routine_doc(rounds=2.5))
@example(routine_doc(title="Soir\u202e"))  # a direction override
@example(routine_doc(title="Chin\u200b to ear"))
@example(routine_doc(title="tab\there"))
@example(routine_doc(name="abc\n"))  # Python's re lets "$" match before a final newline
@example(routine_doc(name="été"))
@example(routine_doc(color=[255.0, 0, 0]))
@example(routine_doc(color=[256, 0, 0]))
@example(routine_doc(title="Massage 🌸 du soir"))
def test_schema_and_validator_agree(doc):
    assert_same_verdict(doc)


def test_the_documented_differences_are_the_only_ones():
    # Each is valid field by field, and refused for a rule between fields.
    pace = routine_doc(breath={"first_ms": 4000, "last_ms": 3000})
    names = routine_doc()
    names["steps"][1]["name"] = names["steps"][0]["name"].upper()
    for doc in (pace, names):
        schema_ok, errors = verdicts(doc)
        assert schema_ok and len(errors) == 1 and _cross_field(errors[0])


def test_title_has_no_empty_default():
    # The title defaults to the routine's name (program.Program), not to "".
    assert "default" not in SCHEMA["properties"]["title"]
    assert "the name" in SCHEMA["properties"]["title"]["description"]


def test_every_field_has_its_hint_and_no_hint_is_left_over():
    from host_tools.schema import HELP

    def walk(node, prefix):
        for key, prop in node.get("properties", {}).items():
            yield prefix + key, prop["description"]
            yield from walk(prop, prefix + key + ".")
            if "items" in prop:
                yield from walk(prop["items"], prefix + key + "[].")

    hints = dict(walk(SCHEMA, ""))
    assert hints == HELP and all(hints.values())
