# The `massager` command as a user runs it: exit codes, one-line errors, no tracebacks.
import json
import subprocess
import sys

import jsonschema
import pytest

from massager import routines


def massager(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "host_tools", *args], capture_output=True,
                          text=True, input=stdin, timeout=120)


def assert_clean(result):
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_builtins_and_a_good_file(tmp_path):
    good = tmp_path / "mine.json"
    good.write_text(routines.text("daily"))
    r = massager("validate", "weekly", str(good))
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines()[1].startswith(str(good) + ": ok, 1:43")


def test_validate_reports_one_line_per_problem(tmp_path):
    doc = json.loads(routines.text("weekly"))
    doc["steps"][3]["reps"] = 0
    doc["steps"][5]["zone"] = 7
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    bad.write_text(json.dumps(doc, indent=2))
    text = bad.read_text().splitlines()
    reps = [n for n, line in enumerate(text, 1) if '"reps": 0' in line]
    zone = [n for n, line in enumerate(text, 1) if '"zone": 7' in line]
    r = massager("validate", str(bad))
    assert r.returncode == 1 and r.stdout == ""  # problems go to stderr
    assert r.stderr.splitlines() == [
        "%s: steps[3].reps: must be 1..10, got 0 (line %d)" % (bad, reps[0]),
        "%s: steps[5].zone: must be one of chin, jaw, cheekbone, cheek, forehead, lower-lip, "
        "upper-lip, nose, nostrils, ear, neck, eyes, face, got 7 (line %d)" % (bad, zone[0]),
    ]


def test_validate_reports_every_problem_at_once_the_first_20_each_with_its_line(tmp_path):
    doc = json.loads(routines.text("weekly"))
    doc["breath"]["last_ms"] = doc["breath"]["first_ms"] - 500  # a rule across two fields
    doc["steps"][1]["name"] = doc["steps"][0]["name"].upper()  # another
    for step in doc["steps"]:
        step["reps"] = 11
        step["zone"] = "knee"
    bad = tmp_path / "many.json"
    text = json.dumps(doc, indent=2).replace('"rounds": %d' % doc["rounds"], '"rounds": 6.5')
    bad.write_text(text)
    r = massager("validate", str(bad))
    lines = r.stderr.splitlines()
    assert r.returncode == 1 and len(lines) == 20, lines  # 23 problems: the first 20
    rounds = [n for n, line in enumerate(text.splitlines(), 1) if '"rounds"' in line][0]
    assert lines[0] == "%s: rounds: must be a whole number, got 6.5 (line %d)" % (bad, rounds)
    assert all(line.startswith(str(bad) + ": ") and line.endswith(")") and "(line " in line
               for line in lines)
    fixed = text.replace('"reps": 11', '"reps": 3').replace('"knee"', '"chin"')
    bad.write_text(fixed)
    lines = massager("validate", str(bad)).stderr.splitlines()
    assert [line.split(": ")[1] for line in lines] == ["rounds", "breath.last_ms",
                                                        "steps[1].name"]


def test_validate_says_the_real_size_of_a_huge_file(tmp_path):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(3 * 1024 * 1024)  # sparse: 3 MB on paper
    r = massager("validate", str(huge))
    assert r.returncode == 1
    assert r.stderr == "%s: file is %d bytes, limit is 16384\n" % (huge, 3 * 1024 * 1024)


HOSTILE = {
    "empty.json": b"",
    "binary.json": bytes(range(256)) * 4,
    "huge.json": b"{" + b" " * (1 << 20) + b"}",
    "deep.json": b"[" * 10000 + b"]" * 10000,
    "nan.json": b'{"format": 1, "rounds": NaN}',
    "bigint.json": b'{"format": 1, "rounds": ' + b"9" * 5000 + b"}",
    "dupkeys.json": b'{"format": 1, "format": 1, "name": "x"}',
    "unicode.json": '{"format": 1, "name": "日本"}'.encode(),
    "list.json": b"[]",
    "trailing.json": b'{"format": 1,}',
}


def test_hostile_files_fail_with_one_line_each(tmp_path):
    paths = []
    for name, data in HOSTILE.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    paths.append(str(tmp_path))  # a directory
    paths.append(str(tmp_path / "missing.json"))
    for path in paths:
        r = massager("validate", path)
        assert r.returncode == 1, path
        assert_clean(r)
        lines = r.stderr.splitlines()
        assert r.stdout == "" and lines, (path, r.stdout)
        assert all(line.startswith(path + ": ") for line in lines), (path, lines)
        assert all(len(line) < 300 for line in lines)


def test_schema_accepts_the_builtins_and_rejects_unknown_fields():
    r = massager("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    for name in routines.NAMES:
        jsonschema.validate(json.loads(routines.text(name)), schema)
    doc = json.loads(routines.text("daily"))
    doc["steps"][0]["speed"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_sim_headless_trace_to_stdout_is_pure_json_lines():
    r = massager("sim", "daily", "--headless", "--trace", "-")
    assert r.returncode == 0
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert all(list(r) == ["t", "motor", "led", "state", "step", "round", "rep", "cue",
                           "duty_u16"] for r in records)
    assert 60000 <= records[-1]["t"] <= 120000
    assert r.stderr.startswith("daily: 1:43")


def test_sim_headless_writes_the_trace_file(tmp_path):
    out = tmp_path / "trace.jsonl"
    r = massager("sim", "daily", "--headless", "--trace", str(out),
                 "--buttons", "0:short,5000:long")
    assert r.returncode == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records[-1]["t"] == 5000 and records[-1]["state"] == "idle"
    assert "ended idle" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["sim", "--headless", "--buttons", "0:poke"], "--buttons item 1 '0:poke'"),
    (["sim", "--headless", "--buttons", "5000:short,1000:short"],
     "item 2 '1000:short': 1000 ms is before the 5000 ms of the item ahead of it"),
    (["sim", "--headless", "--until", "-1"], "--until needs --headless and 0 or more ms"),
    (["sim", "--until", "1000"], "--until needs --headless"),
    (["sim", "--speed", "0"], "--speed must be above 0"),
    (["sim", "--headless", "--battery", "3.9V"],
     "--battery: a voltage in mV (0 to 5000) or none, got '3.9V'"),
    (["sim", "--headless", "--battery", "-3500"],
     "--battery: a voltage in mV (0 to 5000) or none, got '-3500'"),
    (["sim", "--headless", "--battery", "9000"],
     "--battery: a voltage in mV (0 to 5000) or none, got '9000'"),
    (["sim", "--headless", "--cell", "worn"], "--cell: one of new, old, got 'worn'"),
])
def test_sim_bad_arguments_are_one_line_and_exit_2(args, message):
    r = massager(*args)
    assert r.returncode == 2  # bad arguments, as argparse's own
    assert_clean(r)
    assert len(r.stderr.splitlines()) == 1 and message in r.stderr


def test_sim_problems_are_one_line_and_exit_1(tmp_path):
    for args, message in (
            (["sim", "nope", "--headless"], "nope: no such file or built-in routine"),
            (["sim", "daily", "--headless", "--trace", str(tmp_path / "no" / "t.jsonl")],
             "t.jsonl: cannot write the trace: No such file or directory")):
        r = massager(*args)
        assert r.returncode == 1 and "internal error" not in r.stderr
        assert_clean(r)
        assert len(r.stderr.splitlines()) == 1 and message in r.stderr, r.stderr


def test_sim_trace_into_a_directory_writes_name_jsonl(tmp_path):
    r = massager("sim", "daily", "--headless", "--trace", str(tmp_path))
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in (tmp_path / "daily.jsonl").read_text().splitlines()]
    assert records[-1]["state"] == "done"


def test_sim_live_view_without_a_terminal_prints_progress(tmp_path):
    # Not a tty: the live view prints plain progress lines instead of redrawing.
    doc = json.loads(routines.text("daily"))
    doc.update(rounds=1, steps=doc["steps"][:1])
    path = tmp_path / "one.json"
    path.write_text(json.dumps(doc))
    r = massager("sim", str(path), "--speed", "64")
    assert r.returncode == 0, r.stderr
    assert "running: step 1/1, round 1/1: Chin to ear, press the point 3 times" in r.stdout
    assert "done" in r.stdout and "None" not in r.stdout


@pytest.mark.parametrize("args, message", [
    (["vdev", "--battery", "3.9V"],
     "--battery: a voltage in mV (0 to 5000) or none, got '3.9V'"),
    (["vdev", "--battery", "6000"],
     "--battery: a voltage in mV (0 to 5000) or none, got '6000'"),
    (["vdev", "--cell", "worn"], "--cell: one of new, old, got 'worn'"),
    (["vdev", "--cpu-slowdown", "0.5"], "--cpu-slowdown: at least 1, got 0.5"),
    (["vdev", "--engine", "rp2040", "--battery", "none"],
     "--battery none: the emulated RP2040's ADC reads a set voltage"),
])
def test_vdev_bad_arguments_name_the_option_and_exit_2(args, message):
    r = massager(*args)  # one option name, --battery, on both engines
    assert r.returncode == 2
    assert_clean(r)
    assert message in r.stderr.splitlines()[-1], r.stderr


def test_ctrl_c_on_piped_sim_is_one_line_on_stderr_and_exit_130():
    import signal

    p = subprocess.Popen([sys.executable, "-m", "host_tools", "sim", "weekly"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    assert p.stdout.readline().strip()  # the live view is running (plain progress lines)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130
    assert err == "massager sim: interrupted\n"
    assert "Traceback" not in out


def test_a_silent_port_says_it_waits_then_gives_up_with_what_to_do():
    import os

    master, slave = os.openpty()  # a serial port nothing answers on
    term_master, term = os.openpty()  # the user's terminal, for stderr
    try:
        port = os.ttyname(slave)
        r = massager("ls", "-p", port)  # piped: the error alone
        p = subprocess.run([sys.executable, "-m", "host_tools", "ls", "-p", port],
                           stdout=subprocess.PIPE, stderr=term, stdin=subprocess.DEVNULL,
                           timeout=60)
        os.set_blocking(term_master, False)
        on_terminal = os.read(term_master, 4096).decode()
    finally:
        for fd in (master, slave, term_master, term):
            os.close(fd)
    advice = ("massager ls: no answer from %s in 5 s: not a MicroPython board, or it hangs: "
              "press its reset button or unplug and replug it (a virtual device: restart "
              "`massager vdev`), then try again" % port)
    assert r.returncode == 1 and r.stdout == "" and r.stderr.splitlines() == [advice]
    assert p.returncode == 1 and p.stdout == b""
    assert on_terminal.splitlines() == ["massager: waiting for %s to answer..." % port, advice]
