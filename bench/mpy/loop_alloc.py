# Bytes the heap grows by per wake: a bare asyncio.sleep_ms loop (what the WebAssembly
# port's JS timers cost), then the firmware's whole device loop (runtime, hal, app) on the
# simulated board playing a routine in real time. No GC runs in between on this build.
import asyncio
import gc
import sys
import time
from array import array

from massager.hal.board import DEFAULT, Board
from massager.runtime import Runtime
from massager.store import Store

N = 300
mem = array("i", [0] * N)
count = [0]


def per_step(n):
    # The median step after warm-up: the port's timer bookkeeping sometimes takes a few
    # bytes more on one wake, in the bare loop as in ours.
    d = sorted(mem[i + 1] - mem[i] for i in range(10, n - 1))
    return d[len(d) // 2]


def on_change(app, now):
    if app.state == "running" and count[0] < N:
        mem[count[0]] = gc.mem_alloc()
        count[0] += 1


async def main():
    import machine

    for i in range(60):
        mem[i] = gc.mem_alloc()
        await asyncio.sleep_ms(5)
    bare = per_step(60)
    machine.sim.log_writes = False  # the simulator's own record is not the firmware's
    rt = Runtime(Board(DEFAULT), time, Store("/tmp"), on_change=on_change)
    task = asyncio.create_task(rt.run(asyncio, asyncio.Event()))
    await asyncio.sleep_ms(50)
    machine.sim.press_button(True)
    await asyncio.sleep_ms(100)
    machine.sim.press_button(False)
    await asyncio.sleep_ms(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
    task.cancel()
    print("bare", bare, "loop", per_step(count[0]), "changes", count[0])


asyncio.run(main())
