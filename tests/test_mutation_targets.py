# Exact behaviour of the safety-critical paths, written to kill the mutants that
# `make mutate` (tests/mutate.py) found surviving: the motor driver, Board.all_off,
# Store.install and the app's stop paths. Each test names what a person would notice.
import hashlib
import json

import pytest
from test_hal import hal_board, hal_config, hal_motor, machine, make_motor, sim  # noqa: F401

from helpers import builtin
from massager import app as device
from massager import routines
from massager.store import Store
from simulator import headless

# -- the motor driver ------------------------------------------------------------------------


def _ramp(sim, m, percent):  # noqa: F811
    """From still to `percent`, polled by the loop as it would (at each wait_ms()): the
    duties written and the ms it took."""
    del sim.log[:]
    t0 = sim.clock_obj.ms
    m.set(percent)
    while m.wait_ms() >= 0:
        sim.clock_obj.ms += m.wait_ms()
        m.poll()
    return sim.duties(15), sim.clock_obj.ms - t0


def test_soft_start_is_four_even_steps_over_thirty_ms(sim):  # noqa: F811
    m = make_motor()
    target = 80 * 65535 // 100
    assert _ramp(sim, m, 80) == ([target // 4, target // 2, target * 3 // 4, target], 30)
    assert sim.clock_obj.sleeps == [] and m.percent == 80  # the loop was never blocked


def test_full_strength_is_full_duty_and_a_stop_is_at_once(sim):  # noqa: F811
    m = make_motor()
    _ramp(sim, m, 100)
    assert sim.duty(15) == 65535 and m.percent == 100
    del sim.log[:]
    m.set(101)  # no more than full, and no second soft start while running
    assert sim.duties(15) == [65535] and m.wait_ms() == -1 and m.percent == 100
    del sim.log[:]
    m.set(0)
    assert sim.duties(15) == [0] and m.percent == 0 and m.wait_ms() == -1
    duties, ms = _ramp(sim, m, 1)  # from still again: a soft start, even at 1 %
    assert len(duties) == 4 and duties[-1] == 655 == sim.duty(15) and ms == 30


def test_a_new_motor_is_still_at_its_frequency(sim):  # noqa: F811
    pwm = machine.PWM(machine.Pin(15), duty_u16=30000)  # whatever the pin had before
    m = hal_motor.Motor(pwm, None, None, 3000, 0)
    assert sim.duty(15) == 0 and m.percent == 0
    assert pwm.freq() == 20000


@pytest.mark.parametrize("steps, duties, ms", [
    (1, [1.0], 0), (2, [0.5, 1.0], 30), (3, [1 / 3, 2 / 3, 1.0], 30)])
def test_soft_start_follows_its_tunable_steps(sim, monkeypatch, steps, duties,  # noqa: F811
                                              ms):
    monkeypatch.setattr(hal_motor.Motor, "soft_start_steps", steps)
    m = make_motor()
    target = 60 * 65535 // 100
    written, took = _ramp(sim, m, 60)
    assert written == [target * i // steps for i in range(1, steps + 1)]
    assert [round(d / target, 2) for d in written] == [round(x, 2) for x in duties]
    assert took == ms


def test_a_new_motor_has_no_soft_start_to_finish(sim):  # noqa: F811
    m = make_motor()
    del sim.log[:]
    sim.clock_obj.ms += 1000
    assert m.wait_ms() == -1  # the loop need not wake for it
    m.poll()
    assert sim.duties(15) == [] and not m.released


def test_stopping_a_still_motor_is_one_write_and_no_wait(sim):  # noqa: F811
    m = make_motor()
    del sim.log[:]
    m.set(0)
    m.set(-5)
    assert sim.duties(15) == [0, 0] and sim.clock_obj.sleeps == [] and m.percent == 0


def _motor_on_pin(kick_pct=0):
    pin = machine.Pin(15)
    from helpers import motor

    return motor(machine.PWM(pin), pin=pin, kick_pct=kick_pct)


def test_changing_strength_while_running_is_one_write_without_a_dip(sim):  # noqa: F811
    m = _motor_on_pin()
    _ramp(sim, m, 80)
    pwm = m.pwm
    del sim.log[:]
    m.set(50)  # the PWM is kept: a new one would start at 0 and the motor would stutter
    assert sim.duties(15) == [50 * 65535 // 100] and m.pwm is pwm and not m.released


def test_after_a_release_the_next_start_takes_the_pin_back_once(sim):  # noqa: F811
    m = _motor_on_pin()
    _ramp(sim, m, 80)
    m.release()
    assert sim.duty(15) == 0 and m.released and m.wait_ms() == -1
    del sim.log[:]
    m.poll()  # nothing left of the old soft start to write on a released pin
    assert sim.duties(15) == []
    target = 60 * 65535 // 100
    assert _ramp(sim, m, 60) == ([0, target // 4, target // 2, target * 3 // 4, target], 30)
    assert not m.released and sim.duty(15) == target
    pwm = m.pwm
    del sim.log[:]
    m.set(70)  # running on the PWM again: no second rebuild
    assert m.pwm is pwm and sim.duties(15) == [70 * 65535 // 100]


def test_a_motor_without_its_pin_is_released_through_its_pwm(sim):  # noqa: F811
    m = make_motor()
    _ramp(sim, m, 80)
    m.release()
    assert sim.duty(15) == 0 and m.percent == 0 and not m.released


def test_a_kick_held_over_several_steps_wakes_the_loop_only_when_the_level_changes(
        sim):  # noqa: F811
    kick = 35 * 65535 // 100
    target = 50 * 65535 // 100
    m = _motor_on_pin(kick_pct=35)
    del sim.log[:]
    t0 = sim.clock_obj.ms
    m.set(50)  # steps: 12.5 % and 25 % are under the kick, 37.5 % is not
    assert m.wait_ms() == 20  # step 2 writes nothing new: the loop sleeps through it
    wakes = []
    while m.wait_ms() >= 0:
        sim.clock_obj.ms += m.wait_ms()
        m.poll()
        wakes.append(sim.clock_obj.ms - t0)
    assert sim.duties(15) == [kick, target * 3 // 4, target] and wakes == [20, 30]


def test_a_strength_equal_to_the_kick_ends_its_soft_start_on_time(sim):  # noqa: F811
    m = _motor_on_pin(kick_pct=35)
    del sim.log[:]
    m.set(35)
    assert m.wait_ms() == 30  # every step is the kick: the ramp is over at 30 ms
    sim.clock_obj.ms += 30
    m.poll()
    assert m.wait_ms() == -1 and sim.duties(15) == [35 * 65535 // 100]


def test_the_loop_is_told_the_exact_ms_to_the_next_step(sim):  # noqa: F811
    m = make_motor()
    m.set(80)
    sim.clock_obj.ms += 9
    assert m.wait_ms() == 1  # 1 ms early is not yet due
    sim.clock_obj.ms += 16  # the loop woke late: step 2 (10 ms) and 3 (20 ms) are due now
    assert m.wait_ms() == 0
    del sim.log[:]
    m.poll()
    assert sim.duties(15) == [80 * 65535 // 100 * 3 // 4]  # the latest due step only
    assert m.wait_ms() == 5


def test_a_soft_start_as_short_as_the_steps_still_has_every_step(sim,  # noqa: F811
                                                                monkeypatch):
    monkeypatch.setattr(hal_motor.Motor, "soft_start_ms", 3)  # 1 ms between steps
    m = make_motor()
    target = 80 * 65535 // 100
    assert _ramp(sim, m, 80) == ([target // 4, target // 2, target * 3 // 4, target], 3)


# -- the board's pins at power-up --------------------------------------------------------------

def _config(**changes):
    config = json.loads(json.dumps(hal_config.DEFAULT))
    for part, value in changes.items():
        config[part] = value
    return config


def test_every_output_is_low_and_still_at_power_up(sim):  # noqa: F811
    hal_board.Board(_config())
    for pin in (15, 25):  # motor, mono LED
        assert sim.level(pin) == 0 and sim.duty(pin) == 0 and sim.duties(pin) == [0, 0]
        assert sim.pins[pin].mode == machine.Pin.OUT


def test_no_output_is_driven_for_a_moment_while_the_board_starts(sim,  # noqa: F811
                                                                  monkeypatch):
    seen = []  # what drives the motor and the LED after every pin and PWM set-up
    for cls in (machine.Pin, machine.PWM):
        def spy(self, *a, _init=cls.init, **kw):
            _init(self, *a, **kw)
            seen.append((sim.duty(15), sim.duty(25)))
        monkeypatch.setattr(cls, "init", spy)
    hal_board.Board(_config())
    assert len(seen) >= 4 and set(seen) == {(0, 0)}


def test_the_boards_start_kick_and_watchdog_come_from_its_pin_map(sim):  # noqa: F811
    motor = {"pin": 15, "rated_mv": 3000, "start_mv": 1050}
    board = hal_board.Board(_config(motor=motor, watchdog_ms=6000))
    board.motor.set_cell(3000)  # the cell at the rated voltage: % of it is % duty
    board.show(20, 0, 0, 0)
    assert sim.duties(15)[-1] == 35 * 65535 // 100  # a gentle start gets the kick
    board.watchdog.start()
    assert sim.wdt.timeout == 6000
    board = hal_board.Board(_config(motor=dict(motor, start_mv=0)))  # no kick asked
    board.motor.set_cell(3000)
    board.show(2, 0, 0, 0)
    assert sim.duties(15)[-1] == 2 * 65535 // 100 // 4


def test_a_watchdog_reset_is_reported_only_by_the_boot_right_after_it(sim):  # noqa: F811
    board = hal_board.Board(_config())
    sim.reset_all(machine.WDT_RESET)
    assert board.watchdog_reset_at_boot(9999)  # main.py, within 10 s of the chip reset
    assert not board.watchdog_reset_at_boot(10000)  # a later soft reset (mpremote)
    sim.reset_all(machine.PWRON_RESET)
    assert not board.watchdog_reset_at_boot(0)


def test_the_motor_runs_at_the_boards_frequency(sim):  # noqa: F811
    volts = {"rated_mv": 3000, "start_mv": 2500}
    hal_board.Board(_config(motor=dict(volts, pin=15, freq=25000)))
    assert sim.pwm[15].freq() == 25000
    hal_board.Board(_config(motor=dict(volts, pin=15)))
    assert sim.pwm[15].freq() == 20000


def test_a_button_is_active_low_unless_the_board_says_otherwise(sim):  # noqa: F811
    board = hal_board.Board(_config(button={"pin": 14}))
    assert sim.pins[14].pull == machine.Pin.PULL_UP and board.button.active_low
    board = hal_board.Board(_config(button={"pin": 14, "active_low": False}))
    assert sim.pins[14].pull == machine.Pin.PULL_DOWN and not board.button.active_low


def test_a_neopixel_board_drives_exactly_one_pixel(sim):  # noqa: F811
    board = hal_board.Board(_config(led={"kind": "neopixel", "pin": 16}))
    board.show(0, 10, 20, 30)
    np = sim.pixels[16]
    assert len(np.buf) == 3 and sim.pixel(16) == (10, 20, 30)


def test_the_error_and_safe_mode_lights_have_their_colours(sim):  # noqa: F811
    board = hal_board.Board(_config(led={"kind": "neopixel", "pin": 16}))
    board.show(60, 1, 2, 3)
    board.show_error()
    assert sim.pixel(16) == (255 * 40 // 100, 0, 0) and sim.duty(15) == 0  # red
    board.show(60, 1, 2, 3)
    board.show_safe_mode()
    assert sim.pixel(16) == (40 * 30 // 100, 90 * 30 // 100, 255 * 30 // 100)  # blue
    assert sim.duty(15) == 0


# -- Board.all_off: the last line of defence -------------------------------------------------

class _Raises:
    def __getattr__(self, name):
        raise OSError("driver gone")


def test_all_off_stops_the_motor_and_the_light(sim):  # noqa: F811
    board = hal_board.Board(hal_config.DEFAULT)
    board.show(70, 200, 100, 50)
    assert sim.duty(15) > 0 and sim.duty(25) > 0
    board.all_off()
    assert sim.duty(15) == 0 and sim.duty(25) == 0
    assert board.motor.percent == 0  # the next start is a soft start again


def test_all_off_with_a_failing_motor_driver_still_stops_the_motor(sim):  # noqa: F811
    board = hal_board.Board(hal_config.DEFAULT)
    board.show(70, 200, 100, 50)

    class OffFails(type(board.motor)):
        def off(self):
            raise OSError("driver gone")

    board.motor.__class__ = OffFails  # a duty write that fails: the last resort acts
    board.all_off()
    assert sim.duty(15) == 0
    assert sim.duty(25) == 0  # and the light still goes off after the motor failed


def test_all_off_when_the_pin_cannot_be_released_stops_the_motor_by_its_pwm(
        sim):  # noqa: F811
    board = hal_board.Board(hal_config.DEFAULT)
    board.show(70, 200, 100, 50)

    class ReleaseFails(type(board.motor)):
        def release(self):
            raise OSError("pin busy")

    board.motor.__class__ = ReleaseFails
    board.all_off()
    assert sim.duty(15) == 0 and sim.duty(25) == 0


def test_the_board_goes_to_sleep_dark_and_still(sim):  # noqa: F811
    board = hal_board.Board(hal_config.DEFAULT)
    board.show(70, 200, 100, 50)
    assert board.sleep(1000)
    assert sim.duty(15) == 0 and sim.duty(25) == 0


def test_a_port_without_reset_causes_reports_no_watchdog_reset(sim,  # noqa: F811
                                                              monkeypatch):
    board = hal_board.Board(_config())
    sim.reset_all(machine.WDT_RESET)
    monkeypatch.delattr(machine, "reset_cause")
    assert board.watchdog_reset_at_boot(0) is False


def test_all_off_with_a_failing_light_still_stops_the_motor(sim):  # noqa: F811
    board = hal_board.Board(hal_config.DEFAULT)
    board.show(70, 200, 100, 50)
    board.led = _Raises()
    board.all_off()
    assert sim.duty(15) == 0


# -- Store.install: a routine is replaced whole or not at all --------------------------------

def _text(name="mine", **changes):
    doc = json.loads(routines.text("daily"))
    doc.update(name=name, **changes)
    return json.dumps(doc).encode()


def _upload(store, name, data):
    with open(store.temp_path(name), "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path) + "/")  # a trailing slash is the same root
    s.ensure_dir()
    s.ensure_dir()  # twice is harmless
    return s


def test_install_rejects_bad_names_before_touching_anything(store, tmp_path):
    for bad in ("", "x" * 25, "Mine", "X", "../x", "a b", "a.json"):
        assert store.install(bad, "0" * 64) == "bad routine name %r" % bad
    for good in ("x" * 24, "a", "z-9_"):
        assert store.install(good, "0" * 64) == "no uploaded file for " + good


def test_a_store_anywhere_keeps_its_routines_under_its_root(tmp_path):
    assert Store().dir == "/routines"  # the device's own flash
    root = tmp_path / "FLASH_X"
    root.mkdir()
    for given in (str(root), str(root) + "/"):
        s = Store(given)
        s.ensure_dir()
        assert s.dir == str(root) + "/routines" and (root / "routines").is_dir()


def test_install_of_nothing_uploaded_says_so(store):
    assert store.install("mine", "0" * 64) == "no uploaded file for mine"


def test_install_checks_the_hash_and_drops_a_damaged_upload(store, tmp_path):
    data = _text()
    digest = _upload(store, "mine", data)
    _upload(store, "mine", data[:-1] + b" ")
    assert store.install("mine", digest) == (
        "upload of mine is damaged (hash mismatch); nothing changed")
    assert sorted(p.name for p in (tmp_path / "routines").iterdir()) == []


def test_install_of_an_invalid_routine_names_the_problem_and_drops_it(store, tmp_path):
    assert store.install("mine", _upload(store, "mine", _text(rounds=0))) == (
        "mine: rounds: must be 1..12, got 0")
    assert store.install("mine", _upload(store, "mine", _text("other"))) == (
        "mine: its name field is 'other', not 'mine'")
    assert list((tmp_path / "routines").iterdir()) == []


def test_install_replaces_the_old_routine_whole(store, tmp_path):
    assert store.install("mine", _upload(store, "mine", _text(rounds=1))) == "ok"
    new = _text(rounds=2)
    assert store.install("mine", _upload(store, "mine", new)) == "ok"
    assert (tmp_path / "routines" / "mine.json").read_bytes() == new
    assert [p.name for p in (tmp_path / "routines").iterdir()] == ["mine.json"]
    assert store.programs()[0][-1].rounds == 2


def test_install_on_a_filesystem_that_cannot_rename_over_a_file(store, tmp_path,
                                                                 monkeypatch):
    import os

    from massager import store as store_module

    assert store.install("mine", _upload(store, "mine", _text(rounds=1))) == "ok"
    real = os.rename

    def fat_rename(a, b):  # FAT: rename onto an existing file fails
        if os.path.exists(b):
            raise OSError(17, "EEXIST")
        real(a, b)

    monkeypatch.setattr(store_module.os, "rename", fat_rename)
    new = _text(rounds=3)
    assert store.install("mine", _upload(store, "mine", new)) == "ok"
    assert (tmp_path / "routines" / "mine.json").read_bytes() == new


def test_a_big_upload_is_hashed_in_full(store):
    data = _text(title="t" * 40)
    data = data[:-1] + b" " * 1500 + b"}"  # several 512-byte reads
    assert store.install("mine", _upload(store, "mine", data)) == "ok"


# -- the app's stop paths ----------------------------------------------------------------------

class _Out:
    def __init__(self):
        self.shown = []

    def show(self, motor, r, g, b):
        self.shown.append((motor, r, g, b))


def _running(at=5000):
    out = _Out()
    a = device.App([builtin("weekly")], out)
    a.begin(0)
    a.press("short", 0)
    now = 0
    while a.motor == 0:
        now = a.next_wake()
        a.update(now)
    return a, out, now


@pytest.mark.parametrize("how", ["long", "stuck", "power_off"])
def test_every_stop_turns_the_motor_off_at_once(how):
    a, out, now = _running()
    if how == "power_off":
        a.power_off(now)
        want = device.OFF
    else:
        a.press(how, now)
        want = device.IDLE
    assert a.state == want and out.shown[-1][0] == 0 and a.motor == 0
    assert a.seq.finished and a.seq.motor == 0
    assert a.next_wake() is None if want == device.OFF else a.next_wake() > now


def test_a_double_click_on_the_button_itself_skips_to_the_next_step():
    a, out, now = _running()
    step = a.step
    for i, pressed in enumerate((True, False, True, False)):  # 100 ms apart: a double
        a.edge(pressed, now + 100 * i)
    assert a.state == device.RUNNING and a.step == step + 1


def test_a_press_in_off_wakes_it_at_the_press_and_does_nothing_else():
    out = _Out()
    a = device.App([builtin("weekly")], out)
    a.begin(0)
    level = a.level
    a.power_off(1000)
    assert a.state == device.OFF and out.shown[-1] == (0, 0, 0, 0)
    a.edge(True, 2000)
    assert a.state == device.IDLE and out.shown[-1][1:] != (0, 0, 0)  # lit at the press
    for now in range(2000, 9000, 250):  # held on for 7 s: past the long and hold times
        a.update(now)
    a.edge(False, 9000)
    a.update(10000)
    assert a.state == device.IDLE and a.level == level and a.motor == 0


@pytest.mark.parametrize("paused", [False, True])
def test_a_low_battery_shows_at_once_and_goes_when_charged(paused):
    out = _Out()
    a = device.App([builtin("weekly")], out)
    a.begin(0)
    now = 0
    if paused:
        a, out, now = _running()
        a.press("short", now)
    before = out.shown[-1]
    a.set_low_battery(True, now + 1)
    assert out.shown[-1] != before and out.shown[-1][0] == 0
    a.set_low_battery(False, now + 2)
    assert out.shown[-1] == before


def test_a_stop_while_paused_stays_off_and_forgets_the_session():
    a, out, now = _running()
    a.press("short", now)
    assert a.state == device.PAUSED and out.shown[-1][0] == 0
    a.press("long", now + 10)
    assert a.state == device.IDLE and a.seq.finished
    a.press("short", now + 20)  # a new session from the start
    assert a.state == device.RUNNING and a.session_start == now + 20
    assert (a.step, a.round, a.rep) == (1, 1, 0) and a.cue == "start"


def test_skipping_and_level_changes_keep_the_session_going():
    a, out, now = _running()
    step = a.step
    a.press("double", now)
    assert a.state == device.RUNNING and a.step == step + 1
    a.press("short", now + 10)
    a.press("double", now + 20)  # paused: next level
    assert a.level == 2 and a.state == device.PAUSED
    a.press("short", now + 30)
    assert a.state == device.RUNNING and a.session_start == 0


def test_the_headless_driver_stops_when_the_session_is_over():
    lines = []
    a = headless.play([builtin("daily")], headless.parse_buttons("0:short,1000:long"),
                      lines.append)
    assert a.state == device.IDLE and json.loads(lines[-1])["t"] == 1000


# -- the rest of the store: reading, listing, removing, the error log --------------------------

def test_a_routine_file_is_read_only_up_to_the_size_limit(store, tmp_path):
    big = _text()[:-1] + b" " * 20000 + b"}"
    (tmp_path / "routines" / "big.json").write_bytes(big)
    assert store.load("big") == (None, ["routines/big.json: file is 16385 bytes, limit is "
                                        "16384"])
    assert store.install("big", _upload(store, "big", big)) == (
        "big: file is 16385 bytes, limit is 16384")
    exact = _text("exact")
    exact = exact[:-1] + b" " * (16384 - len(exact)) + b"}"
    assert len(exact) == 16384
    _upload(store, "exact", exact)  # a file right at the limit is still hash-checked
    assert store.install("exact", "0" * 64) == (
        "upload of exact is damaged (hash mismatch); nothing changed")
    assert store.install("exact", _upload(store, "exact", exact)) == "ok"


def test_unreadable_and_hidden_files(store, tmp_path, monkeypatch):
    from massager import store as store_module

    (tmp_path / "routines" / "dir.json").mkdir()
    (tmp_path / "routines" / ".hidden.json").write_bytes(_text("hidden"))
    assert store.names() == ["dir"]
    assert store.programs()[1] == ["routines/dir.json: cannot read"]

    def no_memory(*args):
        raise MemoryError

    monkeypatch.setattr(store_module, "open", no_memory, raising=False)
    assert store.load("dir") == (None, ["routines/dir.json: too large to read"])


def test_a_broken_builtin_says_which_when_it_is_compiled(tmp_path, monkeypatch):
    # Built-ins compile when first asked for (store.Catalog): a broken one raises there,
    # and the runtime's fault path takes over; the others still compile.
    real = routines.text
    monkeypatch.setattr(routines, "text", lambda name: "{" if name == "daily" else real(name))
    progs, problems = Store(str(tmp_path)).programs()
    assert problems == [] and len(progs) == 2 and progs[1].name == "weekly"
    with pytest.raises(ValueError, match="^builtin daily: not valid JSON at line 1: the "
                                         "file ends too early$"):
        progs[0]


def test_remove(store, tmp_path):
    assert store.install("mine", _upload(store, "mine", _text())) == "ok"
    assert store.remove("mine") == "ok" and store.names() == []
    assert not (tmp_path / "routines" / "mine.json").exists()
    assert store.remove("mine") == "no routine mine on the device"


def _log_model(lines, limit=2048):
    """The error log as specified: one line per entry (newlines folded, at most 200
    characters); once the file is over `limit` bytes, the older half is dropped at a
    line boundary before the next entry."""
    log = ""
    for text in lines:
        if len(log) > limit:
            tail = log[len(log) // 2:]
            log = tail[tail.find("\n") + 1:]
        log += text.replace("\n", " ")[:200] + "\n"
    return log


@pytest.mark.parametrize("sizes", [[127] * 17, [127] * 20, [127] * 15 + [128, 10],
                                   [250, 10, 99] * 12,
                                   [2047, 5, 5], [300] * 3])
def test_the_error_log_keeps_the_newer_half(store, tmp_path, sizes):
    lines = ["%03d" % i + "\n" + "x" * (n - 4) for i, n in enumerate(sizes)]
    for line in lines:
        store.log_error(line)
    assert (tmp_path / "error.log").read_text() == _log_model(lines)


def test_a_remembered_level_out_of_range_means_the_middle_level():
    for level in (-1, 3, 7):
        a = device.App([builtin("daily")], _Out(), level=level)
        assert a.level == 1
    assert device.App([builtin("daily")], _Out(), level=2).level == 2


def test_edges_without_a_wake_between_are_decided_in_order():
    # The first click's window ends before the second press: two shorts, not a double.
    a = device.App([builtin("daily"), builtin("weekly")], _Out())
    a.begin(0)
    a.edge(True, 0)
    a.edge(False, 100)
    a.edge(True, 1000)
    assert a.state == device.RUNNING and a.selected == 0
    a.edge(False, 1100)
    a.update(1600)
    assert a.state == device.PAUSED


@pytest.mark.parametrize("gesture", ["short", "double", "long"])
def test_any_press_after_the_end_goes_back_to_idle(gesture):
    a = device.App([builtin("daily")], _Out())
    a.begin(0)
    a.press("short", 0)
    while a.state == device.RUNNING:
        a.update(a.next_wake())
    assert a.state == device.DONE
    a.press(gesture, a.since + 10)
    assert a.state == device.IDLE


def test_double_presses_step_through_every_routine_in_order():
    progs = [builtin("daily"), builtin("weekly"), builtin("daily")]
    a = device.App(progs, _Out())
    a.begin(0)
    seen = []
    for i in range(4):
        a.press("double", 1000 * i)
        seen.append(a.selected)
    assert seen == [1, 2, 0, 1]


def test_a_level_change_while_paused_shows_at_once():
    a, out, now = _running()
    a.press("short", now)
    before = out.shown[-1]
    a.press("double", now + 10)  # the next level: brighter paused light
    assert a.state == device.PAUSED and out.shown[-1][0] == 0
    assert sum(out.shown[-1][1:]) > sum(before[1:])


def test_after_a_long_session_the_button_acts_on_done_and_idle_as_shown():
    weekly = builtin("weekly")
    lines = []
    headless.play([weekly], headless.parse_buttons("0:short"), lines.append)
    done = json.loads(lines[-1])["t"]
    # A click during the done light goes back to idle; one in idle starts a session.
    script = "0:short,%d:down,%d:up,%d:down,%d:up" % (
        done + 1000, done + 1100, done + 20000, done + 20100)
    lines = []
    headless.play([weekly], headless.parse_buttons(script), lines.append,
                  until=done + 30000)
    states = [(json.loads(x)["t"] - done, json.loads(x)["state"]) for x in lines
              if json.loads(x)["t"] > done]
    assert states[:2] == [(1500, "idle"), (20500, "running")]


def test_a_press_that_changes_nothing_adds_no_trace_line():
    lines = []
    headless.play([builtin("daily")], headless.parse_buttons("0:double,1000:double"),
                  lines.append, until=2000)
    assert len(lines) == 1  # one routine: "next routine" is the same one, nothing changed


def test_the_done_light_is_the_same_at_every_level_and_off_is_dark():
    from massager import feel

    for level in range(3):
        lines = []
        headless.play([builtin("daily")], headless.parse_buttons("0:short"), lines.append,
                      level=level, until=20 * 60000)
        recs = [json.loads(x) for x in lines]
        done = next(r for r in recs if r["state"] == "done")
        green = feel.COLORS[feel.DONE_LED[0]]
        assert done["led"] == [c * feel.DONE_LED[1] // 100 for c in green]
        assert recs[-1]["state"] == "off" and recs[-1]["led"] == [0, 0, 0]


def test_a_long_press_in_idle_shows_the_new_level_at_once():
    out = _Out()
    a = device.App([builtin("daily")], out)
    a.begin(0)
    before = out.shown[-1]
    a.press("long", 1000)
    assert a.level == 2 and sum(out.shown[-1][1:]) > sum(before[1:])


def test_a_level_chosen_while_paused_drives_the_motor_after_resuming():
    from test_safety_limits import compiled, strong

    a = device.App([compiled(strong(100))], _Out())
    a.begin(0)
    a.press("short", 0)
    now = 0
    while a.motor == 0 or a.cue != "glide":
        now = a.next_wake()
        a.update(now)
    a.press("short", now)
    a.press("double", now + 10)  # 75 % -> 100 %
    a.press("short", now + 20)
    top = 0
    while a.state == device.RUNNING and a.rep == 1:
        top = max(top, a.motor)
        now = a.next_wake()
        a.update(now)
    assert top == 90  # 100 % of 100, capped; at 75 % it would be 75


def test_the_battery_adc_reads_the_full_range_where_the_port_can(sim):  # noqa: F811
    board = hal_board.Board(_config())
    assert board.battery.adc._atten == machine.ADC.ATTN_11DB


def test_an_edge_exactly_at_the_debounce_time_counts():
    from test_button import feed

    from massager import button

    assert feed([(0, True), (50, False)], 5000) == [(450, button.SHORT)]


def test_polling_early_or_after_stuck_decides_nothing():
    from massager import button

    g = button.Gestures()
    assert g.poll(100000) is None  # nothing pressed, nothing to decide
    g.edge(True, 5000)
    assert [g.poll(t) for t in (5000, 5500, 5999)] == [None] * 3  # before the long press
    assert g.poll(6000) == button.LONG and g.poll(6001) is None
    assert g.poll(8000) == button.HOLD and g.poll(15000) == button.STUCK
    assert g.deadline() is None and g.poll(60000) is None and g.stuck


def test_the_button_is_settled_once_still_and_up_for_the_debounce_time():
    from massager import button

    g = button.Gestures()
    assert g.settled(0) == 0  # never touched
    g.edge(True, 1000)
    assert g.settled(5000) == -1  # held
    g.edge(False, 5100)
    assert g.settled(5200) == -1  # a click still open: it may become a double
    g.edge(True, 5200)
    assert g.edge(False, 5300) == button.DOUBLE
    # Up, nothing open: still once no bounce can come, 50 ms after the last edge.
    assert [g.settled(t) for t in (5310, 5349, 5350, 5400)] == [40, 1, 0, 0]


def test_a_spent_press_decides_nothing_but_is_still_reported_stuck():
    from massager import button

    g = button.Gestures()
    g.edge(True, 0)
    g.spend()  # the press woke the device: it is not also a long press or a hold
    assert [g.poll(t) for t in (1000, 3000, 9999)] == [None] * 3
    assert g.poll(10000) == button.STUCK and g.stuck


def test_a_tap_inside_the_debounce_time_is_released_when_the_window_ends():
    from massager import button

    g = button.Gestures()
    g.edge(True, 0)
    g.edge(False, 20)  # up again before the 50 ms window is over
    assert g.deadline() == 50
    assert g.poll(30) is None and g.down  # polled early: still inside the window
    g.poll(50)
    assert not g.down and g.poll(450) == button.SHORT


# -- the device loop ------------------------------------------------------------------------------

def _device(tmp_path):
    from simulator.device import SimDevice

    return SimDevice(str(tmp_path))


def test_three_faults_in_a_row_stop_the_loop_with_the_motor_off(tmp_path):
    dev = _device(tmp_path)
    rt = dev.runtime
    dev.click()
    dev.run_until(8000)

    def broken():
        raise RuntimeError("again")

    rt._step = broken
    assert rt.step() >= 0 and rt.step() >= 0  # two recoveries: built-ins, error light
    with pytest.raises(RuntimeError):
        rt.step()  # the third gives up: run() ends, the REPL is free
    assert dev.motor_duty() == 0
    # The same from the very first wake of a new loop.
    from massager.runtime import Runtime

    rt = Runtime(dev.board, dev.clock, dev.store)
    rt._step = broken
    assert rt.step() >= 0 and rt.step() >= 0
    with pytest.raises(RuntimeError):
        rt.step()  # the third gives up: run() ends, the REPL is free
    assert dev.motor_duty() == 0
    log = open(dev.store.root + "/error.log").read()
    assert ["fault 1: RuntimeError: again", "fault 2: RuntimeError: again",
            "fault 3: RuntimeError: again"] == log.splitlines()[-3:]


def test_a_fault_after_a_quiet_wait_still_keeps_the_watchdog_fed(tmp_path):
    dev = _device(tmp_path)
    dev.click()
    dev.run_until(10000)
    dev.click()  # paused: the loop only wakes to feed the watchdog
    dev.run_until(30000)
    assert dev.app.state == "paused"
    dev.app.update = None  # the next wake fails (not callable) after a long wait
    dev.run_until(90000)
    assert dev.resets == 0 and dev.app.state == "idle" and dev.app.error


def test_the_loop_sleeps_a_minute_at_most_before_a_session_and_4_s_after(tmp_path):
    dev = _device(tmp_path)
    assert json.loads(dev.lines[0])["t"] == 0  # the uptime starts at the boot
    assert dev.runtime.step() == 60000  # idle, no watchdog: only the button matters
    dev.click()
    dev.run_until(10000)
    dev.click()
    dev.run_until(12000)
    assert dev.app.state == "paused" and dev.runtime.step() == 4000  # armed: fed in time


def _asyncio_as_micropython():
    """CPython's asyncio under the names MicroPython's has (sleep_ms)."""
    import asyncio

    class Shim:
        CancelledError = asyncio.CancelledError
        create_task = staticmethod(asyncio.create_task)
        current_task = staticmethod(asyncio.current_task)

        @staticmethod
        async def sleep_ms(ms):
            await asyncio.sleep(ms / 1000)

    return Shim


class _MicroPython:
    """The `micropython` module's schedule(), where the loop asks for it."""

    @staticmethod
    def schedule(func, arg):
        func(arg)


def test_the_running_loop_wakes_on_a_button_edge_and_stops_with_the_motor_off(tmp_path,
                                                                             monkeypatch):
    import asyncio
    import sys
    import time

    monkeypatch.setitem(sys.modules, "micropython", _MicroPython)
    dev = _device(tmp_path)

    async def scenario():
        task = asyncio.create_task(dev.runtime.run(_asyncio_as_micropython(), asyncio.Event()))
        await asyncio.sleep(0.05)  # the loop now sleeps for a minute (idle, no watchdog)
        dev.sim.press(dev.button_pin, True)  # the IRQ sets the flag
        end = time.monotonic() + 10
        while not dev.runtime.app.gestures.down and time.monotonic() < end:
            await asyncio.sleep(0.01)
        woke = dev.runtime.app.gestures.down
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(0)  # let a cancelled button task finish
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return woke and not left  # the button task ended with the loop

    assert asyncio.run(scenario())  # the edge reached the app long before the minute
    assert dev.motor_duty() == 0 and dev.sim.duty(25) > 0  # stopped: the error light


def _main_on_the_simulated_board(tmp_path, monkeypatch):
    """runtime.main() as /main.py runs it, on the simulated board with a flash directory:
    the device and the list the Runtimes it makes go to."""
    import sys

    from massager import runtime
    from massager import store as store_module
    from massager.hal import board as board_module

    monkeypatch.setitem(sys.modules, "micropython", _MicroPython)
    dev = _device(tmp_path)  # the simulated machine and a virtual clock as `time`
    (tmp_path / "routines").mkdir(exist_ok=True)
    (tmp_path / "routines" / "mine.json").write_bytes(_text())
    monkeypatch.setattr(store_module, "Store", lambda root: Store(str(tmp_path) + root))
    monkeypatch.setattr(board_module, "load_config",
                        lambda: (hal_config.DEFAULT, "/board.json: not found, using pico"))
    made = []

    class Recorded(runtime.Runtime):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(runtime, "Runtime", Recorded)
    return dev, made


@pytest.mark.parametrize("stop", [TimeoutError, KeyboardInterrupt])
def test_main_ends_with_the_motor_off_whatever_stops_it(tmp_path, monkeypatch, stop):
    import asyncio

    from massager import runtime

    dev, made = _main_on_the_simulated_board(tmp_path, monkeypatch)
    monkeypatch.setattr(asyncio, "sleep_ms", lambda ms: asyncio.sleep(ms / 1000),
                        raising=False)
    real_run = asyncio.run
    began = []

    def run(coro):  # the loop runs a moment, then something stops it
        async def go():
            task = asyncio.create_task(coro)
            await asyncio.sleep(0.05)
            began.append(made[0].app.state)
            made[0].board.show(80, 0, 0, 0)  # the motor was running
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            raise stop("stopped here")
        return real_run(go())

    monkeypatch.setattr(asyncio, "run", run)
    with pytest.raises(stop):
        runtime.main()
    assert began == ["idle"]  # the loop began: the idle light, the button live
    assert [p.name for p in made[0].app.programs] == ["daily", "weekly", "mine"]
    assert dev.motor_duty() == 0
    log = (tmp_path / "error.log").read_text().splitlines()
    problem = "/board.json: not found, using pico"
    assert problem in log
    stopped = [line for line in log[log.index(problem):] if line.startswith("stopped")]
    if stop is KeyboardInterrupt:  # Ctrl-C from mpremote: quietly off, the REPL free
        assert stopped == [] and dev.sim.duty(25) == 0
    else:
        assert stopped == ["stopped: TimeoutError: stopped here"] and dev.sim.duty(25) > 0


def test_main_waits_on_a_thread_safe_flag_where_asyncio_has_one(tmp_path, monkeypatch):
    import asyncio

    from massager import runtime

    dev, made = _main_on_the_simulated_board(tmp_path, monkeypatch)
    flags = []

    class ThreadSafeFlag:  # MicroPython's: set() from an IRQ, wait() clears it
        def __init__(self):
            self._event = asyncio.Event()
            flags.append(self)

        def set(self):
            self._event.set()

        async def wait(self):
            await self._event.wait()
            self._event.clear()

    monkeypatch.setattr(asyncio, "ThreadSafeFlag", ThreadSafeFlag, raising=False)
    monkeypatch.setattr(asyncio, "sleep_ms", lambda ms: asyncio.sleep(ms / 1000),
                        raising=False)
    real_run = asyncio.run

    def run(coro):
        async def go():
            task = asyncio.create_task(coro)
            await asyncio.sleep(0.05)
            dev.sim.press(dev.button_pin, True)  # the IRQ sets the flag itself
            await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return made[0].app.gestures.down
        return real_run(go())

    monkeypatch.setattr(asyncio, "run", run)
    runtime.main()
    assert len(flags) == 1 and made[0].board.button.notify == flags[0].set


def test_main_on_the_webassembly_build_hands_the_loop_to_the_host(tmp_path, monkeypatch):
    import asyncio

    from massager import runtime

    dev, made = _main_on_the_simulated_board(tmp_path, monkeypatch)
    monkeypatch.setattr(asyncio, "sleep_ms", lambda ms: asyncio.sleep(ms / 1000),
                        raising=False)
    real_run = asyncio.run
    monkeypatch.delattr(asyncio, "run")  # its asyncio has no run(): the page's loop drives

    async def host():
        runtime.main()  # returns at once, the loop a task of the host's event loop
        await asyncio.sleep(0.05)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        state = made[0].app.state
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks), state

    assert real_run(host()) == (2, "idle")  # the loop and its button task


def test_ctrl_c_while_main_starts_keeps_a_watchdog_from_before_fed(tmp_path, monkeypatch):
    from massager import runtime

    dev, made = _main_on_the_simulated_board(tmp_path, monkeypatch)
    machine.WDT(timeout=5000)  # armed by a session before mpremote's soft reset
    dev.sim.soft_reset()

    def interrupted(*args):
        raise KeyboardInterrupt  # Ctrl-C while the routines load

    monkeypatch.setattr(runtime, "Runtime", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runtime.main()
    for _ in range(30):  # half a minute at the REPL: no reset cuts the host off
        dev.clock.ms += 1000
        dev.sim.run_timers()
        assert not dev.sim.wdt_expired()


def test_a_resume_well_inside_the_cap_continues_a_session_that_began_late():
    # Started 4 min after power-up; paused twice for under 5 min: 13:50 of session time.
    m = 60000
    script = "%d:short,%d:short,%d:short,%d:short,%d:short" % (
        4 * m, 8 * m, 12 * m + 50000, 13 * m, 17 * m + 50000)
    lines = []
    headless.play([builtin("weekly")], headless.parse_buttons(script), lines.append,
                  until=18 * m)
    recs = [json.loads(x) for x in lines]
    before = [r for r in recs if r["t"] < 13 * m][-1]
    after = [r for r in recs if r["t"] >= 17 * m + 50000]
    assert after[0]["state"] == "running" and after[0]["cue"] != "start"
    assert (after[0]["round"], after[0]["step"]) == (before["round"], before["step"])


def test_edges_keep_the_time_the_irq_saw_them(tmp_path):
    dev = _device(tmp_path)
    t = dev.clock.ms
    dev.sim.press(dev.button_pin, True)  # the loop is busy: the IRQ stamps the edges
    dev.clock.ms += 80
    dev.sim.press(dev.button_pin, False)
    dev.clock.ms += 220
    dev.run_until(dev.clock.ms)  # the loop wakes 300 ms after the press
    dev._wake()
    dev.run_until(t + 1000)
    assert dev.app.state == "running"  # a click (80 ms), not a press held from 300 ms


def test_a_battery_that_runs_down_later_is_still_caught(tmp_path):
    from test_safety_limits import _battery

    dev = _device(tmp_path)
    dev.click()
    dev.run_until(100000)
    assert dev.app.state == "running"
    _battery(dev, 3300, below=True)
    dev.run_until(140000)
    assert dev.app.state == "off" and dev.motor_duty() == 0


def test_a_fault_stops_the_motor_before_the_builtins_are_loaded_again(tmp_path):
    (tmp_path / "routines").mkdir()
    (tmp_path / "routines" / "mine.json").write_bytes(_text())
    (tmp_path / "routines" / "bad.json").write_bytes(b"{")
    dev = _device(tmp_path)
    log = (tmp_path / "error.log").read_text()
    assert "routines/bad.json: not valid JSON" in log  # a load problem is logged
    dev.click()
    while dev.motor_duty() == 0:
        dev.run_until(dev._next)
    seen = []
    real = dev.store.programs
    dev.store.programs = lambda user=True: (seen.append((user, dev.motor_duty())),
                                            real(user))[1]

    def broken(now):
        raise RuntimeError("injected")

    dev.app.seq.update = broken
    dev.run_until(dev._next)
    assert seen == [(False, 0)]  # built-ins only, and the motor already off
    assert [p.name for p in dev.app.programs] == ["daily", "weekly"] and dev.app.error


def test_a_long_press_while_the_loop_is_busy_is_still_a_long_press(tmp_path):
    dev = _device(tmp_path)
    level = dev.app.level
    dev.sim.press(dev.button_pin, True)  # the loop is busy: only the IRQ sees the edges
    dev.clock.ms += 1500
    dev.sim.press(dev.button_pin, False)
    dev.clock.ms += 100
    dev._wake()  # 1.6 s later it reads both edges, with the times the IRQ gave them
    dev.run_until(dev.clock.ms + 1000)
    assert dev.app.state == "idle" and dev.app.level != level  # a level change, no session


def test_a_battery_that_stops_reading_takes_the_low_light_away(tmp_path):
    from test_safety_limits import _battery

    dev = _device(tmp_path)
    _battery(dev, 3400)  # low, above the cut-off
    dev.run_until(70000)  # idle: the loop wakes each minute, and reads it then
    assert dev.app.low_battery and dev.app.state == "idle"
    dev.sim.float_adc(dev.board.config["battery"]["pin"])  # the cell is taken out: USB power
    dev.run_until(140000)
    assert not dev.app.low_battery and dev.app.state == "idle"


def _loop_in_asyncio(dev, scenario):
    """Run dev's Runtime.run() in CPython's asyncio (MicroPython's names shimmed), then
    `scenario(task)` beside it."""
    import asyncio

    async def go():
        task = asyncio.create_task(dev.runtime.run(_asyncio_as_micropython(), asyncio.Event()))
        await asyncio.sleep(0.02)
        return await scenario(task)

    return asyncio.run(go())


def test_an_event_is_set_through_the_scheduler_never_from_the_irq(tmp_path, monkeypatch):
    import asyncio
    import sys

    scheduled = []

    class MicroPython:
        @staticmethod
        def schedule(func, arg):
            scheduled.append(func)
            func(arg)

    monkeypatch.setitem(sys.modules, "micropython", MicroPython)
    dev = _device(tmp_path)

    async def scenario(task):
        dev.sim.press(dev.button_pin, True)  # the hard IRQ: the heap is locked there
        await asyncio.sleep(0.05)
        task.cancel()
        return dev.app.gestures.down

    assert _loop_in_asyncio(dev, scenario) and len(scheduled) == 1


def test_interrupt_stops_the_loop_through_its_cleanup(tmp_path, monkeypatch):
    import asyncio
    import sys

    monkeypatch.setitem(sys.modules, "micropython", _MicroPython)
    dev = _device(tmp_path)
    assert dev.runtime.interrupt() is False  # not running: nothing to stop

    async def scenario(task):
        dev.board.show(80, 0, 0, 0)
        stopped = dev.runtime.interrupt()
        try:
            await asyncio.wait_for(task, 5)
        except asyncio.CancelledError:
            pass
        return stopped, task.done(), dev.runtime.interrupt()

    assert _loop_in_asyncio(dev, scenario) == (True, True, False)
    assert dev.motor_duty() == 0 and dev.sim.duty(25) > 0  # off, with the error light


def test_a_loop_that_stops_leaves_an_armed_watchdog_fed(tmp_path):
    dev = _device(tmp_path)
    dev.click()
    dev.run_until(5000)
    assert dev.sim.wdt is not None  # armed by the session
    dev.runtime.halt()  # Ctrl-C or a fault it gave up on: the loop feeds it no more
    for _ in range(60):  # a minute at the REPL
        dev.clock.ms += 1000
        dev.sim.run_timers()
        assert not dev.sim.wdt_expired()
    assert dev.motor_duty() == 0


def test_on_the_virtual_device_every_change_reaches_its_trace(monkeypatch):
    import sys

    from massager import runtime

    assert runtime._trace_recorder() is None  # on a board: no recorder
    lines = []
    monkeypatch.setitem(sys.modules, "_vdev", type("V", (), {"trace": lines.append}))
    record = runtime._trace_recorder()
    a = device.App([builtin("daily")], _Out(), on_change=record)
    a.begin(0)
    assert len(lines) == 1 and json.loads(lines[0])["state"] == "idle"


def test_after_a_blocking_light_sleep_the_loop_waits_only_what_is_left(tmp_path):
    # On a board, lightsleep() blocks for its time (or until the press); the simulator's
    # returns at once and lets the loop's own wait be the sleep. Both must come out right.
    dev = _device(tmp_path)
    dev.run_until(6 * 60000)
    assert dev.app.state == "off"
    slept = []
    lasts = [4000, 3999, 1000, 4500]  # the timer, 1 ms short, a press, a late wake

    def blocking_sleep(ms):
        dev.board.all_off()
        dev.clock.ms += lasts[len(slept)]
        slept.append(ms)
        return True

    dev.board.sleep = blocking_sleep
    left = [dev.runtime.rest(4000) for _ in lasts]
    assert slept == [4000] * 4 and left == [0, 1, 3000, 0]
