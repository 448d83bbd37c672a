# The sequencer: outputs are a pure function of time, the parts add up, pace only slows.
from hypothesis import assume, given
from hypothesis import strategies as st

from helpers import builtin
from massager import feel, program
from massager.sequencer import LEFT, RIGHT, Sequencer, duration_ms
from strategies import routines


def compiled(doc):
    prog, errors = program.load(doc)
    assume(not errors)
    return prog


def outputs(seq):
    return (seq.motor, seq.led_r, seq.led_g, seq.led_b, seq.cue, seq.step, seq.round,
            seq.rep, seq.side, seq.finished)


def play_to_end(seq, start=0):
    """Every change as (t, outputs), following next_change_ms()."""
    seq.start(start)
    changes = [(start, outputs(seq))]
    while not seq.finished:
        t = seq.next_change_ms()
        assert seq.update(t)
        changes.append((t, outputs(seq)))
    return changes


def strokes(changes):
    """(start, end, round, step, side, rep) of every stroke, from a change list."""
    out = []
    for (t, o), (t2, _) in zip(changes, changes[1:]):
        key = [o[6], o[5], o[8], o[7]]
        if o[4] in (feel.GLIDE, feel.PRESS) and (not out or out[-1][2:] != key):
            out.append([t, t2] + list(key))
        elif out and out[-1][2:] == key:
            out[-1][1] = t2
    return out


def expected_total(prog):
    # Sum of the parts, counted independently of the sequencer's walk.
    def cue(name):
        return sum(seg[0] for seg in feel.CUE_PATTERNS[name])

    per_round = sum(s.reps * s.sides for s in prog.steps)
    total = sum(prog.rep_ms(r) * per_round for r in range(prog.rounds))
    total += cue(feel.START) + cue(feel.END)
    if prog.cue_step:
        total += (len(prog.steps) - 1) * prog.rounds * cue(feel.STEP)
    if prog.cue_round:
        total += (prog.rounds - 1) * cue(feel.ROUND)
    if prog.cue_side:
        total += sum(1 for s in prog.steps if s.sides == 2) * prog.rounds * cue(feel.SIDE)
    return total


@given(routines(), st.lists(st.integers(0, 200000), max_size=20))
def test_outputs_are_a_pure_function_of_time(doc, times):
    prog = compiled(doc)
    stepped = Sequencer(prog)
    stepped.start(0)
    for t in sorted(times):
        stepped.update(t)
        direct = Sequencer(prog)
        direct.start(0)
        direct.update(t)
        assert outputs(direct) == outputs(stepped)


@given(routines())
def test_total_time_is_the_sum_of_the_parts(doc):
    prog = compiled(doc)
    changes = play_to_end(Sequencer(prog), start=1000)
    assert changes[-1][0] - 1000 == expected_total(prog) == duration_ms(prog) == prog.total_ms


@given(routines())
def test_pace_never_speeds_up(doc):
    prog = compiled(doc)
    lengths = [end - start for start, end, *_ in strokes(play_to_end(Sequencer(prog)))]
    assert lengths == sorted(lengths)
    assert lengths[0] == prog.first_ms and lengths[-1] == prog.rep_ms(prog.rounds - 1)


@given(routines())
def test_left_and_right_get_the_same_work(doc):
    prog = compiled(doc)
    changes = play_to_end(Sequencer(prog))
    for rnd in range(1, prog.rounds + 1):
        for i, step in enumerate(prog.steps, 1):
            here = [s for s in strokes(changes) if s[2] == rnd and s[3] == i]
            if step.sides == 2:
                left = [s[1] - s[0] for s in here if s[4] == LEFT]
                right = [s[1] - s[0] for s in here if s[4] == RIGHT]
                assert left == right and len(left) == step.reps
            else:
                assert len(here) == step.reps


@given(routines(), st.integers(0, 100000), st.integers(1, 600000))
def test_pause_stops_the_motor_and_resume_restarts_the_stroke(doc, at, pause_ms):
    prog = compiled(doc)
    seq = Sequencer(prog)
    seq.start(0)
    seq.update(at)
    assume(not seq.finished)
    where = (seq.step, seq.round, seq.rep, seq.side)
    seq.pause(at)
    assert seq.motor == 0 and seq.next_change_ms() is None
    assert not seq.update(at + pause_ms)
    seq.resume(at + pause_ms)
    assert (seq.step, seq.round, seq.rep, seq.side) == where
    assert seq.seg_start == at + pause_ms  # the stroke (or cue) starts over, eased in


def test_skip_goes_to_the_next_step_with_its_cue():
    prog = builtin("weekly")
    seq = Sequencer(prog)
    seq.start(0)
    seq.update(5000)
    assert seq.step == 1
    seq.skip(5000)
    assert (seq.step, seq.round, seq.rep, seq.cue) == (2, 1, 0, feel.STEP)
    for _ in range(9):
        seq.skip(6000)
    assert (seq.step, seq.round, seq.cue) == (1, 2, feel.ROUND)


def test_skip_on_the_last_step_plays_the_end_cue():
    prog = builtin("daily")
    seq = Sequencer(prog)
    seq.start(0)
    for _ in range(len(prog.steps) * prog.rounds):
        seq.skip(100)
    assert seq.cue == feel.END and not seq.finished


def test_scale_changes_the_motor_at_once_and_never_the_timing():
    prog = builtin("daily")
    a, b = Sequencer(prog, scale=100), Sequencer(prog, scale=50)
    a.start(0)
    b.start(0)
    a.update(4000)
    b.update(4000)
    assert a.motor > 0 and b.motor == a.motor * 50 // 100
    assert a.next_change_ms() == b.next_change_ms()
    b.set_scale(100)
    assert b.motor == a.motor


def test_remaining_time_counts_down_to_zero():
    prog = builtin("daily")
    seq = Sequencer(prog)
    seq.start(0)
    assert seq.remaining_ms(0) == prog.total_ms
    seq.update(10000)
    assert seq.remaining_ms(10000) == prog.total_ms - 10000


def test_move_index_follows_the_moves_of_a_stroke():
    prog = builtin("daily")  # step 1: glide, press, press, press, glide
    seq = Sequencer(prog)
    seq.start(0)
    assert seq.move_index() == -1  # the start cue
    seen = []
    t = 0
    while seq.step == 1 and seq.rep <= 1 and not seq.finished:
        if seq.rep == 1:
            seen.append((seq.move_index(), seq.cue))
        t = seq.next_change_ms()
        seq.update(t)
    moves = [k for k, _ in seen]
    assert sorted(set(moves)) == [-1, 0, 1, 2, 3, 4]  # every move, then the rest
    assert moves == sorted(moves[:-1]) + [-1]
    assert {cue for k, cue in seen if k in (1, 2, 3)} == {"press"}
    assert {cue for k, cue in seen if k in (0, 4)} == {"glide"}
