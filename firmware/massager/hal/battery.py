# Battery voltage through a resistor divider on an ADC pin.
class Battery:
    ref_mv = 3300  # ADC full scale
    samples = 4  # readings averaged per measurement (the ADC is noisy)

    def __init__(self, adc, divider_x100):
        self.adc = adc  # a machine.ADC on the divider's tap
        self.divider_x100 = divider_x100  # battery / pin voltage, times 100 (2:1 -> 200)

    def millivolts(self):
        total = 0
        for _ in range(self.samples):
            total += self.adc.read_u16()
        # Two steps keep every product a small int on a 32-bit MicroPython.
        pin_mv = total // self.samples * self.ref_mv // 65535
        return pin_mv * self.divider_x100 // 100
