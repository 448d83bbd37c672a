# The vibration motor on a PWM pin, driven in volts: a strength is a share of the motor's
# rated voltage, and the duty that gives it is worked out from the cell's voltage, so a
# routine feels the same from a full cell to an empty one (haptic drivers such as TI's
# DRV2605 compensate the supply the same way). The soft start never blocks the loop.
#
# From still, set() writes the first step of the soft start and returns; the loop calls
# poll() when it wakes (Runtime asks wait_ms() how soon) and poll() writes the steps that
# are due. A coin motor needs a voltage to start turning (`start_mv`, per board): the steps
# never go below it, so even the gentlest strength gets the motor moving, and once it
# turns the motor settles at the strength asked for. The cell's voltage comes from the
# loop's battery checks (set_cell); until the first, a full cell is assumed.
#
# The app clamps every strength through safety.clamp_strength() first; this driver only
# keeps values inside 0..100 and the duty inside 0..65535, and the kick never exceeds the
# rated voltage (check_config refuses a start_mv above rated_mv).
import time

import machine

from massager import safety


class Motor:
    freq = 20000  # Hz: above hearing, so the motor hums instead of whining
    soft_start_ms = 30  # from still to the strength asked for, spread over the steps below
    soft_start_steps = 4  # duty writes in a soft start; the first is 1/steps of the target

    def __init__(self, pwm, freq, pin, rated_mv, start_mv):
        self.pwm = pwm  # a machine.PWM, already built on the motor pin
        self.pin = pin  # that pin (a machine.Pin): release() drives it low by itself
        self._freq = self.freq if freq is None else freq
        self.rated_mv = rated_mv  # 100 % strength: the motor's rated voltage
        self.start_mv = start_mv  # what starts it turning from still
        self.cell_mv = safety.NO_READING_CELL_MV  # what the PWM switches: the cell
        pwm.freq(self._freq)
        pwm.duty_u16(0)
        self.percent = 0  # the strength last set (0 = still)
        self.released = False  # the pin is a plain low output, no longer the PWM's
        self._step = 0  # the soft-start step written last (1..steps); 0: no ramp running
        self._start = 0  # ticks_ms when the ramp began

    def duty(self, mv):
        """The duty_u16 that puts `mv` on average across the motor from this cell."""
        d = mv * 65535 // self.cell_mv
        return 65535 if d > 65535 else d

    def set_cell(self, mv):
        """The cell's voltage from a battery check (None: no plausible reading). A motor
        that is running is set to the same voltage from the new cell, in one write."""
        if mv is None:
            mv = safety.NO_READING_CELL_MV
        if mv == self.cell_mv:
            return
        self.cell_mv = mv
        if self.percent and not self._step and not self.released:
            self._write(self._level(self.soft_start_steps))

    def set(self, percent):
        """Run at `percent` (0-100). From still, the soft start begins: the first step is
        written now, the rest by poll()."""
        if percent <= 0:
            self.off()
            return
        if percent > 100:
            percent = 100
        pin = self.pin
        if self.released and pin is not None:  # a plain output now: back to the PWM
            self.pwm = machine.PWM(pin, freq=self._freq, duty_u16=0)
            self.released = False
        still = self.percent == 0
        self.percent = percent
        if still:
            self._start = time.ticks_ms()
            self._step = 0
            self._advance()
        elif self._step:
            self._write(self._level(self._step))  # a running ramp heads for the new strength
        else:
            self._write(self._level(self.soft_start_steps))

    def poll(self):
        """Write the soft start's step that is due now (the latest one, if the loop woke
        late). Cheap when no ramp runs: the loop calls it on every wake."""
        if self._step:
            self._advance()

    def _advance(self):
        step = self._step
        n = self.soft_start_steps
        gap = self._gap()
        due = n if gap <= 0 else 1 + time.ticks_diff(time.ticks_ms(), self._start) // gap
        if due > n:
            due = n
        if due <= step:
            return
        level = self._level(due)
        if step == 0 or level != self._level(step):
            self._write(level)
        self._step = 0 if due >= n else due

    def wait_ms(self):
        """ms until poll() has a step to write, or -1 when no soft start is under way."""
        step = self._step
        if step == 0:
            return -1
        # The next step whose level differs: a kick held at start_mv needs no wake.
        n = self.soft_start_steps
        level = self._level(step)
        nxt = step + 1
        while nxt < n and self._level(nxt) == level:
            nxt += 1
        wait = (nxt - 1) * self._gap() - time.ticks_diff(time.ticks_ms(), self._start)
        return wait if wait > 0 else 0

    def _gap(self):
        n = self.soft_start_steps
        return self.soft_start_ms // (n - 1) if n > 1 else 0

    def _level(self, step):
        # Step `step` of n, as a duty_u16: a share of the strength, never under the start
        # kick, and the strength itself at the last step (below the kick when it is gentle).
        n = self.soft_start_steps
        target = self.duty(self.percent * self.rated_mv // 100)
        if step >= n:
            return target
        level = target * step // n
        kick = self.duty(self.start_mv)
        return kick if level < kick else level

    def _write(self, duty):
        self.pwm.duty_u16(duty)

    def off(self):
        """Stop at once: no ramp down, and no soft-start step left to write."""
        self._step = 0
        self.percent = 0
        self.pwm.duty_u16(0)

    def release(self):
        """Off whatever state the PWM is in: the pin becomes a plain output driven low.

        A duty write can fail, and rp2's PWM.deinit() only stops the slice, leaving the pin
        at whatever level it had (pico-sdk #488): neither is a safe last resort. The next
        set() takes the pin back for the PWM.
        """
        self._step = 0
        self.percent = 0
        if self.pin is None:
            self.pwm.duty_u16(0)
            return
        self.pin.init(machine.Pin.OUT, value=0)
        self.released = True
