# The hardware watchdog: a hang stops everything, the motor included, by a reset.
#
# Built idle; start() arms it with the first session. Once armed it cannot be stopped
# (rp2 and esp32), and it keeps running through Ctrl-C and soft reset, which is what
# mpremote does to a board: the host tools' work would then be cut by a reset a few
# seconds in. So whenever the firmware's loop is not the one feeding it (boot.py, the
# REPL after Ctrl-C, a loop that gave up with the motor off), a keeper timer feeds it;
# the loop takes over again when it runs. feed() before start() does nothing.
import machine

from massager.hal.config import WDT_MAX_MS

KEEPER_MS = 1000  # the keeper's feeding period: well inside any accepted timeout
RP2040_WATCHDOG_CTRL = 0x40058000  # bit 30 ENABLE: set while armed, cleared by a reset
_ARMED_MARK = b"massager:wdt"  # esp32: in RTC memory while armed in this power cycle

_keeper = None  # the running keeper Timer: one per device, whoever started it


class Watchdog:
    def __init__(self, timeout_ms, arch="armv6m"):
        self.timeout_ms = timeout_ms if timeout_ms and hasattr(machine, "WDT") else 0
        self.arch = arch
        self.wdt = None
        self._feed_cb = self._keeper_feed  # bound once: a timer callback must not allocate

    @property
    def running(self):
        return self.wdt is not None

    def start(self):
        """Arm it (once; later calls just feed)."""
        if self.wdt is None and self.timeout_ms:
            self.wdt = machine.WDT(timeout=self.timeout_ms)
            if self.arch not in WDT_MAX_MS:  # esp32: nothing to read back later, so mark it
                try:
                    machine.RTC().memory(_ARMED_MARK)
                except (AttributeError, OSError):
                    pass
        self.feed()

    def feed(self):
        """The main loop is alive."""
        wdt = self.wdt
        if wdt is not None:
            wdt.feed()

    def armed_before(self):
        """True when a watchdog armed before this boot.py or main.py still runs: a soft
        reset (Ctrl-D, mpremote) kept it. rp2 reads the watchdog's own register; esp32
        knows a soft reset by its reset cause and its arming by a mark in RTC memory."""
        if not self.timeout_ms:
            return False
        try:
            if self.arch in WDT_MAX_MS:  # the RP2040
                return bool(machine.mem32[RP2040_WATCHDOG_CTRL] & (1 << 30))
            soft = getattr(machine, "SOFT_RESET", None)
            rtc = machine.RTC()
            marked = rtc.memory() == _ARMED_MARK
            if soft is None or machine.reset_cause() != soft:
                if marked:  # RTC memory outlives a chip reset or deep sleep; the WDT did not
                    rtc.memory(b"")
                return False
            return marked
        except Exception:  # a port without the register or the memory: cannot tell
            return False

    def keep(self):
        """Feed it from a timer while the loop does not: after Ctrl-C, in boot.py, once the
        loop gave up. Only when it is armed; a soft reset stops the timer (boot.py starts
        it again)."""
        global _keeper
        if self.wdt is None:
            if not self.armed_before():
                return
            self.start()  # the same watchdog, re-armed with our timeout: a handle to feed
        self.feed()
        if _keeper is None:
            _keeper = machine.Timer(-1, mode=machine.Timer.PERIODIC, period=KEEPER_MS,
                                    callback=self._feed_cb)

    def _keeper_feed(self, _timer):
        self.feed()


def release_keeper():
    """The loop feeds it from now on: stop the keeper timer."""
    global _keeper
    if _keeper is not None:
        _keeper.deinit()
        _keeper = None
