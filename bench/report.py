# A figure of `make bench` (Row) and the page they are written to (docs/benchmarks.md).
#
# Every module of bench/ builds Rows; only __main__ runs them and writes the page.
import datetime
import os
import platform
import statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "benchmarks.md")


class Row:
    def __init__(self, figure, baseline, values, unit, goal, met, note="", why_not="",
                 shown=None):
        self.figure = figure
        self.baseline = baseline
        self.values = values
        self.unit = unit
        self.goal = goal
        self.met = met
        self.note = note
        self.why_not = why_not  # shown when the goal is missed: why, and what would fix it
        self.shown = shown  # the measured column as text, when a median says too little

    def measured(self):
        if self.shown is not None:
            return self.shown
        v = self.values
        med = statistics.median(v)
        if min(v) == max(v):
            return "%s %s" % (fmt(med), self.unit)
        return "%s %s (%s to %s)" % (fmt(med), self.unit, fmt(min(v)), fmt(max(v)))


def fmt(x):
    if isinstance(x, float) and not x.is_integer():
        if abs(x) < 10:
            return "%.4g" % x
        return "%.3g" % x if abs(x) < 100 else "{:,.0f}".format(x)
    return "{:,}".format(int(x))


def percentile(sorted_values, p):
    """The p-th percentile (nearest rank) of an already sorted list."""
    n = len(sorted_values)
    return sorted_values[min(n - 1, max(0, (n * p + 99) // 100 - 1))]


def write(sections, engine, version, intro=()):
    """sections: [(heading, text, [Row])]. The page is written whole, in one run."""
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (%s) on %s, Python %s, %s, massager %s. Each figure is the "
        "median of several runs in this one run (min to max in brackets), against a baseline "
        "measured in the same run." % (
            datetime.date.today().isoformat(), "%s %s, %d cores" % (
                platform.system(), platform.machine(), os.cpu_count() or 1),
            platform.python_version(), engine, version),
        "",
    ]
    lines += list(intro)
    for heading, text, rows in sections:
        lines += ["## " + heading, ""]
        if text:
            lines += [text, ""]
        lines += ["| figure | baseline (same run) | measured | goal | met | note |",
                  "|---|---|---|---|---|---|"]
        for r in rows:
            note = r.note if r.met else "%s. **Why not:** %s" % (r.note, r.why_not or
                                                                   "unknown")
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                r.figure, r.baseline, r.measured(), r.goal, "yes" if r.met else "**no**",
                note))
        lines.append("")
    with open(OUT, "w") as f:
        f.write("\n".join(lines))
