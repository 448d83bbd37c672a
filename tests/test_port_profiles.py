"""Each port profile is a module of its own (simulator/board/port_rp2.py, port_esp32.py):
simulator/board/machine.py asks the profile and never the port's name, and every loader of
the simulated machine ships the profiles with it, each loadable alone."""

import ast
import os
import shutil
import subprocess
import sys

from host_tools import studio
from simulator import engines
from simulator.device import BOARD_DIR, port_modules
from simulator.micropython import run_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MACHINE = os.path.join(BOARD_DIR, "machine.py")
NAMES = ("rp2", "esp32")  # the ports played (board.json arch -> machine.port_for_arch)

# Run on every loader's files: each profile alone first (it must import nothing of the
# board, `machine` least of all), then the machine, playing each port in turn. LOAD is the
# loader's: `import` on MicroPython, simulator.device.load_board_module on CPython.
PROBE = """
import sys

WATCH = ("machine", "simmachine") + PORT_MODULES


def loaded():
    return sorted(name for name in WATCH if name in sys.modules)


for name in PORT_MODULES:
    profile = LOAD(name).PORT
    print("alone", name, profile.name, loaded())
m = LOAD(MODULE)
for name in NAMES:
    m.sim.set_port(name)
    print("powered up as", name, "on", m.RTC().datetime()[:3])
    m.sim.reset_all()
    try:
        m.WDT(timeout=9000)
        wdt = "taken"
    except ValueError as e:
        wdt = str(e)
    causes = sorted(k for k in dir(m) if k.endswith("_RESET"))
    print("plays", name, m.sim.port.name, wdt, causes, hasattr(m.ADC, "read_uv"))
"""


def _probe(module, load="__import__"):
    return "LOAD = %s\nMODULE = %r\nNAMES = %r\nPORT_MODULES = %r\n%s" % (
        load, module, NAMES, tuple(port_modules()), PROBE)


def _on_micropython(tmp_path, folder, module):
    script = tmp_path / "probe.py"
    script.write_text(_probe(module))
    r = run_file(str(script), paths=[folder], heap_kb=0)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def _copy(files, folder):
    """{name in the engine's path: file on disk}, written to `folder`."""
    os.makedirs(folder)
    for name, found in files.items():
        shutil.copy(found, os.path.join(folder, name))
    return str(folder)


def _outputs(tmp_path):
    """The probe's output through every loader of the simulated machine."""
    out = {}
    cpython = _probe("machine", load="load_board_module")
    r = subprocess.run([sys.executable, "-c", "from simulator.device import "
                        "load_board_module\n" + cpython], capture_output=True, text=True,
                       cwd=tmp_path, timeout=60)  # a fresh process: no board on sys.path
    assert r.returncode == 0, r.stderr
    out["cpython"] = r.stdout
    # The engines that put simulator/board on sys.path (engines.run_batch, vdev, bench).
    out["micropython"] = _on_micropython(tmp_path, BOARD_DIR, "machine")
    # The stock rp2 port's /lib, as engines.py writes it there (simmachine and its profiles).
    rp2 = {os.path.basename(on_device): os.path.join(BOARD_DIR, name)
           for on_device, name in engines.board_files().items()}
    out["rp2 /lib"] = _on_micropython(tmp_path, _copy(rp2, tmp_path / "rp2"), "simmachine")
    # The studio page's /lib: every Python file the server hands the browser, found as the
    # server finds it.
    served = {name: studio.resolve(url) for name, url in studio.python_files().items()
              if name.endswith(".py") and "/" not in name}
    out["studio /lib"] = _on_micropython(tmp_path, _copy(served, tmp_path / "studio"),
                                         "machine")
    return out


def test_every_loader_ships_each_profile_loadable_alone_and_plays_each_port(tmp_path):
    out = _outputs(tmp_path)
    # The rp2 port's lines name its module simmachine; otherwise every loader agrees.
    same = {k: v.replace("simmachine", "machine") for k, v in out.items()}
    assert len(set(same.values())) == 1, out
    lines = out["cpython"].splitlines()
    alone = [line for line in lines if line.startswith("alone ")]
    assert len(alone) == len(port_modules()) >= len(NAMES)
    for k, line in enumerate(alone):
        # Loaded before the machine and before the next profile: nothing else came with it.
        assert line.endswith(repr(port_modules()[:k + 1])), line
    # Each port's RTC at power-up: rp2's main() sets 2021-01-01 (ports/rp2/main.c), an
    # esp32's counts from 2000-01-01; the date a board was last played does not carry over.
    assert [line for line in lines if line.startswith("powered up")] == [
        "powered up as rp2 on (2021, 1, 1)", "powered up as esp32 on (2000, 1, 1)"]
    plays = [line.split(" ", 3) for line in lines if line.startswith("plays ")]
    assert [p[1:3] for p in plays] == [[n, n] for n in NAMES]
    assert len({p[3] for p in plays}) == len(NAMES)  # each played its own port


def _port_name_uses(tree, names):
    """Where machine.py's code names a port or a profile module: a string equal to a port
    name, a comparison with a `.name`, or port_*.X outside the PORTS table."""
    found = []
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    table = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and \
                getattr(node.targets[0], "id", None) in ("PORTS", "DEFAULT_PORT"):
            table.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in names and \
                id(node) not in docstrings:
            found.append((node.lineno, repr(node.value)))
        if isinstance(node, ast.Compare):
            for side in [node.left] + node.comparators:
                if isinstance(side, ast.Attribute) and side.attr == "name":
                    found.append((node.lineno, "compares a .name"))
        if isinstance(node, ast.Name) and node.id.startswith("port_") and id(node) not in table:
            found.append((node.lineno, node.id))
    return found


def test_machine_branches_on_no_port_name():
    with open(MACHINE) as f:
        tree = ast.parse(f.read())
    assert _port_name_uses(tree, NAMES) == []
    # The check finds a branch put back, in each of its forms.
    for text in ('if sim.port.name == "rp2":\n    pass\n',
                 'if sim.port.sleep != "esp32":\n    pass\n',
                 'x = port_rp2.WDT_MAX_MS\n'):
        assert _port_name_uses(ast.parse(text), NAMES), text
