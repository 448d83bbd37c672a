# Run the firmware's headless simulation on CPython or on real MicroPython (WebAssembly),
# with the same batch driver, so their outputs can be compared byte for byte.
import json
import os
import tempfile

from simulator import batch

HERE = os.path.dirname(os.path.abspath(__file__))
FIRMWARE = os.path.join(os.path.dirname(HERE), "firmware")
ENGINES = ("cpython", "micropython")
DEVICE_HEAP_KB = 160  # an RP2040 build's free heap: a blow-up shows here, not on a face


class EngineError(Exception):
    """The engine failed: one line."""


def split_cases(lines):
    """Lines with "#case N" markers -> list of per-case line lists."""
    cases = []
    for line in lines:
        if line.startswith("#case "):
            cases.append([])
        elif cases:
            cases[-1].append(line)
    return cases


def run_batch(mode, cases, engine="cpython", heap_kb=DEVICE_HEAP_KB, timeout=600):
    """Per case, the list of output lines (trace lines or a verdict)."""
    jobs = {"mode": mode, "cases": cases}
    if engine == "cpython":
        lines = []
        batch.run(jobs, lines.append)
        return split_cases(lines)
    if engine != "micropython":
        raise EngineError("unknown engine %r (choose %s)" % (engine, ", ".join(ENGINES)))
    from simulator.micropython import run_file

    with tempfile.TemporaryDirectory(prefix="massager-mpy-") as tmp:
        # UTF-8, not \u escapes: MicroPython reads an escaped surrogate pair (an emoji) as
        # two characters, CPython as one, and the jobs must reach both engines the same.
        with open(os.path.join(tmp, "jobs.json"), "w", encoding="utf-8") as f:
            json.dump(jobs, f, ensure_ascii=False)
        try:
            result = run_file(os.path.join(HERE, "batch.py"), paths=[FIRMWARE, HERE, tmp],
                              heap_kb=heap_kb, timeout=timeout)
        except RuntimeError as e:
            raise EngineError(str(e)) from None
    if result.returncode != 0:
        last = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EngineError("MicroPython failed: %s" % (last[-1] if last else "exit %d" %
                                                      result.returncode))
    return split_cases(result.stdout.decode("utf-8").splitlines())


def trace(routine_text, buttons="0:short", until=None, engine="cpython"):
    """The trace lines of one headless run."""
    case = {"routine": routine_text, "buttons": buttons, "until": until}
    (lines,) = run_batch("trace", [case], engine=engine)
    if lines and lines[0].startswith("!invalid "):
        raise EngineError(lines[0][len("!invalid "):])
    return lines
