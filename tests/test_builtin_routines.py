# The built-in routines against the seed guide, read from the trace as a user would.
from collections import defaultdict
from statistics import mean

import pytest

from helpers import builtin, play
from promised import DUTY_CAP


def stroke_lengths_by_round(records):
    """Mean stroke length per round, from the times a stroke (glide/press) begins."""
    starts = []
    prev = None
    for rec in records:
        key = (rec["round"], rec["step"], rec["rep"])
        if rec["state"] == "running" and rec["rep"] and key != prev:
            starts.append((rec["t"], rec["round"], rec["step"]))
        prev = key
    lengths = defaultdict(list)
    for (t, rnd, step), (t2, rnd2, step2) in zip(starts, starts[1:]):
        if (rnd, step) == (rnd2, step2):
            lengths[rnd].append(t2 - t)
    return {rnd: mean(v) for rnd, v in lengths.items()}


def reps_per_step_and_round(records):
    reps = defaultdict(int)
    for rec in records:
        if rec["state"] == "running" and rec["rep"]:
            key = (rec["round"], rec["step"])
            reps[key] = max(reps[key], rec["rep"])
    return reps


def test_weekly_follows_the_guide():
    prog = builtin("weekly")
    lines, records = play(prog)
    assert 600000 <= records[-1]["t"] <= 900000
    running = [r for r in records if r["state"] == "running"]
    assert {r["step"] for r in running} == set(range(1, 11))
    assert max(r["round"] for r in running) >= 6
    reps = reps_per_step_and_round(records)
    assert len(reps) == 60 and all(3 <= n <= 5 for n in reps.values())
    pressed = {r["step"] for r in running if r["cue"] == "press" and r["motor"]}
    assert {1, 10} <= pressed
    pace = stroke_lengths_by_round(records)
    assert pace[6] > pace[1]
    assert all(pace[r + 1] > pace[r] for r in range(1, 6))  # slower every round
    assert records[-1]["state"] == "done" and records[-1]["motor"] == 0


def test_weekly_has_a_side_switch_cue_and_an_end_signal():
    _, records = play(builtin("weekly"))
    cues = [r["cue"] for r in records]
    assert cues.count("side") > 0 and "end" in cues and cues[1] == "start"


@pytest.mark.parametrize("name, low, high", [("daily", 60000, 120000)])
def test_daily_is_quick(name, low, high):
    _, records = play(builtin(name))
    assert low <= records[-1]["t"] <= high


def test_motor_never_exceeds_the_cap_in_builtins():
    for name in ("daily", "weekly"):
        _, records = play(builtin(name))
        assert max(r["motor"] for r in records) <= DUTY_CAP
