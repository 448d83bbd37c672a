"""The battery-life figures (bench/battery.py): the model on real traces, and the section
it writes in docs/benchmarks.md."""

import os

from bench import battery
from simulator import circuit
from simulator.circuit import power

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_docs_benchmarks_has_the_battery_section_for_every_board():
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), encoding="utf-8") as f:
        text = f.read()
    i = text.index(battery.HEADING)
    section = text[i:]
    for name in battery.BOARDS:
        assert "| %s |" % name in section
    assert "standby in off: now / before" in section and "source" in section


def test_sleeping_when_off_lasts_far_longer_than_the_awake_off_of_before():
    fig = battery.figures()
    for name, f in fig.items():
        assert f["standby_days_now"] > 9 * f["standby_days_before"], name
        assert f["standby_days_before"] < 1.5  # awake off: about a day, as the issue says


def test_standby_counts_the_board_not_only_the_chip():
    # The ESP32 chip alone sleeps at 10 µA (587 days on 500 mAh); the DevKitC around it
    # draws about 3 mA in the same sleep: days. Each board's off current is at least the
    # sum of its parts' published draws, the regulator and the dividers included.
    fig = battery.figures()
    assert 3.0 <= fig["esp32-devkit"]["off_ma_now"] < 3.5
    assert fig["esp32-devkit"]["standby_days_now"] < 8
    for name in battery.BOARDS:
        c = circuit.load(name)
        rows = power.draw(c, "asleep")
        refs = {r.ref for r in rows}
        for p in c.parts:
            if p.kind in ("LOAD", "PIXEL", "LDO", "BUCKBOOST", "SHUNTREF", "CHARGER"):
                assert p.ref in refs, (name, p.ref)
        assert "R3" in refs  # the battery divider: always across the cell
        assert fig[name]["off_ma_now"] >= sum(r.amps for r in rows) * 1000 - 1e-9


def test_a_session_costs_what_its_trace_drives():
    # The weekly use is longer and runs the motor more than the daily one, on every board,
    # and a use costs more than its minutes at the awake current alone.
    for name, f in battery.figures().items():
        awake = battery.board_ma(name, "awake")
        assert f["mah"]["weekly"] > f["mah"]["daily"]
        for routine in ("weekly", "daily"):
            awake_only = awake * f["minutes"][routine] / 60
            assert f["mah"][routine] > awake_only


def test_update_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n| a | b |\n\n## Battery life (model)\n\nOLD SECTION TEXT\n\n"
                    "## Later\n\nkept\n")
    battery.update(str(path))
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\n| a | b |\n\n## Battery life (model)\n")
    assert "OLD SECTION TEXT" not in text and text.endswith("## Later\n\nkept\n")
    assert text.count(battery.HEADING) == 1


def test_with_the_latch_every_board_keeps_two_years_on_its_leakage_alone():
    # The bar: at least 2 years on 500 mAh of latch leakage alone, at the
    # datasheets' maxima; with the protection board too, still years, and far beyond the
    # days of the sleep.
    fig = battery.figures()
    for name in battery.BOARDS:
        f = fig[name]
        assert f["latch_only_years"] >= 2, name
        assert f["latch_years"] >= 2, name
        assert f["latch_years"] * 365 > 100 * f["standby_days_now"], name
        # The cell's own loss is shown beside it and is what limits it then.
        assert f["latch_self_years"] < f["latch_years"], name


def test_the_latch_figures_are_the_circuits_leakages():
    # Break the latch's pull-up diode into a leakier part: the model follows the circuit.
    from simulator.circuit import parts

    c = circuit.load("pico")
    before = sum(r.amps for r in power.cut(c))
    leaky = c.replaced("D4", parts.BAT54.but(ir=200e-6))
    assert sum(r.amps for r in power.cut(leaky)) > before + 190e-6


def test_docs_benchmarks_shows_the_latch_next_to_the_sleep():
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("### With the power latch"):]
    for name in battery.BOARDS:
        assert "| %s |" % name in section
    assert "latch leakage alone" in section and "without the latch (sleep)" in section
    assert "self-discharge" in section and "BU-802b" in section
