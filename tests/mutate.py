# Mutation testing of the safety-critical firmware: `make mutate` (all modules) or
# `make mutate MODULE=safety` (one).
#
# Why a runner of its own: the firmware is installed as the package `massager` from
# firmware/massager (pyproject package-dir), and the same files also run inside the
# MicroPython engine, so mutants must be real source files on disk that both engines
# read. mutmut 3 rewrites modules into trampolines (not MicroPython) under its own
# mutants/ tree; cosmic-ray mutates the work tree in place and offers about a dozen
# replacements per operator. This runner makes one mutant per site and operator
# (mutmut's classic set plus "drop this call"), writes it into a private copy of the tree
# (never the work tree), and runs that module's fast subset of tests against it, one
# pytest process per mutant, `JOBS` at a time.
#
# A mutant is killed when its tests fail (or time out), survives when they pass.
# Survivors that no test can tell apart from the original are listed with the reason in
# tests/mutate_equivalent.txt; every other survivor is a missing test. Results go to
# out/mutation/<module>.json; --report writes the table into docs/reliability.md.
import argparse
import ast
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "out", "mutation")
EQUIVALENT = os.path.join(ROOT, "tests", "mutate_equivalent.txt")
PKG = "firmware/massager/"

HISTORY = "tests/test_history.py::"
UPTIME_SHIFT = ("tests/test_long_uptime.py::"
                "test_setting_the_clock_back_changes_nothing_a_person_sees")
# Module -> its fast subset of tests, the likeliest killers first (pytest -x stops at the
# first failure). Together they take seconds, so a module's run is minutes, not hours.
MODULES = {
    "safety": ("safety.py", ["tests/test_safety_limits.py",
                             "tests/test_rp2_lightsleep_lockup.py"]),
    "hal/motor": ("hal/motor.py", ["tests/test_mutation_targets.py", "tests/test_hal.py",
                                   "tests/test_motor_volts.py"]),
    "hal/board": ("hal/board.py", ["tests/test_mutation_targets.py", "tests/test_hal.py",
                                   "tests/test_runtime.py", "tests/test_power.py"]),
    "store": ("store.py", ["tests/test_store.py", "tests/test_mutation_targets.py",
                           "tests/test_runtime.py"]),
    "app": ("app.py", ["tests/test_safety_limits.py", "tests/test_mutation_targets.py",
                       "tests/test_app.py", "tests/test_runtime.py",
                       UPTIME_SHIFT] + [HISTORY + t for t in (
                           "test_an_hour_of_quiet_wakes_after_a_session_writes_nothing_more",
                           "test_a_session_is_written_down_at_a_quiet_wake_and_before_the_"
                           "latch_lets_go",
                           "test_the_running_time_leaves_out_every_pause",
                           "test_a_session_stopped_while_paused_leaves_that_pause_out_too")]),
    "button": ("button.py", ["tests/test_button.py", "tests/test_safety_limits.py",
                             "tests/test_mutation_targets.py", "tests/test_app.py",
                             UPTIME_SHIFT]),
    "runtime": ("runtime.py", ["tests/test_runtime.py", "tests/test_safety_limits.py",
                               "tests/test_mutation_targets.py", "tests/test_power.py",
                               "tests/test_faithful_boards.py", "tests/test_hal.py",
                               "tests/test_long_uptime.py", "tests/test_motor_volts.py",
                               HISTORY + "test_a_session_is_written_down_at_a_quiet_wake_"
                               "and_before_the_latch_lets_go",
                               HISTORY + "test_an_hour_of_quiet_wakes_after_a_session_writes_"
                               "nothing_more",
                               "tests/test_latch.py::test_on_usb_a_press_wakes_it_and_it_"
                               "holds_the_power_again"]),
    "history": ("history.py", [HISTORY + t for t in (
        "test_a_record_is_the_documented_layout_both_ways",
        "test_a_record_of_another_version_or_an_unknown_ending_is_skipped",
        "test_times_are_whole_seconds_rounded_half_up_and_capped",
        "test_a_record_reads_back_what_was_written_and_any_flipped_bit_voids_it",
        "test_the_clock_before_a_host_set_it_gives_no_date",
        "test_a_date_after_the_rp2_power_up_year_is_kept",
        "test_the_ring_keeps_the_newest_slots_and_never_grows",
        "test_a_file_cut_short_gets_empty_slots_up_to_the_next_record",
        "test_an_append_that_cannot_write_says_so_and_raises_nothing",
        "test_a_cut_at_any_byte_of_an_append_loses_at_most_that_record_in_a_full_ring",
        "test_the_summary_counts_days_the_full_routine_and_the_streak_and_plots_them",
        "test_a_session_is_written_down_at_a_quiet_wake_and_before_the_latch_lets_go")]),
    "program": ("program.py", ["tests/test_program.py", "tests/test_routine.py",
                               "tests/test_safety_limits.py",
                               "tests/test_sequencer.py", "tests/test_builtin_routines.py"]),
    "routine": ("routine.py", ["tests/test_routine_doc.py", "tests/test_routine.py",
                               "tests/test_schema.py", "tests/test_builtin_routines.py"]),
}
# Functions whose goal is no survivor at all (besides whole modules safety and hal/motor).
STRICT = {"hal/board": ["Board.all_off"], "store": ["Store.install"],
          "app": ["App._stop", "App.power_off", "App.press", "App.update"]}
STRICT_MODULES = ("safety", "hal/motor")

# -- mutants -----------------------------------------------------------------------------

BINARY = {ast.Add: "-", ast.Sub: "+", ast.Mult: "//", ast.FloorDiv: "*", ast.Div: "*",
          ast.Mod: "//", ast.LShift: ">>", ast.RShift: "<<", ast.BitOr: "&",
          ast.BitAnd: "|", ast.BitXor: "&"}
COMPARE = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==",
           "in": "not in", "not in": "in", "is": "is not", "is not": "is"}
AUGMENTED = {"+=": "-=", "-=": "+=", "*=": "//=", "//=": "*=", "|=": "&=", "&=": "|="}


class Mutant:
    def __init__(self, module, where, line, start, end, new, what):
        self.module = module
        self.where = where  # qualified name of the enclosing function, or "<module>"
        self.line = line
        self.start, self.end = start, end  # byte offsets of the replaced source
        self.new = new
        self.what = what  # e.g. "`<` -> `<=`"
        self.id = None  # set once every mutant of the module is known

    def apply(self, source):
        return source[:self.start] + self.new.encode() + source[self.end:]


def _docstrings(tree):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                     ast.Constant):
                out.add(id(body[0].value))
    return out


def mutants(module, source):
    """Every mutant of one module's source (bytes)."""
    tree = ast.parse(source)
    lines = source.split(b"\n")
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln) + 1)

    def offset(lineno, col):  # ast columns are UTF-8 byte offsets
        return starts[lineno - 1] + col

    tokens = []  # (start byte, end byte, string) of operator-like tokens
    for tok in tokenize.tokenize(io.BytesIO(source).readline):
        if tok.type in (tokenize.OP, tokenize.NAME):
            (l1, c1), (l2, c2) = tok.start, tok.end
            b1 = offset(l1, len(tok.line[:c1].encode()))
            b2 = offset(l2, len(tok.line[:c2].encode())) if l1 == l2 else b1 + len(
                tok.string.encode())
            tokens.append((b1, b2, tok.string))

    def between(a, b, words):
        """The first token in [a, b) whose text is one of words, as (start, end, text);
        two-word operators (not in, is not) come back joined."""
        found = [t for t in tokens if a <= t[0] and t[1] <= b and t[2] not in "()"]
        for i, t in enumerate(found):
            if t[2] in ("not", "is") and i + 1 < len(found):
                pair = t[2] + " " + found[i + 1][2]
                if pair in words:
                    return t[0], found[i + 1][1], pair
            if t[2] in words:
                return t
        return None

    docstrings = _docstrings(tree)
    out = []

    def add(node, where, start, end, new, what):
        out.append(Mutant(module, where, node.lineno, start, end, new, what))

    def span(node):
        return offset(node.lineno, node.col_offset), offset(node.end_lineno,
                                                              node.end_col_offset)

    def visit(node, where):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            where = node.name if where == "<module>" else where + "." + node.name
            for d in getattr(node, "decorator_list", []):
                visit(d, where)
            for child in ast.iter_child_nodes(node):
                if child not in getattr(node, "decorator_list", []):
                    visit(child, where)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.JoinedStr)):
            return
        if (where == "<module>" and isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Name)):
            where = node.targets[0].id  # a module constant is named by itself
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            t = between(span(node.left)[1], span(node.right)[0],
                        {"+", "-", "*", "//", "/", "%", "<<", ">>", "|", "&", "^"})
            if t:
                add(node, where, t[0], t[1], BINARY[type(node.op)],
                    "`%s` -> `%s`" % (t[2], BINARY[type(node.op)]))
        elif isinstance(node, ast.AugAssign):
            t = between(span(node.target)[1], span(node.value)[0], set(AUGMENTED))
            if t:
                add(node, where, t[0], t[1], AUGMENTED[t[2]], "`%s` -> `%s`" % (
                    t[2], AUGMENTED[t[2]]))
        elif isinstance(node, ast.Compare):
            left = node.left
            for right in node.comparators:
                t = between(span(left)[1], span(right)[0], set(COMPARE))
                if t:
                    add(node, where, t[0], t[1], COMPARE[t[2]], "`%s` -> `%s`" % (
                        t[2], COMPARE[t[2]]))
                left = right
        elif isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            other = "or" if word == "and" else "and"
            for a, b in zip(node.values, node.values[1:]):
                t = between(span(a)[1], span(b)[0], {word})
                if t:
                    add(node, where, t[0], t[1], other, "`%s` -> `%s`" % (word, other))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            s, e = span(node)
            inner = span(node.operand)[0]
            # Keep the operand: `not x` -> `(x)`, `-1` -> `(1)`.
            add(node, where, s, e, "(" + source[inner:e].decode() + ")",
                "drop `%s`" % ("not" if isinstance(node.op, ast.Not) else "-"))
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            s, e = span(node)
            v = node.value
            if v is True or v is False:
                add(node, where, s, e, str(not v), "`%s` -> `%s`" % (v, not v))
            elif type(v) is int:
                add(node, where, s, e, str(v + 1), "`%d` -> `%d`" % (v, v + 1))
            elif type(v) in (str, bytes):
                new = repr(("XX" + v + "XX") if type(v) is str else b"XX" + v + b"XX")
                add(node, where, s, e, new, "string %s -> %s" % (_short(repr(v)),
                                                                 _short(new)))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            s, e = span(node)
            add(node, where, s, e, "None", "drop the call `%s`" % _short(
                source[s:e].decode().split("(")[0] + "(...)"))
        elif isinstance(node, ast.Break):
            add(node, where, *span(node), "continue", "`break` -> `continue`")
        elif isinstance(node, ast.Continue):
            add(node, where, *span(node), "break", "`continue` -> `break`")
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, "<module>")
    out.sort(key=lambda m: (m.start, m.end, m.new))
    seen = {}
    kept = []
    for m in out:
        try:
            compile(m.apply(source), module, "exec")
        except SyntaxError:
            continue
        # An id that survives edits elsewhere in the file: function, change, and which
        # such change in that function it is.
        key = (m.where, m.what)
        seen[key] = seen.get(key, 0) + 1
        m.id = "%s:%s:%s#%d" % (module, m.where, m.what, seen[key])
        kept.append(m)
    return kept


def _short(text, n=40):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


# -- running -----------------------------------------------------------------------------

def _tree_files():
    r = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                       capture_output=True, check=True)
    return [f for f in r.stdout.decode().split("\0") if f and os.path.isfile(
        os.path.join(ROOT, f))]


def make_copy(dest):
    """The work tree as git sees it (tracked and new files), plus the engine's modules."""
    for rel in _tree_files():
        os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), os.path.join(dest, rel))
    modules = os.path.join(ROOT, "simulator", "node_modules")
    if os.path.isdir(modules):
        os.symlink(modules, os.path.join(dest, "simulator", "node_modules"))
    return dest


# A worker: one Python per copy of the tree that has pytest and hypothesis imported, and
# forks a child per mutant to run the tests (the firmware is imported only in the child,
# fresh from the mutated file). Saves the second of imports a new process would pay.
WORKER = r"""
import os, signal, sys, time
import pytest, hypothesis, hypothesis.strategies, hypothesis.stateful  # noqa: F401
for line in sys.stdin:
    timeout, *args = line.split()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os._exit(int(pytest.main(args)))
    deadline = t0 + float(timeout)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            code = "timeout"
            break
        time.sleep(0.02)
    print(code, time.monotonic() - t0, flush=True)
"""


class Worker:
    def __init__(self, copy):
        env = dict(os.environ)
        # The copy's firmware and packages come before the editable install of the tree.
        env["PYTHONPATH"] = os.pathsep.join([os.path.join(copy, "firmware"), copy])
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant of the same size must not hit a .pyc
        env["HYPOTHESIS_PROFILE"] = "mutate"
        self.copy = copy
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=copy, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def run(self, tests, timeout):
        """'killed', 'survived' or 'timeout', and the seconds taken."""
        args = ["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *tests]
        self.proc.stdin.write("%s %s\n" % (timeout, " ".join(args)))
        self.proc.stdin.flush()
        code, took = self.proc.stdout.readline().split()
        if code == "5":
            raise SystemExit("mutate: no tests collected from %s" % " ".join(tests))
        status = "timeout" if code == "timeout" else "survived" if code == "0" else "killed"
        return status, float(took)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def run_tests(copy, tests, timeout):
    """One run in a fresh worker (for checks outside a module's run)."""
    w = Worker(copy)
    try:
        return w.run(tests, timeout)
    finally:
        w.close()


def load_equivalent():
    out = {}
    if os.path.exists(EQUIVALENT):
        with open(EQUIVALENT) as f:
            for line in f:
                line = line.rstrip("\n")
                if line and not line.startswith("#"):
                    mid, _, why = line.partition("\t")
                    out[mid.strip()] = why.strip()
    return out


def run_module(name, jobs, workdir, only=None):
    path, tests = MODULES[name]
    src_rel = PKG + path
    with open(os.path.join(ROOT, src_rel), "rb") as f:
        source = f.read()
    ms = [m for m in mutants(src_rel, source) if only is None or only in m.id]
    workers = [Worker(make_copy(os.path.join(workdir, "w%d" % i))) for i in range(jobs)]
    status, took = workers[0].run(tests, timeout=900)
    if status != "survived":
        raise SystemExit("mutate: %s: its tests fail on the unmutated code (%s): %s" % (
            name, status, " ".join(tests)))
    timeout = max(20.0, took * 4 + 10)
    print("%s: %d mutants, tests %s take %.1f s (timeout %.0f s), %d at a time" % (
        name, len(ms), " ".join(os.path.basename(t) for t in tests), took, timeout, jobs),
        flush=True)
    free = list(workers)
    results = [None] * len(ms)
    t_start = time.monotonic()
    done = [0]

    def one(i):
        worker = free.pop()
        target = os.path.join(worker.copy, src_rel)
        try:
            with open(target, "wb") as f:
                f.write(ms[i].apply(source))
            status, secs = worker.run(tests, timeout)
        finally:
            with open(target, "wb") as f:
                f.write(source)
            free.append(worker)
        results[i] = status
        done[0] += 1
        left = (time.monotonic() - t_start) / done[0] * (len(ms) - done[0])
        print("[%s %d/%d, %d min left] %s line %d %s: %s %s" % (
            name, done[0], len(ms), left // 60 + 1, path, ms[i].line, ms[i].where,
            ms[i].what, status.upper() if status == "survived" else status), flush=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, range(len(ms))))
    for w in workers:
        w.close()
    record = {
        "module": name, "file": src_rel, "tests": tests,
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "commit": _commit(),
        "mutants": [{"id": m.id, "line": m.line, "where": m.where, "what": m.what,
                     "status": s} for m, s in zip(ms, results)],
    }
    saved = os.path.join(OUT, name.replace("/", "_") + ".json")
    if only is not None:  # a recheck (--only) updates those mutants in the saved run
        if not os.path.exists(saved):
            return record
        with open(saved) as f:
            old = json.load(f)
        now = {m["id"]: m["status"] for m in record["mutants"]}
        for m in old["mutants"]:
            m["status"] = now.get(m["id"], m["status"])
        old["rechecked"] = "%s, %s: %s" % (record["date"], record["commit"], only)
        record = old
    os.makedirs(OUT, exist_ok=True)
    with open(saved, "w") as f:
        json.dump(record, f, indent=1)
    return record


def _commit():
    r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                       capture_output=True, text=True)
    return r.stdout.strip()


# -- the report ----------------------------------------------------------------------------

def _strict(name, where):
    return name in STRICT_MODULES or any(where == f or where.startswith(f + ".")
                                         for f in STRICT.get(name, ()))


def summarize(records, equivalent):
    """Rows (label, killed, survived, equivalent, goal met) and the survivors."""
    rows, survivors, equivalents = [], [], []
    for rec in records:
        name = rec["module"]
        groups = [(name, lambda m: True)]
        for f in STRICT.get(name, ()):
            groups.append(("%s: %s" % (name, f), lambda m, f=f: _strict_in(m, f)))
        for label, pick in groups:
            ms = [m for m in rec["mutants"] if pick(m)]
            k = sum(m["status"] in ("killed", "timeout") for m in ms)
            eq = [m for m in ms if m["status"] == "survived" and m["id"] in equivalent]
            sv = [m for m in ms if m["status"] == "survived" and m["id"] not in equivalent]
            strict = label in STRICT_MODULES or label != name
            scored = k + len(sv)
            goal = (not sv) if strict else (scored == 0 or k * 100 >= 90 * scored)
            rows.append((label, len(ms), k, len(sv), len(eq), strict, goal,
                         rec["date"], rec["commit"] + (" + rechecks" if rec.get("rechecked")
                                                       else "")))
        for m in rec["mutants"]:
            if m["status"] == "survived":
                (equivalents if m["id"] in equivalent else survivors).append(m)
    return rows, survivors, equivalents


def _strict_in(m, f):
    return m["where"] == f or m["where"].startswith(f + ".")


def kept_rows(path):
    """The table rows the doc has now, by module: a module whose results this checkout
    lacks (out/ is not in git) keeps its last run's rows, with their date and commit."""
    rows = {}
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return rows
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[1].isdigit() and not cells[0].startswith("**"):
            rows.setdefault(cells[0].split(":")[0], []).append((line, cells))
    return rows


def render(records, equivalent, kept=None):
    rows, survivors, equivalents = summarize(records, equivalent)
    out = ["## Mutation testing", "",
           "Written by `make mutate` (`tests/mutate.py`; do not edit by hand). Each mutant "
           "(one change to the firmware source: a comparison, an operator, a number +1, a "
           "string, a dropped call, `and`/`or`, `not`, `break`) runs the module's fast "
           "subset of tests; *killed* counts timeouts too. *Equivalent*: survivors that no "
           "test can tell apart from the original, each explained below. Goal: no survivor "
           "in the strict rows, at least 90 % of the non-equivalent mutants killed in the "
           "rest.", "",
           "| module | mutants | killed | survived | equivalent | killed % | goal | run |",
           "|---|---:|---:|---:|---:|---:|---|---|"]
    for label, n, k, sv, eq, strict, goal, date, commit in rows:
        scored = k + sv
        pct = "%.1f" % (100.0 * k / scored) if scored else "-"
        out.append("| %s | %d | %d | %d | %d | %s | %s %s | %s, %s |" % (
            label, n, k, sv, eq, pct, "no survivor" if strict else ">= 90 %",
            "met" if goal else "**not met**", date, commit))
    done = {rec["module"] for rec in records}
    total = [sum(r[i] for r in rows if ":" not in r[0]) for i in (1, 2, 3, 4)]
    for name in MODULES:
        if name in done:
            continue
        if kept and name in kept:
            for line, cells in kept[name]:
                out.append(line)
                if cells[0] == name:
                    total = [t + int(c) for t, c in zip(total, cells[1:5])]
        else:
            out.append("| %s | | | | | | not run yet: `make mutate MODULE=%s` | |" % (
                name, name))
    out.append("| **all** | %d | %d | %d | %d | %.1f | | |" % (
        total[0], total[1], total[2], total[3],
        100.0 * total[1] / max(1, total[1] + total[2])))
    if kept and any(name in kept and name not in done for name in MODULES):
        out += ["", "Rows of modules this run did not cover are kept from their last run "
                "(their date says when); their equivalent mutants are in "
                "`tests/mutate_equivalent.txt`."]
    out += ["", "Surviving mutants (each a test still to write):", ""]
    out += ["- `` %s `` (line %d)" % (m["id"], m["line"]) for m in survivors] or ["- none"]
    out += ["", "Equivalent mutants:", ""]
    out += ["- `` %s `` (line %d): %s" % (m["id"], m["line"], equivalent[m["id"]])
            for m in equivalents] or ["- none"]
    return "\n".join(out) + "\n"


def write_report(path=None):
    import reliability_report

    records = []
    for name in MODULES:
        p = os.path.join(OUT, name.replace("/", "_") + ".json")
        if os.path.exists(p):
            with open(p) as f:
                records.append(json.load(f))
    if not records:
        raise SystemExit("mutate: no results in %s yet; run `make mutate`" % OUT)
    path = path or reliability_report.DOC
    reliability_report.write_section("mutation", render(records, load_equivalent(),
                                                         kept_rows(path)), path)
    return records


def main(argv=None):
    ap = argparse.ArgumentParser(prog="make mutate", description=__doc__)
    ap.add_argument("--module", action="append", choices=sorted(MODULES),
                    help="one module (repeatable); default: all")
    ap.add_argument("--jobs", type=int, default=2, help="pytest processes at once")
    ap.add_argument("--list", action="store_true", help="list the mutants and stop")
    ap.add_argument("--only", metavar="TEXT",
                    help="run only the mutants whose id contains TEXT, e.g. after writing a "
                    "test for a survivor; their results replace those of the last full run")
    ap.add_argument("--report", action="store_true",
                    help="only write docs/reliability.md from the last results")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    names = args.module or list(MODULES)
    if args.list:
        for name in names:
            path = PKG + MODULES[name][0]
            with open(os.path.join(ROOT, path), "rb") as f:
                for m in mutants(path, f.read()):
                    print(m.id)
        return 0
    if not args.report:
        workdir = tempfile.mkdtemp(prefix="massager-mutate-")
        try:
            for name in names:
                run_module(name, max(1, args.jobs), os.path.join(workdir, name.replace(
                    "/", "_")), args.only)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    records = write_report()
    rows, survivors, _ = summarize(records, load_equivalent())
    for row in rows:
        print("%-28s %4d mutants, %4d killed, %3d survived, %3d equivalent%s" % (
            row[0], row[1], row[2], row[3], row[4], "" if row[6] else "  GOAL NOT MET"))
    for mid in stale_equivalents(records, load_equivalent()):
        print("stale line in tests/mutate_equivalent.txt (killed or gone now): %s" % mid)
    print("docs/reliability.md: mutation table written")
    return 0


def stale_equivalents(records, equivalent):
    """Ids listed as equivalent, in a module that was run, that no longer survive."""
    files = {rec["file"] for rec in records}
    alive = {m["id"] for rec in records for m in rec["mutants"] if m["status"] == "survived"}
    return [mid for mid in equivalent if mid.split(":")[0] in files and mid not in alive]


if __name__ == "__main__":
    sys.exit(main())
