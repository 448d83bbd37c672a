"""The link model of the virtual device: a board's serial link paces bytes both ways.

The promised numbers: 115200 baud at 10 bits a byte moves 10 KB in about 0.9 s; USB full
speed, one 64-byte packet per 1 ms frame, in 160 ms; `none` at once. Durations are read
from the model's own schedule, which no machine load can stretch; the host only checks
that bytes never come sooner than the model lets them.
"""

import os
import subprocess
import sys
import time

import pytest
import serial
from hypothesis import given
from hypothesis import strategies as st

from simulator.link import Link
from simulator.vdev import VirtualDevice

KB10 = 10 * 1024
UART_10KB_S = 10240 * 10 / 115200  # 0.889 s
TIMEOUT = 60


def drain(link, until):
    """Every (time, bytes) the link hands over, stepping its own schedule."""
    got = []
    while link.due() is not None and link.due() <= until:
        t = link.due()
        got.append((t, link.take(t)))
    return got


@pytest.mark.parametrize("kind, seconds", [("uart115200", UART_10KB_S), ("usb-fs", 0.160),
                                           ("none", 0.0)])
def test_10kb_takes_what_the_link_allows(kind, seconds):
    link = Link(kind)
    link.push(b"x" * KB10, 5.0)
    got = drain(link, 100.0)
    assert sum(len(b) for _, b in got) == KB10
    last = got[-1][0]
    assert last - 5.0 == pytest.approx(seconds, abs=0.0011)
    assert link.busy_periods() == [(KB10, pytest.approx(seconds, abs=0.0011))]


def test_usb_sends_one_packet_per_frame():
    link = Link("usb-fs")
    link.push(b"a" * 200, 0.0002)
    got = drain(link, 1.0)
    assert [len(b) for _, b in got] == [64, 64, 64, 8]
    assert [round(t * 1000, 6) for t, _ in got] == [1, 2, 3, 4]  # ms frame boundaries
    link.push(b"b", 0.0045)  # a lone byte waits for the next frame
    assert link.take(0.00499) == b"" and link.take(0.005) == b"b"


def test_uart_bytes_queue_behind_each_other():
    link = Link("uart115200")
    link.push(b"ab", 0.0)
    link.push(b"c", 0.0)  # still on the wire: c follows b
    byte_s = 10 / 115200
    assert link.take(byte_s * 2.5) == b"ab"
    assert link.take(byte_s * 3) == b"c"
    link.push(b"d", 1.0)  # an idle wire starts at once
    assert link.take(1.0 + byte_s * 0.99) == b"" and link.take(1.0 + byte_s) == b"d"


@given(kind=st.sampled_from(["none", "uart115200", "usb-fs"]),
       pushes=st.lists(st.tuples(st.floats(0, 0.05), st.binary(min_size=1, max_size=300)),
                       min_size=1, max_size=20))
def test_bytes_cross_in_order_never_early_never_faster_than_the_link(kind, pushes):
    link = Link(kind)
    now, sent, pushed_at = 0.0, b"", []
    for gap, data in pushes:
        now += gap
        link.push(data, now)
        sent += data
        pushed_at += [now] * len(data)
    got, times = b"", []
    for t, data in drain(link, 1e9):
        got += data
        times += [t] * len(data)
    assert got == sent and link.due() is None
    assert all(t >= p for t, p in zip(times, pushed_at))  # never before it was sent
    rate = {"uart115200": 11520, "usb-fs": 64000}.get(kind)
    if rate:  # any n bytes in a row need at least n / rate seconds
        for i in range(0, len(times) - 1, 37):
            j = len(times) - 1
            assert times[j] - times[i] >= (j - i) / rate - 0.0011


def raw_repl(s):
    s.write(b"\r\x03\r\x01")
    assert s.read_until(b"raw REPL; CTRL-B to exit\r\n>").endswith(b">")


@pytest.fixture(scope="module", params=["uart115200", "none"])
def dev(request, tmp_path_factory):
    with VirtualDevice(str(tmp_path_factory.mktemp("flash")), link=request.param) as d:
        yield d


def test_the_virtual_device_paces_10kb_both_ways(dev):
    with serial.Serial(dev.port, 115200, timeout=TIMEOUT) as s:
        raw_repl(s)
        # host -> device: 10 KB of source (a comment), answered once it has all arrived
        since = time.monotonic()
        s.write(b"#" + b"x" * (KB10 - 1) + b"\x04")
        assert s.read_until(b"\x04>").endswith(b"OK\x04\x04>")
        took_in = time.monotonic() - since
        # device -> host: 10 KB printed
        mark = time.monotonic()
        s.write(b"print('y' * %d)\x04" % KB10)
        out = s.read_until(b"\x04>")
        took_out = time.monotonic() - mark
    assert out.count(b"y") == KB10
    to_device = dev.to_device.busy_periods(since)
    to_host = dev.to_host.busy_periods(mark)
    if dev.to_device.kind == "uart115200":
        # The link's busy time, summed: a loaded host may hand the bytes over in chunks
        # slower than the wire takes them, which leaves the link idle between stretches.
        for periods in (to_device, to_host):
            assert sum(n for n, _ in periods) >= KB10
            assert 0.8 * UART_10KB_S <= sum(s for _, s in periods) <= 1.2 * UART_10KB_S
        # and the bytes were held back, not only scheduled: never sooner than the wire
        assert took_in >= 0.8 * UART_10KB_S and took_out >= 0.8 * UART_10KB_S
    else:  # `none` passes every byte on at once
        for periods in (to_device, to_host):
            assert sum(n for n, _ in periods) >= KB10
            assert all(seconds == 0 for _, seconds in periods)


def test_mpremote_works_over_a_paced_link(dev, tmp_path):
    src = tmp_path / "a.txt"
    src.write_bytes(bytes(range(256)) * 8)
    r = subprocess.run([sys.executable, "-m", "mpremote", "connect", dev.port, "fs", "cp",
                        str(src), ":a.bin", "+", "exec", "print(len(open('a.bin','rb').read()))"],
                       capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(b"2048")
    with open(os.path.join(dev.flash_dir, "a.bin"), "rb") as f:
        assert f.read() == bytes(range(256)) * 8


def test_cli_rejects_an_unknown_link(tmp_path):
    r = subprocess.run([sys.executable, "-m", "simulator.vdev", "--flash", str(tmp_path),
                        "--link", "rs485"], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 2 and "--link" in r.stderr and "uart115200" in r.stderr


def test_a_slower_cpu_delays_the_answer_by_its_work(tmp_path):
    slowdown = 4
    with VirtualDevice(str(tmp_path), cpu_slowdown=slowdown) as d:
        with serial.Serial(d.port, 115200, timeout=TIMEOUT) as s:
            raw_repl(s)
            before = d.device_cpu_s
            t0 = time.monotonic()
            s.write(b"n = 0\nfor i in range(300000):\n n += i\nprint(n)\x04")
            out = s.read_until(b"\x04>")
            took = time.monotonic() - t0
        work = d.device_cpu_s - before
    assert b"44999850000" in out
    assert work > 0
    assert took >= 0.9 * slowdown * work  # the answer waited for the modelled CPU
