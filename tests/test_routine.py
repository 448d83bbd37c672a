# The validator: every input gets a verdict, every problem names where it is.
import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import routine_doc
from massager import program, routine, routines
from strategies import paths


def errors_of(data):
    prog, errors = program.load(data)
    assert (prog is None) == bool(errors)
    return errors


def text(doc):
    return json.dumps(doc)


def test_builtin_routines_are_valid():
    for name in routines.NAMES:
        assert errors_of(routines.text(name)) == []


def test_small_routine_is_valid_and_fills_defaults():
    doc, errors = routine.validate(text(routine_doc()))
    assert errors == []
    assert doc["intensity"] == 60
    assert doc["press"] == {"intensity": 80, "on_ms": 220, "off_ms": 160}
    assert doc["cues"] == {"step": True, "side": True, "round": True}
    assert doc["steps"][1]["moves"] == ("glide",)


def test_error_names_step_index_and_field():
    doc = routine_doc()
    doc["steps"][1]["reps"] = 0
    assert errors_of(text(doc)) == ["steps[1].reps: must be 1..10, got 0"]


def test_every_problem_is_reported_once():
    doc = routine_doc(rounds="six", colour=[1, 2, 3])
    doc["steps"][0]["zone"] = "moon"
    errors = errors_of(text(doc))
    assert len(errors) == 3
    assert errors[0].startswith("colour: unknown field")
    assert 'rounds: must be a whole number, got "six"' in errors
    assert any(e.startswith("steps[0].zone: must be one of") and e.endswith('got "moon"')
               for e in errors)


def test_pace_may_not_speed_up():
    errors = errors_of(text(routine_doc(breath={"first_ms": 4000, "last_ms": 3000})))
    assert errors == ["breath.last_ms: must be at least breath.first_ms (4000): the pace "
                      "only slows down, got 3000"]


def test_duplicate_step_names_are_rejected():
    doc = routine_doc()
    doc["steps"][1]["name"] = "chin TO ear"
    assert errors_of(text(doc)) == ['steps[1].name: "chin TO ear" is steps[0].name '
                                    '"Chin to ear" again: names must differ in more than '
                                    'capitals']


def test_field_errors_and_cross_field_rules_come_together_with_fractions():
    doc = routine_doc(breath={"first_ms": 4000, "last_ms": 3000})
    doc["steps"][1]["name"] = "CHIN TO EAR"
    doc["steps"][1]["reps"] = 0
    data = json.dumps(doc, indent=1).replace('"rounds": %d' % doc["rounds"], '"rounds": 2.5')
    line = data[:data.index('"rounds"')].count("\n") + 1
    assert errors_of(data) == [
        "rounds: must be a whole number, got 2.5 (line %d)" % line,
        "steps[1].reps: must be 1..10, got 0",
        "breath.last_ms: must be at least breath.first_ms (4000): the pace only slows "
        "down, got 3000",
        'steps[1].name: "CHIN TO EAR" is steps[0].name "Chin to ear" again: names must '
        'differ in more than capitals']


def test_stroke_too_short_for_its_presses():
    doc = routine_doc(breath={"first_ms": 1500, "last_ms": 3000})
    (error,) = errors_of(text(doc))
    assert error.startswith("steps[0].moves: 3 press(es) and 2 glide(s) need 2220 ms")


def test_routine_longer_than_the_limit():
    steps = [{"name": "s%d" % i, "zone": "face", "direction": "up", "reps": 10}
             for i in range(16)]
    doc = routine_doc(rounds=12, breath={"first_ms": 6000, "last_ms": 6000}, steps=steps)
    (error,) = errors_of(text(doc))
    assert error.startswith("steps: the routine lasts ")
    assert error.endswith("longer than the 18:00 limit")


def test_booleans_are_not_numbers_and_whole_numbers_may_be_written_as_decimals():
    assert errors_of(text(routine_doc(rounds=True))) == [
        "rounds: must be a whole number, got true"]
    # JSON (and a JSON Schema "integer") does not tell 3 from 3.0: neither does the format.
    for written in ("3", "3.0", "3e0", "3E+0", "30e-1", "0.3e1", "3.000"):
        data = text(routine_doc()).replace('"rounds": 2', '"rounds": ' + written)
        assert errors_of(data) == [], written
        assert routine.validate(data)[0]["rounds"] == 3 and type(
            routine.validate(data)[0]["rounds"]) is int
    for written, shown in (("2.5", "2.5"), ("25e-1", "25e-1"), ("1e-999999999", "1e-999999999")):
        data = text(routine_doc()).replace('"rounds": 2', '"rounds": ' + written)
        assert errors_of(data) == ["rounds: must be a whole number, got %s (line 1)" % shown]


def test_messages_say_what_is_wrong():
    doc = routine_doc()
    for moves, count in (([], 0), (["glide"] * 9, 9)):
        doc["steps"][0]["moves"] = moves
        assert errors_of(text(doc)) == ["steps[0].moves: must have 1..8 moves, got %d" % count]
    doc["steps"][0]["moves"] = "glide"
    assert errors_of(text(doc)) == [
        'steps[0].moves: must be a list of moves (glide, press), got "glide"']
    for color, error in (([0, 256, 0], "color[1]: must be 0..255, got 256"),
                         ([1, 2], "color: must be [r, g, b]: 3 numbers 0..255, got 2"),
                         ([1, 2.5, 3], "color[1]: must be a whole number, got 2.5 (line 1)"),
                         ([1, -1, 3], "color[1]: must be 0..255, got -1"),
                         ("red", 'color: must be [r, g, b], got "red"')):
        assert errors_of(text(routine_doc(color=color))) == [error], color
    # A number too long to read still names its field.
    doc = routine_doc()
    doc["steps"][1]["reps"] = 1000000000
    assert errors_of(text(doc)) == ["steps[1].reps: number longer than 9 digits (line 1)"]
    assert errors_of(b'{"rounds": 1e99}') == ["rounds: number longer than 9 digits (line 1)"]


def test_titles_and_step_names_must_print():
    # Invisible and direction-changing characters misalign listings and reverse lines;
    # the message shows them escaped, as the file could have written them.
    for code in (0x202E, 0x200B, 0x200D, 0xFEFF, 0x07, 0x85, 0x2028, 0xE000, 0xFFFE, 0xAD):
        title = "Soir" + chr(code) + "x"
        assert errors_of(json.dumps(routine_doc(title=title), ensure_ascii=False)) == [
            "title: character 5 is \\u%04x, an invisible or control character" % code]
    doc = routine_doc()
    doc["steps"][1]["name"] = "Tag " + chr(0xE0041)
    assert errors_of(json.dumps(doc, ensure_ascii=False)) == [
        "steps[1].name: character 5 is \\U000e0041, an invisible or control character"]
    # Letters, marks, symbols, emoji and spaces of every width print.
    for fine in ("Massage du visage – été", "💆‍♀️ Calm", "Soin\u00a0: 5 min", "目元のマッサージ",
                 "Massage \U0001f338 du soir", "e\u0301te\u0301", "\u0645\u0633\u0627\u062c"):
        assert errors_of(json.dumps(routine_doc(title=fine), ensure_ascii=False)) == [], fine


def test_a_byte_order_mark_is_ignored_and_the_title_defaults_to_the_name():
    data = b"\xef\xbb\xbf" + text(routine_doc()).encode()
    prog, errors = program.load(data)
    assert errors == [] and prog.title == "test"
    assert errors_of(b"\xef\xbb\xbf") == ["file is empty"]


HOSTILE = {
    b"": "file is empty",
    b"   \n": "file is empty",
    b"\xff\xfe\x00junk": "not UTF-8 text at line 1 (byte 0): byte 0xff never appears in "
                        "UTF-8; save the file as UTF-8",
    b'{"title": "caf\xe9"}': "not UTF-8 text at line 1 (byte 14): byte 0xe9 starts a character "
                            "that is cut short; save the file as UTF-8",
    b"[1, 2]": "must be a JSON object {...}, got a list",
    b"{": "not valid JSON at line 1: the file ends too early",
    b'{"a": 1,}': 'not valid JSON at line 1: a "key" expected',
    b'{"a": 1\n "b": 2}': "not valid JSON at line 2: ',' or '}' expected",
    b'{"a": [1 2]}': "not valid JSON at line 1: ',' or ']' expected",
    b'{"a": 01}': "not valid JSON at line 1: numbers do not start with 0",
    b'{"a": 1.}': "not valid JSON at line 1: digit expected in a number",
    b'{"a": tru}': "not valid JSON at line 1: a value expected",
    b'{"a": "\\x"}': "not valid JSON at line 1: bad escape in a string",
    b'{"a": "open': "not valid JSON at line 1: string not closed",
    b'{} {}': "not valid JSON at line 1: more after the end of the routine",
    b'{"rounds": NaN}': "not valid JSON at line 1: NaN and Infinity are not numbers",
    b'{"rounds": -Infinity}': "not valid JSON at line 1: NaN and Infinity are not numbers",
    b'{"rounds": 1234567890123}': "rounds: number longer than 9 digits (line 1)",
    b"1234567890123": "number longer than 9 digits at line 1",
    b'{"title": "a\x01b"}': "not valid JSON at line 1: control character in a string",
    b"[" * 10000 + b"]" * 10000: "file is 20000 bytes, limit is 16384",
    b"[" * 5000: "nested deeper than 6 levels at line 1",
    b" " * (1 << 20): "file is 1048576 bytes, limit is 16384",
}


def test_hostile_files_get_one_clear_error_each():
    for data, expected in HOSTILE.items():
        assert errors_of(data) == [expected], data[:40]


def test_unicode_title_is_fine_and_unicode_name_is_not():
    assert errors_of(text(routine_doc(title="Massage du visage – été"))) == []
    assert errors_of(json.dumps(routine_doc(name="été"), ensure_ascii=False)) == [
        "name: use only a-z, 0-9, '-' and '_', got \"été\""]


def test_duplicate_keys_keep_the_last_value():
    data = b'{"format": 1, "format": 2}'
    assert "format: must be 1, got 2" in errors_of(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                  max_size=5),
    max_leaves=30)


@given(json_values)
def test_any_json_value_gets_a_verdict(value):
    data = json.dumps(value)
    errors = errors_of(data)
    assert errors and all(isinstance(e, str) and e for e in errors)


WEEKLY = json.loads(routines.text("weekly"))
WEEKLY_PATHS = list(paths(WEEKLY))[1:]


@given(st.sampled_from(WEEKLY_PATHS), json_values, st.booleans())
def test_mutated_routine_gets_a_verdict_naming_the_field(path, value, delete):
    doc = copy.deepcopy(WEEKLY)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    data = json.dumps(doc)
    prog, errors = program.load(data)
    _, parse_problem = routine.parse(data)
    if parse_problem:  # e.g. a NaN or a 10-digit number: rejected before any field
        assert errors == [parse_problem]
    elif errors:
        top = str(path[0])
        assert any(e.startswith(top) or e.startswith("steps") for e in errors), errors
    else:
        assert prog.total_ms > 0


@given(st.binary(max_size=64), st.integers(min_value=0, max_value=4000), st.integers(0, 8))
def test_byte_mutations_of_a_routine_never_raise(junk, at, cut):
    data = routines.text("weekly").encode()
    data = data[:at] + junk + data[at + cut:]
    prog, errors = program.load(data)
    assert (prog is None) == bool(errors)
    assert all(isinstance(e, str) for e in errors)


def test_escaped_surrogates_are_refused_because_engines_disagree_on_them():
    for text in ('{"title": "\\ud83d\\ude00"}', '{"title": "\\uDC00"}'):
        assert errors_of(text) == [
            "not valid JSON at line 1: \\u escape of a surrogate; write the character itself"]
    assert errors_of('{"title": "\\u00e9"}')[0] == "format: missing"


def test_a_file_with_many_problems_lists_the_first_twenty():
    errors = errors_of(text(routine_doc(**{"extra%02d" % i: i for i in range(25)})))
    assert [e.split(":")[0] for e in errors] == ["extra%02d" % i for i in range(20)]
    assert all(": unknown field (known: " in e for e in errors)


# A value the validator refuses is shown as the file wrote it, the same on every engine.
# Documents given as dicts (the studio and the host tools pass parsed ones) reach values a
# JSON file cannot hold: floats of every size, tuples.
SHOWN = [
    (None, "null"), (True, "true"), (False, "false"), (7, "7"), (-7, "-7"),
    (3.0, "3"), (-999999.0, "-999999"), (999999.0, "999999"), (2.5, "a decimal number"),
    (-2.5, "a decimal number"), (1e6, "a number out of range"),
    (-1e6, "a number out of range"), (1e300, "a number out of range"),
    ("x" * 24, '"' + "x" * 24 + '"'), ("x" * 25, '"' + "x" * 24 + '..."'),
    ('say "hi"', '"say \\"hi\\""'), ("back\\slash", '"back\\\\slash"'),
    ("zero\u200bwidth", '"zero\\u200bwidth"'), ("tag\U000e0041", '"tag\\U000e0041"'),
    ("\uffff", '"\\uffff"'), ("été", '"été"'),
    ([1], "a list"), ({}, "an object"), ((1, 2), "a value"),
]


@pytest.mark.parametrize("value, shown", SHOWN, ids=[repr(v)[:20] for v, _ in SHOWN])
def test_a_refused_value_is_shown_as_the_file_wrote_it(value, shown):
    doc = routine_doc()
    doc["steps"][1]["sides"] = value
    assert routine.validate(doc)[1] == [
        "steps[1].sides: must be one of both, left-right, got " + shown]


def test_numbers_that_only_a_parsed_document_can_hold():
    for value, error in ((2.5, "rounds: must be a whole number, got a decimal number"),
                         (float("nan"), "rounds: must be a whole number, got a number out "
                                        "of range"),
                         (1e6, "rounds: must be 1..12, got a number out of range"),
                         (-1e6, "rounds: must be 1..12, got a number out of range"),
                         (-1e7, "rounds: must be 1..12, got a number out of range"),
                         (999999.0, "rounds: must be 1..12, got 999999"),
                         (-999999.0, "rounds: must be 1..12, got -999999")):
        assert routine.validate(routine_doc(rounds=value))[1] == [error], value
    clean, errors = routine.validate(routine_doc(rounds=3.0))
    assert errors == [] and clean["rounds"] == 3 and type(clean["rounds"]) is int


def test_each_kind_of_field_says_what_it_needs():
    doc = routine_doc(title=5)
    assert errors_of(text(doc)) == ["title: must be a string, got 5"]
    doc = routine_doc(title="\u200bHidden")
    assert errors_of(json.dumps(doc, ensure_ascii=False)) == [
        "title: character 1 is \\u200b, an invisible or control character"]
    assert errors_of(text(routine_doc(steps=5))) == ["steps: must be a list, got 5"]
    assert errors_of(text(routine_doc(steps=[5]))) == [
        "steps[0]: must be an object {...}, got 5"]
    doc = routine_doc()
    del doc["breath"]
    assert errors_of(text(doc)) == ["breath: missing"]
    assert errors_of(b"2.5") == ["routine: must be a whole number, got 2.5 (line 1)"]


def test_what_is_not_a_routine_file_at_all():
    assert routine.validate(5) == (None, ["not text"])
    assert routine.validate("\ud800") == (None, ["not UTF-8 text"])
    data = text(routine_doc())
    assert routine.validate(bytearray(data.encode()))[1] == [] == routine.validate(data)[1]
    exact = data[:-1] + " " * (16384 - len(data)) + "}"  # the 16 KiB the format allows
    assert routine.validate(exact.encode())[1] == []
    assert routine.validate(exact.encode() + b" ")[1] == ["file is 16385 bytes, limit is "
                                                           "16384"]


def test_a_board_short_of_memory_says_so(monkeypatch):
    data = text(routine_doc())

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(routine, "_check_object", no_memory)
    assert routine.validate(data) == (None, ["too large to check"])
    monkeypatch.setattr(routine.json, "loads", no_memory)
    assert routine.validate(data) == (None, ["too large to parse"])

    def refuses(*args, **kwargs):
        raise ValueError("a json module stricter than the syntax check")

    monkeypatch.setattr(routine.json, "loads", refuses)
    assert routine.validate(data) == (None, ["not valid JSON"])


def _strict_json(data):
    """CPython's json, strict as RFC 8259: True when `data` (ASCII) is JSON."""
    def refuse(name):
        raise ValueError(name)

    try:
        json.loads(data.decode("ascii"), parse_constant=refuse)
    except ValueError:
        return False
    return True


_SCALARS = (st.none() | st.booleans() | st.integers(-99999, 99999)
            | st.text("abxy \"\\/\n\t\x01", max_size=6))
_JSON_TEXTS = st.builds(
    lambda v, indent, seps: json.dumps(v, indent=indent, separators=seps).encode(),
    st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text("abxy\"\\", max_size=4), inner, max_size=3),
                 max_leaves=8),
    st.sampled_from([None, 1, "\t"]), st.sampled_from([None, (",", ":"), (" ,", " : ")]))
# What an edit may put in: JSON's structure, numbers, escapes and words, and a few
# bytes that are never JSON.
_EDIT_BYTES = st.sampled_from(list(b' \t\n\r{}[],:"\\/0123456789-+.eEtrufalsnbuX') + [0x01,
                                                                                     0x7f])


@given(_JSON_TEXTS, st.lists(st.tuples(st.integers(0, 200), st.sampled_from("idr"),
                                       _EDIT_BYTES), max_size=3))
def test_the_syntax_check_agrees_with_a_strict_json_parser(data, edits):
    # The check runs before json.loads on both engines (their parsers accept different
    # things), so on plain JSON it must say exactly what a strict parser says.
    for at, how, byte in edits:
        at %= len(data) + 1
        if how == "i":
            data = data[:at] + bytes([byte]) + data[at:]
        elif how == "d":
            data = data[:at] + data[at + 1:]
        else:
            data = data[:at] + bytes([byte]) + data[at + 1:]
    problem = routine.parse(data)[1]
    if problem and not problem.startswith(("not valid JSON", "file is empty",
                                           "must be a JSON object")):
        # A format limit (a fraction, too many digits, too deep) is JSON the format
        # refuses: a strict parser reads it, unless a later byte is not JSON.
        return
    ours = problem is None or problem.startswith("must be a JSON object")
    assert ours == _strict_json(data), (data, problem)


# The syntax check at the edges of each JSON rule: the end of the file in the middle of a
# token, each escape, each part of a number, a byte JSON does not know in each place.
_NOT_JSON = "not valid JSON at line 1: "
EDGES = {
    b'["\\': _NOT_JSON + "bad escape in a string",
    b'{"a": "\\u12': _NOT_JSON + "bad \\u escape in a string",
    b'{"a": "\\uXXXX"}': _NOT_JSON + "bad \\u escape in a string",
    b'{"a": "\\X"}': _NOT_JSON + "bad escape in a string",
    b'{"a": "\\ud7ff\\ue000\\u0800"}': None,  # next to the surrogates, not one
    b'{"a": "\\/\\b\\f\\n\\r\\t\\"\\\\"}': None,
    b'{"title": "\x80"}': "not UTF-8 text at line 1 (byte 11): byte 0x80 continues a "
                          "character that never started; save the file as UTF-8",
    b'{"a": \x80}': "not UTF-8 text at line 1 (byte 6): byte 0x80 continues a character "
                    "that never started; save the file as UTF-8",
    b"-": _NOT_JSON + "digit expected in a number",
    b"01": _NOT_JSON + "numbers do not start with 0",
    b"1": "must be a JSON object {...}, got 1",
    b"1.0": "must be a JSON object {...}, got 1",
    b"1e": _NOT_JSON + "digit expected in an exponent",
    b'{"a": 1eX}': _NOT_JSON + "digit expected in an exponent",
    b'{"a": 1e+X}': _NOT_JSON + "digit expected in an exponent",
    b'{"a": 1X}': _NOT_JSON + "',' or '}' expected",
    b'{"a": 1e+5}': None,
    b'{"a": 1E-0}': None,
    b'{"a": -0}': None,
    b'{"a": 0.5e1}': None,
    b'{"a": 12345678.90e1}': None,  # 123456789: nine digits
    b'{"a": 123456789.0e1}': "a: number longer than 9 digits (line 1)",
    b'{"a": 5e-1}': "a: must be a whole number, got 5e-1 (line 1)",
    b'{"a" 1}': _NOT_JSON + "':' expected",
    b'{"a":1}': None,
    b'{"a": X1}': _NOT_JSON + "a value expected",
    b'{"a":\tX}': _NOT_JSON + "a value expected",
    b'{"a": -NaN}': _NOT_JSON + "NaN and Infinity are not numbers",
    b'{"a": [1,]}': _NOT_JSON + "a value expected",
    b'{"a": ]}': _NOT_JSON + "a value expected",
    b'{"a": "\\n': _NOT_JSON + "string not closed",
    b'{"a": 1eX5}': _NOT_JSON + "digit expected in an exponent",
    b"0": "must be a JSON object {...}, got 0",
    b"-0": "must be a JSON object {...}, got 0",
    b'{"a": null, "b": true, "c": false, "d": [], "e": {}}': None,
}


@pytest.mark.parametrize("data", list(EDGES), ids=[repr(d)[2:24] for d in EDGES])
def test_json_at_the_edge_of_each_rule(data):
    assert routine.parse(data)[1] == EDGES[data]


def test_a_json_module_without_keywords_is_used_without_them(monkeypatch):
    # MicroPython's json.loads takes no keywords: the validator probes for them once, at
    # import. A private copy of the module, imported where json.loads is MicroPython's.
    import importlib.util

    real = json.loads
    monkeypatch.setattr(json, "loads", lambda s: real(s))
    spec = importlib.util.spec_from_file_location("routine_on_micropython", routine.__file__)
    copy_ = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy_)
    assert copy_.validate(text(routine_doc()))[1] == []
