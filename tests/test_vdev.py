"""Virtual device driven by the unmodified mpremote CLI (subprocess), as a user would."""

import json
import os
import random
import subprocess
import sys
import time

import pytest
import serial

from simulator.vdev import VirtualDevice

TIMEOUT = 60


def mpremote(dev, *args, check=True):
    r = subprocess.run([sys.executable, "-m", "mpremote", "connect", dev.port, *args],
                       capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def wait_for(pred, what, limit=15):
    # Polls host-side state; the limit only bounds a failing test, it is not asserted on.
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    pytest.fail("timed out waiting for " + what)


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    with VirtualDevice(str(tmp_path_factory.mktemp("flash"))) as d:
        yield d


@pytest.fixture
def flash(dev):
    # Each test starts from an empty flash (the dir is the device's filesystem).
    for name in os.listdir(dev.flash_dir):
        p = os.path.join(dev.flash_dir, name)
        subprocess.run(["rm", "-rf", p], check=True)
    return dev.flash_dir


@pytest.mark.parametrize("size", [1, 1024, 50 * 1024])
def test_binary_roundtrip(dev, flash, tmp_path, size):
    rnd = random.Random(size)
    data = bytes(rnd.randrange(256) for _ in range(size))
    if size > 4:
        data = b"\r\n\x00\x04" + data[4:]
    src, back = tmp_path / "src.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    mpremote(dev, "fs", "cp", str(src), ":blob.bin")
    with open(os.path.join(flash, "blob.bin"), "rb") as f:
        assert f.read() == data
    mpremote(dev, "fs", "cp", ":blob.bin", str(back))
    assert back.read_bytes() == data


def test_ls_mkdir_rm_rmdir_and_errors(dev, flash, tmp_path):
    (tmp_path / "a.txt").write_text("hello\n")
    mpremote(dev, "fs", "mkdir", "routines")
    mpremote(dev, "fs", "cp", str(tmp_path / "a.txt"), ":routines/a.json")
    out = mpremote(dev, "fs", "ls", "routines").stdout.decode()
    assert "6 a.json" in out
    assert "routines/" in mpremote(dev, "fs", "ls").stdout.decode()
    # cat output is cooked, as from a UART
    assert mpremote(dev, "fs", "cat", "routines/a.json").stdout == b"hello\r\n"
    r = mpremote(dev, "fs", "rmdir", "routines", check=False)
    assert r.returncode != 0  # not empty
    mpremote(dev, "fs", "rm", "routines/a.json")
    mpremote(dev, "fs", "rmdir", "routines")
    assert os.listdir(flash) == []
    r = mpremote(dev, "fs", "rm", "nope", check=False)
    assert r.returncode != 0 and b"No such file" in r.stderr


def test_exec_eval_run_and_errno(dev, flash, tmp_path):
    assert mpremote(dev, "exec", "print(1+1)").stdout.strip() == b"2"
    assert mpremote(dev, "eval", "6*7").stdout.strip() == b"42"
    script = tmp_path / "s.py"
    script.write_text("import os\nprint('ran', sorted(os.listdir('/')))\n")
    assert mpremote(dev, "run", str(script)).stdout.strip() == b"ran []"
    code = ("import os\ntry:\n os.stat('/x')\nexcept OSError as e:\n print(e.errno)\n"
            "os.mkdir('d')\ntry:\n os.mkdir('d')\nexcept OSError as e:\n print(e.errno)\n"
            "print(os.stat('d')[0] == 0x4000, os.statvfs('/')[0] * os.statvfs('/')[2])")
    assert mpremote(dev, "exec", code).stdout.split() == [b"2", b"17", b"True", b"2097152"]
    r = mpremote(dev, "exec", "1/0", check=False)
    assert r.returncode != 0 and b"ZeroDivisionError" in r.stdout


def test_soft_reset_runs_boot_and_reset_runs_main(dev, flash):
    log = os.path.join(flash, "log.txt")
    with open(os.path.join(flash, "boot.py"), "w") as f:
        f.write("open('log.txt', 'a').write('b')\n")
    with open(os.path.join(flash, "main.py"), "w") as f:
        f.write("open('log.txt', 'a').write('m')\n")
    mpremote(dev, "soft-reset")  # raw REPL soft reset: boot.py only, like a board
    assert open(log).read() == "b"
    # mpremote soft-resets on connect (b), then machine.reset() boots: boot.py, main.py
    mpremote(dev, "reset")
    wait_for(lambda: open(log).read() == "bbbm", "main.py after reset")
    # Ctrl-D in the friendly REPL is a soft reset that runs main.py too
    with serial.Serial(dev.port, 115200, timeout=10) as s:
        s.write(b"\r\x03\r\x02\x04")
        assert s.read_until(b"MPY: soft reboot\r\n").endswith(b"MPY: soft reboot\r\n")
        assert s.read_until(b"for more information.\r\n>>> ").endswith(b">>> ")
    assert open(log).read() == "bbbmbm"
    mpremote(dev, "resume", "exec", "print('still here')")


@pytest.mark.parametrize("main_py", [
    "while True:\n    pass\n",
    "import asyncio\nasync def t():\n    while True:\n        await asyncio.sleep_ms(5)\n"
    "asyncio.create_task(t())\n",
])
def test_forever_running_main_does_not_block_mpremote(dev, flash, main_py):
    with open(os.path.join(flash, "main.py"), "w") as f:
        f.write("open('started', 'w').close()\n" + main_py)
    mpremote(dev, "reset")
    wait_for(lambda: os.path.exists(os.path.join(flash, "started")), "main.py to start")
    assert mpremote(dev, "exec", "print('alive')").stdout.strip() == b"alive"
    mpremote(dev, "fs", "rm", "main.py")


BUSY_MAIN = """\
import asyncio, json, machine, time
stamps = []
pin = machine.Pin(15, machine.Pin.IN, machine.Pin.PULL_UP)
pin.irq(handler=lambda p: stamps.append(time.ticks_ms()), trigger=machine.Pin.IRQ_FALLING,
        hard=True)
async def work():
    t0 = time.ticks_ms()
    open('busy', 'w').close()
    while time.ticks_diff(time.ticks_ms(), t0) < 1500:  # one long step, as a compile
        pass
    t1 = time.ticks_ms()
    await asyncio.sleep_ms(100)  # the host's turn: a held-back edge is delivered here
    open('stamps', 'w').write(json.dumps([time.ticks_diff(t1, t) for t in stamps]))
asyncio.create_task(work())
"""


def test_a_press_during_a_long_step_is_stamped_when_it_happened(dev, flash):
    """A hard IRQ on the chip runs at the edge, even inside work that takes the interpreter
    a while; the virtual device can run it only between steps, and stamps it back then.
    Stamped when the step ended instead, a press under a routine's compile was shorter,
    and a double press a click (the studio's mirror test)."""
    with open(os.path.join(flash, "main.py"), "w") as f:
        f.write(BUSY_MAIN)
    mpremote(dev, "reset")
    wait_for(lambda: os.path.exists(os.path.join(flash, "busy")), "main.py's long step",
             limit=30)
    dev.press(True)  # at most a few ms into the 1.5 s step
    pressed_at = time.monotonic()
    wait_for(lambda: os.path.exists(os.path.join(flash, "stamps")), "the stamps", limit=30)
    with open(os.path.join(flash, "stamps")) as f:
        stamps = json.load(f)
    dev.press(False)
    mpremote(dev, "fs", "rm", "main.py")
    assert len(stamps) == 1, stamps
    # ms from the edge's stamp to the step's end: most of the step (the press came early in
    # it), not 0 or less (stamped when the interpreter was free again).
    assert stamps[0] >= 1000, (stamps, time.monotonic() - pressed_at)


def test_files_survive_a_vdev_restart(tmp_path):
    flash = str(tmp_path / "flash")
    with VirtualDevice(flash) as d:
        mpremote(d, "exec", "open('keep.txt', 'w').write('kept')")
    with VirtualDevice(flash) as d:
        assert mpremote(d, "exec", "print(open('keep.txt').read())").stdout.strip() == b"kept"


def test_cli_prints_port_and_exits_cleanly_on_sigterm(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "simulator.vdev", "--flash", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        port = p.stdout.readline().decode().strip()
        assert port.startswith("/dev/")
        r = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, "exec",
                            "print(3)"], capture_output=True, timeout=TIMEOUT)
        assert r.stdout.strip() == b"3"
    finally:
        p.terminate()
        out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 0, err
    assert b"Traceback" not in err
