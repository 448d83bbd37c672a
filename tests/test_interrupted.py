"""A host cut off mid-command (Ctrl-C, a killed process) leaves the device in the raw REPL
or mid raw-paste: the next command recovers it, as mpremote does on connecting, and the
next flash copies only what differs. The virtual device answers Ctrl-C in raw-paste as the
rp2 port does (checked against it on the emulated RP2040)."""

import os
import shutil
import signal
import subprocess
import sys
import time

import serial

from host_tools import flash
from simulator.pico import EmulatedPico
from simulator.vdev import VirtualDevice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def massager(*args):
    return subprocess.run([sys.executable, "-m", "host_tools", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          stdin=subprocess.DEVNULL)


def read_until(port, ending, timeout=20):
    data = b""
    end = time.monotonic() + timeout
    while not data.endswith(ending) and time.monotonic() < end:
        data += port.read(1)
    return data


def paste_then_ctrl_c(path):
    """Bytes a device answers when a paste is cut by Ctrl-C, and to the next command."""
    with serial.Serial(path, timeout=0.2) as port:
        port.write(b"\r\x03\x03\r\x01")  # stop whatever runs, enter the raw REPL
        read_until(port, b"raw REPL; CTRL-B to exit\r\n>")
        port.write(b"\x05A\x01")
        start = read_until(port, b"R\x01", timeout=5)
        start += read_until(port, b"\x01", timeout=5)  # the window size, then a window
        port.write(b"import os\nos.rename('/main.py', '/x")  # cut here
        time.sleep(0.5)
        port.write(b"\x03")
        cut = read_until(port, b"\x04>")
        port.write(b"print(6 * 7)\x04")
        after = read_until(port, b"\x04>")
    return start, cut, after


def test_ctrl_c_in_raw_paste_ends_it_as_on_the_rp2_port(tmp_path, pico_image):
    with VirtualDevice(str(tmp_path / "flash")) as dev:
        virtual = paste_then_ctrl_c(dev.port)
    image = shutil.copy(pico_image, tmp_path / "pico.img")
    with EmulatedPico(str(image), hold=True) as pico:
        pico.interrupt()
        real = paste_then_ctrl_c(pico.port)
    # rp2: "R\x01" then a window of 128 (MICROPY_REPL_STDIN_BUFFER_MAX 256 / 2)
    assert real[0].endswith(b"R\x01\x80\x00\x01")
    assert real[1] == b"\x04\x04KeyboardInterrupt: \r\n\x04>"  # nothing ran
    assert real[2] == b"OK42\r\n\x04\x04>"
    assert virtual == real


def test_a_device_left_mid_paste_answers_the_next_command(tmp_path):
    with VirtualDevice(str(tmp_path / "flash")) as dev:
        assert massager("flash", "-p", dev.port).returncode == 0
        with serial.Serial(dev.port, timeout=0.2) as port:  # a host killed mid-paste
            port.write(b"\r\x03\r\x01")
            read_until(port, b"raw REPL; CTRL-B to exit\r\n>")
            port.write(b"\x05A\x01")
            read_until(port, b"R\x01", timeout=5)
            read_until(port, b"\x01", timeout=5)
            port.write(b"import os\nos.rename('/main.py', '/x")
        r = massager("ls", "-p", dev.port)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert [line.split()[0] for line in r.stdout.splitlines()] == ["daily", "weekly"]
        assert os.path.exists(os.path.join(dev.flash_dir, "main.py"))  # the cut code never ran


def differing(flash_dir, built):
    """Device paths whose file in the vdev's flash dir is not the built one."""
    out = []
    for path, data in built.items():
        try:
            with open(os.path.join(flash_dir, path.lstrip("/")), "rb") as f:
                same = f.read() == data
        except OSError:
            same = False
        if not same:
            out.append(path)
    return out


def test_ctrl_c_during_flash_then_the_next_flash_copies_only_what_differs(tmp_path):
    built = flash.build("armv6m")
    with VirtualDevice(str(tmp_path / "flash")) as dev:
        p = subprocess.Popen([sys.executable, "-m", "host_tools", "flash", "-p", dev.port],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=ROOT, stdin=subprocess.DEVNULL)
        copied = 0
        for line in p.stdout:  # one line per file copied (not a terminal)
            copied += line.startswith("copied ")
            if copied == 10:
                break
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 130, err
        assert err.splitlines() == [
            "massager flash: interrupted: the firmware on %s is partly copied and stays "
            "stopped: run `massager flash` again" % dev.port]
        left = differing(dev.flash_dir, built)
        assert 0 < len(left) < len(built) - 9
        r = massager("doctor", "-p", dev.port)  # recovers the device left by the cut
        assert r.returncode == 1 and "run `massager flash`" in r.stdout, r.stdout + r.stderr
        r = massager("flash", "-p", dev.port)
        assert r.returncode == 0, r.stderr
        got = sorted(line.split()[1] for line in r.stdout.splitlines()
                     if line.startswith("copied "))
        assert got == sorted(left)
        assert differing(dev.flash_dir, built) == []
        assert massager("doctor", "-p", dev.port).returncode == 0
