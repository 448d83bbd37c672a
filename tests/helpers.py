# Shared by the tests: load built-ins, play a routine headless and read back its trace.
import hashlib
import json
import subprocess
import sys

from massager import program, routines
from simulator import headless


def builtin(name):
    prog, errors = program.load(routines.text(name))
    assert errors == [], errors
    return prog


def play(programs, buttons="0:short", until=None, level=None, board=None):
    """Trace lines (str) and records (dict) of a headless run (level: a user level index;
    board: engines.sim_board(...), default the Pico on a new cell at 3900 mV)."""
    if not isinstance(programs, list):
        programs = [programs]
    lines = []
    headless.play(programs, headless.parse_buttons(buttons), lines.append, until=until,
                  level=level, board=board)
    return lines, [json.loads(line) for line in lines]


def routine_doc(**overrides):
    """A small valid routine as a dict; keyword arguments replace top-level fields."""
    doc = {
        "format": 1,
        "name": "test",
        "rounds": 2,
        "breath": {"first_ms": 2500, "last_ms": 3500},
        "steps": [
            {"name": "Chin to ear", "zone": "jaw", "direction": "up", "reps": 3,
             "moves": ["glide", "press", "press", "press", "glide"]},
            {"name": "Cheekbone", "zone": "cheekbone", "direction": "outward", "reps": 2,
             "sides": "left-right"},
        ],
    }
    doc.update(overrides)
    return doc


def mpremote(port, *args, timeout=60):
    """The real mpremote CLI against a (virtual) device: a CompletedProcess, text."""
    return subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def massager(*argv):
    """(exit code, stdout, stderr) of `massager ARGV...`, run in this process."""
    import contextlib
    import io

    from host_tools import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()



RATED_MV = 3000  # the test motor's rated voltage, and the cell it runs from


def motor(pwm, pin=None, freq=None, kick_pct=0):
    """A hal Motor on `pwm` whose cell is at its rated voltage: a strength of p % is then
    p % duty, as the soft-start tests count it; kick_pct is the start kick in % of it."""
    from massager.hal.motor import Motor

    m = Motor(pwm, freq, pin, RATED_MV, kick_pct * RATED_MV // 100)
    m.set_cell(RATED_MV)
    return m
