"""The bench's own code runs (`make bench` is not in `make test`, and broke twice unseen):
its cheap figures on CPython, and its session on the real port held to the CPython trace
(the motor in volts). Only counts are asserted here; times belong to the bench."""
import shutil

from bench import rp2040
from bench.__main__ import wakeups_per_change


def test_the_wakeups_figure_runs_and_counts_one_wake_per_output_change(monkeypatch):
    monkeypatch.setattr("bench.__main__.RUNS", 1)
    row = wakeups_per_change()
    assert row.values and row.met, row.measured()


def test_the_real_port_session_figure_plays_the_daily_held_to_the_trace(pico_image,
                                                                         tmp_path):
    image = str(tmp_path / "flash.img")
    shutil.copy(pico_image, image)
    before, after, records, lags = rp2040.play_session(image, [(0, 1), (100, 0)])
    assert records[-1]["state"] in ("done", "idle"), records[-1]
    assert lags["motor"] and lags["led"]
    assert after["instructions"] > before["instructions"]


def test_the_cheap_micropython_figures_run(monkeypatch):
    from bench import device

    monkeypatch.setattr(device, "RUNS", 1)
    alloc = device.alloc_per_change()
    assert alloc.values and alloc.met, alloc.measured()  # a count: 0 B per change
    for figure in (device.ram_held, device.import_speed):
        row = figure()
        assert row.values and all(v > 0 for v in row.values), (figure.__name__, row.values)
