# The text rules of the format, held against CPython's Unicode database: MicroPython has
# none, so the firmware carries its own table (firmware/massager/text.py).
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from massager import text

REFUSED = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def test_printable_matches_the_unicode_categories():
    for code in range(0x110000):
        category = unicodedata.category(chr(code))
        if category == "Cn" and (code & 0xFFFE) != 0xFFFE and not 0xFDD0 <= code <= 0xFDEF:
            continue  # unassigned in this Python's Unicode: the table may be newer
        noncharacter = category == "Cn"
        assert text.printable(code) == (category not in REFUSED and not noncharacter), \
            "U+%04X (%s)" % (code, category)


def test_the_schema_ranges_are_exactly_what_printable_refuses():
    ranges = text.unprintable_ranges()
    assert ranges == sorted(ranges)
    inside = [False] * 0x110000
    for lo, hi in ranges:
        for code in range(lo, hi + 1):
            inside[code] = True
    assert [not text.printable(c) for c in range(0x110000)] == inside


def _strict(b):
    try:
        b.decode("utf-8")  # CPython's decoder is strict (RFC 3629)
        return True
    except UnicodeDecodeError:
        return False


@given(st.binary(min_size=1, max_size=6))
@example(b"\xc0\xaf")  # overlong "/": MicroPython's decode() accepts it
@example(b"\xe0\x80\xaf")
@example(b"\xf0\x80\x80\xaf")
@example(b"\xed\xa0\x80")  # an encoded surrogate: MicroPython accepts it
@example(b"\xed\xbf\xbf")
@example(b"\xf4\x90\x80\x80")  # above U+10FFFF: MicroPython accepts it
@example(b"\xf7\xbf\xbf\xbf")
@example(b"\xe2\x82")  # cut short
@example(b"\xe9t\xe9")  # Latin-1
@example(b"\xef\xbf\xbf")  # U+FFFF: valid UTF-8 (a noncharacter, refused later as text)
def test_char_end_is_strict_utf8(data):
    i = 0
    ok = True
    while i < len(data):
        if data[i] < 0x80:
            i += 1
            continue
        end = text.char_end(data, i)
        if end < 0:
            ok = False
            assert text.char_problem(data, i)
            break
        assert data[i:end].decode("utf-8")  # what it took is one whole character
        i = end
    assert ok == _strict(data)
