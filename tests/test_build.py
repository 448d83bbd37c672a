"""Build checks: mpy-cross per arch, type checks per port, package.json, boards/."""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from host_tools import checks, flash
from massager.hal import config
from massager.hal.config import check_config

ROOT = checks.ROOT
BOARD_DIRS = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(ROOT, "boards", "*",
                                                                        "board.json")))
BOARD_IDS = [os.path.basename(d) for d in BOARD_DIRS]


def read_json(path):
    with open(path) as f:
        return json.load(f)


# -- mpy-cross ----------------------------------------------------------------------------

def test_firmware_compiles_for_every_arch(tmp_path):
    assert checks.compile_problems(out_dir=str(tmp_path)) == []
    assert checks.board_archs() == ["armv6m", "xtensawin"]  # RP2040 boards, ESP32 boards
    for arch in checks.board_archs():
        assert (tmp_path / arch / "massager" / "hal" / "board.mpy").exists()


def test_compile_failure_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\ndef f(:\n    pass\n")
    problem = checks.compile_file(str(bad), "armv6m", str(tmp_path / "bad.mpy"))
    assert problem.startswith(str(bad) + ":2: mpy-cross -march=armv6m: ")
    assert "SyntaxError" in problem


def test_every_board_arch_is_one_mpy_cross_knows():
    for d in BOARD_DIRS:
        assert read_json(os.path.join(d, "board.json"))["arch"] in config.ARCHS, d
    # the device reports its arch by number (sys.implementation._mpy >> 10)
    assert flash.native_arch({"mpy": 6 | 4 << 10}) == "armv6m"
    assert flash.native_arch({"mpy": 6 | 10 << 10}) == "xtensawin"
    assert flash.native_arch({"mpy": 6}) is None


# -- types --------------------------------------------------------------------------------

def test_pyright_config_for_every_port():
    for port in checks.STUBS:
        config = read_json(checks.PYRIGHT_CONFIG % port)
        assert config["stubPath"] == config["typeshedPath"] == "../typings/" + port


def test_firmware_type_checks_against_each_port():
    if checks.basedpyright_command() is None:
        pytest.skip("basedpyright is not installed (pinned dev dependency; make setup)")
    assert checks.typecheck_problems() == []


# -- package.json ---------------------------------------------------------------------------

def test_package_json_lists_exactly_the_firmware_files():
    assert checks.package_json_problems() == []
    listed = {src for _, src in read_json(checks.PACKAGE_JSON)["urls"]}
    on_disk = {"firmware/" + rel for rel in checks.firmware_files()}
    assert listed == on_disk - {"firmware/" + e for e in checks.ENTRY_POINTS}
    for dest, src in read_json(checks.PACKAGE_JSON)["urls"]:
        assert src == "firmware/" + dest


def test_checks_main_prints_one_line_per_problem(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(checks, "PACKAGE_JSON", str(tmp_path / "package.json"))
    (tmp_path / "package.json").write_text('{"urls": [], "version": "0.1.0"}')
    assert checks.main(["package"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(checks.firmware_files()) - len(checks.ENTRY_POINTS) + 1
    assert checks.main(["--write-package-json"]) == 0
    assert checks.main(["package"]) == 0
    assert checks.main(["nonsense"]) == 2


# -- boards -------------------------------------------------------------------------------

def test_boards_cover_pico_esp32_and_a_neopixel_board():
    configs = [read_json(os.path.join(d, "board.json")) for d in BOARD_DIRS]
    assert "pico" in BOARD_IDS
    assert any(c["arch"] == "xtensawin" for c in configs)
    assert any(c["led"]["kind"] == "neopixel" for c in configs)


@pytest.mark.parametrize("board_dir", BOARD_DIRS, ids=BOARD_IDS)
def test_board_json_is_valid_and_named_after_its_folder(board_dir):
    config = read_json(os.path.join(board_dir, "board.json"))
    assert check_config(config) is None
    assert config["name"] == os.path.basename(board_dir)
    pins = [config["motor"]["pin"], config["led"]["pin"], config["button"]["pin"]]
    if config["battery"]:
        pins.append(config["battery"]["pin"])
    assert len(set(pins)) == len(pins), "a pin used twice"


class FakeMakeManifest:
    """The parts of MicroPython's tools/manifestfile.py the board manifests use."""

    PORT_MANIFEST = "$(PORT_DIR)/boards/manifest.py"

    def __init__(self):
        self.frozen = {}  # target path on the device -> source file
        self.included_port = False

    def include(self, path, **kwargs):
        if path == self.PORT_MANIFEST:
            self.included_port = True
            return
        assert "$(" not in path, path
        path = os.path.abspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "manifest.py")
        options = Options(kwargs)
        g = {"include": self.include, "package": self.package, "module": self.module,
             "options": options}
        prev = os.getcwd()
        os.chdir(os.path.dirname(path))  # as makemanifest: paths relative to the manifest
        try:
            with open(path) as f:
                exec(compile(f.read(), path, "exec"), g)
        finally:
            os.chdir(prev)

    def package(self, package_path, files=None, base_path=".", opt=None):
        top = os.path.join(os.path.abspath(base_path), package_path)
        assert os.path.isdir(top), top
        for base, dirs, names in os.walk(top):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in names:
                if name.endswith(".py"):
                    src = os.path.join(base, name)
                    rel = os.path.relpath(src, os.path.abspath(base_path))
                    self.frozen[rel.replace(os.sep, "/")] = src

    def module(self, module_path, base_path=".", opt=None):
        src = os.path.join(os.path.abspath(base_path), module_path)
        assert os.path.isfile(src), src
        self.frozen[module_path] = src


class Options:
    def __init__(self, kwargs):
        self._kwargs = kwargs
        self._defaults = {}

    def defaults(self, **kwargs):
        self._defaults = kwargs

    def __getattr__(self, name):
        return self._kwargs.get(name, self._defaults.get(name))


@pytest.mark.parametrize("board_dir", BOARD_DIRS, ids=BOARD_IDS)
def test_manifest_freezes_the_firmware_and_the_pin_map(board_dir, tmp_path):
    m = FakeMakeManifest()
    m.include(os.path.join(board_dir, "manifest.py"))
    assert m.included_port, "the port's own manifest (asyncio, neopixel) must stay in"
    want = {dest for dest, _ in read_json(checks.PACKAGE_JSON)["urls"]}
    want |= set(checks.ENTRY_POINTS) | {"board_config.py"}
    assert set(m.frozen) == want
    # The generated board_config is the board's board.json, and compiles for its arch.
    config = read_json(os.path.join(board_dir, "board.json"))
    generated = {}
    with open(m.frozen["board_config.py"]) as f:
        exec(f.read(), generated)
    assert generated["CONFIG"] == config
    out = tmp_path / "board_config.mpy"
    try:
        assert checks.compile_file(m.frozen["board_config.py"], config["arch"], str(out)) is None
    finally:
        shutil.rmtree(os.path.dirname(m.frozen["board_config.py"]))


def test_checks_runs_as_a_module():
    r = subprocess.run([sys.executable, "-m", "host_tools.checks", "package"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_pyproject_uses_an_spdx_license():
    # A TOML table made setuptools print four deprecation warnings on every `make setup`.
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)
    assert project["project"]["license"] == "MIT"
    assert "setuptools>=77" in project["build-system"]["requires"]  # where SPDX strings began
