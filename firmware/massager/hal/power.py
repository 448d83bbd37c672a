# The off state: the deepest sleep each port offers that the button can end, with the
# motor pin held low all through it (docs/decisions.md, "The off state").
#
# rp2 (ports/rp2/modmachine.c, MicroPython 1.29): lightsleep(ms) stops the PLLs and gates
# the peripheral clocks; a pin with an IRQ handler wakes it early (micropython #7035), the
# timer at `ms` otherwise. lightsleep() without a time is DORMANT, which no pin IRQ can end
# (only raw register writes could), and deepsleep() is that same lightsleep followed by a
# reset: neither is used. An armed watchdog keeps counting through lightsleep on the
# RP2040, so the loop sleeps at most FEED_MS at a time and feeds it in between. The motor
# pin is a plain output driven low: its pad keeps that level while the clocks are stopped
# (a PWM output would freeze wherever its counter stopped).
#
# rp2 up to MicroPython 1.28.0: a watchdog that bites during lightsleep locks the chip up
# until a power cycle (micropython #17228; fixed after 1.28.0 by commit 434b9da, PR
# #17546). lightsleep stops the ROSC, and the watchdog's reset leaves the ROSC out of the
# power-on sequence (pico-sdk watchdog_enable), which then waits for it for ever. sleep()
# makes that bite impossible on every release: it feeds the watchdog right before each
# lightsleep and ends the sleep WAKE_SPARE_MS before the timeout, whatever the caller
# asked. A bite can then only come from a hang, and the CPU cannot hang while it sleeps.
#
# The power latch (board.json power.hold_pin, docs/hardware.md): a P-MOSFET between the cell
# and the board, on while the button is down or the hold pin is high. boot.py drives the
# hold first thing; off lets it go (cut()), and a board on its cell is then unpowered: the
# next press boots it afresh (reset cause PWRON). Where the power stays (USB: the usb_pin
# reads high, or the wait ran out), off is the sleep below, the hold still let go, so a
# cable pulled then powers the board off; the wake takes the hold again (hold_on()).
#
# esp32 (ports/esp32/modmachine.c, modesp32.c): deepsleep() powers the chip down; ext0
# wakes it when the button pin reaches its pressed level, and the chip then boots afresh
# with reset_cause() == DEEPSLEEP_RESET, the watchdog gone with the rest. The motor pin is
# held low through the sleep (Pin hold, plus gpio_deep_sleep_hold for a non-RTC pin), and
# the next boot releases the hold (unhold()) before the PWM takes the pin again.
import time

import machine

from massager import safety

LIGHT = "light"
DEEP = "deep"


class Power:
    def __init__(self, arch, latch=None):
        """`latch`: board.json's power section (hold_pin, usb_pin), or None."""
        self.esp32 = None
        self.hold = None  # the latch's hold pin, driven high while the board is on
        self.usb = None  # reads high on USB, where letting go of the hold cuts nothing
        latch = latch or {}
        if "hold_pin" in latch:
            self.hold = machine.Pin(latch["hold_pin"], machine.Pin.OUT, value=1)
        if "usb_pin" in latch:
            self.usb = machine.Pin(latch["usb_pin"], machine.Pin.IN)
        self.holding = self.hold is not None
        self.mode = None  # None: this board stays awake when off
        if arch == "armv6m":  # the RP2040
            if hasattr(machine, "lightsleep"):
                self.mode = LIGHT
        else:
            try:
                import esp32  # pyright: ignore[reportMissingImports]
            except ImportError:
                esp32 = None
            if esp32 is not None and hasattr(machine, "deepsleep"):
                self.esp32 = esp32
                self.mode = DEEP

    def hold_on(self):
        """Keep the power on (the latch's hold pin high). Nothing without a latch."""
        hold = self.hold
        if hold is not None and not self.holding:
            hold.value(1)
            self.holding = True

    def on_usb(self):
        """True when the usb_pin says the board is on USB (False without one)."""
        usb = self.usb
        return usb is not None and usb.value() == 1

    def cut(self):
        """Off: let go of the latch's hold. On the cell alone the board is unpowered within
        ms and this never returns (RAM gone, flash kept; the next press boots it). It
        returns True when the power stayed (USB, the button held), False without a latch or
        when the hold was already let go. Only from the loop between two wakes: never
        inside a flash write."""
        hold = self.hold
        if hold is None or not self.holding:
            return False
        self.holding = False
        hold.value(0)
        if not self.on_usb():
            time.sleep_ms(safety.CUT_WAIT_MS)  # the power goes in this wait, on the cell
        return True

    def woke_from_sleep(self):
        """True when this boot is the wake from a deep sleep, not a power-on."""
        cause = getattr(machine, "DEEPSLEEP_RESET", None)
        try:
            return cause is not None and machine.reset_cause() == cause
        except Exception:
            return False

    def unhold(self, pin):
        """A pin held through a deep sleep stays held after the wake: let it go, low."""
        if self.mode == DEEP:
            pin.init(machine.Pin.OUT, value=0, hold=False)

    def sleep(self, ms, button, motor, watchdog):
        """Sleep until `button` (a hal Button) is pressed, `motor` (a hal Motor) held off.
        rp2: returns at the press or after `ms`, at most the armed `watchdog`'s (a hal
        Watchdog) timeout less WAKE_SPARE_MS; esp32: never returns (the wake is a boot),
        but returns True at once while the button is held. False when this board cannot
        sleep, so it stays awake instead."""
        motor.release()  # a plain output, low: it keeps that level (and through the cut)
        self.cut()
        mode = self.mode
        if mode is None:
            return False
        if mode == LIGHT:
            if watchdog.running:  # the one place the lightsleep bound is kept (#17228)
                longest = watchdog.timeout_ms - safety.WAKE_SPARE_MS
                if ms > longest:
                    ms = longest if longest > 0 else 0
                watchdog.feed()  # last before the sleep: the whole timeout is ahead
            machine.lightsleep(ms)
            return True
        if button.is_pressed():
            # ext0 wakes on the level: held down (the press that booted it, a stuck
            # button), the chip would boot again at once, over and over. Not this time:
            # the loop comes back after `ms`, awake.
            return True
        esp32 = self.esp32
        level = esp32.WAKEUP_ALL_LOW if button.active_low else esp32.WAKEUP_ANY_HIGH
        try:
            # Last, right before sleeping: a later Pin.irq on this pin would clear it.
            esp32.wake_on_ext0(button.pin, level)
        except ValueError:  # not an RTC pin: nothing could wake it, so never sleep
            self.mode = None
            return False
        pin = motor.pin
        if pin is not None:
            pin.init(machine.Pin.OUT, value=0, hold=True)
            hold = getattr(esp32, "gpio_deep_sleep_hold", None)
            if hold is not None:
                hold(True)  # a non-RTC pin is held in deep sleep only with this too
        machine.deepsleep()
        return True  # not reached on a board
