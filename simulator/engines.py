# Run the firmware's headless simulation on CPython, on real MicroPython (WebAssembly) or
# on the stock rp2 port (an emulated RP2040), with the same batch driver, so their outputs
# can be compared byte for byte.
import json
import os
import tempfile

from simulator import batch
from simulator.adc_view import adc_view, jsonable
from simulator.vdev_common import BATTERY_MV, CELL, board_config

HERE = os.path.dirname(os.path.abspath(__file__))
FIRMWARE = os.path.join(os.path.dirname(HERE), "firmware")
BOARD = os.path.join(HERE, "board")  # the simulated machine the headless runs play on
ENGINES = ("cpython", "micropython", "rp2040")
DEVICE_HEAP_KB = 160  # an RP2040 build's free heap: a blow-up shows here, not on a face
HEADLESS_BOARD = "pico"  # the board a headless run plays (hal/config.py's DEFAULT)
_BOARDS = {}  # (board, mV, cell) -> sim_board()


class EngineError(Exception):
    """The engine failed: one line."""


def sim_board(board=HEADLESS_BOARD, battery_mv=BATTERY_MV, cell=CELL):
    """The simulated board a headless run plays on, as data every engine takes:
    {"config": its board.json, "adc": what its ADC sees of a cell at `battery_mv` mV
    open-circuit (None: nothing wired, the pins float) of age `cell`, from
    simulator/adc_view.py, "battery_mv", "cell"}."""
    key = (board, battery_mv, cell)
    if key not in _BOARDS:
        config = board_config(board)
        view = jsonable(adc_view(config, battery_mv, cell=cell))
        _BOARDS[key] = {"config": config, "adc": view, "battery_mv": battery_mv,
                        "cell": cell}
    return _BOARDS[key]


def _with_board(cases):
    """Trace cases with the default board where they name none (the view is worked out
    here, on the host: the engines have no circuit)."""
    out = []
    for case in cases:
        if "board" not in case:
            case = dict(case, board=sim_board())
        out.append(case)
    return out


def split_cases(lines):
    """Lines with "#case N" markers -> list of per-case line lists."""
    cases = []
    for line in lines:
        if line.startswith("#case "):
            cases.append([])
        elif cases:
            cases[-1].append(line)
    return cases


def run_batch(mode, cases, engine="cpython", heap_kb=DEVICE_HEAP_KB, timeout=600,
              image=None, host=None):
    """Per case, the list of output lines (trace lines or a verdict).

    rp2040: `image` is a flash image with the firmware already installed (it is copied);
    without one the firmware is flashed first. The port's own heap applies (heap_kb does
    not). `host` is how a board is talked to: its Device, DeviceError and flash
    (host_tools.flash.BATCH_HOST). The host tools pass it in: simulator/ sits below them
    and does not import them."""
    if mode == "trace":
        cases = _with_board(cases)
    jobs = {"mode": mode, "cases": cases}
    if engine == "cpython":
        lines = []
        batch.run(jobs, lines.append)
        return split_cases(lines)
    if engine == "rp2040":
        if host is None:
            raise EngineError("the rp2040 engine needs the host tools' serial link "
                              "(host=host_tools.flash.BATCH_HOST)")
        return split_cases(_rp2040_batch(jobs, image, timeout, host))
    if engine != "micropython":
        raise EngineError("unknown engine %r (choose %s)" % (engine, ", ".join(ENGINES)))
    from simulator.micropython import run_file

    with tempfile.TemporaryDirectory(prefix="massager-mpy-") as tmp:
        # UTF-8, not \u escapes: MicroPython reads an escaped surrogate pair (an emoji) as
        # two characters, CPython as one, and the jobs must reach both engines the same.
        with open(os.path.join(tmp, "jobs.json"), "w", encoding="utf-8") as f:
            json.dump(jobs, f, ensure_ascii=False)
        try:
            result = run_file(os.path.join(HERE, "batch.py"),
                              paths=[FIRMWARE, HERE, BOARD, tmp], heap_kb=heap_kb,
                              timeout=timeout)
        except RuntimeError as e:
            raise EngineError(str(e)) from None
    if result.returncode != 0:
        last = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EngineError("MicroPython failed: %s" % (last[-1] if last else "exit %d" %
                                                      result.returncode))
    return split_cases(result.stdout.decode("utf-8").splitlines())


def board_files():
    """{path on the rp2 port: file in simulator/board}: the simulated machine, as
    /lib/simmachine.py beside the port's own machine, and its port profiles under their
    own names, which it imports."""
    from simulator.device import port_modules

    files = {"/lib/simmachine.py": "machine.py"}
    for name in port_modules():
        files["/lib/%s.py" % name] = name + ".py"
    return files


def _rp2040_batch(jobs, image, timeout, host):
    """The batch driver's output lines on the stock rp2 port (simulator/pico.py)."""
    import shutil

    from simulator.pico import EmulatedPico, PicoError

    with tempfile.TemporaryDirectory(prefix="massager-rp2-") as tmp:
        flash_image = os.path.join(tmp, "flash.img")
        if image:
            shutil.copy(image, flash_image)
        try:
            with EmulatedPico(flash_image) as pico:
                if image:
                    pico.interrupt()  # its main.py must not run: the batch needs the REPL
                with host.Device(pico.port, timeout=timeout, soft_reset=False) as dev:
                    if not image:
                        host.flash(dev, out=False)
                    for name in ("headless.py", "batch.py"):
                        with open(os.path.join(HERE, name), "rb") as f:
                            dev.write_file("/lib/" + name, f.read())
                    # The simulated board, beside the port's own machine: headless.py
                    # puts it in sys.modules["machine"] for the firmware's hal.
                    for on_device, name in board_files().items():
                        with open(os.path.join(BOARD, name), "rb") as f:
                            dev.write_file(on_device, f.read())
                    dev.write_file("/jobs.json", json.dumps(jobs, ensure_ascii=False).encode())
                    out = dev.exec("import batch\nbatch.main()")
        except (host.DeviceError, PicoError) as e:
            raise EngineError("rp2 port: %s" % e) from None
    return out.splitlines()


def trace(routine_text, buttons="0:short", until=None, engine="cpython", board=None,
          host=None):
    """The trace lines of one headless run (on `board`, a sim_board(); default the
    Pico on a new cell at vdev_common.BATTERY_MV; `host`: see run_batch)."""
    case = {"routine": routine_text, "buttons": buttons, "until": until,
            "board": board or sim_board()}
    (lines,) = run_batch("trace", [case], engine=engine, host=host)
    if lines and lines[0].startswith("!invalid "):
        raise EngineError(lines[0][len("!invalid "):])
    return lines
