# The reliability suite's collector: tests/test_reliability.py records one row per test
# that ran, and writes docs/reliability.md from them at the end of the session. Every
# figure in that file comes from here, counted by the tests; nothing is typed by hand.
import datetime
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "reliability.md")


class Row:
    """One test's tally. `lost`: routines or firmware broken or lost; `unexpected`:
    exceptions (or answers) that should never happen."""

    def __init__(self, title, tried):
        self.title = title
        self.tried = tried
        self.cases = 0
        self.lost = 0
        self.unexpected = 0
        self.notes = []
        self.failures = []  # the first few problems, for the assertion message

    def case(self, lost=False, unexpected=False, why=""):
        self.cases += 1
        self.lost += bool(lost)
        self.unexpected += bool(unexpected)
        if (lost or unexpected) and len(self.failures) < 10:
            self.failures.append(why or "case %d" % self.cases)

    def note(self, text):
        self.notes.append(text)


ROWS = []


def row(title, tried):
    r = Row(title, tried)
    ROWS.append(r)
    return r


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(rows, command, when=None):
    when = when or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    out = [
        "## Reliability suite",
        "",
        "Written by `make reliability` (or `make test-long`) from `tests/test_reliability.py` "
        "(do not edit by hand); `make test` runs the same tests but never writes this file. "
        "Every figure is counted by the tests, and each test also fails when *lost* or "
        "*unexpected* is not 0. *What it exercises* says which parts are real and which "
        "are simulated.",
        "",
        "- date: %s" % when,
        "- command: `%s`" % command,
        "",
        "| test | what it exercises | cases | lost | unexpected | notes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        out.append("| %s | %s | %d | %d | %d | %s |" % (
            _cell(r.title), _cell(r.tried), r.cases, r.lost, r.unexpected,
            _cell("; ".join(r.notes))))
    out += ["", "*lost*: a routine or the firmware broken or gone (not the old or the new "
            "version, not loadable, not repairable); *unexpected*: an exception or answer "
            "outside the designed ones (a traceback, a crash, a verdict that differs between "
            "engines).", ""]
    return "\n".join(out)


HEAD = "# Reliability\n\nTwo generated sections: the reliability suite and mutation testing.\n"


def write_section(name, text, path=DOC):
    """Replace one generated section of docs/reliability.md, keeping the others."""
    begin, end = "<!-- begin %s -->\n" % name, "<!-- end %s -->\n" % name
    try:
        with open(path) as f:
            doc = f.read()
    except OSError:
        doc = ""
    if not doc.startswith(HEAD):
        doc = HEAD
    block = begin + text.rstrip("\n") + "\n" + end
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block
    with open(path + ".tmp", "w") as f:
        f.write(doc)
    os.replace(path + ".tmp", path)


def write(command, path=DOC):
    if ROWS:
        write_section("suite", render(ROWS, command), path)
