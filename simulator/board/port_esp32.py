# The esp32 port's profile for the simulated machine (simulator/board/machine.py): what the
# firmware can tell apart on an ESP32 running MicroPython's ports/esp32. machine.py calls
# it where the two ports differ; port_rp2.py has the same names. Plain MicroPython-
# compatible Python that imports nothing: it runs on CPython and in the WebAssembly engine.
#
# Sources: ports/esp32 of MicroPython 1.29; pads in deep sleep per docs/esp32/quickref.rst.

# ports/esp32/modmachine.c: the reset causes esp32's machine module has.
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

# ESP32 pins wired to the RTC domain (ports/esp32/modesp32.h RTC_VALID_EXT_PINS): only
# these can wake it from deep sleep; the output-capable ones keep their pulls there.
RTC_PINS = (0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39)


class Esp32:
    name = "esp32"
    arches = ("xtensa", "xtensawin", "rv32imc")  # board.json "arch": the ESP32 family
    release = (1, 29, 0)
    modules = ("esp32",)  # simulator/board/esp32.py: wake sources and pad hold
    rtc_pins = RTC_PINS
    causes = {"PWRON_RESET": PWRON_RESET, "HARD_RESET": HARD_RESET, "WDT_RESET": WDT_RESET,
              "DEEPSLEEP_RESET": DEEPSLEEP_RESET, "SOFT_RESET": SOFT_RESET}
    # modmachine.c: reset() is esp_restart (HARD_RESET); is_soft_reset (SOFT_RESET); deep
    # sleep powers the chip down and wakes into a boot with DEEPSLEEP_RESET.
    reset_cause = HARD_RESET
    soft_reset_cause = SOFT_RESET
    deep_wake_cause = DEEPSLEEP_RESET
    sched_depth = 8  # no hard IRQs: handlers are mp_sched_schedule'd, depth 8 (mpconfigport.h)
    pin_keywords = ("hold",)  # machine_pin.c: Pin(..., hold=)
    irq_keywords = ()  # machine_pin.c: Pin.irq has no hard=
    hw_timers = 4  # machine_timer.c: the hardware timers 0..3
    adc_uv = True  # machine_adc.c: ADC.read_uv(), calibrated by esp_adc_cal
    rtc_memory = True  # machine_rtc.c: RTC().memory(), kept but for power loss
    pwm_default_freq = 5000  # machine_pwm.c PWM_FREQ: each channel has its own timer here

    def check_wdt(self, timeout):
        if timeout <= 0:  # machine_wdt.c: the task WDT, no upper limit
            raise ValueError("WDT timeout too short")

    def rtc_start_s(self, cause):
        # The RTC runs on through every reset but power loss, from 2000-01-01.
        return 0 if cause == PWRON_RESET else None

    def keeps_hold(self, cause):
        return cause == DEEPSLEEP_RESET  # a pad held through deep sleep stays held

    def hold(self, st, on):
        # machine_pin.c: the hold is released to apply the new settings, then taken again
        # if asked: a held pad shows what was set, frozen.
        st.held = None
        if on:
            st.held = (st.func, st.level)

    def on_irq(self, sim, pin_id):
        if sim.ext0 is not None and sim.ext0[0] == pin_id:
            sim.ext0 = None  # machine_pin_irq: an irq without wake= drops ext0

    def mem32(self, sim, addr):
        return None  # no register is modelled

    # -- PWM (machine_pwm.c): each pin its own frequency --

    def pwm_freq(self, sim, pwm, value):
        if value is None:
            return pwm._own_freq
        pwm._own_freq = value
        return None

    def pwm_start(self, sim, pwm):
        pass  # a channel runs from its init

    def pwm_drive(self, sim, pwm, st):
        st.level = pwm._duty if pwm._active else 0

    def pwm_deinit(self, sim, pwm, st):
        # pwm_deinit: ledc_stop(idle level 0), the channel unregistered ("PWM is inactive").
        pwm._active = False
        if sim.pwm.get(pwm.pin) is pwm and st.func == "pwm":
            st.level = 0

    # -- ADC (machine_adc.c) --

    def adc_u16(self, mv, ref_mv):
        # At 11 dB the raw reading is not a 3.3 V full scale: it saturates near 3.1 V and
        # has an offset (only read_uv() is calibrated, by esp_adc_cal). The chip's own
        # reference: ref_mv (the board's rail) does not matter.
        raw = int((mv - 100) * 65535 // 3000)
        return 0 if raw < 0 else 65535 if raw > 65535 else raw

    def floating_u16(self, noise):
        return self.adc_u16(noise % 3300, None)  # a floating pin: anywhere from 0 to 3.3 V

    # -- sleep (machine_sleep_helper, modesp32.c) --

    def sleep_kind(self, deep, ms):
        """lightsleep keeps the chip powered; deepsleep powers it down (power_down) and
        wakes on ext0/ext1 or the timer into a boot with DEEPSLEEP_RESET."""
        return "deep" if deep else "light"

    def power_down(self, sim):
        # The digital core is off. A held pad keeps its level (an RTC pin by its hold
        # alone, any other only with gpio_deep_sleep_hold); every other pad is released
        # (an input: the motor gate's pull-down wins). RTC pins keep their pulls.
        for pin_id, st in sim.pins.items():
            if st.held is not None and (pin_id in RTC_PINS or sim.deep_hold):
                continue
            st.held = None
            if st.func != "in":
                st.func = "in"
                st.level = 0
            st.handler = None
            st.trigger = 0
        sim.pwm = {}
        sim.wdt = None
        sim.timers = []
        sim.scheduled = []

    def wakes_on(self, sleep, sim, st, trigger):
        return self._ext_level(sim, st.id)  # ext0 on RTC pins only (modesp32.c), or ext1

    def wakes_now(self, sleep, sim):
        return any(self._ext_level(sim, pin_id) for pin_id in list(sim.pins))

    def _ext_level(self, sim, pin_id):
        level = sim.pins[pin_id].level if pin_id in sim.pins else 0
        if sim.ext0 is not None and sim.ext0[0] == pin_id:
            return bool(level) == sim.ext0[1]
        if sim.ext1 is not None and pin_id in sim.ext1[0]:
            pins, high = sim.ext1
            levels = [bool(sim.pins[p].level) if p in sim.pins else False for p in pins]
            return any(levels) if high else not any(levels)
        return False

    def bite_locks_up(self, sleep, release):
        return False  # a bite is always a clean WDT_RESET


PORT = Esp32()
