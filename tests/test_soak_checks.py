"""The checks of `make soak` (tests/soak.py) on the reads it gets from the device, without
the device: a month on the emulated RP2040 is far too long for `make test`, but what it
concludes from each read is held here. The leak itself was shown on the emulator by
`make soak DAYS=2 SEED=1 LEAK=1024` (docs/reliability.md)."""

import pytest
import soak

from massager import routines
from simulator.pico import Change


@pytest.fixture
def checker(tmp_path):
    return soak.Soak(1, seed=1, workdir=str(tmp_path))


def read(free, used_blocks=43):
    """What the probe's read prints: the heap after each session since the last read, the
    session count, littlefs (block size, blocks, free), the routines, problems, level."""
    return repr((free, len(free), 4096, 352, 352 - used_blocks, list(routines.NAMES), [], 2))


def test_a_steady_heap_passes_day_after_day(checker):
    for _ in range(30):
        checker.check_read(read([150000, 149000 + 1500, 150000 - 2000]))
    assert checker.figures["heap_drift"] == 2000
    assert checker.figures["life_sessions_max"] == 90


@pytest.mark.parametrize("leak", [1024, 700])
def test_a_leak_fails_once_it_passes_the_limit(checker, leak):
    """A session that keeps `leak` bytes: the read after the session that takes the drift
    past HEAP_DRIFT fails, even when the sessions come two a day (a read between)."""
    first = 150000
    session = 0
    with pytest.raises(soak.SoakFailure, match="heap"):
        for _ in range(10):
            checker.check_read(read([first - leak * (session + i) for i in range(2)]))
            session += 2
    drift = leak * (checker.life[1] - 1)
    assert drift > soak.HEAP_DRIFT >= drift - leak


def test_a_new_boot_starts_a_new_heap(checker):
    checker.check_read(read([150000, 149000]))
    checker.life = None  # what segment_start(boot=True) does
    checker.check_read(read([140000, 139500]))
    assert checker.figures["heap_drift"] == 1000


def test_littlefs_growth_is_bounded(checker):
    checker.check_read(read([150000], used_blocks=43))
    checker.check_read(read([150000], used_blocks=43 + soak.FS_GROWTH_MAX))
    with pytest.raises(soak.SoakFailure, match="littlefs"):
        checker.check_read(read([150000], used_blocks=44 + soak.FS_GROWTH_MAX))


def test_a_routine_that_does_not_load_after_a_boot_fails(checker):
    out = repr(([150000], 1, 4096, 352, 309, list(routines.NAMES)[1:], [], 2))
    with pytest.raises(soak.SoakFailure, match="routines"):
        checker.check_read(out)


def test_the_report_says_how_much_ran_and_how_it_ended(checker, tmp_path):
    doc = tmp_path / "reliability.md"
    doc.write_text("# Reliability\n\n<!-- begin soak -->\nold\n<!-- end soak -->\n\nafter\n")
    checker.check_read(read([150000]))
    checker.figures.update(days=3, sessions=6, wall_s=600)
    soak.report(str(doc), checker.figures, 1, 30)
    text = doc.read_text()
    assert "first 3 days" in text and "old" not in text and text.endswith("after\n")
    soak.report(str(doc), checker.figures, 1, 30, failure="session 7 (motor): late\nmore")
    text = doc.read_text()
    assert "FAILED on day 4: session 7 (motor): late." in text and "more" not in text
    checker.figures["days"] = 30
    soak.report(str(doc), checker.figures, 1, 30)
    assert "A run of 30 days that passed." in doc.read_text()


class Pins:
    """The motor pin's changes as the emulator reports them (simulator.pico.Change)."""

    def __init__(self, changes):
        self.list = [Change(t, "pwm", duty, 20000) for t, duty in changes]

    def changes(self, pin, since=0.0):
        return [c for c in self.list if c.t >= since]


def test_the_motor_driven_outside_every_session_fails_the_day(checker):
    checker.windows = [(1000.0, 5000.0)]
    checker.pico = Pins([(900.0, 0.0), (1200.0, 0.4), (4990.0, 0.0)])
    checker.check_motor_outside()  # on only inside the session
    checker.pico = Pins([(900.0, 0.0), (1200.0, 0.4), (5000.0 + soak.TOLERANCE_MS + 1, 0.3)])
    with pytest.raises(soak.SoakFailure, match="outside a session"):
        checker.check_motor_outside()
