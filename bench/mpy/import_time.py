# Time to import the firmware's modules (from whatever the path holds: .py or .mpy).
import time

t0 = time.ticks_us()
import massager.app  # noqa: E402, F401
import massager.program  # noqa: E402, F401
import massager.runtime  # noqa: E402, F401
import massager.store  # noqa: E402, F401

print("us", time.ticks_diff(time.ticks_us(), t0))
