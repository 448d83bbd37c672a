# Compiling a validated routine: titles, the pace from the first to the last round, the
# room a stroke needs, and a device out of memory.
import json

import pytest

from helpers import routine_doc
from massager import program


def load(**changes):
    return program.load(json.dumps(routine_doc(**changes)))


def test_the_title_defaults_to_the_name():
    assert load()[0].title == "test"
    assert load(title="Evening")[0].title == "Evening"


@pytest.mark.parametrize("rounds", [1, 2, 3, 12])
def test_the_pace_goes_from_the_first_breath_to_the_last(rounds):
    prog, errors = load(rounds=rounds, breath={"first_ms": 3000, "last_ms": 6000})
    assert errors == []
    paces = [prog.rep_ms(r) for r in range(rounds)]
    assert paces[0] == 3000 and paces == sorted(paces)
    assert paces[-1] == (6000 if rounds > 1 else 3000)


def test_a_stroke_may_fill_its_breath_exactly():
    moves = ["press", "press", "glide"]  # 2 x (220 + 160) + a 480 ms glide + a 120 ms rest
    doc = routine_doc(breath={"first_ms": 1360, "last_ms": 1400})
    doc["steps"][0]["moves"] = moves
    assert program.load(json.dumps(doc))[1] == []
    doc["breath"]["first_ms"] = 1359
    assert program.load(json.dumps(doc))[1] == [
        "steps[0].moves: 2 press(es) and 1 glide(s) need 1360 ms, but a stroke in the first "
        "round lasts breath.first_ms = 1359 ms"]


def test_a_device_out_of_memory_gets_a_verdict(monkeypatch):
    def no_memory(doc):
        raise MemoryError

    monkeypatch.setattr(program, "Program", no_memory)
    assert load() == (None, ["too large to load"])
