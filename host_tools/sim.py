# `massager sim --headless`: play a routine at full speed and summarise it.
import json
import os
import sys

from host_tools.routines import RoutineError, count
from massager import safety
from massager.program import clock_text
from simulator import engines

LEVEL_WORDS = ("gentle", "medium", "strong")  # the user's levels, safety.INTENSITY_LEVELS


def level_text(level):
    """'medium (75 %)' for a level index."""
    return "%s (%d %%)" % (LEVEL_WORDS[level], safety.INTENSITY_LEVELS[level])


def trace_file_path(path, name):
    """--trace as given, or DIR/NAME.jsonl when it names a directory."""
    if path and path != "-" and os.path.isdir(path):
        return os.path.join(path, name + ".jsonl")
    if path and path.endswith(("/", os.sep)):  # meant as a folder, and there is none
        raise RoutineError("%s: no such folder (create it, or give a file name)" % path)
    return path


def open_trace(path):
    """The trace file, opened for writing; RoutineError (one line) when it cannot be."""
    try:
        return open(path, "w", newline="\n")
    except OSError as e:
        raise RoutineError("%s: cannot write the trace: %s" % (path, e.strerror or e)) from None


class Summary:
    """Counts what a trace shows, line by line."""

    def __init__(self):
        self.changes = 0
        self.last_t = 0
        self.last_state = None
        self.steps = set()
        self.rounds = set()
        self.presses = 0
        self.max_motor = 0
        self._prev_cue = None

    def add(self, line):
        rec = json.loads(line)
        self.changes += 1
        self.last_t = rec["t"]
        self.last_state = rec["state"]
        if rec["state"] == "running":
            self.steps.add(rec["step"])
            self.rounds.add(rec["round"])
            if rec["cue"] == "press" and rec["motor"] and self._prev_cue != "press-on":
                self.presses += 1
        self._prev_cue = "press-on" if rec["cue"] == "press" and rec["motor"] else rec["cue"]
        self.max_motor = max(self.max_motor, rec["motor"])

    def text(self, prog, engine, cell=None):
        return ("%s: %s, %s, %s, %s, %s, motor max %d%%, ended %s (%s%s)" % (
            prog.name, clock_text(self.last_t), count(self.changes, "output change"),
            count(len(self.steps), "step"), count(len(self.rounds), "round"),
            count(self.presses, "press", "presses"), self.max_motor, self.last_state, engine,
            "; " + cell if cell else ""))


def cell_text(board):
    """What the simulated board's cell was, for the summary: its open-circuit voltage and
    age, and what it gives at the board's terminals at rest and under a full stroke (the
    voltage duty_u16 switches: duty_u16 / 65535 x that is the motor's average voltage)."""
    from simulator.adc_view import cell_mv

    if board["battery_mv"] is None:
        return "no cell (the ADC pins float: USB power)"
    rest, stroke = cell_mv(board["adc"], 0), cell_mv(board["adc"], 65535)
    return "cell %d mV open-circuit, %s: %d mV at rest, %d mV in a full-duty stroke" % (
        board["battery_mv"], board["cell"], round(rest), round(stroke))


def run_headless(prog, routine_text, buttons, trace_path, until=None, engine="cpython",
                 battery_mv=engines.BATTERY_MV, cell=engines.CELL):
    """Play a routine on an engine; write the trace; print a summary. Returns the exit code.

    Every engine runs the same batch driver, so their traces can be compared byte for byte.
    The simulated board (the Pico) reads a cell at `battery_mv` (None: nothing wired) of
    age `cell` through its ADC.
    """
    board = engines.sim_board(engines.HEADLESS_BOARD, battery_mv, cell)
    out = open_trace(trace_path) if trace_path and trace_path != "-" else None
    try:
        from host_tools.flash import BATCH_HOST

        lines = engines.trace(routine_text, buttons, until=until, engine=engine, board=board,
                              host=BATCH_HOST)
        if trace_path == "-":
            sys.stdout.write("".join(line + "\n" for line in lines))
        elif out is not None:
            out.write("".join(line + "\n" for line in lines))
    finally:
        if out is not None:
            out.close()
    summary = Summary()
    for line in lines:
        summary.add(line)
    # Keep stdout a pure trace when the trace goes there.
    print(summary.text(prog, engine, cell_text(board)),
          file=sys.stderr if trace_path == "-" else sys.stdout)
    return 0
