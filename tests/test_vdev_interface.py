# The house's arrows, and `massager vdev`'s one interface for both engines (the
# micropython WebAssembly engine and the emulated RP2040): the same options, the same help,
# and a one-line error naming the option where an engine has not got one.
import ast
import io
import os
import signal
import sys
import time

import pytest

from host_tools import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIMULATOR = os.path.join(ROOT, "simulator")


def imports(path):
    """Every module a Python file imports, at any depth (lazy imports too)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update("%s.%s" % (node.module, a.name) for a in node.names)
    return found


def simulator_files():
    for folder, dirs, files in os.walk(SIMULATOR):
        dirs[:] = [d for d in dirs if d != "node_modules"]
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def test_no_simulator_module_imports_the_host_tools():
    files = list(simulator_files())
    assert len(files) > 10  # the walk found the package
    upward = [os.path.relpath(p, ROOT) for p in files
              if any(m == "host_tools" or m.startswith("host_tools.") for m in imports(p))]
    assert upward == []


def test_the_two_vdev_engines_do_not_import_each_other():
    vdev = imports(os.path.join(SIMULATOR, "vdev.py"))
    pico = imports(os.path.join(SIMULATOR, "pico.py"))
    assert "simulator.vdev_common" in vdev and "simulator.vdev_common" in pico
    assert not {"simulator.pico", "simulator.vdev.pico"} & vdev
    assert not {"simulator.vdev", "simulator.pico.vdev"} & pico
    assert "simulator.vdev" not in {m.rsplit(".", 1)[0] for m in pico if m.count(".") > 1}


def vdev(capsys, *argv):
    """`massager vdev ARGV` in this process, as far as it exits on its options: (exit code,
    stdout, stderr)."""
    with pytest.raises(SystemExit) as e:
        cli.main(["vdev", *map(str, argv)])
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_one_help_for_both_engines(capsys):
    rc, out, _ = vdev(capsys, "--help")
    rc2, out2, _ = vdev(capsys, "--engine", "rp2040", "--help")
    assert rc == rc2 == 0 and out == out2
    for option in ("--flash", "--board", "--battery", "--cell", "--unplugged", "--trace",
                   "--pins"):
        assert option in out
    # Where an engine differs, the help says which one and why.
    text = " ".join(out.split())
    assert "folder of plain files on the micropython engine" in text
    assert "2 MiB image file on the rp2040 engine" in text
    assert "micropython engine only (a host process, not a chip)" in text
    assert "rp2040 engine only (the chip's own bootrom and clock)" in text
    for key in ("space:", "l: long press", "h: hold", "u: USB cable", "q: quit"):
        assert key in text


@pytest.mark.parametrize("engine, args, message", [
    ("rp2040", ["--trace", "t.jsonl"], "--trace: micropython engine only (the rp2040 engine "
                                       "runs the stock image"),
    ("micropython", ["--pins", "p.jsonl"], "--pins: rp2040 engine only (the micropython "
                                           "engine models the machine module"),
    ("micropython", ["--uf2", "m.uf2"], "--uf2: rp2040 engine only"),
    ("micropython", ["--fast"], "--fast: rp2040 engine only"),
    ("rp2040", ["--link", "usb-fs"], "--link: micropython engine only"),
    ("rp2040", ["--cpu-slowdown", "2"], "--cpu-slowdown: micropython engine only"),
    ("rp2040", ["--heap-kb", "100"], "--heap-kb: micropython engine only"),
    ("micropython", ["--flash", "{file}"], "a file; the micropython engine's flash is a "
                                           "folder"),
    ("rp2040", ["--flash", "{folder}"], "a folder; the rp2040 engine's flash is a 2 MiB "
                                        "image file"),
])
def test_an_option_of_the_other_engine_is_one_line(tmp_path, capsys, engine, args,
                                                   message):
    (tmp_path / "img").write_bytes(b"")
    args = [a.format(file=tmp_path / "img", folder=tmp_path) for a in args]
    rc, _, err = vdev(capsys, "--engine", engine, *args)
    assert rc == 2 and "Traceback" not in err
    assert message in err.splitlines()[-1], err


class _Ready(Exception):
    pass


class _PortLine:
    """The stdout of an in-process `massager vdev`: at its first line (the port, which
    tells a script the device is ready) it notes what the registry lists, then ends the
    run by raising _Ready out of the print."""

    def __init__(self):
        self.port, self.listed = None, None

    def write(self, text):
        if text.strip():
            from simulator import registry

            self.port = text.strip()
            self.listed = [e["port"] for e in registry.running()]
            raise _Ready
        return len(text)

    def flush(self):
        pass


@pytest.mark.parametrize("engine", ["micropython", "rp2040"])
def test_the_port_line_comes_once_the_device_is_listed(tmp_path, monkeypatch, engine):
    # A script reads the port line, then runs `massager devices` or opens the studio: the
    # device must be listed by then (a CI run once found it missing under load).
    monkeypatch.setenv("MASSAGER_RUN_DIR", str(tmp_path / "run"))
    line = _PortLine()
    monkeypatch.setattr(sys, "stdout", line)
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal: no keys
    flash = tmp_path / ("flash.img" if engine == "rp2040" else "flash")
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(_Ready):
            cli.main(["vdev", "--engine", engine, "--flash", str(flash)])
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    assert line.port.startswith("/dev/"), line.port
    assert line.listed == [line.port]
    from simulator import registry

    assert registry.running() == []  # and the entry went with the device


def test_the_button_socket_plays_edges_in_time_order_whatever_line_they_came_in(
        tmp_path, monkeypatch):
    # The studio sends each edge of its page's button as it happens, with a delay that puts
    # it at the hand's time: a line may hold an edge due before one sent earlier.
    from simulator import registry

    monkeypatch.setenv("MASSAGER_RUN_DIR", str(tmp_path))
    played = []
    with registry.Registration("/dev/pts/test", "micropython", "pico", played.append) as reg:
        assert registry.press(reg.entry, [(2000, "up")]) == "ok"  # queued, not waited for
        assert registry.press(reg.entry, [(100, "down")]) == "ok"
        assert registry.press(reg.entry, [(20000, "up")]).startswith("error: bad edge")
        for _ in range(200):
            if len(played) == 2:
                break
            time.sleep(0.05)
    assert played == [True, False]
