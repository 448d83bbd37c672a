# The built-in routines against the seed guide, read from the trace as a user would.
import json
from collections import defaultdict
from statistics import mean

import pytest

from helpers import builtin, play, routine_doc
from massager import program
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


def test_weekly_works_both_sides_at_once_and_ends_with_a_signal():
    # The guide: left and right "symmetrically and simultaneously", so no side switch.
    _, records = play(builtin("weekly"))
    cues = [r["cue"] for r in records]
    assert "side" not in cues and "end" in cues and cues[1] == "start"


def test_a_left_right_step_plays_each_side_after_a_side_cue():
    doc = routine_doc()  # step 2 is left-right, 2 reps
    _, records = play(program.load(json.dumps(doc))[0])
    step2 = [r for r in records if r["state"] == "running" and r["step"] == 2
             and r["round"] == 1]
    reps = [r["rep"] for r in step2 if r["cue"] in ("glide", "side")]
    side = [r["cue"] for r in step2].index("side")
    assert max(reps[:side]) == 2 and max(reps[side:]) == 2  # the same work on each side


def cue_and_glide_peaks(intensity, level):
    """Strongest motor % of the step/round ticks, of the end buzz and of the glides."""
    doc = routine_doc(intensity=intensity)
    _, records = play(program.load(json.dumps(doc))[0], level=level)
    running = [r for r in records if r["state"] in ("running", "done")]
    peak = {cue: max([r["motor"] for r in running if r["cue"] == cue] or [0])
            for cue in ("start", "step", "round", "end", "glide")}
    return peak


@pytest.mark.parametrize("intensity", [0, 10, 30, 60, 100])
def test_cues_follow_the_routine_and_the_level_and_stay_perceptible(intensity):
    peaks = [cue_and_glide_peaks(intensity, level) for level in range(3)]
    for peak in peaks:
        for cue in ("start", "step", "round", "end"):
            assert 25 <= peak[cue] <= 90, (cue, peak)  # felt, and never above the duty cap
            # never much stronger than the massage, unless that is below the floor
            assert peak[cue] <= max(25, peak["glide"] * 5 // 4), (cue, peak)
    for cue in ("step", "round", "end"):
        assert peaks[0][cue] <= peaks[1][cue] <= peaks[2][cue]  # the level scales cues too


def test_a_gentle_routine_gets_gentle_cues():
    # Intensity 30 at the default level used to tick at 52 % over a 22 % massage.
    peak = cue_and_glide_peaks(30, 1)
    assert peak["glide"] == 22
    assert peak["step"] <= 28 and peak["round"] <= 28 and peak["end"] <= 25


@pytest.mark.parametrize("name, low, high", [("daily", 60000, 120000)])
def test_daily_is_quick(name, low, high):
    _, records = play(builtin(name))
    assert low <= records[-1]["t"] <= high


def test_motor_never_exceeds_the_cap_in_builtins():
    for name in ("daily", "weekly"):
        _, records = play(builtin(name))
        assert max(r["motor"] for r in records) <= DUTY_CAP


def _fields(prog):
    """Everything a Program holds, its steps' included: what playing reads."""
    out = dict(vars(prog), steps=[vars(s) for s in prog.steps])
    return out


def test_the_builds_compiled_builtins_are_the_ones_compiled_from_their_text():
    # The device compiles its built-ins from what the build appended to
    # massager/routines/__init__.py (no validator at power-up); from source they compile
    # from their text. Both must give the same Program.
    from host_tools import flash
    from massager import routines

    space = {}
    exec(flash.builtins_source(), space)
    assert space["built"]("none") is None and routines.built("daily") is None
    for name in routines.NAMES:
        from_text = program.load(routines.text(name))[0]
        restored = program.restore(*space["built"](name))
        assert _fields(restored) == _fields(from_text) and restored.total_ms > 0


def test_a_broken_builtin_never_reaches_a_build(monkeypatch):
    from host_tools import flash
    from host_tools.device import DeviceError
    from massager import routines

    real = routines.text
    monkeypatch.setattr(routines, "text",
                        lambda name: real(name).replace('"reps": 3', '"reps": 0', 1)
                        if name == "weekly" else real(name))
    with pytest.raises(DeviceError, match=r"^built-in routine weekly: steps\[0\]\.reps"):
        flash.builtins_source()
