# Hypothesis strategies for valid routines (as dicts) and button scripts.
from hypothesis import strategies as st

from massager import routine

step = st.fixed_dictionaries(
    {
        "name": st.text(alphabet="abcdefghij klm", min_size=1, max_size=12),
        "zone": st.sampled_from(routine.ZONES),
        "direction": st.sampled_from(routine.DIRECTIONS),
        "reps": st.integers(1, 5),
    },
    optional={
        "sides": st.sampled_from(routine.SIDES),
        "moves": st.lists(st.sampled_from(routine.MOVES), min_size=1, max_size=4),
        "intensity": st.integers(0, 100),
    },
)


@st.composite
def routines(draw, max_steps=4):
    first = draw(st.integers(2400, 5000))
    steps = draw(st.lists(step, min_size=1, max_size=max_steps,
                          unique_by=lambda s: s["name"].lower()))
    doc = {
        "format": 1,
        "name": "gen",
        "rounds": draw(st.integers(1, 4)),
        "breath": {"first_ms": first, "last_ms": first + draw(st.integers(0, 2000))},
        "intensity": draw(st.integers(0, 100)),
        "cues": {"step": draw(st.booleans()), "side": draw(st.booleans()),
                 "round": draw(st.booleans())},
        "steps": steps,
    }
    return doc


EVENTS = ("down", "up", "short", "double", "long")


@st.composite
def button_scripts(draw, max_events=8, horizon=120000):
    times = draw(st.lists(st.integers(0, horizon), min_size=0, max_size=max_events))
    events = [draw(st.sampled_from(EVENTS)) for _ in times]
    return ",".join("%d:%s" % pair for pair in zip(sorted(times), events))


def paths(value, prefix=()):
    """Every path (a tuple of keys and indexes) into a JSON value, the value's own () first."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))
