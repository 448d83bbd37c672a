# Bytes allocated at every wake of the device loop over two whole weekly sessions (the
# first after boot, then another): the firmware's Runtime.run() with asyncio on the
# simulated board, as main.py runs it, on a virtual clock (mpy_run --virtual-time), so the
# sessions' 25 minutes take seconds.
#
#   argv: BOARD_JSON UPTIME_START REBASE(1|0)
#
# Per wake: what step() allocates (the firmware's whole wake: button, app, outputs,
# watchdog, battery), whether it changed an output, and the whole cycle from one wake to
# the next (step() plus this engine's asyncio). Before the session, a bare
# asyncio.sleep_ms loop gives the engine's own cost per wake.
import asyncio
import gc
import json
import sys
from array import array

import machine

from massager import runtime
from massager.hal.board import Board
from massager.runtime import Runtime
from massager.store import Store

N = 8000  # wakes recorded at most
mem_alloc = gc.mem_alloc
step_bytes = array("i", [0] * N)
cycle_bytes = array("i", [0] * N)
changed = bytearray(N)  # the session (1, 2) in which the wake changed an output, or 0
session = bytearray(1)
at = array("i", [0, 0])  # [wakes so far, mem_alloc at the last wake's start]


class Measured(Runtime):
    def step(self):
        i = at[0]
        a = mem_alloc()
        if 0 < i <= N:
            cycle_bytes[i - 1] = a - at[1]
        at[1] = a
        delay = Runtime.step(self)
        if i < N:
            step_bytes[i] = mem_alloc() - a
        at[0] = i + 1
        return delay


def on_change(app, now):
    i = at[0]
    if i < N:
        changed[i] = session[0]


async def bare_loop(n):
    # The engine's own cost of a wake: a loop that only sleeps.
    mem = array("i", [0] * n)
    for i in range(n):
        mem[i] = mem_alloc()
        await asyncio.sleep_ms(5)
    return [mem[i + 1] - mem[i] for i in range(n - 1)]


def stats(values):
    v = sorted(values)
    if not v:
        return [0, 0, 0]
    n = len(v)
    return [v[-1], v[min(n - 1, max(0, (n * 99 + 99) // 100 - 1))], n]


async def main():
    config = json.loads(sys.argv[1])
    uptime_start = int(sys.argv[2])
    if sys.argv[3] == "0":
        runtime.REBASE_MS = 1 << 62  # the arithmetic before the rebase, for a baseline
    bare = [d for d in await bare_loop(200) if d >= 0]
    machine.sim.log_writes = False  # the simulator's own record is not the firmware's
    bat = config["battery"]  # a charged cell (a floating pin would read noise)
    machine.sim.set_adc_mv(bat["pin"], 3900 * 100 // bat["divider_x100"])
    if "ref_pin" in bat:  # and the reference the cell is read against
        machine.sim.set_adc_mv(bat["ref_pin"], bat["ref_mv"])
    rt = Measured(Board(config), __import__("time"), Store("/tmp"), on_change=on_change)
    rt.uptime = uptime_start  # as if the board had been up this long
    names = [p.name for p in rt.app.programs]
    rt.app.selected = names.index("weekly")
    session_ms = rt.app.programs[rt.app.selected].total_ms
    # The board's path: ThreadSafeFlag where the engine has one (main.py's choice).
    flag = asyncio.ThreadSafeFlag() if hasattr(asyncio, "ThreadSafeFlag") else asyncio.Event()
    task = asyncio.create_task(rt.run(asyncio, flag))
    for n in (1, 2):
        await asyncio.sleep_ms(50)
        session[0] = n
        machine.sim.press_button(True)
        await asyncio.sleep_ms(100)
        machine.sim.press_button(False)
        await asyncio.sleep_ms(session_ms + 6000)  # the session, the done light, idle
    task.cancel()
    wakes = min(at[0], N)
    steps = [step_bytes[i] for i in range(wakes)]
    first = [step_bytes[i] for i in range(wakes) if changed[i] == 1]
    later = [step_bytes[i] for i in range(wakes) if changed[i] == 2]
    cycles = [cycle_bytes[i] for i in range(wakes - 1) if cycle_bytes[i] >= 0]
    out = {"flag": type(flag).__name__, "wakes": wakes, "state": rt.app.state,
           "uptime": rt.uptime, "step": stats(steps),
           "first": stats(first), "first_allocating": [b for b in first if b > 0][:8],
           "first_n": len([b for b in first if b > 0]),
           "later": stats(later), "later_n": len([b for b in later if b > 0]),
           "cycle": stats(cycles), "bare": stats(bare),
           "collected": len([b for b in steps if b < 0])}
    print(json.dumps(out))


asyncio.run(main())
