# Battery voltage through a resistor divider on an ADC pin.
#
# A bench board often has nothing on that pin: it floats (readings wander) or reads 0 V,
# and a Pico on USB reads VSYS (about 5 V). None of that is a battery, and none of it may
# power the device off: millivolts() says None ("no battery") unless the readings are
# steady and inside what one Li-ion cell can show.
#
# The rp2 ADC measures against its own supply, the board's 3.3 V rail. Where that rail
# sags with the cell (the RP2040-Zero's LDO near the end of the discharge), a shunt
# reference on a second ADC pin (battery.ref_pin, ref_mv) gives the scale instead: the
# ratio of the two readings does not depend on the rail.
class Battery:
    ref_mv = 3300  # rp2 ADC full scale
    samples = 8  # readings per measurement (the ADC is noisy)
    plausible_mv = (2500, 4500)  # one Li-ion cell, from deep discharge to overcharge
    steady_mv = 200  # a battery's readings spread less than this; a floating pin's more

    def __init__(self, adc, divider_x100, ref_adc=None, ref_mv=0):
        self.adc = adc  # a machine.ADC on the divider's tap
        self.divider_x100 = divider_x100  # battery / pin voltage, times 100 (2:1 -> 200)
        self.ref_adc = ref_adc  # a machine.ADC on the reference, or None
        self.ref_known_mv = ref_mv
        # esp32: only read_uv() is calibrated; read_u16() is not a 3.3 V full scale.
        self._read_uv = getattr(adc, "read_uv", None)

    def _pin_mv(self):
        if self._read_uv is not None:
            return self._read_uv() // 1000
        ref = self.ref_adc
        if ref is not None:
            full = ref.read_u16()
            if full == 0:
                return 0  # no reference (not fitted, or shorted): nothing plausible
            return self.adc.read_u16() * self.ref_known_mv // full
        return self.adc.read_u16() * self.ref_mv // 65535

    def millivolts(self):
        """The battery's voltage in mV, or None when no battery is plausibly there."""
        lo = hi = self._pin_mv()
        total = lo
        for _ in range(self.samples - 1):
            mv = self._pin_mv()
            total += mv
            if mv < lo:
                lo = mv
            elif mv > hi:
                hi = mv
        scale = self.divider_x100
        mv = total // self.samples * scale // 100
        if (hi - lo) * scale // 100 > self.steady_mv:
            return None
        if not self.plausible_mv[0] <= mv <= self.plausible_mv[1]:
            return None
        return mv
