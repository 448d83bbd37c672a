# `massager sim`: the simulated device in real time, in a terminal.
#
# The firmware's App runs unchanged on a clock that is wall time times --speed; keys are
# the button. A terminal only sends key presses (and auto-repeat while a key is held),
# so "space held" is inferred from the repeats.
import os
import select
import sys
import time

from massager import app as device
from massager import trace
from massager.program import clock_text
from simulator.headless import NoHardware

FRAME_S = 1 / 15  # redraw rate
REPEAT_WAIT_S = 0.6  # a terminal's first auto-repeat comes within this after a key press
REPEAT_GAP_S = 0.15  # later repeats come this close together while the key is held
ARROWS = {"up": "↑", "outward": "↔", "up-outward": "↗", "along": "↕", "around": "↻"}
HELP = "space press/hold · s short · d double · l long · + - speed · q quit"


class Terminal:
    """Raw key input from a tty, restored on exit."""

    def __init__(self, stream):
        self.stream = stream
        self.fd = stream.fileno() if stream.isatty() else None
        self._saved = None

    def __enter__(self):
        if self.fd is not None:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def keys(self, timeout):
        if self.fd is None:
            time.sleep(timeout)
            return ""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return os.read(self.fd, 64).decode("utf-8", "replace") if ready else ""


def _bar(percent, width=30):
    full = percent * width // 100
    return "█" * full + "░" * (width - full)


def render(app, now, speed):
    """The screen as a list of lines."""
    prog = app.programs[app.selected]
    seq = app.seq
    led = "\x1b[38;2;%d;%d;%dm●●●\x1b[0m" % (app.led_r, app.led_g, app.led_b)
    lines = [
        "massager simulator · %s · %s · speed ×%g" % (prog.title, app.state.upper(), speed),
        "",
        "  LED    %s  (%3d, %3d, %3d)" % (led, app.led_r, app.led_g, app.led_b),
        "  motor  %s %3d%%  %s" % (_bar(app.motor), app.motor, app.cue),
        "",
    ]
    if seq is not None and app.state in (device.RUNNING, device.PAUSED):
        p = seq.program
        step = p.steps[seq.step - 1]
        side = ("", " · left side", " · right side")[seq.side]
        lines += [
            "  step   %d/%d  %s" % (seq.step, len(p.steps), step.name),
            "         zone %s  %s %s%s" % (step.zone, ARROWS[step.direction], step.direction,
                                            side),
            "  round  %d/%d   stroke %s/%d   breath %.1f s" % (
                seq.round, p.rounds, seq.rep or "-", step.reps, p.rep_ms(seq.round - 1) / 1000),
            "  time   %s elapsed · %s left" % (clock_text(now - app.session_start),
                                              clock_text(seq.remaining_ms(now))),
        ]
    else:
        names = " ".join(("[%s]" if i == app.selected else "%s") % p.name
                         for i, p in enumerate(app.programs))
        lines += ["  routines  %s" % names, "", "", ""]
    lines += ["  level  %d/3" % (app.level + 1), "", "  keys: " + HELP]
    return lines


def run_live(programs, script, speed=1.0, trace_path=None):
    out = sys.stdout
    tty = out.isatty()
    trace_file = open(trace_path, "w", newline="\n") if trace_path else None
    last_step = [None]

    def on_change(app, now):
        if trace_file is not None:
            trace_file.write(trace.line(app, now) + "\n")
        if not tty:
            key = (app.state, app.step, app.round)
            if key != last_step[0]:
                last_step[0] = key
                print("%s %s step %s round %s" % (clock_text(now), app.state, app.step,
                                                  app.round), flush=True)

    app = device.App(programs, NoHardware(), on_change=on_change)
    start = time.monotonic()
    vbase = 0  # virtual ms at `start`; moved when the speed changes
    held = False
    release_at = 0.0
    i = 0

    def vnow():
        return vbase + int((time.monotonic() - start) * 1000 * speed)

    app.begin(0)
    if tty:
        out.write("\x1b[?25l\x1b[2J")
    try:
        with Terminal(sys.stdin) as term:
            while True:
                now = vnow()
                while i < len(script) and script[i][0] <= now:
                    event = script[i][1]
                    i += 1
                    if event in ("down", "up"):
                        app.edge(event == "down", now)
                    else:
                        app.press(event, now)
                app.update(now)
                if tty:
                    screen = render(app, now, speed)
                    out.write("\x1b[H" + "".join(s + "\x1b[K\n" for s in screen))
                    out.flush()
                elif app.state == device.DONE and i >= len(script):
                    return 0
                wake = app.next_wake()
                wait = FRAME_S if wake is None else min(FRAME_S, max(0, (wake - now) / 1000
                                                                      / speed))
                for key in term.keys(wait):
                    now = vnow()
                    if key == " ":
                        if not held:
                            app.edge(True, now)
                            held = True
                            release_at = time.monotonic() + REPEAT_WAIT_S
                        else:
                            release_at = time.monotonic() + REPEAT_GAP_S
                    elif key in "sdl":
                        app.press({"s": "short", "d": "double", "l": "long"}[key], now)
                    elif key in "+-":
                        vbase, start = now, time.monotonic()
                        speed = min(64.0, speed * 2) if key == "+" else max(0.25, speed / 2)
                    elif key in "qQ\x03":
                        return 0
                if held and time.monotonic() >= release_at:
                    app.edge(False, vnow())
                    held = False
    except KeyboardInterrupt:
        return 0
    finally:
        app.press("long", vnow())  # like letting go of the device: motor off
        if tty:
            out.write("\x1b[?25h\n")
        if trace_file is not None:
            trace_file.close()
