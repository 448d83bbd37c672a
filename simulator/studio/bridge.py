# The Python half of the studio page. It runs on MicroPython (WebAssembly) in the browser,
# on the firmware's own files, through the same driver as `massager sim --headless`
# (simulator/headless.py and batch.py), so the page shows what the device would do.
#
# The page's JavaScript calls these functions with plain numbers and strings; each answer
# is text: a JSON header line, then trace lines exactly as the firmware formats them.
import json

import batch
import headless

from massager import program, routines, safety, sequencer
from massager.app import PAUSED, RUNNING

_ACTIVE = (RUNNING, PAUSED)
_SIDES = {sequencer.LEFT: "left", sequencer.RIGHT: "right"}

_board = None  # the simulated board (engines.sim_board(), served as sim_board.json)
_checked = None  # the last routine that passed check(): (text, Program)
_player = None
_lines = []  # trace lines since the last frame()
_left_key = None  # what the time-left figure was computed for
_left = 0  # ms left (paused), or the time the routine ends (running)


def _sim_board():
    global _board
    if _board is None:
        with open("/lib/sim_board.json") as f:
            _board = json.load(f)
    return _board


def builtin(name):
    """The JSON text of a built-in routine ("" when there is none)."""
    return routines.text(name) or ""


def builtin_names():
    return json.dumps(list(routines.NAMES))


def check(text):
    """Validate and compile a routine. Header {"errors": [...]} or the routine's summary,
    then, when valid, the trace of one uninterrupted run (the routine's plot)."""
    global _checked
    prog, errors = program.load(text)
    if errors:
        return json.dumps({"errors": errors})
    _checked = (text, prog)
    lines = []
    headless.play([prog], headless.parse_buttons(headless.DEFAULT_BUTTONS), lines.append,
                  board=_sim_board())
    head = _summary(prog)
    head["errors"] = []
    lines.insert(0, json.dumps(head))
    return "\n".join(lines)


def check_bytes(b64):
    """The validator's problems (JSON list) with a file's bytes, given as base64: the page
    sends a file here when it is not UTF-8 text, for the firmware's own words."""
    import binascii

    return json.dumps(program.load(binascii.a2b_base64(b64.encode()))[1])


def _summary(prog):
    steps = [{"name": s.name, "zone": s.zone, "direction": s.direction, "reps": s.reps}
             for s in prog.steps]
    return {"name": prog.name, "title": prog.title, "rounds": prog.rounds,
            "total_ms": prog.total_ms, "total": program.clock_text(prog.total_ms),
            "steps": steps}


def power_up(text, level):
    """A fresh device at t=0 with the checked routine `text` first and the other built-ins
    after it. Only a routine that passed check() can reach the device."""
    global _player, _left_key
    if _checked is None or _checked[0] != text:
        return json.dumps({"error": "the routine has not passed the validator"})
    level = int(level)
    if not 0 <= level < len(safety.INTENSITY_LEVELS):
        level = None
    _lines.clear()
    _left_key = None
    progs = batch.device_programs(_checked[1])
    _player = headless.Player(progs, _lines.append, level, _sim_board())
    return json.dumps({"error": "", "routines": [_summary(p) for p in progs],
                       "levels": len(safety.INTENSITY_LEVELS)})


def push(at, events):
    """Queue button events ("down,up,..." or "short", ...) at `at` ms, in order."""
    for event in events.split(","):
        if event not in headless.EVENTS:
            raise ValueError("unknown button event %r" % event)
        _player.push(int(at), event)


def script(text):
    """Queue a button script in the --buttons format (MS:EVENT,...)."""
    for ms, event in headless.parse_buttons(text):
        _player.push(ms, event)


def frame(to):
    """Play up to `to` ms. The status, then the trace lines since the last frame."""
    _player.advance(int(to))
    out = list(_lines)
    _lines.clear()  # the same list: the player appends to it
    head = json.dumps(_status())
    if not out:
        return head
    out.insert(0, head)
    return "\n".join(out)


def _status():
    a = _player.app
    now = _player.now
    status = {"t": now, "state": a.state, "level": a.level, "selected": a.selected,
              "queued": len(_player.queue), "session": None}
    seq = a.seq
    if seq is None or a.state not in _ACTIVE:
        return status
    p = seq.program
    step = p.steps[seq.step - 1]
    status["session"] = {
        "step": seq.step, "steps": len(p.steps), "name": step.name, "zone": step.zone,
        "direction": step.direction, "side": _SIDES.get(seq.side, "both"),
        "round": seq.round, "rounds": p.rounds, "rep": seq.rep, "reps": step.reps,
        "breath_ms": p.rep_ms(seq.round - 1), "elapsed_ms": now - a.session_start,
        "left_ms": _time_left(a, seq, now)}
    return status


def _time_left(a, seq, now):
    # remaining_ms walks the rest of the routine: do it once per stroke or cue, not per
    # frame. While running, the end time stays put within a stroke.
    global _left_key, _left
    key = (a.state, seq.round, seq.step, seq.rep, seq.side)
    if key != _left_key:
        _left_key = key
        _left = seq.remaining_ms(now)
        if a.state == RUNNING:
            _left += now
    if a.state == RUNNING:
        return _left - now if _left > now else 0
    return _left


def next_time():
    """When the next output change or button event is due (-1: nothing is)."""
    t = _player.next_time()
    return -1 if t is None else t


def engine():
    """"MicroPython 1.29.0", for the page's header."""
    import sys

    v = sys.implementation.version
    return "MicroPython %d.%d.%d" % (v[0], v[1], v[2])
