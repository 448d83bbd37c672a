# docs/routine-format.md is the format's contract: its field tables are read here and the
# validator is held to every row, at both ends of each range and with each default. The
# expectations come from the document people read, never from routine.py's own tables, so
# a limit changed in one place and not the other fails here.
import copy
import os
import re

import pytest

from helpers import routine_doc
from massager import routine

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "routine-format.md")


def _rows():
    """(path, type, required, range text, default text) for each field the tables list;
    a step's fields come back as steps[0].<field>."""
    rows = []
    prefix = ""
    with open(DOC, encoding="utf-8") as f:
        for line in f:
            if line.startswith("A step:"):
                prefix = "steps[0]."
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 6 or not cells[0].startswith("`"):
                continue
            for name in re.findall(r"`([a-z_.]+)`", cells[0]):
                rows.append((prefix + name, cells[1], cells[2] == "yes", cells[3], cells[4]))
    return rows


ROWS = _rows()
STEP_NAMES = ("steps[0].name", "steps[1].name")


def _set(doc, path, value):
    """doc with the field at `path` (a.b, steps[0].c) set to value, or removed (_GONE)."""
    doc = copy.deepcopy(doc)
    parts = re.findall(r"[a-z_]+|\[\d+\]", path)
    node = doc
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
    if value is _GONE:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    return doc


def _get(doc, path):
    for part in re.findall(r"[a-z_]+|\[\d+\]", path):
        doc = doc[int(part[1:-1])] if part.startswith("[") else doc[part]
    return doc


_GONE = object()


def _verdict(doc):
    return routine.validate(doc)[1]


def _base(path):
    doc = routine_doc()
    if path == "breath.last_ms":  # its own range, with first_ms out of the way
        doc = _set(doc, "breath.first_ms", 1000)
    if path == "breath.first_ms":
        doc = _set(doc, "breath.last_ms", 12000)
    return doc


def _check_name_alphabet(base, path, lo, hi):
    alphabet = set("abcdefghijklmnopqrstuvwxyz0123456789-_")  # `a-z 0-9 - _`
    for code in range(0x20, 0x7f):
        name = "ab" + chr(code)
        errors = _verdict(_set(base, path, name))
        if chr(code) in alphabet:
            assert errors == [] and routine.valid_name(name), name
        else:
            assert len(errors) == 1 and errors[0].startswith(
                "%s: use only a-z, 0-9, '-' and '_', got " % path), name
            assert not routine.valid_name(name)
    for n in (lo, hi):
        assert routine.valid_name("a" * n)
    for bad in ("a" * (lo - 1), "a" * (hi + 1), 5, None, b"ab"):
        assert not routine.valid_name(bad), bad


def test_the_tables_list_every_field_the_validator_knows():
    known = set()
    for where in ("", "breath.", "press.", "cues.", "steps[0]."):  # it names what it knows
        (error,) = _verdict(_set(routine_doc(), where + "zzz", 1))
        assert error.startswith(where + "zzz: unknown field (known: ")
        known |= {where + k for k in error[error.index("known: ") + 7:-1].split(", ")}
    documented = {p for p, *_ in ROWS}
    assert len(documented) == len(ROWS)
    assert known - {"breath", "press", "cues"} == documented  # objects: their fields are rows


@pytest.mark.parametrize("path, kind, required, limits, default", ROWS,
                         ids=[r[0] for r in ROWS])
def test_each_field_is_checked_as_the_format_document_says(path, kind, required, limits,
                                                           default):
    base = _base(path)
    assert _verdict(base) == []
    where = path
    bounds = re.match(r"(\d+)(?:-(\d+))?", limits)
    if kind == "integer":
        lo, hi = int(bounds.group(1)), int(bounds.group(2) or bounds.group(1))
        for ok in (lo, hi):
            assert _verdict(_set(base, path, ok)) == [], (path, ok)
        for bad in (lo - 1, hi + 1):
            assert _verdict(_set(base, path, bad)) == [
                "%s: must be %s, got %d" % (where, "%d" % lo if lo == hi else "%d..%d" % (
                    lo, hi), bad)], (path, bad)
        assert _verdict(_set(base, path, True)) == [
            "%s: must be a whole number, got true" % where]
    elif kind == "boolean":
        for ok in (True, False):
            assert _verdict(_set(base, path, ok)) == []
        assert _verdict(_set(base, path, 1)) == ["%s: must be true or false, got 1" % where]
    elif kind == "string" and bounds:  # a length range
        lo, hi = int(bounds.group(1)), int(bounds.group(2))
        letter = "a" if "a-z" in limits else "é"
        for ok in (lo, hi):
            value = letter * ok if path not in STEP_NAMES else "Z" * ok
            assert _verdict(_set(base, path, value)) == [], (path, ok)
        for bad in ([lo - 1] if lo else []) + [hi + 1]:
            assert _verdict(_set(base, path, letter * bad)) == [
                "%s: must be %d..%d characters, got %d" % (where, lo, hi, bad)]
        if "a-z" in limits:  # a file name: its alphabet, and the store's check agrees
            _check_name_alphabet(base, path, lo, hi)
    elif kind == "string":  # a choice: each listed value, and nothing else
        choices = [c.strip() for c in limits.split(",")]
        for ok in choices:
            assert _verdict(_set(base, path, ok)) == [], (path, ok)
        assert _verdict(_set(base, path, "sideways")) == [
            "%s: must be one of %s, got \"sideways\"" % (where, ", ".join(choices))]
    elif kind == "list" and path == "steps":
        lo, hi = int(bounds.group(1)), int(bounds.group(2))
        step = base["steps"][0]
        many = [dict(step, name="Step %d" % i) for i in range(hi + 1)]
        assert _verdict(_set(base, path, many[:hi])) == []
        assert _verdict(_set(base, path, many)) == [
            "steps: must have %d..%d entries, got %d" % (lo, hi, hi + 1)]
        assert _verdict(_set(base, path, [])) == ["steps: must have %d..%d entries, got 0" % (
            lo, hi)]
    elif kind == "list":  # moves: 1-8 of glide, press
        m = re.match(r"(\d+)-(\d+) of (.*)", limits)
        lo, hi, names = int(m.group(1)), int(m.group(2)), m.group(3).split(", ")
        for ok in ([names[0]] * lo, [names[-1]] * hi, names):
            assert _verdict(_set(base, path, ok)) == [], ok
        for bad in ([names[0]] * (hi + 1), []):
            assert _verdict(_set(base, path, bad)) == [
                "%s: must have %d..%d moves, got %d" % (where, lo, hi, len(bad))]
        assert _verdict(_set(base, path, ["tap"])) == [
            "%s[0]: must be one of %s, got \"tap\"" % (where, ", ".join(names))]
    elif kind == "[r, g, b]":  # each 0-255
        lo, hi = map(int, re.search(r"(\d+)-(\d+)", limits).groups())
        for ok in ([lo] * 3, [hi] * 3):
            assert _verdict(_set(base, path, ok)) == []
        assert _verdict(_set(base, path, [lo, hi + 1, lo - 1])) == [
            "color[1]: must be %d..%d, got %d" % (lo, hi, hi + 1),
            "color[2]: must be %d..%d, got %d" % (lo, hi, lo - 1)]
    else:
        pytest.fail("a row of a type this test does not know: %s %s" % (path, kind))
    # Required: refused when missing. Optional: filled with the documented default.
    gone = _set(base, path, _GONE)
    if required:
        assert _verdict(gone) == ["%s: missing" % where]
        return
    clean, errors = routine.validate(gone)
    assert errors == []
    literal = default.split(" / ")
    if len(literal) > 1:  # press.on_ms / press.off_ms: 220 / 160
        default = literal[[r[0] for r in ROWS if r[4] == default].index(path)]
    if default in ("name", "routine `intensity`"):
        return  # worked out by the player from other fields (test_program covers them)
    want = {"true": True, "false": False}.get(default)
    if want is None:
        want = (tuple(int(x) for x in re.findall(r"\d+", default)) if default.startswith("[")
                and default[1].isdigit() else
                tuple(re.findall(r"[a-z-]+", default)) if default.startswith("[")
                else int(default) if default.isdigit() else default)
    assert _get(clean, path) == want, (path, default)
