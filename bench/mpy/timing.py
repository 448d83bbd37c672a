# Lateness of every output change against its schedule, with the real runtime loop on
# MicroPython in real time: the simulated board, asyncio and ticks_ms as on a device.
import asyncio
import sys
import time

from massager.hal.board import DEFAULT, Board
from massager.runtime import Runtime
from massager.store import Store

RUN_MS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
late = []


def on_change(app, now):
    seq = app.seq
    if app.state == "running" and seq is not None:
        late.append(now - seq.seg_start)


async def main():
    import machine

    board = Board(DEFAULT)
    rt = Runtime(board, time, Store("/tmp"), on_change=on_change)
    flag = asyncio.Event()
    task = asyncio.create_task(rt.run(asyncio, flag))
    await asyncio.sleep_ms(50)
    machine.sim.press_button(True)
    await asyncio.sleep_ms(100)
    machine.sim.press_button(False)
    await asyncio.sleep_ms(RUN_MS)
    task.cancel()
    print("late", " ".join(str(x) for x in late))


asyncio.run(main())
