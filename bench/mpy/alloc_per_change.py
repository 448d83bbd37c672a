# Bytes the heap grows by per output change while the weekly routine plays (after warm-up).
import gc

from massager import program, routines
from massager.app import App


class Out:
    def show(self, motor, r, g, b):
        pass


prog = program.load(routines.text("weekly"))[0]
app = App([prog], Out())
app.begin(0)
app.press("short", 0)
for _ in range(50):  # warm-up: first-time attribute and cue-table set-up
    app.update(app.next_wake())
changes = 1500
before = gc.mem_alloc()  # no collection runs inside this synchronous stretch on the wasm
for _ in range(changes):
    app.update(app.next_wake())
print("bytes", gc.mem_alloc() - before, "changes", changes)
