"""An output change allocates nothing on MicroPython: motor and LED, mono PWM and NeoPixel.

The board's show() runs on real MicroPython (WebAssembly) with the heap locked, where any
allocation raises MemoryError, for every colour and strength a routine can ask for.
"""

import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = """
import machine
import micropython
from massager.hal.board import Board

machine.sim.log_writes = False  # the simulator's own record of writes is not the firmware's

board = Board(%s)
colours = ((255, 140, 0), (0, 0, 0), (12, 255, 7), (300, -5, 128), (255, 255, 255))
motors = (0, 35, 90, 35, 0, 100)


def changes():  # index loops: iterating a tuple would allocate its iterator
    n = 0
    for i in range(len(motors)):
        for k in range(len(colours)):
            c = colours[k]
            board.show(motors[i], c[0], c[1], c[2])
            n += 1
    return n


changes()  # the first start builds nothing either, but warm the paths up once
micropython.heap_lock()
try:
    n = changes()
finally:
    micropython.heap_unlock()
print("changes", n, "led", machine.sim.pixel(%d) if %r else machine.sim.duty(%d))
"""


@pytest.mark.parametrize("board", ["pico", "rp2040-zero"])
def test_show_allocates_nothing(board, tmp_path):
    mp = pytest.importorskip("simulator.micropython")
    try:
        mp.node_command()
    except RuntimeError as e:
        pytest.skip(str(e))
    with open(os.path.join(ROOT, "boards", board, "board.json")) as f:
        config = json.load(f)
    led = config["led"]["pin"]
    pixel = config["led"]["kind"] == "neopixel"
    script = tmp_path / "show.py"
    script.write_text(SCRIPT % (repr(config), led, pixel, led))
    r = mp.run_file(str(script), paths=[os.path.join(ROOT, "simulator", "board"),
                                        os.path.join(ROOT, "firmware")])
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0, out
    # the last colour asked for is white: the LED shows it (no MemoryError on the way)
    assert ("changes 30 led " + ("(255, 255, 255)" if pixel else "65535")) in out, out
