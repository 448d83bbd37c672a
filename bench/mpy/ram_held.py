# RAM held by a loaded weekly routine (program + sequencer), as the slope over ten copies.
# Garbage is only collected when control returns to JS, so each step awaits that first.
import asyncio
import gc

from massager import program, routines
from massager.sequencer import Sequencer

keep = []


async def settle():
    for _ in range(3):
        await asyncio.sleep_ms(1)


async def main():
    text = routines.text("weekly")
    keep.append(program.load(text)[0])
    await settle()
    before = gc.mem_alloc()
    for _ in range(10):
        prog = program.load(text)[0]
        keep.append((prog, Sequencer(prog)))
        await settle()
    print("bytes", (gc.mem_alloc() - before) // 10, "json", len(text))


asyncio.run(main())
