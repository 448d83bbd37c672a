# Battery life as figures: a current model per board applied to real traces.
#
#     python -m bench.battery        # rewrites only its own section of docs/benchmarks.md
#
# `make bench` writes the same section (bench/__main__.py calls update()). The traces are
# the firmware's own (the App played headless on the virtual clock: every output change
# with its time, motor % and LED colour); each board's own draw comes from its circuit
# description, part by part with its source (simulator/circuit/power.py). The
# baseline is the same model on the firmware before the off state slept: off was the
# loop awake, so it drew the awake current.
import json
import os
import sys

from massager import program, routines, safety
from simulator import circuit, headless
from simulator.circuit import power

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "benchmarks.md")
HEADING = "## Battery life (model)"
CELL_MAH = 500  # a 1S LiPo, as in docs/hardware.md
CELL_V = 3.7

# What the circuit description cannot know: how each board sleeps when off, and the
# motor's and LED's currents as the trace drives them. The board's own draw, awake and
# asleep, part by part, comes from boards/<name>/circuit.py (simulator/circuit/power.py).
BOARDS = {
    "pico": {
        "sleep_how": "rp2 lightsleep, watchdog fed every 4 s",
        "hardware": "Raspberry Pi Pico (RT6150B buck-boost) on VSYS through an SS14",
        "wake_every_ms": safety.FEED_MS, "wake_ms": 2, "led": "pwm", "led_ma": 4.0,
    },
    "rp2040-zero": {
        "sleep_how": "rp2 lightsleep, watchdog fed every 4 s; the pixel stays powered",
        "hardware": "Waveshare RP2040-Zero (RT9013 LDO, WS2812B) on 5V through an SS14",
        "wake_every_ms": safety.FEED_MS, "wake_ms": 2, "led": "neopixel", "led_ma": 12.0,
    },
    "esp32-devkit": {
        "sleep_how": "esp32 deep sleep, ext0 wake (RTC peripherals on)",
        "hardware": "ESP32 DevKitC V4 (its USB-UART bridge and AMS1117 on board) fed on "
                    "3V3 by an MCP1700",
        "wake_every_ms": None, "wake_ms": 0, "led": "pwm", "led_ma": 4.0,
    },
}
MOTOR_MA = 75.0  # a 10 mm 3 V coin ERM at full duty from a 3.7 V cell
# A LiPo loses charge by itself, latch or not. No cell maker's figure was found in the
# sources at hand; Battery University's BU-802b (Cadex) gives Li-ion about 5 % in the first
# 24 h after a charge, then 1-2 % a month at room temperature, and about 3 % a month more
# for a pack's protection circuit (counted here part by part instead: the charger board's
# DW01A and TP4056). The model takes the upper 2 % a month for the cell alone.
SELF_DISCHARGE_PER_MONTH = 0.02
SELF_DISCHARGE_SOURCE = ("Battery University BU-802b (Cadex): Li-ion about 1-2 % a month "
                         "after the first day's 5 %, at room temperature; 2 % taken; no cell "
                         "maker's figure found")
HOURS_PER_MONTH = 365.25 * 24 / 12
HOURS_PER_YEAR = 365.25 * 24
SOURCES = [
    ("motor", "75 mA x duty", "a 10 mm coin ERM, 3 V rating, about 70-80 mA running; "
     "PWM draws the duty's share on average"),
    ("LED", "4 mA x brightness", "a red LED on 3.3 V through 330 Ω; a WS2812 channel "
     "12 mA at full"),
    ("wake from lightsleep", "2 ms awake every 4 s", "once the watchdog is armed it must be "
     "fed: the clocks restart, one loop wake runs, the chip sleeps again"),
]


def board_ma(name, mode):
    """The board's own draw from the cell in mA ("awake" or "asleep"), from its circuit."""
    return power.total(circuit.load(name), mode, CELL_V) * 1000


def draw_rows(name):
    """The off state's draw part by part: [(what, mA, source)]."""
    return [(r.what, r.amps * 1000, r.source) for r in power.draw(circuit.load(name), "asleep",
                                                                   CELL_V)]


def _trace(name):
    """Trace records of one use: start the routine, let it play, leave the device to
    power itself off (done light, idle)."""
    prog = program.load(routines.text(name))[0]
    lines = []
    headless.play([prog], headless.parse_buttons("0:short"), lines.append)
    end = json.loads(lines[-1])["t"]
    lines = []
    headless.play([prog], headless.parse_buttons("0:short"), lines.append,
                  until=end + safety.DONE_IDLE_MS + safety.IDLE_OFF_MS + 1)
    return [json.loads(x) for x in lines]


def _led(board, r, g, b):
    if board["led"] == "neopixel":
        return board["led_ma"] * (r + g + b) / 255
    return board["led_ma"] * max(r, g, b) / 255


def use_mah(board, records):
    """mAh of one use, from the first trace line to the power-off: the board awake, the
    motor and the LED as the trace drives them, and the divider."""
    mas = 0.0  # mA x ms
    for rec, nxt in zip(records, records[1:]):
        ms = nxt["t"] - rec["t"]
        ma = board["awake_ma"] + MOTOR_MA * rec["motor"] / 100 + _led(board, *rec["led"])
        mas += ma * ms
    return mas / 3600000


def off_ma(board, sleeps=True):
    """The off state's current: asleep (this firmware) or awake (before it)."""
    if not sleeps:
        return board["awake_ma"]
    wake = 0.0
    if board["wake_every_ms"]:
        wake = board["awake_ma"] * board["wake_ms"] / board["wake_every_ms"]
    return board["asleep_ma"] + wake


def latch_ma(name):
    """What the cell gives with the power latch off: (the latch's leakage alone, the
    protection board's idle draw), mA; None without a latch."""
    rows = power.cut(circuit.load(name))
    if not rows:
        return None
    charger = sum(r.amps for r in rows if r.what.startswith("charger"))
    return (sum(r.amps for r in rows) - charger) * 1000, charger * 1000


def self_discharge_ma():
    """The cell's own loss as a current (mA), at SELF_DISCHARGE_PER_MONTH."""
    return CELL_MAH * SELF_DISCHARGE_PER_MONTH / HOURS_PER_MONTH


def figures():
    """{board: {...}} with the session costs and standby, now and before."""
    uses = {name: _trace(name) for name in ("weekly", "daily")}
    out = {}
    for name, facts in BOARDS.items():
        board = dict(facts, awake_ma=board_ma(name, "awake"), asleep_ma=board_ma(name, "asleep"))
        f = {"minutes": {}, "mah": {}}
        for routine, recs in uses.items():
            f["mah"][routine] = use_mah(board, recs)
            f["minutes"][routine] = recs[-1]["t"] / 60000
        for key, sleeps in (("now", True), ("before", False)):
            ma = off_ma(board, sleeps)
            f["off_ma_" + key] = ma
            f["standby_days_" + key] = CELL_MAH / ma / 24
            # A day: one daily session, the rest of the day off.
            day_min = f["minutes"]["daily"]
            per_day = f["mah"]["daily"] + ma * (24 - day_min / 60)
            f["days_daily_" + key] = CELL_MAH / per_day
        latch = latch_ma(name)
        if latch is not None:
            leak, protection = latch
            f["latch_leak_ma"], f["protection_ma"] = leak, protection
            f["latch_only_years"] = CELL_MAH / leak / HOURS_PER_YEAR
            f["latch_years"] = CELL_MAH / (leak + protection) / HOURS_PER_YEAR
            f["latch_self_years"] = CELL_MAH / (leak + protection + self_discharge_ma()) / \
                HOURS_PER_YEAR
            day_min = f["minutes"]["daily"]
            per_day = f["mah"]["daily"] + (leak + protection) * (24 - day_min / 60)
            f["days_daily_latch"] = CELL_MAH / per_day
        out[name] = f
    return out


def _n(x, unit=""):
    if x >= 100:
        s = "{:,.0f}".format(x)
    elif x >= 10:
        s = "%.1f" % x
    elif x >= 1:
        s = "%.2f" % x
    else:
        s = "%.3f" % x
    return s + unit


def section():
    """The Markdown section, heading included."""
    fig = figures()
    lines = [
        HEADING,
        "",
        "Written by `make bench` (or `python -m bench.battery`): a current model per board "
        "(below) applied to the firmware's real traces, on a %d mAh 1S LiPo at %.1f V. One "
        "use is a session started from idle, played to its end, then left alone until the "
        "device powers itself off (the done light, %d minutes idle). The baseline is the "
        "same model on the firmware before this change, where off kept the loop awake." % (
            CELL_MAH, CELL_V, safety.IDLE_OFF_MS // 60000),
        "",
        "| board | off state | one weekly use | one daily use | off current: now / before "
        "| standby in off: now / before | days of one daily use a day: now / before |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, f in fig.items():
        lines.append("| %s | %s | %s mAh (%.0f min) | %s mAh (%.0f min) | %s / %s mA | "
                     "**%s days** / %s days | %s / %s |" % (
                         name, BOARDS[name]["sleep_how"], _n(f["mah"]["weekly"]),
                         f["minutes"]["weekly"], _n(f["mah"]["daily"]), f["minutes"]["daily"],
                         _n(f["off_ma_now"]), _n(f["off_ma_before"]),
                         _n(f["standby_days_now"]), _n(f["standby_days_before"]),
                         _n(f["days_daily_now"]), _n(f["days_daily_before"])))
    best = max(f["standby_days_now"] for f in fig.values())
    worst = min(f["standby_days_now"] for f in fig.values())
    latched = [n for n, f in fig.items() if "latch_years" in f]
    if latched:
        lines += [
            "",
            "### With the power latch",
            "",
            "Every board here has the soft power latch of docs/hardware.md (board.json "
            "`power.hold_pin`): off, the chip is unpowered and the cell feeds only the latch "
            "(its P-MOSFET's Idss, and through its gate pull-up the hold MOSFET's Idss, the "
            "button-reading diode's reverse current and the P-MOSFET's gate leakage, each at "
            "its datasheet maximum at 25 °C; ngspice holds the sum, tests/test_circuit_latch.py) "
            "and the charger board's protection. The sleep of the table above is what a board "
            "without a latch does, and one with a latch on USB.",
            "",
            "| board | off current: latch leakage + protection | standby on the latch | latch "
            "leakage alone | with the cell's self-discharge (%g %% a month) | without the latch "
            "(sleep) | days of one daily use a day |" % (SELF_DISCHARGE_PER_MONTH * 100),
            "|---|---|---|---|---|---|---|",
        ]
        for name in latched:
            f = fig[name]
            lines.append("| %s | %s + %s µA | **%s years** | %s years | %s years | %s days | "
                         "%s |" % (
                             name, _n(f["latch_leak_ma"] * 1000), _n(f["protection_ma"] * 1000),
                             _n(f["latch_years"]), _n(f["latch_only_years"]),
                             _n(f["latch_self_years"]), _n(f["standby_days_now"]),
                             _n(f["days_daily_latch"])))
        lines += [
            "",
            "The cell's own loss (%s: %s µA on %d mAh) is larger than all the latch draws: "
            "with the latch, the cell itself sets how long the device keeps its charge. "
            "The datasheets' maxima are at 25 °C; leakages grow with temperature, which "
            "these figures do not model." % (SELF_DISCHARGE_SOURCE, _n(self_discharge_ma() * 1000),
                                         CELL_MAH),
        ]
    lines += [
        "",
        "Standby in off without the latch is days on every board (%s to %s days), set by "
        "what each dev "
        "board draws besides the chip: the RP2040s' lightsleep with their regulator and "
        "flash, the RP2040-Zero's pixel, and the ESP32 DevKitC's USB-UART bridge, which "
        "deep sleep does not touch. The figures hold for the hardware named below, built as "
        "in docs/hardware.md (circuits: boards/*/circuit.py). A LiPo also loses a few %% "
        "of its charge a month by itself, which does not matter at this drain. Before this "
        "firmware slept, off drained the cell in about a day. For weeks between uses, the "
        "storage switch in docs/hardware.md cuts everything." % (_n(worst), _n(best)),
        "",
    ]
    for name in BOARDS:
        lines += [
            "Off-state draw of the %s build (%s), from the cell at %.1f V:" % (
                name, BOARDS[name]["hardware"], CELL_V),
            "",
            "| part | current | source |",
            "|---|---|---|",
        ]
        lines += ["| %s | %s mA | %s |" % (what, _n(ma), source)
                  for what, ma, source in draw_rows(name)]
        lines.append("")
    lines += [
        "Other assumptions (currents from the cell):",
        "",
        "| what | current | source |",
        "|---|---|---|",
    ]
    lines += ["| %s | %s | %s |" % s for s in SOURCES]
    lines += [
        "",
        "Not modelled: the soft start's kick (30 ms at start_mv from still, well "
        "under 1 % of a session's motor time), leakage of the diodes and the MOSFETs behind "
        "the latch while the board is on (µA at most), and temperature. The chips' currents are "
        "published measurements of boards like these, not of this build: measure yours "
        "with a USB power meter before trusting a figure to better than a factor of two.",
        "",
    ]
    return lines


def replace_section(path, heading, lines):
    """Write `lines` (a section starting with `heading`) into `path`, replacing an
    earlier one, keeping the rest."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        text = "# Benchmarks\n\n"
    i = text.find(heading)
    if i >= 0:
        j = text.find("\n## ", i + len(heading))
        rest = text[j + 1:] if j >= 0 else ""
        text = text[:i]
    else:
        rest = ""
        if not text.endswith("\n\n"):
            text = text.rstrip("\n") + "\n\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n".join(lines) + ("\n" + rest if rest else ""))


def update(path=OUT):
    replace_section(path, HEADING, section())


def main():
    update()
    print("bench: wrote the battery section of %s" % os.path.relpath(OUT, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
