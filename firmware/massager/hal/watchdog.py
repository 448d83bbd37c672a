# The hardware watchdog: a hang stops everything, the motor included, by a reset.
#
# It starts on the first feed(), not when built: boot.py, safe mode and the REPL never feed,
# so they never start a watchdog that cannot be stopped again (rp2 and esp32 cannot).
import sys

import machine

# The longest timeout each port accepts (rp2: 24-bit counter; RP2040 8388 ms,
# RP2350 16777 ms, so 8388 is safe for both). Others: no known limit below a minute.
MAX_MS = {"rp2": 8388}
DEFAULT_MAX_MS = 60000


class Watchdog:
    def __init__(self, timeout_ms, max_ms=None):
        """timeout_ms None or 0: a disabled watchdog whose feed() does nothing."""
        if max_ms is None:
            max_ms = MAX_MS.get(sys.platform, DEFAULT_MAX_MS)
        if timeout_ms is not None and timeout_ms > 0 and not hasattr(machine, "WDT"):
            timeout_ms = None  # a port or a simulator without one
        if timeout_ms is not None and timeout_ms > 0:
            self.timeout_ms = timeout_ms if timeout_ms < max_ms else max_ms
        else:
            self.timeout_ms = 0
        self.wdt = None

    @property
    def enabled(self):
        return self.timeout_ms > 0

    def feed(self):
        """Tell the watchdog the main loop is alive (starts it on the first call)."""
        wdt = self.wdt
        if wdt is not None:
            wdt.feed()
        elif self.timeout_ms:
            self.wdt = machine.WDT(timeout=self.timeout_ms)
            self.wdt.feed()
