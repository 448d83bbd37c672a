"""docs/hardware.md and its schematics: drawn by code from each board.json, kept current."""

import json
import os

import pytest

from host_tools import schematic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = sorted(n for n in os.listdir(os.path.join(ROOT, "boards"))
                if os.path.isfile(os.path.join(ROOT, "boards", n, "board.json")))


def test_the_committed_drawings_are_the_ones_make_docs_draws(tmp_path):
    assert schematic.main(["--out", str(tmp_path)]) == 0
    written = sorted(os.listdir(tmp_path))
    assert written == sorted(["%s.svg" % b for b in BOARDS] + ["pico.png"])
    for name in written:
        with open(tmp_path / name, "rb") as f:
            fresh = f.read()
        with open(os.path.join(ROOT, "docs", "hardware", name), "rb") as f:
            assert f.read() == fresh, "docs/hardware/%s is stale: run make docs" % name


def test_drawing_twice_gives_the_same_bytes():
    config = schematic.load_board("esp32-devkit")
    assert schematic.render(config, "svg") == schematic.render(config, "svg")


@pytest.mark.parametrize("name", BOARDS)
def test_each_drawing_shows_the_pins_of_its_board_json(name):
    config = schematic.load_board(name)
    svg = schematic.render(config, "svg").decode()
    gp = schematic.BOARD_FACTS[name]["gp"]
    for part in ("motor", "led", "button", "battery"):
        assert ">%s%d<" % (gp, config[part]["pin"]) in svg, part
    # Another pin in board.json is another drawing: nothing is drawn by hand.
    moved = json.loads(json.dumps(config))
    moved["motor"]["pin"] = 33
    assert ">%s33<" % gp in schematic.render(moved, "svg").decode()


def test_the_divider_drawn_gives_the_ratio_in_board_json():
    for ratio, bottom in ((200, 100.0), (300, 50.0), (1100, 10.0)):
        assert schematic.divider_bottom(ratio) == bottom


def test_hardware_md_shows_one_drawing_per_board_and_its_pins():
    with open(os.path.join(ROOT, "docs", "hardware.md")) as f:
        text = f.read()
    for name in BOARDS:
        assert "hardware/%s.svg" % name in text
        config = schematic.load_board(name)
        gp = schematic.BOARD_FACTS[name]["gp"]
        for part in ("motor", "led", "button", "battery"):
            assert "%s%d" % (gp, config[part]["pin"]) in text, (name, part)
    with open(os.path.join(ROOT, "README.md")) as f:
        assert "docs/hardware/pico.png" in f.read()


def test_the_pin_tables_in_hardware_md_are_current():
    with open(os.path.join(ROOT, "docs", "hardware.md"), encoding="utf-8") as f:
        text = f.read()
    assert schematic.update_markdown(text) == text, "run make docs"
    moved = schematic.pin_table(dict(schematic.load_board("pico"), button={"pin": 9}))
    assert "| button | GP9 |" in moved
