# `massager sim --headless`: play a routine at full speed and summarise it.
import json
import sys

from massager.program import clock_text
from simulator import headless


class Summary:
    """Counts what a trace shows, line by line."""

    def __init__(self):
        self.changes = 0
        self.last_t = 0
        self.steps = set()
        self.rounds = set()
        self.presses = 0
        self.max_motor = 0
        self._prev_cue = None

    def add(self, line):
        rec = json.loads(line)
        self.changes += 1
        self.last_t = rec["t"]
        if rec["state"] == "running":
            self.steps.add(rec["step"])
            self.rounds.add(rec["round"])
            if rec["cue"] == "press" and rec["motor"] and self._prev_cue != "press-on":
                self.presses += 1
        self._prev_cue = "press-on" if rec["cue"] == "press" and rec["motor"] else rec["cue"]
        self.max_motor = max(self.max_motor, rec["motor"])

    def text(self, prog, app):
        return ("%s: %s, %d output changes, %d steps, %d rounds, %d presses, motor max %d%%, "
                "ended %s" % (prog.name, clock_text(self.last_t), self.changes,
                              len(self.steps), len(self.rounds), self.presses,
                              self.max_motor, app.state))


def run_headless(programs, script, trace_path, until=None):
    """Play programs[0]; write the trace; print a summary. Returns the exit code."""
    summary = Summary()
    out = None
    if trace_path == "-":
        out = sys.stdout
    elif trace_path:
        out = open(trace_path, "w", newline="\n")

    def emit(line):
        summary.add(line)
        if out is not None:
            out.write(line + "\n")

    try:
        app = headless.play(programs, script, emit, until=until)
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
    # Keep stdout a pure trace when the trace goes there.
    print(summary.text(programs[0], app), file=sys.stderr if out is sys.stdout else sys.stdout)
    return 0
