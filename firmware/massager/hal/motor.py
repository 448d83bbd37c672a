# The vibration motor on a PWM pin: strength in percent, with a soft start.
#
# The app clamps every strength through safety.clamp_duty() first; this driver only keeps
# values inside 0..100 so a bad caller can never ask for more than full duty.
import time

import machine


class Motor:
    freq = 20000  # Hz: above hearing, so the motor hums instead of whining
    soft_start_ms = 30  # from still to the first strength, spread over the steps below
    soft_start_steps = 4  # duty writes in a soft start; the first is 1/steps of the target

    def __init__(self, pwm, freq=None, pin=None):
        self.pwm = pwm  # a machine.PWM, already built on the motor pin
        self.pin = pin  # that pin (a machine.Pin): release() drives it low by itself
        self._freq = self.freq if freq is None else freq
        pwm.freq(self._freq)
        pwm.duty_u16(0)
        self.percent = 0  # the strength last set (0 = still)
        self.released = False  # the pin is a plain low output, no longer the PWM's

    def set(self, percent):
        """Run at `percent` (0-100); from still, ramp up over soft_start_ms."""
        if percent <= 0:
            self.off()
            return
        if percent > 100:
            percent = 100
        target = percent * 65535 // 100
        pin = self.pin
        if self.released and pin is not None:  # a plain output now: back to the PWM
            self.pwm = machine.PWM(pin, freq=self._freq, duty_u16=0)
            self.released = False
        if self.percent == 0:
            steps = self.soft_start_steps
            pause = self.soft_start_ms // (steps - 1) if steps > 1 else 0
            for i in range(1, steps):
                self.pwm.duty_u16(target * i // steps)
                time.sleep_ms(pause)
        self.pwm.duty_u16(target)
        self.percent = percent

    def off(self):
        """Stop at once: no ramp down."""
        self.pwm.duty_u16(0)
        self.percent = 0

    def release(self):
        """Off whatever state the PWM is in: the pin becomes a plain output driven low.

        A duty write can fail, and rp2's PWM.deinit() only stops the slice, leaving the pin
        at whatever level it had (pico-sdk #488): neither is a safe last resort. The next
        set() takes the pin back for the PWM.
        """
        self.percent = 0
        if self.pin is None:
            self.pwm.duty_u16(0)
            return
        self.pin.init(machine.Pin.OUT, value=0)
        self.released = True
