# Cost of the firmware's own UTF-8 and printable-text checks: validating the weekly routine
# with a non-ASCII title and step names against the same routine in plain ASCII, in
# alternating blocks (this build's clock counts whole milliseconds). Prints the fastest
# block of each, per validation in us: the least disturbed by a loaded machine.
import time

from massager import routine, routines

PAIRS = 15
BLOCK = 5  # validations per timed block
ascii_data = routines.text("weekly").encode()
text_data = ascii_data.replace(b"Weekly full massage", "Massage complet, été 🌸".encode())
for old, new in ((b"Chin to ear", "Menton→oreille"), (b"Neck, stroke", "Nacke, streichen"),
                 (b"Eye zone", "目元のツボ")):
    text_data = text_data.replace(old, new.encode())
assert routine.validate(ascii_data)[1] == [] and routine.validate(text_data)[1] == []
assert len(text_data) > len(ascii_data)


def block(data):
    t = time.ticks_us()
    for _ in range(BLOCK):
        routine.validate(data)
    return time.ticks_diff(time.ticks_us(), t)


fast_a = fast_b = None
for _ in range(PAIRS):
    a = block(ascii_data)
    b = block(text_data)
    fast_a = a if fast_a is None or a < fast_a else fast_a
    fast_b = b if fast_b is None or b < fast_b else fast_b
print(fast_a // BLOCK, fast_b // BLOCK)
