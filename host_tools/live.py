# `massager sim`: the simulated device in real time, in a terminal.
#
# The firmware runs unchanged (its loop on the simulated board, simulator/headless.py) on a
# clock that is wall time times --speed; keys are the button. A terminal only sends key
# presses (and auto-repeat while a key is held), so "space held" is inferred from the
# repeats. The screen is render()'s lines, fitted to the terminal: a small one drops the
# least useful lines first, never the header.
import json
import os
import select
import shutil
import sys
import time
import unicodedata

from host_tools.sim import LEVEL_WORDS, level_text, open_trace
from massager import safety
from massager.app import DONE, IDLE, OFF, PAUSED, RUNNING
from massager.program import PRESS, clock_text
from simulator.headless import Player

FRAME_S = 1 / 15  # redraw rate
REPEAT_WAIT_S = 0.6  # a terminal's first auto-repeat comes within this after a key press
REPEAT_GAP_S = 0.15  # later repeats come this close together while the key is held
ARROWS = {"up": "↑", "outward": "↔", "up-outward": "↗", "along": "↕", "around": "↻"}
CUES = {"start": "starting: a soft buzz", "step": "next step: two ticks",
        "side": "now the right side: one blue tick", "round": "next round: three ticks",
        "end": "finished: a long fading buzz"}
# What each gesture does now, as the App does it (tests/test_live.py holds them to it).
HINTS = {
    IDLE: "short: start · double: next routine · long: level · hold 3 s: off",
    RUNNING: "short: pause · double: skip step · long: stop",
    PAUSED: "short: resume · double: level · long: stop",
    DONE: "any press: back to idle (it goes there by itself after 4 s)",
    OFF: "any press: wake up",
}
KEYS = "space: the button (tap or hold) · s/d/l: short/double/long · +/-: speed · q: quit"


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


def _bar(percent, width):
    full = max(0, min(width, percent * width // 100))
    return "█" * full + "░" * (width - full)


def _level(app):
    level, n = app.level, len(LEVEL_WORDS)
    return "%s %s of the routine's strength" % ("█" * (level + 1) + "░" * (n - level - 1),
                                                level_text(level))


def _stroke(app, seq, step):
    """The stroke line: which stroke, and inside it which press; or what the cue means."""
    p = seq.program
    if app.state == RUNNING and app.cue in CUES:
        return CUES[app.cue]
    where = "stroke %d/%d" % (seq.rep, step.reps) if seq.rep else "between strokes"
    k = seq.move_index()
    if k >= 0 and step.moves[k] == PRESS:
        n = len([m for m in step.moves[:k + 1] if m == PRESS])
        where += " · press %d/%d at %d %%" % (n, step.n_press, safety.clamp_strength(
            p.press_level * seq.scale // 100))
    return where + " · breath %.1f s" % (p.rep_ms(seq.round - 1) / 1000)


def screen(app, now, speed, width=80):
    """The full screen as (priority, text) pairs; a small terminal drops the highest
    numbers first (9: spacing), so the header and the hints stay."""
    prog = app.programs[app.selected]
    seq = app.seq
    led = "\x1b[38;2;%d;%d;%dm●●●\x1b[0m" % (app.led_r, app.led_g, app.led_b)
    rows = [
        (0, "massager · %s · %s · speed ×%g" % (app.state.upper(), prog.title, speed)),
        (9, ""),
        (2, "  LED    %s  (%d, %d, %d)" % (led, app.led_r, app.led_g, app.led_b)),
        (1, "  motor  %s %3d %%" % (_bar(app.motor, 20), app.motor)),
    ]
    if seq is not None and app.state in (RUNNING, PAUSED):
        p = seq.program
        step = p.steps[seq.step - 1]
        side = ("", " · left side", " · right side")[seq.side]
        rows += [
            (9, ""),
            (1, "  step   %d/%d  %s" % (seq.step, len(p.steps), step.name)),
            (3, "         zone %s  %s %s%s" % (step.zone, ARROWS[step.direction],
                                               step.direction, side)),
            (1, "  round  %d/%d  %s" % (seq.round, p.rounds, _stroke(app, seq, step))),
            (2, "  time   %s elapsed · %s left" % (clock_text(now - app.session_start),
                                                clock_text(seq.remaining_ms(now)))),
        ]
    else:
        names = " ".join(("[%s]" if i == app.selected else "%s") % p.name
                         for i, p in enumerate(app.programs))
        rows += [(9, ""), (1, "  routines  %s" % names),
                 (2, "            %s, %s" % (prog.title, clock_text(prog.total_ms)))]
        if app.state == DONE and seq is not None:
            rows.append((1, "  done     %s played to its end cue" % seq.program.title))
    rows += [(2, "  level  %s" % _level(app)), (9, "")]
    rows += [(0, line) for line in _wrap("  now    ", HINTS[app.state], width)]
    rows += [(1, line) for line in _wrap("  keys   ", KEYS, width)]
    return rows


def _wrap(label, text, width):
    """`label` + the " · " parts of `text`, on as many lines as `width` needs."""
    lines = [label]
    indent = " " * len(label)
    for part in text.split(" · "):
        if lines[-1] in (label, indent):
            lines[-1] += part
        elif _columns(lines[-1] + " · " + part) < width:
            lines[-1] += " · " + part
        else:
            lines.append(indent + part)
    return lines


def render(app, now, speed, width=80, height=24):
    """The screen as a list of lines that fit a width x height terminal: at most height - 1
    lines (a newline on the last row would scroll the header away), none wider than
    width - 1 columns (ANSI colours take none)."""
    rows = screen(app, now, speed, width)
    limit = max(1, height - 1)
    for drop in (9, 3, 2, 1):
        while len(rows) > limit and any(p == drop for p, _ in rows):
            del rows[max(i for i, (p, _) in enumerate(rows) if p == drop)]
    return [_cut(text, width - 1) for _, text in rows[:limit]]


def _char_columns(c):
    if unicodedata.combining(c) or unicodedata.category(c) == "Cf":
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def _columns(text):
    """Terminal columns `text` takes, ANSI escapes excluded."""
    n = 0
    esc = False
    for c in text:
        if esc:
            esc = c != "m"
        elif c == "\x1b":
            esc = True
        else:
            n += _char_columns(c)
    return n


def _cut(text, width):
    """`text` cut to `width` columns (with … when cut), keeping ANSI escapes whole."""
    if _columns(text) <= width:
        return text
    out, n, esc = "", 0, False
    for c in text:
        if esc or c == "\x1b":
            out += c
            esc = c != "m"
            continue
        w = _char_columns(c)
        if n + w > width - 1:
            break
        out += c
        n += w
    return out + "…" + ("\x1b[0m" if "\x1b" in out else "")


def progress_line(app, now):
    """One plain line for piped output, when the state, step or round changes."""
    head = "%s %s" % (clock_text(now), app.state)
    if app.state in (RUNNING, PAUSED) and app.seq is not None:
        p = app.seq.program
        step = p.steps[app.seq.step - 1]
        return "%s: step %d/%d, round %d/%d: %s" % (head, app.seq.step, len(p.steps),
                                                   app.seq.round, p.rounds, step.name)
    return "%s: %s selected" % (head, app.programs[app.selected].name) if app.state == IDLE \
        else head


def run_live(programs, script, speed=1.0, trace_path=None, board=None):
    out = sys.stdout
    tty = out.isatty()
    trace_file = open_trace(trace_path) if trace_path else None
    last = [None]
    player = None
    early = []  # progress lines due before the player was made (power-up's idle)

    def emit(line):
        if trace_file is not None:
            trace_file.write(line + "\n")
        if not tty:
            rec = json.loads(line)
            key = (rec["state"], rec["step"], rec["round"])
            if key != last[0]:
                last[0] = key
                if player is None:
                    early.append(rec["t"])
                else:
                    print(progress_line(player.app, rec["t"]), flush=True)

    # The firmware's loop on the simulated board, as `massager sim --headless` plays it:
    # its trace lines carry the motor pin's duty.
    player = Player(programs, emit, board=board)
    for t in early:
        print(progress_line(player.app, t), flush=True)
    start = time.monotonic()
    vbase = 0  # virtual ms at `start`; moved when the speed changes
    held = False
    release_at = 0.0
    i = 0

    def vnow():
        return vbase + int((time.monotonic() - start) * 1000 * speed)

    if tty:
        out.write("\x1b[?25l\x1b[2J")
    try:
        with Terminal(sys.stdin) as term:
            while True:
                now = vnow()
                while i < len(script) and script[i][0] <= now:
                    player.push(now, script[i][1])
                    i += 1
                player.advance(now)
                app = player.app
                if tty:
                    size = shutil.get_terminal_size()  # 80x24 when the tty does not say
                    lines = render(app, now, speed, size.columns, size.lines)
                    out.write("\x1b[H" + "".join(s + "\x1b[K\n" for s in lines) + "\x1b[J")
                    out.flush()
                elif app.state in (DONE, OFF) and i >= len(script):
                    return 0
                wake = player.next_time()
                wait = FRAME_S if wake is None else min(FRAME_S, max(0, (wake - now) / 1000
                                                                      / speed))
                for key in term.keys(wait):
                    now = vnow()
                    if key == " ":
                        if not held:
                            player.push(now, "down")
                            held = True
                            release_at = time.monotonic() + REPEAT_WAIT_S
                        else:
                            release_at = time.monotonic() + REPEAT_GAP_S
                    elif key in "sdl":
                        player.push(now, {"s": "short", "d": "double", "l": "long"}[key])
                    elif key in "+-":
                        vbase, start = now, time.monotonic()
                        speed = min(64.0, speed * 2) if key == "+" else max(0.25, speed / 2)
                    elif key in "qQ":
                        return 0
                    elif key == "\x03":  # Ctrl-C, read as a key on the raw terminal
                        raise KeyboardInterrupt
                    player.advance(now)
                if held and time.monotonic() >= release_at:
                    player.push(vnow(), "up")
                    player.advance(vnow())
                    held = False
    finally:
        player.push(vnow(), "long")  # like letting go of the device: motor off
        player.advance(vnow())
        if tty:
            out.write("\x1b[?25h\n")
        if trace_file is not None:
            trace_file.close()
