// Run a Python file on real MicroPython (the official WebAssembly build) under Node.
//
//   node mpy_run.mjs [--heap-kb N] [--path DIR]... [--virtual-time MS] MAIN.py [ARG...]
//
// --virtual-time MS: a clock that moves when a timer fires (asyncio's sleeps) and by 1 us
// per reading, so a 15-minute session plays in seconds of CPU, and ticks_ms() starts at MS
// (e.g. just before its wrap at 2^30). Work takes almost no time on it: for figures that
// count (bytes allocated per wake), never for timing.
//
// --path DIRs are copied into the wasm filesystem (/lib/p0, /lib/p1, ...) and put FIRST on
// sys.path, so a plain time.py / machine.py there overrides or provides modules.
// stdout/stderr are forwarded byte-exact. Exit code: 0, the SystemExit code, or 1 when the
// Python code raised (traceback printed to stderr the MicroPython way) or went over the heap
// budget.
//
// Facts measured on @micropython/micropython-webassembly-pyscript 1.29.0-6 (Node 20); see
// docs/micropython-wasm.md for the full list:
// - The heap GROWS (MICROPY_GC_SPLIT_HEAP_AUTO, up to 128 MB): `heapsize` is only the first
//   chunk, and garbage is only collected when control returns to JS. So the device heap is
//   enforced here as a budget: live data after a GC at every return to the event loop must
//   fit in --heap-kb, or the run fails with "MemoryError: heap budget".
// - asyncio has no run(): tasks are driven by the JS event loop. create_task() pushes onto
//   the task queue, whose callback does js.setTimeout(_run_iter, dt); _run_iter runs every
//   ready task, then re-arms one setTimeout for the next wake-up. So top-level code returns
//   at once and the tasks run afterwards; Node stays alive while a timer is armed. We add
//   asyncio.run(coro): it schedules coro as a task and returns the task immediately (code
//   after it runs BEFORE the coroutine); its exception fails the run. Unhandled exceptions
//   in other tasks also fail the run.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG = "@micropython/micropython-webassembly-pyscript/micropython.mjs";
const SKIP_DIRS = new Set(["__pycache__", "node_modules", ".git", ".venv", ".pytest_cache"]);

// Write all of buf to fd, also when the pipe is non-blocking and momentarily full.
export function writeAll(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

// Copy a host directory tree into the wasm (Emscripten MEMFS) filesystem.
export function copyTree(FS, hostDir, wasmDir) {
  try { FS.mkdir(wasmDir); } catch (e) { /* exists */ }
  for (const ent of fs.readdirSync(hostDir, { withFileTypes: true })) {
    const src = path.join(hostDir, ent.name);
    const dst = wasmDir + "/" + ent.name;
    if (ent.isDirectory()) {
      if (!SKIP_DIRS.has(ent.name)) copyTree(FS, src, dst);
    } else if (ent.isFile()) {
      FS.writeFile(dst, fs.readFileSync(src));
    }
  }
}

// Load one MicroPython instance. `out(bytes)` receives stdout, `err(bytes)` stderr.
export async function loadEngine({ heapKb = 160, out, err, stdin }) {
  const mod = await import(pathToFileURL(path.join(HERE, "node_modules", PKG)).href);
  return mod.loadMicroPython({
    heapsize: heapKb * 1024,
    stdout: out,
    stderr: err,
    stdin: stdin || (() => null), // EOF: reading stdin never blocks
    linebuffer: false,
  });
}

// Python-side helpers for mpy_run: run a file as __main__, asyncio.run, failure recording.
const PRELUDE = `
import sys, io, gc
import asyncio
_mpr_failed = [0]
def _mpr_report(e):
    if isinstance(e, SystemExit):
        c = e.value if e.value is not None else 0
        if not isinstance(c, int):
            print(c, file=sys.stderr)
            c = 1
        _mpr_failed[0] = _mpr_failed[0] or c
        return
    s = io.StringIO()
    sys.print_exception(e, s)
    # drop the frames of this runner so the traceback starts at the user's file
    lines = [l for l in s.getvalue().split('\\n') if not l.startswith('  File "<stdin>"')]
    sys.stderr.write('\\n'.join(lines))
    _mpr_failed[0] = 1
async def _mpr_guard(coro):
    try:
        return await coro
    except BaseException as e:
        _mpr_report(e)
def _mpr_asyncio_run(coro):
    return asyncio.create_task(_mpr_guard(coro))
asyncio.run = _mpr_asyncio_run
def _mpr_exc_handler(loop, ctx):
    print(ctx['message'], file=sys.stderr)
    _mpr_report(ctx['exception'])
asyncio.get_event_loop().set_exception_handler(_mpr_exc_handler)
def _mpr_status():
    return _mpr_failed[0]
def _mpr_main(path):
    with open(path) as f:
        src = f.read()
    # module globals stay alive after the file ran, as they do on a device
    global _mpr_g
    _mpr_g = {'__name__': '__main__', '__file__': path}
    try:
        exec(compile(src, path, 'exec'), _mpr_g)
    except BaseException as e:
        _mpr_report(e)
    del src
`;

// The virtual clock: Date.now (which the engine's ticks_ms reads) and setTimeout (which
// asyncio sleeps on) answer from it; the earliest timer fires next, each in a turn of the
// JS event loop of its own (as a real timer would: garbage is collected between them).
function virtualClock() {
  let now = 0;
  let seq = 0;
  let pending = false;
  let after = () => {};
  const base = Date.now();
  const timers = [];
  // Reading the clock moves it by 1 us: a blocking sleep (the engine's sleep_ms spins on
  // it) then takes its time instead of forever.
  Date.now = () => Math.floor(base + (now += 0.001));
  const fire = () => {
    pending = false;
    let k = -1;
    for (let j = 0; j < timers.length; j++) {
      const t = timers[j];
      if (k < 0 || t.due < timers[k].due || (t.due === timers[k].due && t.seq < timers[k].seq)) k = j;
    }
    if (k < 0) return;
    const [t] = timers.splice(k, 1);
    now = Math.max(now, t.due);
    t.fn(...t.rest);
    after();
    kick();
  };
  const kick = () => {
    if (!pending && timers.length) { pending = true; setImmediate(fire); }
  };
  globalThis.setTimeout = (fn, dt, ...rest) => {
    const t = { due: now + Math.max(0, Math.floor(dt) || 0), seq: seq++, fn, rest };
    timers.push(t);
    kick();
    return t;
  };
  globalThis.clearTimeout = (t) => {
    const j = timers.indexOf(t);
    if (j >= 0) timers.splice(j, 1);
  };
  return {
    advance: (ms) => { now += ms; },
    afterEach: (fn) => { after = fn; },
  };
}

async function main(argv) {
  let heapKb = 160;
  let virtualStart = null;
  const paths = [];
  let i = 0;
  for (; i < argv.length; i++) {
    if (argv[i] === "--heap-kb") heapKb = parseInt(argv[++i], 10);
    else if (argv[i] === "--path") paths.push(argv[++i]);
    else if (argv[i] === "--virtual-time") virtualStart = parseInt(argv[++i], 10);
    else break;
  }
  const clock = virtualStart === null ? null : virtualClock();
  const mainFile = argv[i];
  if (!mainFile) {
    process.stderr.write("usage: node mpy_run.mjs [--heap-kb N] [--path DIR]... MAIN.py [ARG...]\n");
    return 2;
  }
  const args = argv.slice(i + 1);
  const out = (b) => writeAll(1, b);
  const err = (b) => writeAll(2, b);
  // --heap-kb 0: no budget check (it GCs after every scheduler pass, which costs ms that a
  // timing measurement should not see); the engine still starts with a device-sized heap.
  const mp = await loadEngine({ heapKb: heapKb || 160, out, err });
  if (clock) clock.advance(virtualStart); // the engine's ticks_ms counts from its load
  const FS = mp.FS;
  const wasmPaths = [];
  try { FS.mkdir("/lib"); } catch (e) { /* exists */ }
  paths.forEach((p, n) => {
    copyTree(FS, p, "/lib/p" + n);
    wasmPaths.push("/lib/p" + n);
  });
  FS.mkdir("/main");
  const wasmMain = "/main/" + path.basename(mainFile);
  FS.writeFile(wasmMain, fs.readFileSync(mainFile));
  mp.runPython(
    "import sys\nsys.path[:0] = " + JSON.stringify(wasmPaths) +
      "\nsys.argv[:] = " + JSON.stringify([wasmMain, ...args]),
  );
  mp.runPython(PRELUDE);
  const gc = mp.pyimport("gc");
  const failed = mp.globals.get("_mpr_status");
  const budget = heapKb * 1024;
  let over = 0;
  // Called at every return to the JS event loop (see the header comment).
  const checkHeap = () => {
    if (!budget || over) return;
    gc.collect(); // runs when this call returns to the top level
    const used = gc.mem_alloc();
    if (used > budget) {
      over = used;
      err(Buffer.from(`MemoryError: heap budget: ${used} bytes live > ${budget} (--heap-kb)\n`));
      process.exit(1);
    }
  };
  // Wrap the timers asyncio uses, to check the heap after each scheduler pass.
  if (clock) {
    clock.afterEach(checkHeap);
  } else {
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = (fn, dt, ...rest) =>
      realSetTimeout(() => { fn(...rest); checkHeap(); }, dt);
  }
  process.on("exit", () => {
    if (process.exitCode === undefined || process.exitCode === 0) {
      process.exitCode = failed() || 0;
    }
  });
  mp.globals.get("_mpr_main")(wasmMain);
  checkHeap();
  if (failed()) process.exit(failed());
  return undefined; // Node exits when no asyncio timer is left
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== undefined) process.exit(code);
  }, (e) => {
    process.stderr.write(`mpy_run: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
  });
}
