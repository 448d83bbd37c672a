# Time to import the firmware's modules (from whatever the path holds: .py or .mpy), five
# times over (this engine's ticks_us counts whole ms), forgetting them in between.
import sys
import time

import machine  # noqa: F401 - the port's own module on a board: not part of the figure

REPEAT = 5
total = 0
for _ in range(REPEAT):
    for name in [n for n in sys.modules if n == "massager" or n.startswith("massager.")]:
        del sys.modules[name]
    t0 = time.ticks_us()
    import massager.app  # noqa: E402, F401
    import massager.program  # noqa: E402, F401
    import massager.runtime  # noqa: E402, F401
    import massager.store  # noqa: E402, F401

    total += time.ticks_diff(time.ticks_us(), t0)
print("us", total // REPEAT)
