# The power latch on the virtual device (real MicroPython, WebAssembly): on the cell (USB
# pulled), every way to off lets go of the hold and the chip is unpowered (no interpreter,
# the flash directory kept); a press as long as the boot powers it up from scratch (reset
# cause PWRON) to idle with every routine intact, a shorter one leaves it off. On USB, off
# stays the sleep it was (tests/test_vdev_sleep.py).
import json
import os
import time

import serial
from test_vdev_firmware import install_firmware, records, wait_for

from helpers import massager, routine_doc
from host_tools import device as host_device
from promised import POWER_ON_PRESS
from simulator.vdev import BATTERY_MV, VirtualDevice

FLAT_MV = 3100  # past empty: under the cut-off


def idle_since(dev, n):
    return any(r["state"] == "idle" for r in records(dev.trace_path)[n:])


def press(dev, seconds):
    dev.press(True)
    time.sleep(seconds)
    dev.press(False)


def power_on(dev):
    """A press as long as the promise, on the unpowered board: it boots to idle."""
    n, ons = len(records(dev.trace_path)), dev.power_ons
    press(dev, POWER_ON_PRESS / 1000)
    wait_for(lambda: idle_since(dev, n))
    return dev.power_ons == ons + 1 and not dev.chip.off and dev.chip.cause == 1


def unpowered(dev):
    """Off, the interpreter gone, and the trace's last line says so (each lands a moment
    apart: waited for together)."""
    def off():
        return (dev.chip.off and dev._proc is None
                and records(dev.trace_path)[-1]["state"] == "off")
    try:
        wait_for(off)
    except AssertionError:
        return False
    return True


def device(tmp_path, board, routine=b""):
    flash = str(tmp_path / "flash")
    os.makedirs(os.path.join(flash, "routines"))
    install_firmware(flash, board)
    if routine:
        with open(os.path.join(flash, "routines", "mine.json"), "wb") as f:
            f.write(routine)
    trace = str(tmp_path / "trace.jsonl")
    dev = VirtualDevice(flash, trace=trace, board=board)
    dev.trace_path = trace
    return dev


def mine(title, indent=2):
    return json.dumps(routine_doc(name="mine", title=title), indent=indent).encode()


def test_on_the_cell_each_way_to_off_unpowers_it_and_a_press_brings_it_back(tmp_path):
    with device(tmp_path, "pico", mine("Mine")) as dev:
        wait_for(lambda: idle_since(dev, 0))
        dev.set_usb(False)
        assert dev.status == "on the cell" and not dev.chip.off
        time.sleep(0.3)
        press(dev, 3.5)  # hold 3 s in idle
        assert unpowered(dev), dev.status
        # A press shorter than the boot: the power comes and goes before the hold.
        n = len(records(dev.trace_path))
        press(dev, 0)
        time.sleep(0.5)
        assert dev.chip.off and len(records(dev.trace_path)) == n
        assert "too short" in dev.status, dev.status
        # A flat cell: the boot the press makes reads it and lets go again.
        dev.set_battery(FLAT_MV)
        ons = dev.power_ons
        press(dev, POWER_ON_PRESS / 1000)
        wait_for(lambda: len(records(dev.trace_path)) > n and dev.chip.off)
        assert unpowered(dev) and dev.power_ons == ons + 1
        dev.set_battery(BATTERY_MV)
        assert power_on(dev), dev.status
        dev.set_usb(True)  # the cable back in: the host reads the flash
        rc, out, err = massager("ls", "-p", dev.port)
        assert rc == 0 and [line.split()[0] for line in out.splitlines()] == [
            "mine", "daily", "weekly"], out + err
        assert dev.power_ons == ons + 2 and dev.watchdog_resets == 0


def test_five_idle_minutes_unpower_it(tmp_path):
    # In wall time on this engine: the firmware with its idle time shortened to 4 s (in
    # this flash only); the emulated RP2040 and the simulated board run the real 5 minutes.
    dev = device(tmp_path, "pico")
    safety = os.path.join(dev.flash_dir, "lib", "massager", "safety.py")
    with open(safety) as f:
        text = f.read()
    assert "IDLE_OFF_MS = const(5 * 60 * 1000)" in text
    with open(safety, "w") as f:
        f.write(text.replace("IDLE_OFF_MS = const(5 * 60 * 1000)", "IDLE_OFF_MS = const(4000)"))
    with dev:
        dev.set_usb(False)  # started on USB: the boot holds the latch, then the cable goes
        wait_for(lambda: idle_since(dev, 0))
        assert not dev.chip.off
        assert unpowered(dev)
        assert power_on(dev)


def test_a_power_loss_in_a_push_then_a_press_gives_the_old_routine_or_the_new(
        tmp_path, monkeypatch):
    new = tmp_path / "mine.json"
    new.write_bytes(mine("New", indent=32))
    writes = []
    real = serial.Serial.write

    def write(port, data):
        writes.append(len(data))
        if len(writes) == CUT_AT_WRITE:
            dev.power_loss()
        return real(port, data)

    monkeypatch.setattr(serial.Serial, "write", write)
    monkeypatch.setattr(host_device, "ANSWER_TIMEOUT", 2)  # the port falls silent at the cut
    with device(tmp_path, "pico", mine("Old", indent=32)) as dev:
        wait_for(lambda: idle_since(dev, 0))
        rc, _, err = massager("push", new, "-p", dev.port)
        assert rc == 1 and len(err.splitlines()) == 1, err
        assert dev.chip.off and dev.status.startswith("off")
        assert power_on(dev)
        dev.set_usb(True)
        rc, out, err = massager("ls", "-p", dev.port)
    titles = [line.split()[1] for line in out.splitlines() if line.split()[0] == "mine"]
    assert rc == 0 and titles in (["Old"], ["New"]), out + err
    assert not any(f.startswith(".") and f != ".mine.tmp"
                   for f in os.listdir(os.path.join(dev.flash_dir, "routines")))


CUT_AT_WRITE = 12  # a serial write of the host's in the middle of the push's upload
