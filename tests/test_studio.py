# `massager studio`: the player it rests on, its server, and the page in a real browser.
#
# The browser tests run Debian's chromium (tests/studio_browser.py). Where it or Playwright
# is missing they fail and say what to install: CI installs chromium in .ci/run.
import http.client
import json
import os
import signal
import socket
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import studio_browser as sb
from helpers import builtin, massager, sha
from host_tools import studio, studio_device
from massager import program, routine, routines
from simulator import batch, engines, headless, registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- the stepped player: any slicing of time gives the full-speed trace -------------------

# A button script is a timeline: its items in time order (parse_buttons refuses others).
scripts = st.lists(st.tuples(st.integers(0, 90000), st.sampled_from(headless.EVENTS)),
                   max_size=12).map(lambda items: sorted(items, key=lambda item: item[0]))
cuts = st.lists(st.integers(1, 15000), min_size=1, max_size=30)


def _script_text(script):
    return ",".join("%d:%s" % item for item in script)


@given(scripts, cuts)
def test_the_player_in_slices_gives_the_full_speed_trace(script, slices):
    progs = batch.device_programs(builtin("daily"))
    events = headless.parse_buttons(_script_text(script))
    end = sum(slices)
    expected = []
    headless.play(progs, events, expected.append, until=end)

    queued, live = [], []  # all events queued up front / each pushed just before it is due
    p_queued = headless.Player(progs, queued.append)
    p_live = headless.Player(progs, live.append)
    for ms, event in events:
        p_queued.push(ms, event)
    waiting = list(events)
    t = 0
    for cut in slices:
        t += cut
        p_queued.advance(t)
        while waiting and waiting[0][0] <= t:
            p_live.push(*waiting.pop(0))
        p_live.advance(t)
    assert queued == expected
    assert live == expected


# ---- the server ---------------------------------------------------------------------------


def _get(url_base, path, host=None):
    port = int(url_base.rsplit(":", 1)[1].strip("/"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", host or "127.0.0.1:%d" % port)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), body


def test_the_server_gives_the_firmware_as_it_is_and_nothing_else():
    with studio.Studio() as s:
        assert s.url.startswith("http://127.0.0.1:")
        code, headers, body = _get(s.url, "/")
        assert code == 200 and b"massager studio" in body
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        code, _, body = _get(s.url, "/files.json")
        files = json.loads(body)
        for name in ("massager/app.py", "massager/button.py", "massager/routine.py",
                     "massager/program.py", "massager/sequencer.py", "headless.py",
                     "bridge.py"):
            assert name in files
        on_disk = {"headless.py": "simulator/headless.py", "batch.py": "simulator/batch.py",
                   "bridge.py": "simulator/studio/bridge.py",
                   "machine.py": "simulator/board/machine.py",
                   "port_rp2.py": "simulator/board/port_rp2.py",
                   "port_esp32.py": "simulator/board/port_esp32.py"}
        assert set(on_disk) <= set(files)  # the machine and the profiles it imports
        # The board it plays on: the one `massager sim --headless` plays on.
        code, _, body = _get(s.url, files.pop("sim_board.json"))
        assert code == 200 and json.loads(body) == json.loads(json.dumps(engines.sim_board()))
        for name, url in files.items():
            code, _, body = _get(s.url, url)
            with open(os.path.join(ROOT, on_disk.get(name, "firmware/" + name)), "rb") as f:
                assert (code, body) == (200, f.read()), url
        code, headers, body = _get(s.url, "/engine/micropython.wasm")
        assert code == 200 and headers["Content-Type"] == "application/wasm"
        assert body[:4] == b"\0asm"
        for path in ("/firmware/../host_tools/cli.py", "/firmware/massager/../../pyproject.toml",
                     "/firmware/main.py", "/simulator/vdev.py", "/engine/package.json",
                     "/simulator/board/neopixel.py", "/simulator/board/../vdev.py",
                     "/studio/../../README.md", "/.git/HEAD", "/studio/missing.js"):
            assert _get(s.url, path)[0] == 404, path
        # A name that merely points at 127.0.0.1 is another site: refused.
        assert _get(s.url, "/", host="studio.example:80")[0] == 403


def test_studio_command_prints_its_address_and_stops_on_ctrl_c():
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "studio", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline()
        assert line.startswith("massager studio: serving http://127.0.0.1:"), line
        url = line.split()[3]
        assert _get(url, "/")[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and err == ""


def test_studio_command_on_a_busy_port_says_so_in_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "host_tools", "studio", "--no-browser",
                            "--port", str(port)], capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert r.stderr == "massager studio: port %d is in use: choose another --port, or leave " \
                       "it out for a free one\n" % port


# ---- the page in chromium -----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    problem = sb.missing()
    if problem:
        pytest.fail("the studio's browser tests cannot run: " + problem, pytrace=False)
    with sb.Browser() as b:
        yield b


@pytest.fixture(scope="module")
def server():
    with studio.Studio() as s:
        yield s


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Screenshots of each state, outside the tree."""
    return tmp_path_factory.mktemp("studio-screenshots")


def _shot(page, shots, name):
    path = shots / (name + ".png")
    page.screenshot(path=str(path), full_page=True)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("viewport", [sb.WIDE, sb.PHONE], ids=["1280x800", "390x844"])
def test_page_loads_clean_and_fits_the_screen(browser, server, shots, viewport):
    page = browser.page(server.url, viewport)
    try:
        assert sb.status(page)["state"] == "idle"
        assert "MicroPython 1.29" in page.inner_text("#engine")
        assert all(url.startswith(server.url) for url in page.requests), page.requests
        width = viewport["width"]
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        for part in ("#face", "#button", "#gestures", "#strip", "#source", "#plot"):
            box = page.locator(part).bounding_box()
            assert box and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= \
                width, part
        # The state and the figures show without scrolling, on a phone too.
        for part in ("#state", "#step-name", "#f-left"):
            box = page.locator(part).bounding_box()
            assert box["y"] + box["height"] <= viewport["height"], part
        _shot(page, shots, "idle-%dx%d" % (width, viewport["height"]))
        # The face draws every zone the validator accepts.
        drawn = page.evaluate("async () => Object.keys((await import('/studio/face.js')).ZONES)")
        assert sorted(drawn) == sorted(routine.ZONES)
        assert page.problems == []
    finally:
        page.close()


def test_the_button_starts_the_weekly_routine_and_the_space_bar_pauses_it(browser, server,
                                                                          shots):
    weekly = builtin("weekly")
    page = browser.page(server.url)
    try:
        assert page.inner_text("#hint-short") == "start"
        sb.at_a_press(page)
        session = sb.status(page)["session"]
        assert (session["name"], session["steps"]) == (weekly.steps[0].name, len(weekly.steps))
        assert (session["step"], session["round"], session["rep"]) == (1, 1, 1)
        assert sb.trace_records(page)[1]["cue"] == "start"
        # The jaw lights on both sides and the press pulses there.
        lit = page.evaluate("() => document.querySelectorAll("
                            "'.half.lit .zone.current[data-zone=jaw]').length")
        assert lit == 2
        assert page.evaluate("() => document.querySelector('.pulse').getAnimations().length")
        assert page.inner_text("#hint-short") == "pause"
        _shot(page, shots, "running-press")

        page.evaluate("() => studio.freeze(false)")
        page.keyboard.down("Space")
        page.wait_for_timeout(120)
        page.keyboard.up("Space")
        sb.wait(page, "() => studio.status.state === 'paused'", what="the pause")
        assert page.evaluate("() => studio.last.motor") == 0
        assert page.inner_text("#hint-short") == "resume"
        _shot(page, shots, "paused")
        assert page.problems == []
    finally:
        page.close()


# Raw edges and whole gestures: pause, resume, skip, a double press of raw edges, a stop.
SCRIPT = ("0:short,21000:down,21140:up,29000:short,47000:double,80000:down,80100:up,"
          "80230:down,80330:up,96000:short,97500:short,120000:long,126000:short")


def test_the_page_at_60x_gives_the_cpython_trace_byte_for_byte(browser, server):
    page = browser.page(server.url)
    try:
        page.select_option("#speed", "60")
        page.evaluate("(script) => studio.restart(script)", SCRIPT)
        sb.wait(page, "() => studio.status.t >= 150000", what="150 s of device time")
        snap = page.evaluate("() => studio.snapshot()")
        expected = engines.trace(routines.text("weekly"), SCRIPT, until=snap["t"])
        assert snap["trace"] == expected
        states = {json.loads(line)["state"] for line in expected}
        assert {"running", "paused", "idle"} <= states
        assert page.problems == []
    finally:
        page.close()


def _weekly_with(**change):
    doc = json.loads(routines.text("weekly"))
    for path, value in change.items():
        target = doc
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key) if key.isdigit() else key]
        target[keys[-1]] = value
    return json.dumps(doc, indent=2)


def test_an_invalid_edit_shows_the_validators_words_and_never_reaches_the_device(browser,
                                                                                 server):
    page = browser.page(server.url)
    try:
        on_device = page.evaluate("() => studio.deviceText")
        assert on_device == routines.text("weekly")
        sb.press_button(page)
        sb.wait(page, "() => studio.status.state === 'running'", what="the routine to start")
        broken_json = routines.text("weekly").replace('"rounds": 6,', '"rounds": 6,,')
        reps_0 = _weekly_with(steps__3__reps=0)
        for text, lines in ((reps_0, [_line_of(reps_0, '"reps": 0')]), (broken_json, [])):
            errors = program.load(text)[1]
            assert errors
            # each with its line: the validator's own where it gives one (a syntax error)
            errors = ["%s (line %d)" % (e, n) for e, n in zip(errors, lines)] or errors
            page.fill("#source", text)
            sb.wait(page, "() => [...document.querySelectorAll('#problems li')]"
                          ".map((li) => li.textContent).join('\\n') === %s"
                    % json.dumps("\n".join(errors)), what="the validator's messages")
            assert "problem" in page.inner_text("#verdict")
            assert page.evaluate("() => studio.deviceText") == on_device
            assert sb.status(page)["state"] == "running"
            assert page.locator("#download").is_disabled()
        # A good edit goes to the device once the session ends (a long press stops it).
        mine = _weekly_with(title="Mine", rounds=2)
        page.fill("#source", mine)
        sb.wait(page, "() => document.querySelector('#verdict.good')", what="the verdict")
        assert page.evaluate("() => studio.deviceText") == on_device
        page.click("[data-gesture=long]")
        sb.wait(page, "() => studio.status.state === 'idle' && studio.deviceText !== %s"
                % json.dumps(on_device), what="the edit on the device")
        assert page.evaluate("() => studio.deviceText") == mine
        # The device here is the page's own, simulated, and the verdict says so.
        assert page.inner_text("#verdict") == "valid · playing on the simulated device of " \
                                              "this page"
        with page.expect_download() as download:
            page.click("#download")
        assert download.value.suggested_filename == "weekly.json"
        with open(download.value.path(), encoding="utf-8") as f:
            assert f.read() == mine
        assert program.clock_text(program.load(mine)[0].total_ms) in page.inner_text("#total")
        assert page.problems == []
    finally:
        page.close()


def test_a_built_in_or_a_file_plays_to_the_end(browser, server, shots, tmp_path):
    page = browser.page(server.url)
    try:
        page.select_option("#builtin", "daily")
        assert page.evaluate("() => studio.deviceText") == routines.text("daily")
        mine = routines.text("daily").replace('"Daily quick massage"', '"From a file"')
        path = tmp_path / "mine.json"
        path.write_text(mine, encoding="utf-8")
        page.set_input_files("#file", str(path))
        sb.wait(page, "() => studio.deviceText.includes('From a file')", what="the file")
        assert page.evaluate("() => studio.deviceText") == mine
        page.evaluate("() => studio.restart('0:short')")
        sb.step_to(page, "status.state === 'done'")
        assert page.inner_text("#hint-short") == "back to idle"
        expected = engines.trace(mine, "0:short")
        assert page.evaluate("() => studio.trace") == expected
        _shot(page, shots, "done")
        assert page.problems == []
    finally:
        page.close()


def _line_of(text, needle):
    """The 1-based line where `needle` is in `text` (it is there once)."""
    assert text.count(needle) == 1, needle
    return text[:text.index(needle)].count("\n") + 1


def test_problems_carry_their_line_edits_survive_a_reload_and_a_non_utf8_file_is_refused(
        browser, server, tmp_path):
    page = browser.page(server.url)
    try:
        bad = _weekly_with(steps__3__reps=0, steps__5__zone="elbow")
        page.fill("#source", bad)
        lines = [_line_of(bad, '"reps": 0'), _line_of(bad, '"zone": "elbow"')]
        errors = program.load(bad)[1]
        assert len(errors) == 2
        expected = ["%s (line %d)" % (e, n) for e, n in zip(errors, lines)]
        sb.wait(page, "() => document.querySelectorAll('#problems li').length === 2",
                what="the problems")
        assert page.locator("#problems li").all_inner_texts() == expected
        # The lines are marked beside the text, and a click on a problem goes to its line.
        marked = page.locator("#gutter .bad").all_inner_texts()
        assert sorted(int(n) for n in marked) == sorted(lines)
        page.click("#problems li >> nth=1")
        cursor_line = page.evaluate("() => { const s = document.querySelector('#source'); "
                                    "return s.value.slice(0, s.selectionStart)"
                                    ".split('\\n').length; }")
        assert cursor_line == lines[1]

        # The edit is still there after a reload (and still refused).
        page.reload()
        sb.wait(page, "() => window.studio && window.studio.ready", what="the reload")
        assert page.input_value("#source") == bad
        assert page.evaluate("() => studio.deviceText") == routines.text("weekly")
        assert page.locator("#problems li").all_inner_texts() == expected

        # A file that is not UTF-8: the CLI's words, and nothing in the editor is lost.
        latin1 = tmp_path / "latin1.json"
        latin1.write_bytes(routines.text("daily").replace("Daily", "Caf\u00e9").encode("latin-1"))
        rc, out, err = massager("validate", str(latin1))
        cli_words = (out + err).strip()
        assert rc == 1 and "not UTF-8" in cli_words
        page.set_input_files("#file", str(latin1))
        sb.wait(page, "() => document.querySelector('#verdict').textContent"
                      ".includes('not opened')", what="the refusal")
        assert page.locator("#problems li").all_inner_texts() == [
            cli_words.replace(str(latin1), latin1.name)]
        assert page.input_value("#source") == bad
        assert page.problems == []
    finally:
        page.evaluate("() => localStorage.clear()")
        page.close()


def test_the_space_bar_hint_shows_on_a_keyboard_and_not_on_a_touch_screen(browser, server):
    page = browser.page(server.url, sb.PHONE)
    try:
        assert page.locator(".keys-hint").is_visible()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        page.reload()
        sb.wait(page, "() => window.studio && window.studio.ready", what="the reload")
        assert page.evaluate("() => matchMedia('(pointer: coarse)').matches")
        assert not page.locator(".keys-hint").is_visible()
        assert page.locator("#hints").is_visible()  # the rest of the hint stays
        assert page.problems == []
    finally:
        page.close()


def test_the_readmes_picture_shows_what_the_page_shows(browser, server):
    """docs/studio.png carries what the page showed when it was made; the page of today at
    the same moment must show the same, or the picture is stale."""
    with open(os.path.join(ROOT, "docs", "studio.png"), "rb") as f:
        carried = sb.png_text(f.read(), sb.PICTURE_KEY)
    assert carried, "docs/studio.png says nothing of what it shows: run make studio-screenshot"
    page = browser.page(server.url)
    try:
        now = sb.docs_moment(page)
        assert page.problems == []
    finally:
        page.close()
    assert json.loads(carried) == now, "docs/studio.png is stale: run make studio-screenshot"


# ---- the page and a virtual device ---------------------------------------------------------


@pytest.fixture(scope="module")
def vdev(tmp_path_factory):
    """`massager vdev` with the firmware, listed in a run dir of its own (the studio server
    of these tests lists what is there): (port, flash dir)."""
    from test_vdev_firmware import install_firmware

    tmp = tmp_path_factory.mktemp("studio-vdev")
    flash, run = tmp / "flash", tmp / "run"
    os.makedirs(flash / "routines")
    install_firmware(str(flash))
    old = os.environ.get("MASSAGER_RUN_DIR")
    os.environ["MASSAGER_RUN_DIR"] = str(run)
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "vdev", "--flash", str(flash)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        port = proc.stdout.readline().strip()
        assert port.startswith("/dev/"), port
        yield port, flash
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        if old is None:
            del os.environ["MASSAGER_RUN_DIR"]
        else:
            os.environ["MASSAGER_RUN_DIR"] = old


def _devices_listed(page, port):
    page.click("#refresh")
    sb.wait(page, "() => studio.devices.some((d) => d.port === %s)" % json.dumps(port),
            what="the virtual device in the list")
    page.select_option("#device", port)


def test_an_invalid_routine_is_never_pushed(browser, server, vdev):
    port, flash = vdev
    rc, out, err = massager("devices")  # the command lists the running virtual device too
    assert rc == 0 and port in out, out + err
    before = sorted(os.listdir(flash / "routines"))
    page = browser.page(server.url)
    try:
        _devices_listed(page, port)
        assert page.locator("#push").is_enabled()
        bad = _weekly_with(name="mine", steps__3__reps=0)
        page.fill("#source", bad)
        sb.wait(page, "() => document.querySelector('#verdict.bad')", what="the verdict")
        assert page.locator("#push").is_disabled()
        # Sent anyway, straight to the server: refused with `massager push`'s words.
        answer = page.evaluate("""async (a) => (await fetch('/api/push', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify(a)})).text()""",
                               {"port": port, "text": bad})
        errors = program.load(bad)[1]
        assert json.loads(answer) == {"error": "the editor: %s" % errors[0]}
        assert sorted(os.listdir(flash / "routines")) == before
        assert page.problems == []
    finally:
        page.close()


def test_a_routine_edited_in_the_page_is_pushed_plays_on_the_device_and_is_mirrored(
        browser, server, vdev):
    port, flash = vdev
    doc = json.loads(routines.text("daily"))
    doc.update(name="mine", title="From the studio", color=[10, 200, 30])
    mine = json.dumps(doc, indent=2)
    page = browser.page(server.url)
    try:
        _devices_listed(page, port)
        page.fill("#source", mine)
        page.click("#push")  # at once: what the editor holds is checked and pushed
        sb.wait(page, "() => document.querySelector('.device-status.good, .device-status.bad')",
                timeout=120, what="the push")
        status = page.inner_text("#device-status")
        assert "mine: installed" in status, status
        rc, out, err = massager("ls", "-p", port)
        assert rc == 0 and "From the studio" in out, out + err
        with open(flash / "routines" / "mine.json", "rb") as f:
            assert sha(f.read()) == sha(mine.encode("utf-8"))

        # Mirror it, and choose and start it with the page's own buttons: the device's
        # LED shows the routine's colour once it is chosen, and it plays.
        page.click("#mirror")
        sb.wait(page, "() => studio.status && studio.status.state === 'idle'", timeout=60,
                what="the device idle in the mirror")
        # daily, weekly, mine: a double press chooses the next one.
        box = page.locator("#button").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(2):
            for hold_ms, gap_ms in ((120, 120), (120, 1200)):
                page.mouse.down()
                page.wait_for_timeout(hold_ms)
                page.mouse.up()
                page.wait_for_timeout(gap_ms)
        # (green leads in its colour, red in both built-ins'; the LED shows it dimmed)
        sb.wait(page, "() => studio.status.state === 'idle' && studio.last.led[1] > "
                      "2 * studio.last.led[0]", timeout=30,
                what="the routine's colour on the device's LED: %s"
                % page.evaluate("() => studio.trace.slice(-8)"))
        page.click("[data-gesture=short]")
        sb.wait(page, "() => studio.status.state === 'running' && studio.last.motor > 0 && "
                      "studio.status.session", timeout=30, what="the routine running")
        assert page.inner_text("#step-name") == doc["steps"][0]["name"]
        assert page.inner_text("#state").lower() == "running"
        page.click("[data-gesture=long]")  # stop it
        sb.wait(page, "() => studio.status.state === 'idle'", timeout=30, what="the stop")
        # The device remembers the session: the page reads and draws its history.
        page.click("#history")
        sb.wait(page, "() => document.querySelector('.device-status.good, .device-status.bad')"
                      " && !document.querySelector('#history').disabled", timeout=60,
                what="the history")
        table = page.inner_text("#history-table")
        assert "1 session(s) remembered" in table, page.inner_text("#device-status")
        assert table.splitlines()[1].split()[-1] == "stopped"
        assert page.problems == []
    finally:
        page.close()


LAG = studio_device.PageClock.LAG_MS


@given(st.lists(st.tuples(st.integers(1, 1500), st.integers(0, 2 * LAG)), min_size=1,
                max_size=8), st.floats(0, 1e7), st.floats(0, 1e7))
def test_the_pages_button_keeps_its_timing_through_any_request_order_and_delay(
        edges, page_zero, here_zero):
    """Each edge of the page's button comes in a request of its own, `took` ms on its way.
    Whatever order they come in, every edge whose request took at most LAG_MS longer than
    the first one's reaches the device at the page's own gaps; a later one at once."""
    times, took, at = [], [], page_zero
    for gap, ms in edges:
        at += gap
        times.append(at)
        took.append(ms)
    arrivals = sorted((here_zero + times[i] - page_zero + took[i], i) for i in range(len(edges)))
    clock = studio_device.PageClock()
    played = {}
    for now, i in arrivals:
        delay = clock.delay(times[i], now)
        assert delay >= 0
        played[i] = now + delay
    anchor = arrivals[0][1]
    for i in range(len(edges)):
        if took[i] <= took[anchor] + LAG:
            assert played[i] - played[anchor] == pytest.approx(times[i] - times[anchor]), i
        else:
            assert played[i] == here_zero + times[i] - page_zero + took[i], i  # at once


def _post(server, path, body):
    host, port = server.url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def test_button_edges_the_server_gets_out_of_order_play_in_the_pages_order(server, vdev,
                                                                             monkeypatch):
    """The release's request comes first: played as they come, the device would see a
    button held down (a long press, then power off); played at the page's times, it is a
    click, and the idle device starts its routine."""
    from test_vdev_firmware import records, wait_for

    port, _ = vdev
    # room for two requests sent one after the other on a loaded test machine
    monkeypatch.setattr(studio_device.PageClock, "LAG_MS", 2000)
    trace = next(e["trace"] for e in registry.running() if e["port"] == port)
    state = lambda: (records(trace) or [{"state": "booting"}])[-1]["state"]  # noqa: E731
    wait_for(lambda: state() == "idle")
    before = len(records(trace))
    at = 1e9  # the page's clock: any origin
    for edge, t in (("up", at + 120), ("down", at)):
        answer = _post(server, "/api/button", {"port": port, "edges": [[0, edge]], "at": t})
        assert answer == {"ok": True}, answer
    wait_for(lambda: any(r["state"] == "running" for r in records(trace)[before:]))
    # stopped again (a long press), as the other tests expect the device
    answer = _post(server, "/api/button", {"port": port, "edges": [[0, "down"], [1300, "up"]]})
    assert answer == {"ok": True}, answer
    wait_for(lambda: state() == "idle")
    assert not any(r["state"] == "off" for r in records(trace)[before:])
