"""The parts the boards are built from, with the datasheet values the rule checks, the
SPICE models and the battery model use. Every number names its source; where a datasheet
gives a range, the model takes the end that is harder on the design.

A Spec is a catalogue entry. Its `kind` says how it is simulated and checked:
R, C, D (diode: a, k), NMOS / PMOS (g, d, s), MOTOR (p, n), LDO and BUCKBOOST (in, out,
gnd), SHUNTREF (k, a), LED (a, k), PIXEL (vdd, din, gnd), SWITCH (1, 2), LOAD (p, n: a
board's own draw), CELL (p, n), CHARGER (bp, bn, op, on).
"""

PINS = {
    "R": ("1", "2"), "C": ("1", "2"), "D": ("a", "k"), "NMOS": ("g", "d", "s"),
    "PMOS": ("g", "d", "s"), "MOTOR": ("p", "n"), "LDO": ("in", "out", "gnd"),
    "BUCKBOOST": ("in", "out", "gnd"), "SHUNTREF": ("k", "a"), "LED": ("a", "k"),
    "PIXEL": ("vdd", "din", "gnd"), "SWITCH": ("1", "2"), "LOAD": ("p", "n"),
    "CELL": ("p", "n"), "CHARGER": ("bp", "bn", "op", "on"),
}


class Spec:
    """A catalogue part. `value` is the text the drawing and the bill of materials show;
    the keyword arguments are its datasheet values (SI units: V, A, ohm, F, H, s)."""

    def __init__(self, kind, name, category, value, source, **facts):
        self.kind = kind
        self.name = name
        self.category = category  # the bill of materials' "part" column
        self.value = value
        self.source = source  # the datasheet (or measurement) the facts come from
        self.facts = facts
        self.pins = PINS[kind]

    def __getattr__(self, key):
        facts = self.__dict__.get("facts", {})
        if key in facts:
            return facts[key]
        raise AttributeError("%s has no %s" % (self.__dict__.get("name", "?"), key))

    def value_text(self):
        return self.value

    def but(self, name=None, value=None, **facts):
        """A variant of this part with some facts changed (a wrong part, in the tests)."""
        f = dict(self.facts)
        f.update(facts)
        return Spec(self.kind, name or self.name, self.category, value or self.value,
                    self.source, **f)


def ohms_text(r):
    for div, unit in ((1e6, "MΩ"), (1e3, "kΩ"), (1, "Ω")):
        if r >= div:
            v = r / div
            return ("%g %s" % (round(v, 2), unit))
    return "%g Ω" % r


def resistor(ohms, tolerance=0.01):
    """A 0603 or through-hole metal-film resistor, 1 % unless told (the battery divider
    takes 0.1 %: its ratio is the reading's accuracy)."""
    text = ohms_text(ohms)
    if tolerance != 0.01:
        text += " %g %%" % (tolerance * 100)
    return Spec("R", "R %s" % text, "resistor", text, "metal film, %g %%" % (tolerance * 100),
                ohms=ohms, tolerance=tolerance)


def capacitor(farads, text):
    return Spec("C", "C " + text, "capacitor", text, "X7R ceramic", farads=farads)


# --- Semiconductors --------------------------------------------------------------------

AO3400A = Spec(
    "NMOS", "AO3400A", "N-MOSFET", "AO3400A (SOT-23)",
    "Alpha & Omega AO3400A datasheet (30 V N-channel MOSFET): Vds 30 V, Vgs ±12 V; "
    "Vgs(th) 0.65 / 1.05 / 1.45 V at 250 µA; Rds(on) max 32 mΩ at Vgs 4.5 V, 48 mΩ at "
    "2.5 V; Ciss 630 pF, Qg 7 nC at 4.5 V (the current revision; an older one gives "
    "0.7-1.5 V, 900 pF, 10 nC)",
    vds_max=30.0, vgs_max=12.0, vth_min=0.65, vth_typ=1.05, vth_max=1.45,
    rds_on={4.5: 0.032, 2.5: 0.048},  # max, ohm, by Vgs
    id_max=5.7, ciss=900e-12, crss=75e-12, coss=100e-12, qg_4v5=10e-9,
    idss=1e-6,  # drain leakage, max at Vds 30 V, Vgs 0, 25 °C (the off state's figure)
    # Capacitances and charge: the older revision's, the slower gate. A level-1 fit: VTO
    # the typical threshold, KP so that Rds(on) at Vgs 2.5 V is the
    # datasheet's maximum, 48 mOhm (KP = 1 / (Rds (Vgs - VTO))).
    spice="VTO=1.05 KP=14.4 LAMBDA=0.01",
)

AO3401A = Spec(
    "PMOS", "AO3401A", "P-MOSFET", "AO3401A (SOT-23)",
    "Alpha & Omega AO3401A datasheet rev 3 (-30 V P-channel MOSFET): Vds -30 V, Vgs ±12 V; "
    "Vgs(th) -0.5 / -0.9 / -1.3 V at -250 µA; Rds(on) max 50 mΩ at Vgs -4.5 V, 85 mΩ at "
    "-2.5 V; Idss -1 µA max at Vds -30 V, 25 °C; Igss ±100 nA; Ciss 645 pF",
    # Magnitudes (the rules and the drawing read them as such); SPICE gets the signs.
    vds_max=30.0, vgs_max=12.0, vth_min=0.5, vth_typ=0.9, vth_max=1.3,
    rds_on={4.5: 0.050, 2.5: 0.085},  # max, ohm, by |Vgs|
    id_max=4.0, ciss=645e-12, crss=60e-12, coss=80e-12, idss=1e-6, igss=100e-9,
    # A level-1 fit: VTO the typical threshold, KP so that Rds(on) at |Vgs| 2.5 V is the
    # datasheet's maximum, 85 mOhm (KP = 1 / (Rds (|Vgs| - |VTO|))).
    spice="VTO=-0.9 KP=7.35 LAMBDA=0.01",
)

BAT54 = Spec(
    "D", "BAT54", "Schottky diode", "BAT54 (SOT-23)",
    "Nexperia BAT54 series product data sheet (30 V, 200 mA Schottky): Vr 30 V; Vf max "
    "0.24 / 0.32 / 0.40 V at 0.1 / 1 / 10 mA; IR 2 µA max at 25 V, 25 °C; Cd 10 pF max. "
    "Model: fitted to the maximum Vf (N 1.34, IS 0.1 µA: 80 mV a decade)",
    vrrm=30.0, if_av=0.2, vf_max={1e-4: 0.24, 1e-3: 0.32, 1e-2: 0.40}, ir=2e-6,
    spice="IS=0.1u N=1.34 RS=0.5 CJO=10p BV=30 IBV=100u",
)

D1N5819 = Spec(
    "D", "1N5819", "Schottky diode", "1N5819",
    "onsemi 1N5817/D rev. 11 (1 A, 40 V Schottky): Vrrm 40 V, If(av) 1 A, Vf max 0.60 V "
    "at 1 A, IR 1 mA max at 40 V, 25 °C; model: LTspice standard.dio 1N5819 card",
    vrrm=40.0, if_av=1.0, vf_1a=0.60,
    spice="IS=31.7u RS=0.051 N=1.373 CJO=110p M=0.35 BV=40 IBV=1m",
)

SS14 = Spec(
    "D", "SS14", "Schottky diode", "SS14 (SMA)",
    "Vishay SS12-SS16 (doc 88746): Vrrm 40 V, If(av) 1 A, Vf max 0.50 V at 1 A, 25 °C. "
    "No vendor gives Vf at tens of mA: the model is NXP's PRLL5819 card (same 1 A, 40 V "
    "class; 0.23 V at 25 mA, 0.51 V at 1 A, the SS14's maximum there)",
    vrrm=40.0, if_av=1.0, vf_1a=0.50,
    spice="IS=6.678u RS=0.1936 N=1.04 CJO=183p VJ=0.3235 M=0.4694 BV=44 IBV=10m",
)

LM4040_2V0 = Spec(
    "SHUNTREF", "LM4040B20", "voltage reference", "LM4040B20 (2.048 V, 0.2 %, SOT-23)",
    "TI LM4040-N (SNOS633) / Maxim LM4040: 2.048 V, B grade ±0.2 % at 25 °C, 100 µA; "
    "minimum operating current 45 µA typ, 65 µA max over temperature; 15 mA max; "
    "100 ppm/°C max",
    volts=2.048, accuracy=0.002, i_min=65e-6, i_max=15e-3,
)

LED_RED = Spec(
    "LED", "LED red 3 mm", "LED", "3 mm red",
    "a generic red 3 mm LED: Vf about 1.9 V at 4 mA",
    vf=1.9, spice="IS=1e-20 N=1.8 RS=5",
)

PICO_LED = Spec(
    "LED", "Pico LED", "LED", "the Pico's own (GP25)",
    "Raspberry Pi Pico datasheet: the user LED on GP25; a green 0603 LED, Vf about 2 V",
    vf=2.0, spice="IS=1e-20 N=1.9 RS=10",
)

# --- Regulators and the dev boards' own parts -----------------------------------------

MCP1700_3V3 = Spec(
    "LDO", "MCP1700-3302E", "LDO regulator", "MCP1700-3302E (3.3 V, TO-92)",
    "Microchip MCP1700 (DS21826B): input 2.3-6.0 V; quiescent 1.6 µA typ, 4 µA max; "
    "dropout 178 mV typ, 350 mV max at 250 mA; 250 mA out; ±3 % over temperature",
    vout=3.3, iq=1.6e-6, iq_max=4e-6, r_dropout=0.350 / 0.250, i_max=0.250,
)

RT9013_3V3 = Spec(
    "LDO", "RT9013-33", "LDO regulator", "RT9013-33 (on the board)",
    "Waveshare RP2040-Zero schematic (RT9013-33; some batches carry an ME621x); Richtek "
    "RT9013 DS9013-10: quiescent 25 µA typ, 50 µA max; dropout 250 mV typ, 400 mV max at "
    "500 mA; input 2.2-5.5 V",
    vout=3.3, iq=25e-6, iq_max=50e-6, r_dropout=0.400 / 0.500, i_max=0.5,
)

RT6150B = Spec(
    "BUCKBOOST", "RT6150B-33GQW", "buck-boost regulator", "RT6150B (on the board)",
    "Raspberry Pi Pico datasheet 4.4-4.5: RT6150B buck-boost, 3.3 V from VSYS 1.8-5.5 V; "
    "Richtek RT6150A/B datasheet: 60 µA quiescent in power-save mode, UVLO 1.8 V max; "
    "efficiency at light load from its curves (85 % taken)",
    vout=3.3, vin_min=1.8, iq=60e-6, efficiency=0.85,
)

# --- Electromechanics -----------------------------------------------------------------

COIN_ERM = Spec(
    "MOTOR", "310-103", "coin vibration motor", "10 mm, 3 V ERM (e.g. PMD 310-103)",
    "Precision Microdrives 310-103 (10 mm, 3.4 mm coin ERM): rated 3.0 V, start 2.3 V, max "
    "operating 3.6 V, about 12,000 rpm (the datasheet's voltage window, as summarised by "
    "corelessdcmotor.com's 310-103 PN page). Not read from the datasheet, typical of the "
    "class and to be measured on yours: rated current 75 mA, terminal resistance 31 ohm "
    "(locked-rotor current at 3 V), inductance 150 µH, rise time 35 ms",
    v_rated=3.0, i_rated=0.075, v_start=2.3, r=31.0, l=150e-6, rpm_rated=12000,
    v_max=3.6, t_rise=0.035,
)

# --- Power ------------------------------------------------------------------------------

LIPO_500 = Spec(
    "CELL", "LiPo 502535", "LiPo cell", "1S, 500 mAh, with leads (502535)",
    "a 502535 LiPo cell (e.g. Adafruit 1578, 500 mAh): 3.7 V nominal, 4.2 V charged, "
    "3.0 V discharged. Internal resistance: typical figures, not read from this cell's "
    "datasheet (Adafruit's page gives none). Small pouch cells' makers state an AC "
    "impedance at 1 kHz on a new cell, e.g. 120 mOhm max for a 502030 (about 250 mAh; "
    "wap.makepolo.com/product-detail/100519846807.html), and the resistance a load sees "
    "for longer than a millisecond is higher than that: 150 mOhm taken for a new cell. It "
    "grows with cycles and age, two to three times by the end of a cell's life (RC pilots' "
    "rule, e.g. bany.bz 2010-05-18: 50 mOhm new, 100 after 50 cycles, 300 when worn out): "
    "400 mOhm taken for an old one, within the 300-500 the issue quotes. To be measured "
    "on yours (the voltage step at a known load)",
    mah=500, v_full=4.2, v_empty=3.0, r_new=0.15, r_old=0.4,
)

TP4056_BOARD = Spec(
    "CHARGER", "TP4056+DW01A+FS8205A", "charger board",
    "TP4056 + DW01A protection, R_PROG 2.4 kΩ",
    "NanJing Top Power TP4056: charge 4.2 V ±1 %, R_PROG = 1200 V / I (2.4 kΩ: 500 mA), "
    "below 2 µA from the cell with no input; DW01A (H&M, Fortune): over-discharge "
    "2.40 ± 0.10 V, over-charge 4.30 ± 0.05 V, 3 µA operating; FS8205A 2 x 37 mΩ max at "
    "2.5 V",
    v_cv=4.2 * 1.01, v_od=2.4, iq=3e-6 + 2e-6,
)

SS12D00 = Spec("SWITCH", "SS12D00", "slide switch", "SS12D00 (optional, storage)",
               "C&K / generic SS12D00 slide switch")
TACT = Spec("SWITCH", "tact 6x6", "tactile switch", "6 x 6 mm", "a generic tactile switch")

WS2812 = Spec(
    "PIXEL", "WS2812B", "RGB LED", "WS2812 (on the board)",
    "WS2812B-2020 on the RP2040-Zero's 3V3 (Waveshare schematic); its datasheet gives no "
    "idle current: PJRC measured just under 1 mA per dark WS2812B at 5 V, and removing one "
    "from an ESP32-C6 board at 3 V saved 0.44 mA (nanoESP32-C6 issue 10)",
    idle=0.6e-3, ma_full=12e-3,
)


def load(name, awake, asleep, source):
    """A dev board's own draw from its 3.3 V rail (chip, flash, bridge), awake and in the
    off state's sleep."""
    return Spec("LOAD", name, "load", name, source, awake=awake, asleep=asleep)


# The chips' own draw at the 3.3 V rail. The Pico figures were measured at its USB or VSYS
# input, through its RT6150B: back to the rail at the efficiency taken above (85 %).
_RAIL_PER_VSYS_MA = 0.85 / 3.3  # rail mA per mW at VSYS

RP2040_LOAD = load(
    "RP2040 + W25Q16JV flash", awake=21e-3 * 5.0 * _RAIL_PER_VSYS_MA,
    asleep=1.5e-3 * 4.7 * _RAIL_PER_VSYS_MA,
    source="awake: a Pico at 5 V on VSYS draws about 21 mA with MicroPython idling "
    "(micropython issue 8770); lightsleep: about 1.5 mA at USB 5 V (4.7 V at VSYS after "
    "its Schottky) in machine.lightsleep(5000) (MicroPython commit b004e7e); both taken "
    "back to the 3.3 V rail through the RT6150B at 85 %; the same chip and flash on the "
    "RP2040-Zero")

ESP32_DEVKITC_LOAD = load(
    "ESP32-WROOM-32 + DevKitC", awake=40e-3 + 3e-3, asleep=3e-3,
    source="deep sleep: about 3 mA into the 3V3 pin of a DevKitC V4 (ESP32-WROOM-32D) "
    "measured in esp-idf issue 5869; Espressif's answer there: the USB-UART bridge keeps "
    "drawing (its AMS1117 sits back-fed on 3V3); the bare chip is 10 µA (ESP32 datasheet). "
    "Awake: 40 mA (ESP32 datasheet, 20-68 mA with the CPU on and the radio off) plus the "
    "board's 3 mA")


class DevBoard:
    """A dev board: the MCU's pin facts and what the board brings (its pin label prefix,
    its supply pin). Not a Spec: its pins are the circuit's MCU pin nets."""

    def __init__(self, name, title, prefix, source, **facts):
        self.name = name
        self.title = title
        self.prefix = prefix
        self.source = source
        self.__dict__.update(facts)


RP2040_PINS = dict(
    vdd=3.3,
    voh_min=2.62,  # IOVDD 3.3 V, IOH at the drive setting
    pin_ma_max=12e-3,  # the strongest drive setting
    leak_max=1e-6,  # input leakage, worst case
    adc_pins=(26, 27, 28, 29),
    adc_ref="rail",  # the ADC's reference is ADC_AVDD, the board's 3.3 V
    adc_max_v=3.3,
    adc_bits=12,
    rtc_pins=(),
    strapping=(),
)

PICO = DevBoard(
    "pico", "Raspberry Pi Pico", "GP",
    "Raspberry Pi Pico datasheet; RP2040 datasheet (GPIO and ADC electrical specification)",
    supply="VSYS", **RP2040_PINS)

RP2040_ZERO = DevBoard(
    "rp2040-zero", "Waveshare RP2040-Zero", "GP",
    "Waveshare RP2040-Zero schematic; RP2040 datasheet", supply="5V", **RP2040_PINS)

ESP32_DEVKITC = DevBoard(
    "esp32-devkit", "ESP32 DevKitC", "GPIO",
    "Espressif ESP32 datasheet (GPIO, ADC, RTC pins); ESP32-DevKitC V4 schematic",
    supply="3V3", vdd=3.3, voh_min=2.64, pin_ma_max=40e-3, leak_max=50e-9,
    adc_pins=(32, 33, 34, 35, 36, 37, 38, 39), adc_ref="internal", adc_max_v=2.45,
    adc_bits=12,
    rtc_pins=(0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39),
    strapping=(0, 2, 5, 12, 15), input_only=(34, 35, 36, 37, 38, 39))
