# The same firmware on CPython and on real MicroPython (the official WebAssembly build):
# traces and validator verdicts must be byte-identical.
import json

from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from helpers import routine_doc
from host_tools.flash import BATCH_HOST
from massager import routines as builtin
from simulator.engines import run_batch
from strategies import button_scripts, routines

BUSY = "0:short,20000:short,25000:short,26000:double,30000:down,30200:up,40000:double," \
       "41000:long,42000:double,43000:short,50000:short,50300:short,60000:long"


def both(mode, cases, other="micropython", **kwargs):
    """Run on CPython and another engine; fail naming the first case and line that
    differ."""
    cp = run_batch(mode, cases, engine="cpython")
    mp = run_batch(mode, cases, engine=other, **kwargs)
    assert len(cp) == len(mp) == len(cases)
    for case, a, b in zip(cases, cp, mp):
        if a != b:
            i = next(i for i, (x, y) in enumerate(zip(a + [""], b + [""])) if x != y)
            raise AssertionError("case %r\nline %d\n cpython: %s\n %s: %s" % (
                case, i, a[i] if i < len(a) else "(end)", other,
                b[i] if i < len(b) else "(end)"))
    return cp, mp


def test_builtin_routines_give_identical_traces():
    cases = [{"routine": builtin.text(name), "buttons": buttons, "until": None}
             for name in builtin.NAMES for buttons in ("0:short", BUSY)]
    cp, _ = both("trace", cases)
    assert all(len(lines) > 50 for lines in cp)


def test_daily_routine_gives_identical_traces_on_the_real_rp2_port(pico_image):
    # The third engine: the stock rp2 port (MicroPython 1.28.0) on an emulated RP2040, the
    # firmware as .mpy from `massager flash`. The same bytes as CPython, hence as WebAssembly
    # (the test above); its own timing at the pins is tests/test_rp2040.py's business.
    cases = [{"routine": builtin.text("daily"), "buttons": "0:short", "until": None}]
    cp, _ = both("trace", cases, other="rp2040", image=pico_image, host=BATCH_HOST)
    assert len(cp[0]) > 50 and cp[0][-1].startswith('{"t": ')


# Each example is one engine start running a batch; the failure message names the case, so
# shrinking (hundreds of engine starts) would only cost time.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


@settings(max_examples=4, phases=NO_SHRINK)
@given(st.lists(st.tuples(routines(), button_scripts(horizon=90000)), min_size=15,
                max_size=15))
def test_generated_routines_and_button_scripts_give_identical_traces(pairs):
    cases = [{"routine": json.dumps(doc), "buttons": script, "until": 200000}
             for doc, script in pairs]
    cp, _ = both("trace", cases)
    assert any(len(lines) > 2 for lines in cp)  # not everything was rejected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=20)
WEEKLY = builtin.text("weekly").encode()


@st.composite
def hostile_files(draw):
    kind = draw(st.sampled_from(["value", "mutated", "spliced"]))
    if kind == "value":
        return json.dumps(draw(json_values))
    if kind == "mutated":
        at = draw(st.integers(0, len(WEEKLY)))
        junk = draw(st.binary(max_size=16))
        data = WEEKLY[:at] + junk + WEEKLY[at + draw(st.integers(0, 8)):]
        return {"hex": data.hex()}
    doc = json.loads(WEEKLY)
    doc[draw(st.sampled_from(sorted(doc)))] = draw(json_values)
    return json.dumps(doc)


@settings(max_examples=3, phases=NO_SHRINK)
@given(st.lists(hostile_files(), min_size=100, max_size=100))
def test_validator_verdicts_are_identical(cases):
    cp, _ = both("validate", cases)
    assert all(lines[0] in ("ok", "invalid") for lines in cp)


def test_text_outside_the_basic_plane_reaches_both_engines_the_same():
    doc = json.loads(WEEKLY)
    doc["title"] = "Massage 🌸 du soir"
    cp, _ = both("validate", [json.dumps(doc, ensure_ascii=False), json.dumps(doc)])
    assert cp[0] == ["ok"]  # the flower itself: fine
    assert cp[1][0] == "invalid" and "surrogate" in cp[1][1]  # escaped: refused on both


# Byte sequences that are not UTF-8, one family each. MicroPython's decoder accepts the
# overlong forms, the encoded surrogates and the code points above U+10FFFF that CPython
# refuses, so the firmware checks UTF-8 itself; these make sure both engines are asked.
_CONT = st.integers(0x80, 0xBF)
not_utf8 = st.one_of(
    st.tuples(st.integers(0xC0, 0xC1), _CONT),  # overlong, 2 bytes
    st.tuples(st.just(0xE0), st.integers(0x80, 0x9F), _CONT),  # overlong, 3 bytes
    st.tuples(st.just(0xF0), st.integers(0x80, 0x8F), _CONT, _CONT),  # overlong, 4 bytes
    st.tuples(st.just(0xED), st.integers(0xA0, 0xBF), _CONT),  # UTF-16 surrogates
    st.tuples(st.just(0xF4), st.integers(0x90, 0xBF), _CONT, _CONT),  # above U+10FFFF
    st.tuples(st.integers(0xF5, 0xF7), _CONT, _CONT, _CONT),  # above U+10FFFF
    st.tuples(st.integers(0xC2, 0xF4)),  # cut short: ASCII follows
    st.tuples(st.integers(0xE1, 0xEF), _CONT),  # cut short after one continuation
    st.tuples(_CONT),  # a continuation byte with no start
    st.tuples(st.integers(0xF8, 0xFF)),  # never in UTF-8
).map(bytes)


SMALL = json.dumps(routine_doc(title="Weekly")).encode()  # many fit in the engine's heap


@st.composite
def files_with_bad_utf8(draw):
    """A routine with a sequence that is not UTF-8 in its title or anywhere else."""
    bad = draw(not_utf8)
    title = SMALL.index(b'"Weekly') + 1
    at = draw(st.one_of(st.integers(title, title + 6), st.integers(0, len(SMALL))))
    return {"hex": (SMALL[:at] + bad + SMALL[at:]).hex()}


def _hex(data):
    return {"hex": data.hex()}


@settings(max_examples=3, phases=NO_SHRINK)
@given(st.lists(files_with_bad_utf8(), min_size=60, max_size=60))
@example([_hex(b"\xc0\xaf"), _hex(b'{"title": "\xc0\xaf"}'), _hex(b"\xed\xa0\x80"),
          _hex(SMALL.replace(b"Weekly", b"\xed\xa0\x80Weekly")),  # an encoded surrogate
          _hex(SMALL.replace(b"Weekly", b"W\xe0\x80\xafeekly")),  # overlong
          _hex(SMALL.replace(b"Weekly", b"\xf4\x90\x80\x80")),  # above U+10FFFF
          _hex(SMALL.replace(b"Weekly", b"caf\xe9")),  # Latin-1
          _hex(SMALL.replace(b"Weekly", b"\xe2\x82")),  # cut short
          _hex(b"\xef\xbb\xbf" + SMALL)])  # a byte-order mark: fine on both
def test_bytes_that_are_not_utf8_get_the_same_verdict_and_message(cases):
    cp, _ = both("validate", cases)
    for case, lines in zip(cases, cp):
        data = bytes.fromhex(case["hex"])
        try:
            data.decode("utf-8")  # CPython's strict decoder is the reference
        except UnicodeDecodeError:
            assert lines[0] == "invalid" and (lines[1].startswith("not UTF-8 text at line ")
                                               or lines[1].startswith("not valid JSON")), lines
            if lines[1].startswith("not UTF-8"):
                assert "(byte %d)" % _first_bad_byte(data) in lines[1]


def _first_bad_byte(data):
    for i in range(len(data) + 1):
        try:
            data[:i + 1].decode("utf-8")
        except UnicodeDecodeError as e:
            if e.reason != "unexpected end of data" or i + 1 >= len(data):
                return e.start
    return None
