# The power latch on the stock rp2 port, on the emulated RP2040 (simulator/rp2040/pico.mjs):
# with the USB cable out, the cell powers the board through the latch only while the button
# is down or the hold pin (GP13) is high. Every way to off lets go of the hold, and the chip
# stops unpowered (RAM gone, the flash kept); a press powers it up from scratch (PWRON),
# provided it lasts until the real boot drives the hold again.
#
# One story in emulated time (hold=True), shared by the tests: a user routine pushed over
# USB, the cable pulled, then a 3 s hold and five idle minutes, each followed by a press.
import json
import shutil

import pytest

from helpers import massager, mpremote, routine_doc
from promised import IDLE_OFF, POWER_ON_PRESS
from simulator.pico import EmulatedPico
from simulator.pins import pin_series

MOTOR, LED, HOLD = 15, 25, 13  # boards/pico/board.json
SETTLE_MS = 2500  # a press, its boot and the idle light, with room (about 1 s on the port)


def boots(pico, since):
    return [e for e in pico.events[since:] if e["ev"] == "boot"]


def press(pico, ms):
    """A press of `ms` on the unpowered board, then time to boot; the boot events it made."""
    n = len(pico.events)
    pico.script([(0, 1), (ms, 0)])
    pico.run(SETTLE_MS)
    return boots(pico, n)


def idle_light(pico, since):
    led = [v for t, v in pin_series(pico.changes(LED), 255) if t >= since]
    return bool(led) and led[-1] > 0


def unpowered(pico):
    """Off for real: an "off" event last, and every pad undriven (the motor's gate pulled
    down, no light)."""
    return pico.off and all(pico.changes(pin)[-1].fn == "input" for pin in (MOTOR, LED, HOLD))


class Story:
    def __init__(self, pico, routine):
        pico.run(SETTLE_MS)  # booted to idle, on USB
        rc, _, err = massager("push", routine, "-p", pico.port)
        assert rc == 0, err
        pico.set_usb(False)
        pico.run(SETTLE_MS)
        self.on_the_cell = not pico.off and idle_light(pico, 0)
        self.offs = {}
        self.presses = {}

        def off_by(name, action, short=False):
            action()
            self.offs[name] = unpowered(pico)
            if short:
                # A press shorter than the boot: the chip starts, the press ends before the
                # hold is driven, and the power goes again.
                start = pico.now()
                self.short = (press(pico, 50), pico.off,
                              not any(c.duty == 1 for c in pico.changes(HOLD, since=start)))
            at = pico.now()
            self.presses[name] = (press(pico, POWER_ON_PRESS), idle_light(pico, at),
                                  not pico.off)

        off_by("hold 3 s", lambda: (pico.script([(0, 1), (3500, 0)]), pico.run(5000)))
        # The press that powered it on: from its boot to the hold driven high.
        boot = self.presses["hold 3 s"][0][-1]["t"] / 1e6
        self.boot_to_hold = next(c.t for c in pico.changes(HOLD, since=boot)
                                 if c.fn == "out" and c.duty == 1) - boot

        def idle():
            pico.run(IDLE_OFF - 2 * SETTLE_MS)  # (the boot's press and settling came first)
            self.on_before_idle_off = not pico.off
            pico.run(2 * SETTLE_MS + 5000)

        off_by("idle", idle, short=True)

        pico.set_usb(True)  # the cable back in: the host reads the flash
        pico.run(500)
        rc, out, err = massager("ls", "-p", pico.port)
        self.routines = [line.split()[0] for line in out.splitlines()] if rc == 0 else err
        r = mpremote(pico.port, "exec", "import machine; print(machine.reset_cause())")
        self.cause = r.stdout.split()
        self.watchdog_resets = pico.count("watchdog")


@pytest.fixture(scope="module")
def story(pico_image, tmp_path_factory):
    folder = tmp_path_factory.mktemp("latch")
    image = folder / "flash.img"
    shutil.copy(pico_image, image)
    routine = folder / "mine.json"
    routine.write_text(json.dumps(routine_doc(name="mine", title="Old"), indent=2))
    with EmulatedPico(str(image), hold=True) as pico:
        s = Story(pico, routine)
    s.image = image
    return s


def test_on_the_cell_the_board_runs_while_the_boot_holds_the_latch(story):
    assert story.on_the_cell


# (A flat cell and a stuck button: on the virtual device and the simulated board.)
@pytest.mark.parametrize("way", ["hold 3 s", "idle"])
def test_every_way_to_off_unpowers_the_chip_and_a_press_brings_it_to_idle(story, way):
    assert story.offs[way]
    booted, idle, on = story.presses[way]
    assert [b["cause"] for b in booted] == ["power"] and idle and on


def test_the_idle_power_off_comes_after_five_minutes(story):
    assert story.on_before_idle_off


def test_a_press_shorter_than_the_boot_leaves_it_off(story):
    booted, off, never_held = story.short
    assert [b["cause"] for b in booted] == ["power"]  # the chip started...
    assert off and never_held  # ...and lost the power before the boot took the hold


def test_the_real_boot_drives_the_hold_within_the_promised_press(story):
    assert 0 < story.boot_to_hold < POWER_ON_PRESS, story.boot_to_hold


def test_every_routine_is_intact_after_the_power_cuts(story):
    assert story.routines == ["mine", "daily", "weekly"]
    assert story.cause == ["1"]  # machine.PWRON_RESET: the last press powered it up
    assert story.watchdog_resets == 0


def test_a_power_loss_in_a_push_then_a_press_gives_the_old_routine_or_the_new(story,
                                                                               tmp_path):
    image = shutil.copy(story.image, tmp_path / "cut.img")
    new = tmp_path / "mine.json"
    new.write_text(json.dumps(routine_doc(name="mine", title="New"), indent=2))
    with EmulatedPico(str(image), hold=True) as pico:
        pico.run(SETTLE_MS)
        pico.power_cut(after_flash_ops=2)  # in the middle of littlefs's writes
        rc, _, err = massager("push", new, "-p", pico.port)
    assert rc == 1 and len(err.splitlines()) == 1, err
    with EmulatedPico(str(image), hold=True, usb=False, powered=False) as pico:
        pico.run(500)
        assert pico.off
        booted = press(pico, POWER_ON_PRESS)
        assert [b["cause"] for b in booted] == ["power"] and idle_light(pico, 500)
        pico.set_usb(True)
        pico.run(500)
        rc, out, err = massager("ls", "-p", pico.port)
    titles = [line.split()[1] for line in out.splitlines() if line.split()[0] == "mine"]
    assert rc == 0 and titles in (["Old"], ["New"]), out + err
