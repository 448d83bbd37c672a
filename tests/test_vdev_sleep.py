# The off state on the virtual device (real MicroPython, WebAssembly): an esp32 profile
# deep-sleeps, the port goes silent, and the button boots it back with DEEPSLEEP_RESET;
# an rp2 profile's lightsleep leaves it reachable.
import os
import shutil
import time

import pytest
from test_vdev_firmware import install_firmware, records, wait_for

from helpers import mpremote
from simulator.vdev import DEEPSLEEP_RESET, VirtualDevice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def install(flash, board):
    install_firmware(flash)
    shutil.copy(os.path.join(ROOT, "boards", board, "board.json"), flash)


def hold_off(dev):
    """Hold the button 3.5 s in idle: the device powers off."""
    wait_for(lambda: any(r["state"] == "idle" for r in records(dev.trace_path)))
    dev.press(True)
    time.sleep(3.5)
    dev.press(False)
    wait_for(lambda: records(dev.trace_path)[-1]["state"] == "off")


@pytest.mark.parametrize("board", ["esp32-devkit", "pico"])
def test_off_sleeps_and_the_button_brings_it_back_to_idle(tmp_path, board):
    flash = str(tmp_path / "flash")
    os.makedirs(flash)
    install(flash, board)
    trace = str(tmp_path / "trace.jsonl")
    with VirtualDevice(flash, trace=trace, board=board) as dev:
        dev.trace_path = trace
        hold_off(dev)
        n = len(records(trace))
        if board == "esp32-devkit":
            wait_for(lambda: dev.chip.asleep)  # the interpreter is gone: a chip asleep
            assert dev.chip.wdt is None
        time.sleep(0.3)  # a finger lifts and comes back: not within the debounce time
        dev.press(True)
        time.sleep(0.1)
        dev.press(False)
        wait_for(lambda: any(r["state"] == "idle" for r in records(trace)[n:]))
        if board == "esp32-devkit":
            assert dev.chip.cause == DEEPSLEEP_RESET and not dev.chip.asleep
        r = mpremote(dev.port, "exec", "import machine; print(machine.reset_cause())")
        assert r.returncode == 0, r.stderr
