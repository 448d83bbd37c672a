# The validator: every input gets a verdict, every problem names where it is.
import copy
import json

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
    assert errors_of(text(doc)) == ['steps[1].name: same as steps[0].name "chin TO ear"']


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
    for fine in ("Massage du visage – été", "Soin\u00a0: 5 min", "目元のマッサージ",
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
