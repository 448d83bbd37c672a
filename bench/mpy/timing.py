# Timing at the motor: when the PWM duty actually changes against when the schedule said
# it should, with the real runtime loop on MicroPython in real time (the simulated board,
# asyncio and ticks_ms as on a device). The simulated machine stamps every duty write
# (sim.on_duty) as it happens, so the figure holds whatever the motor driver does between
# the loop and the pin (a blocking or a non-blocking soft start).
#
#   argv: BOARD_JSON RUN_MS
# prints JSON: the motor pin's writes [(ticks, duty)] and the changes [(scheduled ticks,
# motor %, writes so far, ticks when the loop woke for it)].
import asyncio
import json
import sys
import time
from array import array

import machine

from massager.hal.board import Board
from massager.runtime import Runtime
from massager.store import Store

N = 4000
config = json.loads(sys.argv[1])
RUN_MS = int(sys.argv[2])
MOTOR = config["motor"]["pin"]
ticks_ms = time.ticks_ms
w_ticks = array("i", [0] * N)
w_duty = array("i", [0] * N)
c_sched = array("i", [0] * N)
c_motor = array("i", [0] * N)
c_writes = array("i", [0] * N)
c_wake = array("i", [0] * N)
count = array("i", [0, 0])  # writes, changes
rt = None


def on_duty(pin, duty):
    n = count[0]
    if pin == MOTOR and n < N:
        w_ticks[n] = ticks_ms()
        w_duty[n] = duty
        count[0] = n + 1


def on_change(app, now):
    seq = app.seq
    n = count[1]
    if app.state == "running" and n < N:
        # the schedule, in ticks: the segment's start on the app's clock, mapped through
        # the runtime's last reading of both clocks
        c_sched[n] = time.ticks_add(rt._ticks, seq.seg_start - rt.uptime)
        c_motor[n] = app.motor
        c_writes[n] = count[0]
        c_wake[n] = rt._ticks  # the wake's own reading of the clock
        count[1] = n + 1


async def main():
    global rt
    machine.sim.log_writes = False
    bat = config["battery"]
    machine.sim.set_adc_mv(bat["pin"], 3900 * 100 // bat["divider_x100"])
    rt = Runtime(Board(config), time, Store("/tmp"), on_change=on_change)
    names = [p.name for p in rt.app.programs]
    rt.app.selected = names.index("weekly")
    flag = asyncio.ThreadSafeFlag() if hasattr(asyncio, "ThreadSafeFlag") else asyncio.Event()
    task = asyncio.create_task(rt.run(asyncio, flag))
    await asyncio.sleep_ms(50)
    machine.sim.on_duty = on_duty
    machine.sim.press_button(True)
    await asyncio.sleep_ms(100)
    machine.sim.press_button(False)
    await asyncio.sleep_ms(RUN_MS)
    task.cancel()
    w, c = count[0], count[1]
    print(json.dumps({"writes": [[w_ticks[i], w_duty[i]] for i in range(w)],
                      "changes": [[c_sched[i], c_motor[i], c_writes[i], c_wake[i]]
                                  for i in range(c)]}))


asyncio.run(main())
