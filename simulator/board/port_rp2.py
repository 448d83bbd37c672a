# The rp2 port's profile for the simulated machine (simulator/board/machine.py): what the
# firmware can tell apart on an RP2040 running MicroPython's ports/rp2. machine.py calls it
# where the two ports differ; port_esp32.py has the same names. Plain MicroPython-compatible
# Python that imports nothing: it runs on CPython, in the WebAssembly engine and, beside
# /lib/simmachine.py, on the stock rp2 port itself.
#
# Sources: ports/rp2 of MicroPython 1.29 (the one exception: RP2_LIGHTSLEEP_WDT_FIXED).

# ports/rp2/modmachine.h: the reset causes rp2's machine module has (the same numbers as
# the esp32's).
PWRON_RESET = 1
WDT_RESET = 3

# The first release whose rp2 port survives a watchdog bite during lightsleep. Before it
# (1.28.0's ports/rp2/modmachine.c, mp_machine_lightsleep) the sleep disables the ROSC,
# and the watchdog reset that pico-sdk's watchdog_enable() sets up (PSM WDSEL: everything
# but ROSC and XOSC) restarts the chip without it: the power-on state machine waits for
# the stopped ROSC for ever, and only a power cycle ends it (micropython #17228). Commit
# 434b9da (PR #17546), after 1.28.0, fixed it.
RP2_LIGHTSLEEP_WDT_FIXED = (1, 29, 0)

WDT_MAX_MS = 8388  # ports/rp2/machine_wdt.c: the longest timeout it takes
RTC_START_S = 662774400  # 2021-01-01 00:00:00, in seconds since 2000-01-01
# The watchdog's CTRL register (RP2040 datasheet 4.7.6): bit 30 is ENABLE, set by
# watchdog_enable() and cleared only by a chip reset.
WATCHDOG_CTRL = 0x40058000


class _Slice:
    # One PWM slice = two channels (pins 2k and 2k+1 of a bank of 16) with one counter:
    # one frequency and one enable for both (ports/rp2/machine_pwm.c).
    def __init__(self):
        self.freq = None  # None: slice_freq_set false
        self.enabled = False


def slice_of(sim, pin_id):
    """The PWM slice that drives `pin_id` (made on first use, kept in sim.slices)."""
    n = (pin_id >> 1) & 7
    s = sim.slices.get(n)
    if s is None:
        s = sim.slices[n] = _Slice()
    return s


class Rp2:
    name = "rp2"
    arches = ("armv6m",)  # board.json "arch": the RP2040's Cortex-M0+
    # Release 1.28.0: the emulated image's (simulator/rp2040/image), the oldest the README
    # accepts, and one whose lightsleep a watchdog bite locks up (RP2_LIGHTSLEEP_WDT_FIXED).
    release = (1, 28, 0)
    modules = ()  # modules only this port's builds have (esp32 has `esp32`)
    causes = {"PWRON_RESET": PWRON_RESET, "WDT_RESET": WDT_RESET}
    # modmachine.c: reset() is a watchdog reboot, so reset_cause() says WDT after it; a
    # soft reset leaves the cause as it was (None); deepsleep is lightsleep then reset().
    reset_cause = WDT_RESET
    soft_reset_cause = None
    deep_wake_cause = WDT_RESET
    sched_depth = 4  # MICROPY_SCHEDULER_DEPTH: soft IRQs queued at most
    pin_keywords = ()  # machine_pin.c: Pin() has no hold=
    irq_keywords = ("hard",)  # machine_pin.c: Pin.irq takes hard=
    hw_timers = 0  # machine.Timer: only the virtual timer, id -1 (soft_timer)
    adc_uv = False  # machine_adc.c: no ADC.read_uv()
    rtc_memory = False  # machine_rtc.c: no RTC.memory()
    pwm_default_freq = None  # a pin's frequency is its slice's, unset until freq()

    def check_wdt(self, timeout):
        if timeout > WDT_MAX_MS or timeout < 0:
            raise ValueError("timeout exceeds %d" % WDT_MAX_MS)  # machine_wdt.c

    def rtc_start_s(self, cause):
        # main.c sets the RTC to 2021-01-01 at every chip reset (before the soft-reset
        # loop: a soft reset keeps it).
        return RTC_START_S

    def keeps_hold(self, cause):
        return False  # no pad hold on rp2

    def on_irq(self, sim, pin_id):
        pass  # no wake source to clear: a pin IRQ handler is itself the wake

    def mem32(self, sim, addr):
        if addr == WATCHDOG_CTRL:
            return (1 << 30) if sim.wdt is not None else 0
        return None

    # -- PWM (machine_pwm.c): two pins share a slice, its frequency and its enable --

    def pwm_freq(self, sim, pwm, value):
        sl = slice_of(sim, pwm.pin)
        if value is None:
            return sl.freq if sl.freq is not None else 0
        sl.freq = value  # the other pin of the slice changes with it
        pwm._start()
        return None

    def pwm_start(self, sim, pwm):
        # machine_pwm_start: the slice runs once its frequency and a duty are set, and
        # duty_u16() after deinit() starts it again.
        sl = slice_of(sim, pwm.pin)
        if sl.freq is not None and pwm._duty_set:
            sl.enabled = True

    def pwm_drive(self, sim, pwm, st):
        if slice_of(sim, pwm.pin).enabled:
            st.level = pwm._duty
        # a stopped slice: the pin keeps the level it had

    def pwm_deinit(self, sim, pwm, st):
        # mp_machine_pwm_deinit: pwm_set_enabled(slice, false) and nothing else; the pin
        # holds its level, which for a running PWM may be high (pico-sdk #488, micropython
        # #9007).
        slice_of(sim, pwm.pin).enabled = False
        for pin_id in (pwm.pin & ~1, pwm.pin | 1):  # both channels of the slice
            other = sim.pins.get(pin_id)
            if other is not None and other.func == "pwm" and other.level:
                other.level = 65535

    # -- ADC (machine_adc.c) --

    def adc_u16(self, mv, ref_mv):
        # adc_config_and_read_u16: the 12-bit code of the pin against ADC_AVDD, shifted up
        # to 16 bits with its top bits repeated below.
        raw = int(mv * 4096 / ref_mv) if ref_mv > 0 else 0  # no rail: nothing to measure with
        raw = 0 if raw < 0 else 4095 if raw > 4095 else raw
        return raw << 4 | raw >> 8

    def floating_u16(self, noise):
        raw = noise & 0xFFF  # a floating pin: any 12-bit code
        return raw << 4 | raw >> 8

    # -- sleep (modmachine.c mp_machine_lightsleep, deepsleep) --

    def sleep_kind(self, deep, ms):
        """The sleep machine.lightsleep/deepsleep(ms) enters, or None: none at all.
        lightsleep(ms) gates the clocks (WFI with the timer alarm; the watchdog counts
        on); lightsleep() is DORMANT; deepsleep is the same sleep, then reset()."""
        if ms is not None:
            if ms <= 1:
                return None  # mp_hal_delay_ms: no sleep at all
            if ms >= 4294967:
                raise ValueError("sleep too long")  # the timer alarm's 32-bit us
        return "dormant" if ms is None else "light"

    def wakes_on(self, sleep, sim, st, trigger):
        # A pin IRQ wakes a timed lightsleep when a handler is set (micropython #7035);
        # DORMANT needs raw dormant-wake registers that MicroPython never sets.
        return sleep.kind == "light" and st.handler is not None and bool(st.trigger & trigger)

    def wakes_now(self, sleep, sim):
        return False  # only an edge wakes it

    def bite_locks_up(self, sleep, release):
        # A timed lightsleep before RP2_LIGHTSLEEP_WDT_FIXED (DORMANT stops the crystal,
        # and the watchdog with it: it cannot bite there).
        return sleep is not None and sleep.kind == "light" and release < RP2_LIGHTSLEEP_WDT_FIXED


PORT = Rp2()
