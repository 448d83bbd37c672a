# Sessions remembered (firmware/massager/history.py, `massager history`): one record per
# session, a bounded ring, dates from the host's clock, and a power cut at any byte of an
# append losing at most the record being written: on the host directory (the CPython
# simulated board and the virtual device), on littlefs on the emulated RP2040.
import datetime
import json
import os
import shutil
import struct
import time
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_vdev_firmware import install_firmware, records, wait_for
from test_vdev_host_commands import massager

from helpers import mpremote, routine_doc
from massager import history, program
from promised import HISTORY_FILE, HISTORY_SESSIONS, PAUSE_STOP
from simulator.vdev import VirtualDevice

# A routine of a few seconds, named like the built-in it replaces: a session that plays to
# its end in a moment of a test. User routines come after the built-ins, so weekly is
# replaced too, and the first press in idle starts this one.
SHORT = routine_doc(name="daily", title="Short", rounds=1,
                    breath={"first_ms": 1500, "last_ms": 1500},
                    steps=[{"name": "Chin", "zone": "jaw", "direction": "up", "reps": 1}])
ENDINGS = ["done", "stopped", "paused too long"]


def fields(r):
    return (r["routine"], r["ending"], r["level"])


# -- the record -----------------------------------------------------------------------------

@given(seq=st.integers(0, 2 ** 32 - 1), ending=st.integers(1, len(history.ENDINGS) - 1),
       name=st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=24),
       level=st.integers(0, 2), ran=st.integers(0, 10 ** 8), extra=st.integers(0, 10 ** 7),
       when=st.none() | st.datetimes(datetime.datetime(2022, 1, 1),
                                     datetime.datetime(2099, 12, 31)))
def test_a_record_reads_back_what_was_written_and_any_flipped_bit_voids_it(
        seq, ending, name, level, ran, extra, when):
    buf = bytearray(history.RECORD)
    dt = None if when is None else (when.year, when.month, when.day, when.weekday(),
                                    when.hour, when.minute, when.second, 0)
    history.encode(buf, seq, ending, name, level, ran, ran + extra, ran, dt)
    r = history.decode(buf)
    assert fields(r) == (name, history.ENDINGS[ending], level + 1) and r["seq"] == seq
    assert r["ran_s"] == min(65535, (ran + 500) // 1000)
    assert r["when"] == (None if when is None else tuple(when.timetuple())[:6])
    for bit in range(0, history.RECORD * 8, 7):
        bad = bytearray(buf)
        bad[bit // 8] ^= 1 << bit % 8
        assert history.decode(bad) is None


def test_the_clock_before_a_host_set_it_gives_no_date():
    # The rp2 port starts its RTC at 2021-01-01 (ports/rp2/main.c): not a date to keep.
    buf = bytearray(history.RECORD)
    history.encode(buf, 0, history.DONE, "daily", 1, 1000, 1000, 1000,
                   (2021, 1, 1, 4, 0, 5, 0, 0))
    assert history.decode(buf)["when"] is None


# The record as version 1 of the firmware writes it, field by field (docs/decisions.md,
# "Session history"): a device updated later must still read it, so the layout and every
# code in it are a file format, written out here rather than read from history.py.
V1_LAYOUT = "<BBBBIBBBBBBHHH24s"  # then the CRC-32 of those 44 bytes, little-endian
V1_ENDINGS = [(history.DONE, 1, "done"), (history.STOPPED, 2, "stopped"),
              (history.PAUSED_TOO_LONG, 3, "paused too long"),
              (history.SESSION_CAP, 4, "session cap"), (history.FLAT_CELL, 5, "flat cell"),
              (history.FAULT, 6, "fault")]
V1_RECORD = 48


def v1_record(version=1, code=3, level=2, flags=1, seq=70, date=(26, 12, 7, 9, 15, 30),
              ran=754, session=1200, routine=900, name=b"FLEX"):
    body = struct.pack(V1_LAYOUT, version, code, level, flags, seq, *date, ran, session,
                       routine, name)
    return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize("ending, code, words", V1_ENDINGS)
def test_a_record_is_the_documented_layout_both_ways(ending, code, words):
    buf = bytearray(history.RECORD)
    assert len(buf) == V1_RECORD
    history.encode(buf, 70, ending, "FLEX", 2, 754_400, 1_199_600, 900_000,
                   (2026, 12, 7, 0, 9, 15, 30, 0))
    assert bytes(buf) == v1_record(code=code)
    assert history.decode(v1_record(code=code)) == {
        "seq": 70, "routine": "FLEX", "level": 3, "ending": words, "ran_s": 754,
        "session_s": 1200, "routine_s": 900, "when": (2026, 12, 7, 9, 15, 30)}
    # Without a date the date bytes stay 0 and the flag says so.
    history.encode(buf, 70, ending, "FLEX", 2, 754_400, 1_199_600, 900_000)
    assert bytes(buf) == v1_record(code=code, flags=0, date=(0,) * 6)


@pytest.mark.parametrize("bad", [dict(version=2), dict(version=0), dict(code=0),
                                 dict(code=7)])
def test_a_record_of_another_version_or_an_unknown_ending_is_skipped(bad):
    # Its CRC is good: only the fields tell it is not a record this firmware can show.
    assert history.decode(v1_record(**bad)) is None
    assert history.decode(v1_record()) is not None


@pytest.mark.parametrize("ms, s", [(-1500, 0), (-5, 0), (0, 0), (499, 0), (500, 1), (1499, 1),
                                   (1500, 2), (65_535_499, 65535), (10 ** 9, 65535)])
def test_times_are_whole_seconds_rounded_half_up_and_capped(ms, s):
    buf = bytearray(history.RECORD)
    history.encode(buf, 0, history.DONE, "daily", 1, ms, ms, ms)
    r = history.decode(buf)
    assert (r["ran_s"], r["session_s"], r["routine_s"]) == (s, s, s)


def test_a_date_after_the_rp2_power_up_year_is_kept():
    buf = bytearray(history.RECORD)
    history.encode(buf, 0, history.DONE, "daily", 1, 1000, 1000, 1000,
                   (2022, 1, 1, 5, 0, 0, 1, 0))
    assert history.decode(buf)["when"] == (2022, 1, 1, 0, 0, 1)


def test_the_ring_keeps_the_newest_slots_and_never_grows(tmp_path):
    h = history.History(str(tmp_path) + "/")
    n = HISTORY_SESSIONS + 9
    for k in range(n):
        assert h.append(history.STOPPED, "r%d" % k, 1, 1000, 1000, 60000)
    data = (tmp_path / HISTORY_FILE).read_bytes()
    assert len(data) == HISTORY_SESSIONS * V1_RECORD
    got = history.parse(data)
    assert [r["routine"] for r in got] == ["r%d" % k for k in range(n - HISTORY_SESSIONS, n)]
    # A device that boots again goes on where the file says, not from 0.
    history.History(str(tmp_path)).append(history.DONE, "next", 1, 1000, 1000, 60000)
    assert history.parse((tmp_path / HISTORY_FILE).read_bytes())[-1]["seq"] == n


def test_a_file_cut_short_gets_empty_slots_up_to_the_next_record(tmp_path):
    h = history.History(str(tmp_path))
    for k in range(3):
        h.append(history.DONE, "r%d" % k, 1, 1000, 1000, 60000)
    path = tmp_path / HISTORY_FILE
    path.write_bytes(path.read_bytes()[:V1_RECORD])  # slots 1 and 2 lost
    h.append(history.DONE, "r3", 1, 1000, 1000, 60000)
    data = path.read_bytes()
    assert len(data) == 4 * V1_RECORD
    assert data[V1_RECORD:3 * V1_RECORD] == bytes(2 * V1_RECORD)
    assert [r["routine"] for r in history.parse(data)] == ["r0", "r3"]


# -- a power cut at every byte of an append, on the host directory -------------------------

class PowerCut(BaseException):
    """The power goes: nothing in the firmware catches it (it is not an error it sees)."""


class CutFile:
    """A real file that loses the power after `budget` more bytes of writes: the bytes
    before the cut are on the flash, in order, the rest never get there."""

    def __init__(self, f, cut):
        self.f, self.cut = f, cut

    def write(self, data):
        room = self.cut[0]
        self.f.write(bytes(data[:room]))
        self.cut[0] -= min(room, len(data))
        if len(data) > room:
            self.f.close()
            raise PowerCut()
        return len(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def append_cut(root, budget, monkeypatch, name="next"):
    """The firmware's append of one record, the power cut after `budget` bytes of it (None:
    no cut). True when it was cut."""
    cut = [budget if budget is not None else 1 << 30]
    real_open = open
    monkeypatch.setattr(history, "open", lambda p, m: CutFile(real_open(p, m), cut),
                        raising=False)
    try:
        history.History(root).append(history.DONE, name, 1, 61000, 61000, 61000)
    except PowerCut:
        return True
    finally:
        monkeypatch.delattr(history, "open", raising=False)
    return False


def assert_cut_anywhere_loses_at_most_that_record(flash, monkeypatch, tmp_path):
    """Every cut point of the next append on the flash directory `flash`: the records
    before it all read back, the new one is whole or absent, and the next boot's append
    works. The number of cut points."""
    path = os.path.join(flash, history.FILE)
    before = open(path, "rb").read()
    old = history.parse(before)
    work = str(tmp_path / "cut")
    points = 0
    for budget in range(history.RECORD + 1):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        shutil.copy(path, work)
        cut = append_cut(work, budget, monkeypatch)
        assert cut == (budget < history.RECORD), budget
        got = history.parse(open(os.path.join(work, history.FILE), "rb").read())
        assert got[:len(old)] == old, budget  # nothing written before is lost
        assert [r["routine"] for r in got[len(old):]] == ([] if cut else ["next"]), budget
        # Power back: the next session's record lands after the whole ones.
        assert not append_cut(work, None, monkeypatch, name="after")
        again = history.parse(open(os.path.join(work, history.FILE), "rb").read())
        assert [r["routine"] for r in again[len(old):]] == (["after"] if cut else
                                                            ["next", "after"]), budget
        points += cut
    return points


def test_a_cut_at_any_byte_of_an_append_loses_at_most_that_record_in_a_full_ring(
        tmp_path, monkeypatch):
    flash = str(tmp_path / "flash")
    os.makedirs(flash)
    h = history.History(flash)
    for k in range(history.SLOTS + 3):  # full: the next append replaces the oldest
        h.append(history.STOPPED, "r%d" % k, 0, 1000, 1000, 60000)
    old = history.parse(open(os.path.join(flash, history.FILE), "rb").read())
    path = os.path.join(flash, history.FILE)
    work = str(tmp_path / "w")
    for budget in range(history.RECORD):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        shutil.copy(path, work)
        assert append_cut(work, budget, monkeypatch)
        got = history.parse(open(os.path.join(work, history.FILE), "rb").read())
        # The slot written held the oldest record, the one this append replaces anyway:
        # whole until a byte that differs lands, gone after. Nothing else changes.
        assert got in (old, old[1:]), budget
        if budget >= history.BODY:  # the name differs, so does the CRC: the old one is gone
            assert got == old[1:], budget


# -- sessions on the devices ----------------------------------------------------------------

def click(dev, hold_s=0.12):
    dev.press(True)
    time.sleep(hold_s)
    dev.press(False)


def state_after(dev, n, state, timeout=30):
    """Waits until the trace shows `state` after its first n lines; the new length."""
    wait_for(lambda: any(r["state"] == state for r in records(dev.trace_path)[n:]), timeout)
    return len(records(dev.trace_path))


@pytest.fixture(scope="module")
def three_sessions(tmp_path_factory):
    """A virtual device (MicroPython WebAssembly) after three sessions of the short
    routine: one played to its end, one stopped by a long press, one paused too long.
    (flash directory, `massager history` output, its --json)."""
    tmp = tmp_path_factory.mktemp("history")
    flash = str(tmp / "flash")
    os.makedirs(os.path.join(flash, "routines"))
    install_firmware(flash)
    for name in ("daily", "weekly"):
        with open(os.path.join(flash, "routines", name + ".json"), "w") as f:
            json.dump(dict(SHORT, name=name), f)
    trace = str(tmp / "trace.jsonl")
    with VirtualDevice(flash, trace=trace) as dev:
        dev.trace_path = trace
        n = state_after(dev, 0, "idle")
        started = datetime.datetime.now().replace(microsecond=0)
        assert massager("ls", "-p", dev.port)[0] == 0  # a host sets the clock
        n = state_after(dev, n, "idle")  # booted again after the command
        click(dev)
        n = state_after(dev, n, "done")  # 1: played to its end
        click(dev)
        n = state_after(dev, n, "idle")
        click(dev)
        n = state_after(dev, n, "running")
        click(dev, 1.4)  # 2: a long press stops it
        n = state_after(dev, n, "idle")
        click(dev)
        n = state_after(dev, n, "running")
        click(dev)
        n = state_after(dev, n, "paused")
        dev.jump(PAUSE_STOP)  # 3: five minutes pass in the pause
        n = state_after(dev, n, "idle")
        rc, out = massager("history", "-p", dev.port)
        assert rc == 0, out
        rc, js = massager("history", "--json", "-p", dev.port)
        assert rc == 0, js
        ended = datetime.datetime.now()
    return flash, out, json.loads(js), (started, ended)


def test_three_sessions_on_the_virtual_device_show_in_history_with_their_endings(
        three_sessions):
    flash, out, js, (started, ended) = three_sessions
    got = js["records"]
    assert [r["ending"] for r in got] == ENDINGS
    assert [r["routine"] for r in got] == ["daily"] * 3
    short_s = program.load(json.dumps(SHORT).encode())[0].total_ms / 1000
    assert abs(got[0]["ran_s"] - short_s) <= 1 and got[0]["routine_s"] == round(short_s)
    assert got[2]["session_s"] >= PAUSE_STOP / 1000 > got[2]["ran_s"]
    # Dated by the clock the host set (the pause's five minutes passed on the device only).
    whens = [datetime.datetime(*r["when"]) for r in got]
    assert started <= whens[0] <= whens[1] <= ended
    assert whens[2] - whens[1] >= datetime.timedelta(milliseconds=PAUSE_STOP)
    rows = out.splitlines()
    assert [row.split("  ")[-1].strip() for row in rows[1:4]] == ENDINGS
    # None ran the minute the guide asks for a day: no day counts, no streak.
    assert "3 session(s) remembered" in out and "streak: 0 day(s) in a row" in out


def test_the_three_sessions_survive_a_power_cut_at_every_byte_of_the_next_append(
        three_sessions, tmp_path, monkeypatch):
    flash = three_sessions[0]  # the host directory the virtual device keeps as its flash
    assert assert_cut_anywhere_loses_at_most_that_record(flash, monkeypatch, tmp_path) == \
        history.RECORD


# -- littlefs on the emulated RP2040 (the stock rp2 port) -------------------------------------

APPEND = ("from massager import history\nh = history.History('/')\nfor i in range(%d):\n"
          " h.append(history.DONE, 'x%%d' %% i, 1, 61000, 61000, 61000, (2026, 1, 2, 4, 10, "
          "0, 0, 0))\n")
READ = ("from massager import history\nprint(repr([(r['seq'], r['routine'], r['ending']) "
        "for r in history.parse(open('/history.bin', 'rb').read())]))")
FLASH_KEYS = ("flashErase", "flashProgram", "flashErasedBytes", "flashProgrammedBytes")


def on_pico(image, code, cut_after=None):
    """Run `code` on the emulated Pico of this flash image (no firmware at boot), the power
    cut after `cut_after` flash operations when given. (stdout, flash work done)."""
    from simulator.pico import EmulatedPico

    with EmulatedPico(str(image), hold=True) as pico:
        before = pico.stats()
        if cut_after is not None:
            pico.power_cut(after_flash_ops=cut_after)
        r = mpremote(pico.port, "exec", code)
        work = {} if cut_after is not None else {
            k: v - before[k] for k, v in pico.stats().items() if k in FLASH_KEYS}
    return r.stdout, work


def test_on_littlefs_a_cut_at_a_flash_write_of_an_append_loses_at_most_that_record(
        pico_image, tmp_path):
    import ast

    from test_rp2040 import BOOT_MS

    from simulator.pico import EmulatedPico

    base = tmp_path / "base.img"
    shutil.copy(pico_image, base)
    with EmulatedPico(str(base), hold=True) as pico:
        # The firmware on the real port remembers a session: started, then a long press.
        pico.run(BOOT_MS)
        pico.script([(0, 1), (100, 0), (3000, 1), (4500, 0)])
        pico.run(6000)
        pico.interrupt()
        assert mpremote(pico.port, "rm", ":/main.py", ":/boot.py").returncode == 0
    # A dozen more: past littlefs's inline limit (512 bytes here), the ring is a file of
    # its own blocks, as it stays.
    old = ast.literal_eval(on_pico(base, APPEND % 12 + READ)[0].strip())
    assert old[0] == (0, "daily", "stopped") and len(old) == 13
    whole = tmp_path / "whole.img"
    shutil.copy(base, whole)
    out, work = on_pico(whole, APPEND % 1 + READ)  # reading writes nothing
    ops = work["flashErase"] + work["flashProgram"]
    assert 1 <= work["flashErase"] <= 2 and ops >= 2, work
    new = ast.literal_eval(out.strip())
    assert new[:-1] == old and new[-1][0] == 13
    # The power cut right after each flash erase or program of the append (a sample in
    # `make test`; all of them with RELIABILITY_LONG=1): the old records, whole, with or
    # without the new one.
    long = os.environ.get("RELIABILITY_LONG") == "1"
    for k in range(1, ops + 1) if long else sorted({1, ops}):
        cut = tmp_path / ("cut%d.img" % k)
        shutil.copy(base, cut)
        on_pico(cut, APPEND % 1, cut_after=k)
        got = ast.literal_eval(on_pico(cut, READ)[0].strip())
        assert got in (old, new), (k, got)
        if k == ops:
            assert got == new


def test_the_summary_counts_days_the_full_routine_and_the_streak_and_plots_them(tmp_path):
    from host_tools import history as host_history

    today = datetime.date(2026, 3, 12)
    buf = bytearray(history.RECORD)
    data = b""
    # (days ago, routine, ran ms, routine ms, ending): the last three days in a row with a
    # minute or more, a short one that does not count, and a weekly played to its end.
    sessions = [(5, "daily", 30000, 105000, history.STOPPED),
                (2, "daily", 105000, 105000, history.DONE),
                (1, "weekly", 760000, 760000, history.DONE),
                (0, "daily", 70000, 105000, history.STOPPED)]
    for seq, (ago, name, ran, length, ending) in enumerate(sessions):
        d = today - datetime.timedelta(days=ago)
        history.encode(buf, seq, ending, name, 1, ran, ran, length,
                       (d.year, d.month, d.day, d.weekday(), 8, 0, 0, 0))
        data += bytes(buf)
    got = history.parse(data)
    s = host_history.summary(got, today=today)
    assert (s["days_this_week"], s["full_routine_this_week"], s["streak_days"]) == (3, True, 3)
    assert s["minutes_this_week"] == round((30 + 105 + 760 + 70) / 60, 1)
    assert host_history.summary(got[:2], today=today)["full_routine_this_week"] is False
    out = tmp_path / "days.png"
    host_history.plot(got, str(out), today=today)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_session_is_written_down_at_a_quiet_wake_and_before_the_latch_lets_go(tmp_path):
    # The CPython simulated board on the cell (the Pico's latch): a session stopped, then
    # one the flat cell ends. The stopped one is written at a later wake that changes no
    # output (the write allocates; an output change must not); the flat cell's when the
    # board goes off, after that wake's outputs (motor off) and before the power goes.
    from simulator import circuit
    from simulator.adc_view import adc_view, apply
    from simulator.device import SimDevice

    dev = SimDevice(str(tmp_path), config=circuit.load_config("pico"))
    writes = []
    append = dev.runtime.history.append

    def recorded(*args):
        writes.append((dev.clock.ms, len(dev.lines), dev.powered))
        return append(*args)

    dev.runtime.history.append = recorded
    dev.click()
    dev.run_until(dev.clock.ms + 20000)
    dev.press(True)  # a long press stops it
    dev.run_until(dev.clock.ms + 1500)
    stopped_at = dev.clock.ms
    dev.press(False)
    dev.run_until(dev.clock.ms + 10000)
    assert dev.app.state == "idle" and len(writes) == 1
    dev.click()
    dev.run_until(dev.clock.ms + 20000)
    assert dev.app.state == "running"
    apply(dev.sim, adc_view(dev.board.config, 3100))  # past the cut-off
    dev.run_until(dev.clock.ms + 70000)
    assert not dev.powered and len(writes) == 2
    changes = [json.loads(line) for line in dev.lines]
    (quiet, _, powered), (off, n, still_powered) = writes
    assert quiet >= stopped_at and quiet not in {c["t"] for c in changes} and powered
    assert changes[n - 1]["state"] == "off" and changes[n - 1]["t"] == off and still_powered
    with open(tmp_path / history.FILE, "rb") as f:
        assert [r["ending"] for r in history.parse(f.read())] == ["stopped", "flat cell"]


def test_an_append_that_cannot_write_says_so_and_raises_nothing(tmp_path):
    # A flash that refuses the write (here: no such folder) loses the record, nothing else.
    h = history.History(str(tmp_path / "no such folder"))
    assert h.append(history.DONE, "daily", 1, 1000, 1000, 60000) is False
    assert not (tmp_path / "no such folder").exists()


def test_an_hour_of_quiet_wakes_after_a_session_writes_nothing_more(tmp_path):
    # The loop wakes every few seconds to feed the watchdog the session armed; only the
    # wake after the session's end writes, once.
    from simulator.device import SimDevice

    dev = SimDevice(str(tmp_path))
    dev.click()
    dev.run_until(dev.clock.ms + 120000)  # the daily routine, to its end
    wakes = dev.wakes
    dev.run_until(dev.clock.ms + 3600 * 1000)
    assert dev.wakes - wakes > 2 * HISTORY_SESSIONS
    with open(tmp_path / HISTORY_FILE, "rb") as f:
        data = f.read()
    assert len(data) == V1_RECORD
    assert [r["ending"] for r in history.parse(data)] == ["done"]


def _session_with_pauses(tmp_path, decided_s, stop_s):
    """A session on the simulated board: a click decided at each of `decided_s` (s from its
    start: pause, resume, ...), then a long press that stops it at `stop_s`. Its record."""
    from simulator.device import SimDevice

    dev = SimDevice(str(tmp_path))
    dev.click()
    dev.run_until(dev.clock.ms + 1000)
    start = dev.app.session_start
    for s in decided_s:  # a click is decided 400 ms after its press
        dev.run_until(start + round(s * 1000) - 400)
        dev.click()
    dev.run_until(start + round(stop_s * 1000) - 1000)
    dev.press(True)  # a long press is decided 1 s after it
    dev.run_until(start + round(stop_s * 1000) + 1000)
    dev.press(False)
    dev.run_until(dev.clock.ms + 5000)
    (r,) = history.parse((tmp_path / HISTORY_FILE).read_bytes())
    assert r["ending"] == "stopped"
    return r


def test_the_running_time_leaves_out_every_pause(tmp_path):
    # Paused from 8 s to 14 s and from 21 s to 30 s, stopped at 40.5 s: it ran 25.5 s.
    # Whole seconds round half up (41 and 26): a time 1 ms short would round down.
    r = _session_with_pauses(tmp_path, (8, 14, 21, 30), 40.5)
    assert (r["session_s"], r["ran_s"]) == (41, 26)


def test_a_session_stopped_while_paused_leaves_that_pause_out_too(tmp_path):
    # Paused at 8 s, stopped at 20.5 s still paused: it ran 8 s of 20.5.
    r = _session_with_pauses(tmp_path, (8,), 20.5)
    assert (r["session_s"], r["ran_s"]) == (21, 8)
