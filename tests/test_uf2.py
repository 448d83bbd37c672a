# `massager uf2`: one file that installs MicroPython, the firmware and the built-in routines
# on an RP2040 board by drag and drop. The file is checked as the RP2040 bootrom reads it,
# its filesystem with littlefs at the port's geometry, and then booted by the stock rp2
# port on the emulated RP2040 (simulator/rp2040/uf2.mjs writes it into an empty flash as
# the bootrom does), once per board.
import json

import pytest
from test_rp2040 import BOOT_MS, SELECT_WEEKLY, START_AT, check_pins, expected

from helpers import massager, routine_doc
from host_tools import flash, uf2
from simulator.pico import FIRMWARE, EmulatedPico
from simulator.pins import pin_series

FLASH = 2 * 1024 * 1024
SECTOR = 4096


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """{board: the path of its UF2 file}, made by the CLI a user runs."""
    out = tmp_path_factory.mktemp("uf2")
    paths = {}
    for board in ("pico", "rp2040-zero"):
        paths[board] = out / ("%s.uf2" % board)
        rc, stdout, err = massager("uf2", "--board", board, "-o", paths[board])
        assert rc == 0 and "replaces" in err and board in stdout, err
    return paths


def bootloader(flash_bytes, data):
    """What the RP2040 bootrom leaves in the flash after a UF2 file is dragged onto it:
    a 4 KiB sector is erased the first time a block lands in it, the rest stays."""
    image = bytearray(flash_bytes)
    erased = set()
    for offset, page in uf2.read(data):
        sector = offset - offset % SECTOR
        if sector not in erased:
            image[sector:sector + SECTOR] = b"\xff" * SECTOR
            erased.add(sector)
        image[offset:offset + len(page)] = page
    return bytes(image)


def mounted(image):
    """The port's filesystem in a flash image, mounted as the port mounts it:
    {path: bytes}."""
    import littlefs

    ctx = littlefs.UserContext(buffer=bytearray(image[uf2.FS_OFFSET:]))
    # ports/rp2/modules/_boot.py and extmod/vfs_lfsx.c (cache: min(block, 4 x prog))
    fs = littlefs.LittleFS(context=ctx, block_size=4096, block_count=352, read_size=32,
                           prog_size=256, cache_size=1024, lookahead_size=32,
                           block_cycles=100)
    files = {}
    for root, _, names in fs.walk("/"):
        for name in names:
            path = root.rstrip("/") + "/" + name
            with fs.open(path, "rb") as f:
                files["/" + path.lstrip("/")] = f.read()
    return files


def test_the_same_inputs_give_the_same_bytes_and_a_file_the_bootrom_takes(made, tmp_path):
    again = tmp_path / "again.uf2"
    assert massager("uf2", "--board", "pico", "-o", again)[0] == 0
    data = made["pico"].read_bytes()
    assert again.read_bytes() == data
    blocks = uf2.read(data)  # every block: magic numbers, the RP2040 family, 256 bytes
    image = bootloader(b"\xff" * FLASH, data)
    with open(FIRMWARE, "rb") as f:
        micropython = f.read()
    assert image[:len(micropython)] == micropython
    assert all(offset < len(micropython) or offset >= uf2.FS_OFFSET for offset, _ in blocks)
    files = mounted(image)
    config, board_json = flash.board_config("pico")
    built = flash.build(config["arch"])
    assert {p: files[p] for p in built} == built  # what `massager flash` installs
    assert files["/board.json"] == board_json
    assert set(files) == set(built) | {"/board.json", flash.MANIFEST}  # nothing else
    manifest = json.loads(files[flash.MANIFEST])
    assert manifest["via"] == "uf2" and manifest["board"] == "pico"
    assert set(files) == set(built) | {"/board.json", flash.MANIFEST}


def test_dragging_it_replaces_what_was_on_the_filesystem(made):
    import littlefs

    old = littlefs.LittleFS(block_size=4096, block_count=352, read_size=32, prog_size=256,
                            cache_size=1024)
    old.mkdir("routines")
    for i in range(40):  # an old filesystem, bigger than the new one
        with old.open("routines/r%d.json" % i, "wb") as f:
            f.write(json.dumps(routine_doc(name="r%d" % i)).encode() * 3)
    before = b"\xff" * uf2.FS_OFFSET + bytes(old.context.buffer)
    files = mounted(bootloader(before, made["rp2040-zero"].read_bytes()))
    assert "/routines/r0.json" not in files
    assert json.loads(files["/board.json"])["name"] == "rp2040-zero"


def test_not_for_an_esp32(tmp_path):
    rc, _, err = massager("uf2", "--board", "esp32-devkit", "-o", tmp_path / "x.uf2")
    assert rc == 1 and len(err.splitlines()) == 1 and "not an RP2040 board" in err
    assert not (tmp_path / "x.uf2").exists()


class FirstMinute:
    """Power-up, idle, a double press (weekly), a short press (start), the first minute;
    with the CPython simulator's trace for the same edges (as test_rp2040.Session)."""

    def __init__(self, pico):
        pico.run(BOOT_MS)
        self.idle = pico.changes(25)
        edges = SELECT_WEEKLY + [(START_AT, 1), (START_AT + 100, 0)]
        self.at = pico.script(edges)
        self.minute = START_AT + 60000
        pico.run(self.minute + 1000)
        self.records = expected(edges, self.minute)
        self.pins = {pin: pico.changes(pin) for pin in (15, 25)}


@pytest.fixture(scope="module")
def pico_from_uf2(made, tmp_path_factory):
    """The emulated Pico with an empty flash and the pico UF2 dragged onto it, booted."""
    image = tmp_path_factory.mktemp("uf2-pico") / "flash.img"
    with EmulatedPico(str(image), uf2=str(made["pico"]), hold=True) as pico:
        yield pico, FirstMinute(pico)


def test_the_pico_boots_it_to_idle_and_plays_the_weekly_like_the_simulator(pico_from_uf2):
    pico, session = pico_from_uf2
    lit = [c for c in session.idle if c.fn == "pwm" and c.duty]
    assert lit and lit[0].t < BOOT_MS and session.records[0]["state"] == "idle"
    running = [r for r in session.records if r["state"] == "running"]
    assert len(running) > 100 and max(r["motor"] for r in running) > 40
    assert running[0]["led"] != session.records[0]["led"]
    check_pins(session, session.minute)  # motor duty and LED, held to the CPython trace


def test_a_board_installed_from_it_takes_push_flash_and_doctor(pico_from_uf2, tmp_path):
    pico, _ = pico_from_uf2
    routine = tmp_path / "lite.json"
    routine.write_text(json.dumps(routine_doc(name="lite", title="Lite"), indent=2))
    rc, out, err = massager("flash", "-p", pico.port)
    assert rc == 0 and "0 files copied" in out, out + err  # the same manifest
    rc, out, err = massager("doctor", "-p", pico.port)
    assert rc == 0 and "installed from a UF2 file" in out, out + err
    assert massager("push", routine, "-p", pico.port)[0] == 0
    pico.power_cycle()
    pico.run(BOOT_MS)
    assert pin_series(pico.changes(25), 255)[-1][1] > 0  # idle again
    rc, out, _ = massager("ls", "-p", pico.port)
    assert [line.split()[0] for line in out.splitlines()] == ["lite", "daily", "weekly"]


def test_the_zero_boots_its_own_to_idle(made, tmp_path):
    with EmulatedPico(str(tmp_path / "flash.img"), board="rp2040-zero",
                      uf2=str(made["rp2040-zero"]), hold=True) as pico:
        pico.run(BOOT_MS)
        motor = pico.changes(14)
        assert motor and not any(c.duty for c in motor)
        assert any(c.fn == "out" for c in pico.changes(16))  # the NeoPixel's data line
        pico.interrupt()
        from host_tools.device import Device

        with Device(pico.port, soft_reset=False) as dev:  # the firmware's state as it was
            state = dev.exec("import json\nfrom massager import runtime\nprint(json.dumps("
                             "[runtime.current.app.state, json.load(open('/board.json'))"
                             "['name']]))")
        assert json.loads(state.strip().splitlines()[-1]) == ["idle", "rp2040-zero"]
