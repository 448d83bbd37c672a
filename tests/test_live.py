# The live view (`massager sim`): its screen at a few terminal sizes, its hints held to
# what the App does, and the real command on a pseudo-terminal.
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios

import pytest

from helpers import builtin
from host_tools import live
from massager.app import DONE, IDLE, OFF, PAUSED, RUNNING, App
from simulator.headless import NoHardware

SIZES = [(80, 24), (60, 12), (40, 8), (120, 40)]


def fresh():
    a = App([builtin("weekly"), builtin("daily")], NoHardware())
    a.begin(0)
    return a


def play_until(a, done):
    """Advance the app change by change until done(a); the time reached."""
    t = a.since
    while not done(a):
        t = a.next_wake()
        a.update(t)
    return t


def situations():
    """(label, app, now) in every state the screen has to show."""
    a = fresh()
    yield "idle", a, 0
    a = fresh()
    a.press("short", 0)
    yield "glide", a, play_until(a, lambda a: a.cue == "glide" and a.motor > 0)
    a = fresh()
    a.press("short", 0)
    yield "press", a, play_until(a, lambda a: a.cue == "press" and a.motor > 0)
    yield "press gap", a, play_until(a, lambda a: a.cue == "press" and a.motor == 0)
    t = play_until(a, lambda a: a.cue == "step")
    yield "step cue", a, t
    a.press("short", t)
    yield "paused", a, t
    a = fresh()
    a.press("double", 0)  # daily: the short one
    a.press("short", 0)
    yield "done", a, play_until(a, lambda a: a.state == DONE)
    a = fresh()
    a.press("hold", 0)
    yield "off", a, 0


@pytest.mark.parametrize("width, height", SIZES)
def test_every_screen_fits_the_terminal_and_keeps_header_and_hints(width, height):
    for label, a, now in situations():
        lines = live.render(a, now, 1.0, width, height)
        where = "%s at %dx%d" % (label, width, height)
        assert len(lines) <= height - 1, where  # a last newline would scroll the header off
        assert all(live._columns(line) <= width - 1 for line in lines), (where, lines)
        assert lines[0].startswith("massager · %s · " % a.state.upper()), where
        assert any(line.startswith("  now    ") for line in lines), where
        text = "\n".join(lines)
        assert "None" not in text and "stroke -" not in text, (where, lines)


def test_what_the_screen_says_in_each_situation():
    screens = {label: "\n".join(live.render(a, now, 1.0)) for label, a, now in situations()}
    assert "short: start" in screens["idle"] and "[weekly] daily" in screens["idle"]
    assert "medium (75 %) of the routine's strength" in screens["idle"]
    assert "stroke 1/3" in screens["glide"]
    # a press says which one and how strong, even in the still gap after the pulse
    assert "press 1/3 at 60 %" in screens["press"] and "press 1/3 at 60 %" in screens[
        "press gap"]
    assert "next step: two ticks" in screens["step cue"]
    assert "short: resume" in screens["paused"]
    assert "back to idle" in screens["done"] and "played to its end cue" in screens["done"]
    assert "wake up" in screens["off"]


def _after(state_app, gesture):
    label, a, now = state_app
    before = (a.state, a.selected, a.level, a.seq.step if a.seq else None)
    a.press(gesture, now)
    return before, (a.state, a.selected, a.level, a.seq.step if a.seq else None), a


# What each hint's words mean, checked on the App itself.
MEANS = {
    "start": lambda b, a, app: a[0] == RUNNING,
    "next routine": lambda b, a, app: a[1] == (b[1] + 1) % 2,
    "level": lambda b, a, app: a[2] == (b[2] + 1) % 3,
    "off": lambda b, a, app: a[0] == OFF,
    "pause": lambda b, a, app: a[0] == PAUSED and app.motor == 0,
    "skip step": lambda b, a, app: a[3] == b[3] + 1,
    "stop": lambda b, a, app: a[0] == IDLE and app.motor == 0,
    "resume": lambda b, a, app: a[0] == RUNNING,
    "back to idle (it goes there by itself after 4 s)": lambda b, a, app: a[0] == IDLE,
    "wake up": lambda b, a, app: a[0] == IDLE,
}
GESTURES = {"short": "short", "double": "double", "long": "long", "hold 3 s": "hold",
            "any press": "short"}


def test_the_hints_say_what_the_button_does():
    where = {"idle": IDLE, "paused": PAUSED, "done": DONE, "off": OFF, "glide": RUNNING}
    checked = set()
    for label, state in where.items():
        for hint in live.HINTS[state].split(" · "):
            gesture, meaning = hint.split(": ", 1)
            case = next(s for s in situations() if s[0] == label)  # a fresh app each time
            before, after, app = _after(case, GESTURES[gesture])
            assert MEANS[meaning](before, after, app), (label, hint, before, after)
            checked.add(state)
    assert checked == set(live.HINTS)
    # the done screen's promise: idle by itself after 4 s
    _, a, now = next(s for s in situations() if s[0] == "done")
    a.update(now + 4000)
    assert a.state == IDLE


def test_piped_progress_lines_read_as_sentences():
    lines = [live.progress_line(a, now) for _, a, now in situations()]
    assert lines[0] == "0:00 idle: weekly selected"
    assert lines[1].startswith("0:0") and ("running: step 1/10, round 1/6: Chin to ear"
                                           in lines[1])
    assert not [line for line in lines if "None" in line]


def _read_until(fd, text, seen, limit_s=60):
    """Read the pty until `text` appears (the limit only bounds a failing test)."""
    while text not in seen[0]:
        ready, _, _ = select.select([fd], [], [], limit_s)
        assert ready, "no %r on the screen; it shows %r" % (text, seen[0][-400:])
        try:
            seen[0] += os.read(fd, 65536).decode("utf-8", "replace")
        except OSError:  # the program ended
            raise AssertionError("ended before %r: %r" % (text, seen[0][-400:])) from None
    return seen[0]


def test_the_live_view_opens_idle_and_starts_on_the_first_press():
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "sim", "daily"],
                            stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    seen = [""]
    try:
        first = _read_until(master, "  keys   ", seen)
        header = first[first.index("massager · "):].split("\x1b")[0]
        assert header.startswith("massager · IDLE · Daily quick massage")
        assert "short: start" in first
        os.write(master, b" ")  # the space bar is the button
        _read_until(master, "massager · RUNNING · ", seen)
        os.write(master, b"q")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
