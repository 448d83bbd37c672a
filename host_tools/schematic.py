"""Wiring schematics drawn from each board's pin map (boards/<name>/board.json).

    python -m host_tools.schematic [--out DIR] [--check]

writes docs/hardware/<board>.svg for every board, docs/hardware/<README_BOARD>.png for
the README and the pin tables in docs/hardware.md (`make docs`). The pins come from
board.json, so a drawing never disagrees with the firmware's pin map; what the dev board
itself provides (its supply pin, an on-board LED or divider) is in BOARD_FACTS below.
The output is deterministic: the same board.json and the same pinned schemdraw and
matplotlib give the same bytes, which is what tests/test_hardware_docs.py checks.
--check compares instead of writing (exit 1: stale).
"""

import argparse
import io
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = os.path.join(ROOT, "boards")
OUT = os.path.join(ROOT, "docs", "hardware")
README_BOARD = "pico"

# Parts (the bill of materials in docs/hardware.md names the same values).
GATE_R = "100 Ω"
GATE_PULLDOWN = "100 kΩ"
LED_R = "330 Ω"
DIVIDER_TOP = "100 kΩ"

# What each dev board brings itself: how the battery reaches it, which parts are on it.
BOARD_FACTS = {
    "pico": {"title": "Raspberry Pi Pico", "supply": "VSYS", "supply_via": "schottky",
             "led_on_board": True, "divider_on_board": True, "gp": "GP"},
    "rp2040-zero": {"title": "Waveshare RP2040-Zero", "supply": "5V", "supply_via": "schottky",
                    "led_on_board": True, "divider_on_board": False, "gp": "GP"},
    "esp32-devkit": {"title": "ESP32 DevKitC", "supply": "3V3", "supply_via": "ldo",
                     "led_on_board": False, "divider_on_board": False, "gp": "GPIO"},
}
GENERIC = {"title": None, "supply": "VIN", "supply_via": None, "led_on_board": False,
           "divider_on_board": False, "gp": "GPIO"}


def board_names():
    return sorted(n for n in os.listdir(BOARDS)
                  if os.path.isfile(os.path.join(BOARDS, n, "board.json")))


def load_board(name):
    with open(os.path.join(BOARDS, name, "board.json")) as f:
        return json.load(f)


def divider_bottom(divider_x100):
    """The lower resistor, in kΩ, with DIVIDER_TOP (100 kΩ) above it: battery / pin =
    divider_x100 / 100, so bottom = 100 kΩ * 100 / (divider_x100 - 100)."""
    return 100 * 100 / (divider_x100 - 100)


def _kohm(k):
    return ("%d kΩ" % round(k)) if abs(k - round(k)) < 0.05 else ("%.1f kΩ" % k)


def draw(config):
    """The schematic of one board as a schemdraw Drawing (not yet rendered)."""
    import schemdraw
    import schemdraw.elements as elm

    facts = BOARD_FACTS.get(config["name"], GENERIC)
    gp = facts["gp"]
    title = facts["title"] or config["name"]
    motor, led, button = config["motor"], config["led"], config["button"]
    battery = config.get("battery")
    d = schemdraw.Drawing(show=False)
    d.config(fontsize=11, unit=2.0, font="sans-serif")

    def pin(at, number):  # a wire from the MCU pin, named as board.json numbers it
        return elm.Line().right(1.4).at(at).label("%s%d" % (gp, number), loc="left")

    def note(at, text):
        return elm.Label().at(at).label(text, fontsize=9, halign="left", valign="top")

    d += elm.Label().at((0, 2.4)).label("%s  (boards/%s/board.json)" % (
        title, config["name"]), fontsize=13, halign="left")

    # The battery, its charger with protection, and the board's supply pin.
    d += elm.Ground().at((0, -1.0))
    d += elm.Line().up(0.5).at((0, -1.0))
    d += elm.Battery().right().label("LiPo 1S\n500 mAh", loc="top")
    d += elm.Line().right(0.6)
    d += (chg := elm.Ic(pins=[elm.IcPin(side="left"), elm.IcPin(side="right")],
                        size=(4.0, 1.8)).anchor("inL1")
          .label("charger +\nprotection", fontsize=8))
    d += elm.Line().right(0.8).at(chg.inR1)
    d += elm.Dot()
    d += elm.Line().up(0.6)
    d += elm.Vdd().label("VBAT", fontsize=10)
    via = facts["supply_via"]
    d += elm.Line().right(0.8).at((chg.inR1[0] + 0.8, chg.inR1[1]))
    if via == "schottky":
        d += elm.Schottky().right().label("SS14", loc="top")
    elif via == "ldo":
        d += (ldo := elm.Ic(pins=[elm.IcPin(side="left"), elm.IcPin(side="right")],
                            size=(3.0, 1.6)).anchor("inL1")
              .label("LDO 3.3 V\nMCP1700", fontsize=8))
        d += elm.Line().right(0.6).at(ldo.inR1)
    d += elm.Line().right(1.0).label(facts["supply"] + " pin", loc="right")

    # The motor, switched low-side by an N-MOSFET, a flyback diode across it.
    y = -8.0
    d += pin((0, y), motor["pin"])
    d += elm.Dot()
    pull = d.here
    d += elm.Resistor().right().label(GATE_R, loc="top")
    d += (q := elm.NMos().anchor("gate"))
    d += elm.Ground().at(q.source)
    d += elm.Resistor().down().at(pull).label(GATE_PULLDOWN, loc="top")
    d += elm.Ground()
    d += elm.Dot().at(q.drain)
    d += (m := elm.Motor().up().at(q.drain).label("coin motor\n3 V ERM", loc="top",
                                                   ofst=0.4))
    d += elm.Dot()
    d += elm.Line().up(0.6)
    d += elm.Vdd().label("VBAT", fontsize=10)
    d += elm.Line().right(1.8).at(q.drain)
    d += elm.Diode().up().reverse().toy(m.end).label("1N5819", loc="bot")
    d += elm.Line().left().tox(m.end)
    d += note((q.drain[0] + 3.4, y + 1.6),
              "N-MOSFET AO3400A\nstart kick from still:\n%d %% duty (motor.start_min)"
              "\nPWM %d Hz" % (
                  motor.get("start_min", 0), motor.get("freq", 20000)))

    # The LED (mono on PWM through a resistor, or a NeoPixel) and the button.
    y -= 6.0
    d += pin((0, y), led["pin"])
    where = "on the board" if facts["led_on_board"] else "to add"
    if led["kind"] == "neopixel":
        d += (px := elm.Ic(pins=[elm.IcPin(side="left"), elm.IcPin(side="top"),
                                 elm.IcPin(side="bottom")],
                           size=(2.4, 1.6)).anchor("inL1").label("WS2812", fontsize=9))
        d += elm.Ground().at(px.inB1)
        d += elm.Line().up(0.6).at(px.inT1)
        d += elm.Vdd().label("3V3", fontsize=10)
        d += note((0, y - 2.8), "NeoPixel, %s" % where)
    else:
        d += elm.Resistor().right().label(LED_R, loc="top")
        d += elm.LED().down()
        d += elm.Ground()
        d += note((0, y - 2.8), "LED on PWM, %s" % where)

    x = 8.5
    d += pin((x, y), button["pin"])
    d += elm.Button().right().label("button", loc="top")
    if button.get("active_low", True):
        d += elm.Line().down(0.6)
        d += elm.Ground()
        d += note((x, y - 2.8), "to GND, the pin's pull-up\n(a press wakes it from off)")
    else:
        d += elm.Line().up(0.6)
        d += elm.Line().up(0.6)
        d += elm.Vdd().label("3V3", fontsize=10)
        d += note((x, y - 2.8), "to 3V3, the pin's pull-down\n(a press wakes it from off)")

    # The battery voltage through a divider to an ADC pin.
    if battery is not None:
        y -= 8.0
        d += pin((0, y), battery["pin"])
        d += elm.Dot()
        tap = d.here
        ratio = battery["divider_x100"] / 100
        if facts["divider_on_board"]:
            d += note((tap[0] + 0.5, tap[1] + 0.3),
                      "reads %s / %g through the board's own\ndivider: nothing to add" % (
                          facts["supply"], ratio))
        else:
            d += elm.Resistor().up().at(tap).label(DIVIDER_TOP, loc="top")
            d += elm.Line().up(0.6)
            d += elm.Vdd().label("VBAT", fontsize=10)
            d += elm.Resistor().down().at(tap).label(
                _kohm(divider_bottom(battery["divider_x100"])), loc="top")
            d += elm.Ground()
            d += elm.Line().right(2.4).at(tap)
            d += elm.Capacitor().down().label("100 nF", loc="bot")
            d += elm.Ground()
            d += note((tap[0] + 4.0, tap[1] + 0.3), "battery / pin = %g" % ratio)
    return d


def pin_table(config):
    """The board's pin map as a Markdown table (docs/hardware.md, between markers)."""
    facts = BOARD_FACTS.get(config["name"], GENERIC)
    gp = facts["gp"]
    m, led, b = config["motor"], config["led"], config["button"]
    rows = [
        ("motor (N-MOSFET gate, through %s)" % GATE_R, "%s%d" % (gp, m["pin"]),
         "PWM %d Hz, start kick %d %%" % (m.get("freq", 20000), m.get("start_min", 0))),
        ("LED" if led["kind"] == "pwm" else "NeoPixel data in", "%s%d" % (gp, led["pin"]),
         ("%s%s" % (led["kind"], ", on the board" if facts["led_on_board"] else ""))),
        ("button", "%s%d" % (gp, b["pin"]),
         "to GND, pull-up" if b.get("active_low", True) else "to 3V3, pull-down"),
    ]
    bat = config.get("battery")
    if bat is not None:
        rows.append(("battery sense (ADC)", "%s%d" % (gp, bat["pin"]),
                     "battery / pin = %g%s" % (bat["divider_x100"] / 100, (
                         ", the board's own divider" if facts["divider_on_board"] else ""))))
    rows.append(("battery in", facts["supply"], {
        "schottky": "through a Schottky diode", "ldo": "through a 3.3 V LDO"}.get(
            facts["supply_via"], "direct")))
    lines = ["| what | pin | notes |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % r for r in rows]
    return "\n".join(lines)


def update_markdown(text):
    """`text` with every `<!-- pins: NAME -->` ... `<!-- /pins -->` block redrawn."""
    out = []
    rest = text
    while True:
        i = rest.find("<!-- pins: ")
        if i < 0:
            out.append(rest)
            return "".join(out)
        head_end = rest.index("-->", i) + 3
        name = rest[i + len("<!-- pins: "):rest.index("-->", i)].strip()
        j = rest.index("<!-- /pins -->", head_end)
        out.append(rest[:head_end] + "\n" + pin_table(load_board(name)) + "\n")
        rest = rest[j:]


def render(config, fmt):
    """The drawing as bytes: "svg" (schemdraw's own SVG writer) or "png" (matplotlib)."""
    import schemdraw

    if fmt == "svg":
        schemdraw.use("svg")
        return draw(config).get_imagedata("svg")
    import matplotlib

    matplotlib.use("Agg")
    schemdraw.use("matplotlib")
    try:
        drawing = draw(config)
        fig = drawing.draw(show=False).fig
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight",
                    metadata={"Software": None})  # no version stamp: the same bytes
        import matplotlib.pyplot as plt

        plt.close(fig)
        return buf.getvalue()
    finally:
        schemdraw.use("svg")


def outputs():
    """(file name, board config, format) for every drawing make docs writes."""
    out = []
    for name in board_names():
        config = load_board(name)
        out.append(("%s.svg" % name, config, "svg"))
        if name == README_BOARD:
            out.append(("%s.png" % name, config, "png"))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m host_tools.schematic",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT, help="directory to write to (default docs/hardware)")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files in --out instead of writing them")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    stale = []
    for filename, config, fmt in outputs():
        data = render(config, fmt)
        if isinstance(data, str):
            data = data.encode()
        path = os.path.join(args.out, filename)
        if args.check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            if not same:
                stale.append(path)
            continue
        with open(path, "wb") as f:
            f.write(data)
        print("schematic: wrote %s" % os.path.relpath(path, ROOT))
    md = os.path.join(ROOT, "docs", "hardware.md")
    if os.path.exists(md):
        with open(md, encoding="utf-8") as f:
            text = f.read()
        fresh = update_markdown(text)
        if args.check and fresh != text:
            stale.append(md)
        elif not args.check and args.out == OUT and fresh != text:
            with open(md, "w", encoding="utf-8") as f:
                f.write(fresh)
            print("schematic: wrote docs/hardware.md pin tables")
    for path in stale:
        print("schematic: %s is not current: run make docs" % os.path.relpath(path, ROOT),
              file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
