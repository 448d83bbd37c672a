# The hardware watchdog: a hang stops everything, the motor included, by a reset.
#
# Built idle; start() arms it, and it cannot be stopped again (rp2 and esp32 cannot), so
# the runtime arms it only once a session runs: boot.py, safe mode and the REPL never do.
# feed() before start() does nothing. Watchdog(None) or 0: disabled, start() is a no-op.
import sys

import machine

# The longest timeout each port accepts (rp2: a 24-bit counter, RP2040 8388 ms, RP2350
# 16777 ms, so 8388 suits both). Other ports: nothing known below a minute.
MAX_MS = {"rp2": 8388}
DEFAULT_MAX_MS = 60000


class Watchdog:
    def __init__(self, timeout_ms, max_ms=None):
        if max_ms is None:
            max_ms = MAX_MS.get(sys.platform, DEFAULT_MAX_MS)
        if timeout_ms is None or timeout_ms <= 0 or not hasattr(machine, "WDT"):
            self.timeout_ms = 0  # disabled: no watchdog, or a port without one
        else:
            self.timeout_ms = timeout_ms if timeout_ms < max_ms else max_ms
        self.wdt = None

    @property
    def enabled(self):
        return self.timeout_ms > 0

    @property
    def running(self):
        return self.wdt is not None

    def start(self):
        """Arm it (once; later calls just feed)."""
        if self.wdt is None and self.timeout_ms:
            self.wdt = machine.WDT(timeout=self.timeout_ms)
        self.feed()

    def feed(self):
        """The main loop is alive."""
        wdt = self.wdt
        if wdt is not None:
            wdt.feed()
