# What text a routine may hold: strict UTF-8 and printable characters.
#
# Both rules are written here once, on code points and bytes only, because the engines
# differ: MicroPython's bytes.decode() accepts overlong forms, encoded surrogates and code
# points above U+10FFFF (CPython refuses them), and MicroPython has no unicodedata. The
# validator applies them on the device and on the host; host_tools/schema.py turns
# UNPRINTABLE into the JSON Schema's pattern.

# Code points a title or step name may not contain, as sorted (first, last) pairs: C0 and
# C1 controls (Cc), format characters (Cf: soft hyphen, zero-width space and joiners,
# direction overrides, the byte-order mark, tags; Unicode 15.1), the line and paragraph
# separators (Zl, Zp), surrogates (Cs) and private use (Co). Noncharacters (U+FDD0..U+FDEF
# and the last two of every plane) are ruled out by arithmetic in printable().
UNPRINTABLE = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x0600, 0x0605),
    (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891),
    (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xDFFF), (0xE000, 0xF8FF),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD),
)


# The zero-width joiner is how phones write many emoji (UTS 51 ZWJ sequences: 💆‍♀️ is
# U+1F486 U+200D U+2640 U+FE0F): allowed between two visible non-ASCII characters, refused
# anywhere else, where it would only hide.
ZWJ = 0x200D


def printable(code):
    """True when the code point shows as something (spaces of any width count)."""
    if 0x20 <= code < 0x7F or 0x2070 <= code < 0xD800 or 0xAD < code < 0x600:
        return True  # ASCII, most letters and CJK: no range of the table lies there
    if (code & 0xFFFE) == 0xFFFE or 0xFDD0 <= code <= 0xFDEF:
        return False  # noncharacters
    for lo, hi in UNPRINTABLE:
        if code < lo:
            return True
        if code <= hi:
            return False
    return True


def unprintable_ranges():
    """Every (first, last) range printable() refuses, sorted; for the JSON Schema."""
    extra = [(0xFDD0, 0xFDEF)] + [(p | 0xFFFE, p | 0xFFFF) for p in range(0, 0x110000, 0x10000)]
    out = []
    for lo, hi in sorted(list(UNPRINTABLE) + extra):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def first_unprintable(s):
    """Index of the first character of `s` that printable() refuses, or -1."""
    b = s.encode()
    if not b or (min(b) >= 0x20 and max(b) < 0x7F):  # plain ASCII: decided in C
        return -1
    i = 0
    joiner = -1  # index of a zero-width joiner waiting for what follows it
    prev = 0
    for c in s:
        code = ord(c)
        if joiner >= 0 and (code <= 0x7E or code == ZWJ or not printable(code)):
            return joiner
        joiner = -1
        if code == ZWJ and prev > 0x7E:
            joiner = i  # an emoji ZWJ sequence (UTS 51) if a visible non-ASCII one follows
        elif (code < 0x20 or code > 0x7E) and not printable(code):
            return i
        prev = code
        i += 1
    return joiner


# -- UTF-8 (RFC 3629) ----------------------------------------------------------------------

def char_end(b, i):
    """Index after the UTF-8 character that starts at b[i] (not ASCII), or -1 when the
    bytes there are not UTF-8. Allocates nothing: it runs for every non-ASCII byte."""
    c = b[i]
    if c < 0xC2 or c > 0xF4:
        return -1
    if c < 0xE0:
        n, lo, hi = 1, 0x80, 0xBF
    elif c < 0xF0:
        n = 2
        lo = 0xA0 if c == 0xE0 else 0x80  # E0 80..9F: overlong
        hi = 0x9F if c == 0xED else 0xBF  # ED A0..BF: surrogates
    else:
        n = 3
        lo = 0x90 if c == 0xF0 else 0x80  # F0 80..8F: overlong
        hi = 0x8F if c == 0xF4 else 0xBF  # F4 90..: above U+10FFFF
    end = i + 1 + n
    if end > len(b):
        return -1
    d = b[i + 1]
    if d < lo or d > hi:
        return -1
    for k in range(i + 2, end):
        if b[k] & 0xC0 != 0x80:
            return -1
    return end


def char_problem(b, i):
    """Why char_end(b, i) refused the bytes at i: one phrase for a message."""
    c = b[i]
    if 0x80 <= c < 0xC0:
        return "byte 0x%02x continues a character that never started" % c
    if c == 0xC0 or c == 0xC1:
        return "overlong encoding (0x%02x)" % c
    if c > 0xF4:
        return ("byte 0x%02x encodes a code point above U+10FFFF" % c if c < 0xF8 else
                "byte 0x%02x never appears in UTF-8" % c)
    d = b[i + 1] if i + 1 < len(b) else -1
    if 0x80 <= d < 0xC0:
        if (c == 0xE0 and d < 0xA0) or (c == 0xF0 and d < 0x90):
            return "overlong encoding (0x%02x 0x%02x)" % (c, d)
        if c == 0xED and d >= 0xA0:
            return "an encoded UTF-16 surrogate (0x%02x 0x%02x)" % (c, d)
        if c == 0xF4 and d >= 0x90:
            return "a code point above U+10FFFF (0x%02x 0x%02x)" % (c, d)
    return "byte 0x%02x starts a character that is cut short" % c
