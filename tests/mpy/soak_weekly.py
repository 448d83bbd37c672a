# Soak on real MicroPython: the weekly routine played PLAYS times back to back on one App
# (as on the device: the same objects all day), on a virtual clock, with seeded random
# button presses. After each play it lets control return to JS (the WebAssembly build only
# collects garbage then), collects, and prints one line:
#     play N start MS changes C crc X alloc BYTES
# crc is a CRC32 of that play's trace with times relative to its start, so plays with the
# same button script must print the same crc. Usage: soak_weekly.py PLAYS SEED
import asyncio
import binascii
import gc
import sys

from massager import app, program, routines, trace


class NoHardware:
    def show(self, motor, r, g, b):
        pass


class Rand:
    # A tiny LCG: the same numbers on every engine, no `random` module needed.
    def __init__(self, seed):
        self.s = seed & 0x7FFFFFFF

    def below(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n


def script_for(rnd):
    """Raw edges (ms after the start, pressed) of one play: start, then a few pauses
    (resumed after a while) and double presses (skip), never a level change."""
    edges = [(0, True), (100, False)]
    t = 10000
    for _ in range(rnd.below(5)):
        t += 5000 + rnd.below(90000)
        if rnd.below(2):  # pause, then resume
            edges += [(t, True), (t + 80, False)]
            t += 1000 + rnd.below(20000)
            edges += [(t, True), (t + 80, False)]
        else:  # double: skip to the next step
            edges += [(t, True), (t + 80, False), (t + 200, True), (t + 280, False)]
        t += 1000
    return edges


state = {"crc": 0, "start": 0, "changes": 0}


def on_change(a, now):
    state["changes"] += 1
    rel = now - state["start"]
    line = trace.line(a, rel)
    state["crc"] = binascii.crc32(line.encode(), state["crc"])


def play(a, now, edges):
    """One play from idle back to idle; returns the time it ends."""
    state["start"] = now
    state["crc"] = 0
    state["changes"] = 0
    i = 0
    while True:
        at = now if i >= len(edges) else state["start"] + edges[i][0]
        if i >= len(edges) and a.state == app.IDLE and a.gestures.deadline() is None:
            return now
        wake = a.next_wake()
        if i < len(edges) and (wake is None or at <= wake):
            now = at if at > now else now
            a.edge(edges[i][1], now)
            i += 1
        else:
            now = wake if wake > now else now
            a.update(now)


async def settle():
    for _ in range(3):
        await asyncio.sleep_ms(1)


async def main():
    plays = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    progs = [program.load(routines.text(n))[0] for n in routines.NAMES]
    a = app.App(progs, NoHardware(), on_change=on_change)
    a.selected = list(routines.NAMES).index("weekly")
    a.begin(0)
    now = 0
    rnd = Rand(seed)
    first = None
    for n in range(1, plays + 1):
        edges = script_for(rnd)
        if n == 1:
            first = edges
        elif n == plays:
            edges = first  # the last play repeats the first one's buttons
        now = play(a, now + 1000 + rnd.below(30000), edges)
        await settle()
        gc.collect()
        print("play %d start %d changes %d crc %d alloc %d" % (
            n, state["start"], state["changes"], state["crc"], gc.mem_alloc()))


asyncio.run(main())
