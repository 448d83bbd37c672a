# `massager plot`: a routine's timeline drawn from the firmware's own trace.
#
# The trace comes from the firmware played headless (simulator.headless: its loop on the
# simulated Pico) at one user level, so the picture shows what the device does, not a
# second reading of the JSON. One row per
# round keeps a 14-minute routine readable: motor intensity on top, the LED colour as a
# band below, steps as numbered boundaries (their names in a key above), cues as markers.
import glob
import json
import os
import sys

from host_tools.sim import level_text
from massager import safety
from simulator import headless

# cue -> (marker, colour, label); glide is the motor curve itself, not a marker
CUES = {
    "start": ("o", "#2a9d8f", "start"),
    "press": ("v", "#e76f51", "press"),
    "step": ("s", "#264653", "step"),
    "side": ("D", "#8338ec", "side"),
    "round": ("*", "#f4a261", "round"),
    "end": ("X", "#d62828", "end"),
}
LED_Y, LED_H = -22, 14  # the colour band sits under the motor's 0..100 range
MARK_Y = 108


def trace(prog, level=safety.DEFAULT_LEVEL):
    """The trace records (dicts) of one run of `prog` at a user level, started at t=0."""
    lines = []
    headless.play([prog], headless.parse_buttons("0:short"), lines.append, level=level)
    return [json.loads(line) for line in lines]


def rounds(records):
    """[(round number, start ms, end ms, records)] covering the session."""
    active = [r for r in records if r["round"] is not None]
    if not active:
        return []
    end = records[-1]["t"]
    out = []
    for r in active:
        if not out or out[-1][0] != r["round"]:
            out.append([r["round"], r["t"], None, []])
        out[-1][3].append(r)
    for i, row in enumerate(out):
        row[2] = out[i + 1][1] if i + 1 < len(out) else end
    return [tuple(row) for row in out]


def _say_when_building_the_font_cache():
    # matplotlib scans the system's fonts once per user, on first import; with many fonts
    # that takes half a minute with no word. Say so before it starts.
    import matplotlib

    if not glob.glob(os.path.join(matplotlib.get_cachedir(), "fontlist-v*.json")):
        print("plot: matplotlib is building its font cache (once; with many fonts it can "
              "take a minute)", file=sys.stderr, flush=True)


def figure(prog, level=safety.DEFAULT_LEVEL):
    """A matplotlib Figure of the timeline (Agg: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    _say_when_building_the_font_cache()
    from matplotlib.figure import Figure

    rows = rounds(trace(prog, level))
    n = max(len(rows), 1)
    columns = 3
    key_rows = (len(prog.steps) + columns - 1) // columns
    fig = Figure(figsize=(16, 1.3 + 0.2 * key_rows + 2.1 * n), layout="constrained")
    grid = fig.add_gridspec(n + 1, 1, height_ratios=[0.2 * key_rows] + [2.1] * n)
    key = fig.add_subplot(grid[0])
    key.axis("off")
    for i, step in enumerate(prog.steps):
        key.text((i // key_rows) / columns, 1 - (i % key_rows) / key_rows,
                 "%d  %s" % (i + 1, step.name), fontsize=8, va="top", ha="left",
                 gid="step-key", transform=key.transAxes)
    axes = [fig.add_subplot(grid[1])]
    axes += [fig.add_subplot(grid[i + 2], sharex=axes[0]) for i in range(n - 1)]
    longest = max([(end - start) / 1000 for _, start, end, _ in rows] + [1])
    seen = set()
    for ax, (number, start, end, recs) in zip(axes, rows):
        _draw_round(ax, prog, number, start, end, recs, seen=seen)
        ax.set_xlim(0, longest)
        if ax is not axes[-1]:
            ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("seconds into the round")
    handles = list(seen)
    if handles:
        fig.legend(handles=sorted(handles, key=lambda h: list(CUES).index(h.get_label())),
                   loc="outside lower center", ncols=len(handles), fontsize=8)
    fig.suptitle("%s (%s): %d steps x %d rounds, %s, at user level %d of %d, %s" % (
        prog.title, prog.name, len(prog.steps), prog.rounds, _clock(prog.total_ms),
        level + 1, len(safety.INTENSITY_LEVELS), level_text(level)))
    return fig


def _draw_round(ax, prog, number, start, end, recs, seen):
    xs = [(r["t"] - start) / 1000 for r in recs] + [(end - start) / 1000]
    motor = [r["motor"] for r in recs] + [recs[-1]["motor"]]
    ax.fill_between(xs, motor, step="post", color="#6c757d", alpha=0.35, linewidth=0)
    ax.step(xs, motor, where="post", color="#343a40", linewidth=0.6)
    # LED band: one bar per run of the same colour
    bars, colours = [], []
    for i, r in enumerate(recs):
        colour = tuple(c / 255 for c in r["led"])
        width = xs[i + 1] - xs[i]
        if colours and colours[-1] == colour:
            bars[-1] = (bars[-1][0], bars[-1][1] + width)
        elif width > 0:
            bars.append((xs[i], width))
            colours.append(colour)
    ax.broken_barh(bars, (LED_Y, LED_H), facecolors=colours)
    # step boundaries and cue onsets
    prev_step = prev_cue = None
    prev_motor = 0
    for x, r in zip(xs, recs):
        if r["step"] != prev_step and r["step"] is not None:
            ax.axvline(x, color="#adb5bd", linewidth=0.8, zorder=0)
            ax.text(x + 0.3, 1.0, str(r["step"]), transform=ax.get_xaxis_transform(),
                    fontsize=7, va="top", ha="left", gid="step-number")
        onset = r["cue"] != prev_cue or (r["cue"] == "press" and r["motor"] and not prev_motor)
        if onset and r["cue"] in CUES:
            marker, colour, label = CUES[r["cue"]]
            h = ax.scatter([x], [MARK_Y], marker=marker, color=colour, s=22, zorder=3,
                           label=label, clip_on=False)
            if label not in {s.get_label() for s in seen}:
                seen.add(h)
        prev_step, prev_cue, prev_motor = r["step"], r["cue"], r["motor"]
    ax.set_ylim(LED_Y - 2, 116)
    ax.set_yticks([0, 50, 100])
    ax.set_ylabel("round %d\nmotor %%" % number, fontsize=8)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _clock(ms):
    from massager.program import clock_text

    return clock_text(ms)


def save(prog, path, level=safety.DEFAULT_LEVEL):
    """Write the timeline to PNG or SVG (by the file's extension)."""
    from host_tools.routines import RoutineError

    if not path.lower().endswith((".png", ".svg")):
        raise RoutineError("%s: the output must end in .png or .svg" % path)
    import sys
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        # matplotlib warns once per missing glyph, with its source path: say it once, plainly
        warnings.filterwarnings("always", message="Glyph .* missing from font")
        fig = figure(prog, level)
        try:
            fig.savefig(path, dpi=110)
        except OSError as e:
            raise RoutineError("%s: cannot write: %s" % (path, e.strerror or e)) from None
    missing = {str(w.message).split(" (")[0] for w in caught
               if "missing from font" in str(w.message)}
    if missing:
        print("massager plot: %d character(s) of the text, such as emoji, are not in the "
              "plot's font: drawn as boxes" % len(missing), file=sys.stderr)
    for w in caught:
        if "missing from font" not in str(w.message):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return fig
