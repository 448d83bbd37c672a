"""After a session, every host command runs to its end with no watchdog reset cutting it,
and leaves the firmware running again: on the virtual device (real MicroPython, the real
mpremote) playing each port profile, whose watchdog outlives soft resets and Ctrl-C."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import time

import pytest
from test_vdev_firmware import records, wait_for

from helpers import mpremote, routine_doc
from host_tools import cli
from simulator.vdev import VirtualDevice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def massager(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue() + err.getvalue()


def press_starts_a_session(dev):
    """A short press, then the trace shows the routine running: the firmware is alive."""
    before = len(records(dev.trace_path))
    dev.press(True)
    time.sleep(0.12)
    dev.press(False)
    wait_for(lambda: any(r["state"] == "running" and r["motor"] > 0
                         for r in records(dev.trace_path)[before:]))


def booted_since(dev, n):
    return any(r["state"] == "idle" for r in records(dev.trace_path)[n:])


@pytest.mark.parametrize("board", ["pico", "esp32-devkit"])
def test_a_session_then_every_host_command_completes_and_the_firmware_runs_again(
        tmp_path, board):
    flash_dir = str(tmp_path / "flash")
    trace = str(tmp_path / "trace.jsonl")
    with VirtualDevice(flash_dir, trace=trace, board=board) as dev:
        dev.trace_path = trace
        rc, out = massager("flash", "-p", dev.port, "--board", "rp2040-zero" if
                           board == "esp32-devkit" else "esp32-devkit")
        # the virtual board reports its port's native arch (sys.implementation._mpy), as a
        # real one does: the wrong board is refused
        arch = "xtensawin" if board == "esp32-devkit" else "armv6m"
        assert rc == 1 and "board mismatch: the device is %s " % arch in out, out
        rc, out = massager("flash", "-p", dev.port)  # no --board: the device says which
        assert rc == 0 and out.splitlines()[-1].startswith(board + " "), out
        with open(os.path.join(flash_dir, "board.json")) as f:
            assert json.load(f)["name"] == board
        wait_for(lambda: booted_since(dev, 0))
        routine = tmp_path / "calm.json"
        routine.write_text(json.dumps(routine_doc(name="calm")))
        commands = [("push", routine), ("ls",), ("pull", "calm", "-o", tmp_path / "c.json"),
                    ("doctor",), ("rm", "calm"), ("flash",), ("devices",)]
        for command in commands:
            press_starts_a_session(dev)  # the watchdog is armed from here on
            time.sleep(1.0)
            n = len(records(trace))
            rc, out = massager(*command, "-p", dev.port)
            assert rc in (0, 1) and "internal error" not in out, (command, out)
            if command[0] != "doctor":
                assert rc == 0, (command, out)
            assert dev.watchdog_resets == 0, (command, out)
            wait_for(lambda n=n: booted_since(dev, n))  # main.py runs again
        press_starts_a_session(dev)
        # Raw mpremote after a session: no reset cuts it either (the keeper feeds the
        # watchdog while the firmware is stopped), though it leaves the board at its REPL.
        time.sleep(1.0)
        # (mpremote's own sleep: the wasm engine runs no timer during a blocking exec,
        # where a board's soft timers would still fire.)
        r = mpremote(dev.port, "exec", "print('start')", "sleep", "7", "exec", "print('done')",
                     timeout=60)
        assert r.returncode == 0 and r.stdout.strip().endswith("done"), r.stdout + r.stderr
        assert dev.watchdog_resets == 0


def test_the_virtual_device_watchdog_bites_a_stopped_firmware_without_its_keeper(tmp_path):
    # The control: the vdev's watchdog is real. With the keeper stopped after a session,
    # the board resets within the 5 s timeout, logs it, and doctor reports it.
    flash_dir = str(tmp_path / "flash")
    trace = str(tmp_path / "trace.jsonl")
    with VirtualDevice(flash_dir, trace=trace) as dev:
        dev.trace_path = trace
        assert massager("flash", "-p", dev.port)[0] == 0
        wait_for(lambda: booted_since(dev, 0))
        press_starts_a_session(dev)
        try:  # cut by the reset: mpremote errors out, or waits for an answer that never comes
            r = mpremote(dev.port, "exec", "from massager.hal import watchdog\n"
                         "watchdog.release_keeper()\nimport time\ntime.sleep_ms(8000)\n"
                         "print('survived')", timeout=20)
            assert "survived" not in r.stdout
        except subprocess.TimeoutExpired:
            pass
        wait_for(lambda: dev.watchdog_resets == 1)
        rc, out = massager("doctor", "-p", dev.port)
        assert rc == 1 and "the watchdog reset the board 1 time(s)" in out, out


def test_flash_explains_a_frozen_firmware_instead_of_changing_nothing(tmp_path):
    frozen = tmp_path / "frozen"
    shutil.copytree(os.path.join(ROOT, "firmware", "massager"), frozen / "massager",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with VirtualDevice(str(tmp_path / "flash"), frozen=str(frozen)) as dev:
        rc, out = massager("flash", "-p", dev.port)
        assert rc == 1 and "frozen in" in out and "Flash a stock MicroPython" in out, out
        rc, out = massager("doctor", "-p", dev.port)
        assert "frozen into the MicroPython image" in out, out
