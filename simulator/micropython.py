"""Run Python files on real MicroPython (WebAssembly build, via Node) from CPython.

    from simulator.micropython import run_file
    r = run_file("script.py", paths=["firmware", "simulator/fakes"], heap_kb=160)
    r.returncode, r.stdout, r.stderr   # bytes, forwarded byte-exact

Needs `node` (>= 20) and `npm ci --prefix simulator` (the Makefile's `make setup`).
"""

import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "mpy_run.mjs")
PACKAGE = os.path.join(
    HERE, "node_modules", "@micropython", "micropython-webassembly-pyscript", "micropython.mjs"
)


def node_command():
    """Return [node] or raise RuntimeError with a one-line fix."""
    node = shutil.which("node")
    if not node:
        raise RuntimeError("node (>= 20) not found on PATH: install Node.js, then `make setup`")
    if not os.path.exists(PACKAGE):
        raise RuntimeError(
            "MicroPython WebAssembly is not installed: run `make setup` "
            "(npm ci --prefix simulator)"
        )
    return [node]


def run_file(main_path, paths=(), heap_kb=160, timeout=120, args=()):
    """Run main_path on MicroPython; returns subprocess.CompletedProcess (bytes output).

    paths: host directories put first on sys.path (their files override built-ins).
    heap_kb: device heap budget (0 = unchecked). Raises subprocess.TimeoutExpired.
    """
    cmd = node_command() + [RUNNER, "--heap-kb", str(int(heap_kb))]
    for p in paths:
        if not os.path.isdir(p):
            raise RuntimeError("not a directory: %s" % p)
        cmd += ["--path", os.path.abspath(p)]
    cmd.append(os.path.abspath(main_path))
    cmd += [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
