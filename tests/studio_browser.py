# A real headless browser on the studio page: Debian's chromium driven by Playwright's
# Python client (its own browser download is not used). Shared by tests/test_studio.py and
# tests/studio_screenshot.py.
import hashlib
import json
import os
import shutil
import struct
import tempfile
import time
import zlib

CHROMIUM = os.environ.get("MASSAGER_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def missing():
    """What the browser tests need and this machine lacks, in one line; None if nothing."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright is not installed (run `make setup`)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problems.append("%s is missing: install Debian's chromium as root: apt-get update && "
                        "apt-get install -y chromium (or set MASSAGER_CHROMIUM)" % CHROMIUM)
    return "; ".join(problems) or None


class Browser:
    """`with Browser() as b: page = b.page(url)`: chromium with a new, empty profile."""

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        self.profile = tempfile.mkdtemp(prefix="massager-chromium-")
        self._pw = sync_playwright().start()
        try:
            self.context = self._pw.chromium.launch_persistent_context(
                self.profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                viewport=WIDE)
        except Exception:
            self._pw.stop()
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.context.close()
        finally:
            self._pw.stop()
            shutil.rmtree(self.profile, ignore_errors=True)

    def page(self, url, viewport=WIDE, keep_edits=False):
        """A new tab on the studio, ready; its console errors and requests are recorded.
        It opens on the weekly routine unless keep_edits (the page keeps the editor's text
        in localStorage, and the profile is shared by every page of a Browser)."""
        page = self.context.new_page()
        page.set_viewport_size(viewport)
        page.problems = []  # console errors and uncaught exceptions
        page.requests = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.on("request", lambda r: page.requests.append(r.url))
        page.goto(url)
        wait(page, "() => window.studio && window.studio.ready", what="the page to start")
        if not keep_edits and page.evaluate("() => localStorage.length"):
            page.evaluate("() => localStorage.clear()")
            page.reload()
            wait(page, "() => window.studio && window.studio.ready", what="the page to start")
        return page


def wait(page, predicate, timeout=60, what=None):
    """Poll a JS function until it returns something truthy; returns that.

    Polled from here: Playwright's own wait_for_function evaluates strings in the page,
    which the studio's Content-Security-Policy (rightly) forbids.
    """
    end = time.monotonic() + timeout
    while True:
        value = page.evaluate(predicate)
        if value:
            return value
        if page.problems:
            raise AssertionError("the page reported: %s" % page.problems[0])
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for %s" % (what or predicate))
        time.sleep(0.05)


def press_button(page, hold_ms=120):
    """A finger on the on-screen button (a person's click lasts about this long)."""
    page.click("#button", delay=hold_ms)


def status(page):
    return page.evaluate("() => studio.status")


def step_to(page, predicate, limit=5000):
    """With time stopped, jump from output change to output change until `predicate`, a JS
    expression of `rec` (the last trace record) and `status`, holds. Returns the number of
    changes played, or fails."""
    found = page.evaluate("""(limit) => {
        const done = (rec, status) => (%s);
        studio.freeze(true);
        for (let i = 0; i < limit; i++) {
            if (done(studio.last, studio.status)) return i + 1;
            if (!studio.nextChange()) return 0;
        }
        return 0;
    }""" % predicate, limit)
    assert found, "no output change satisfied: %s" % predicate
    return found


def at_a_press(page):
    """Start the weekly routine and stop time in its first acupressure pulse (time stops
    right after the click, so how long the machine takes does not matter)."""
    press_button(page)
    step_to(page, "rec.cue === 'press' && rec.motor > 0")
    page.evaluate("() => new Promise(requestAnimationFrame)")  # the pulse is drawn


def trace_records(page):
    return [json.loads(line) for line in page.evaluate("() => studio.trace")]


# ---- the README's picture ------------------------------------------------------------------

PICTURE_KEY = "massager-studio"  # the PNG text chunk that says what the picture shows


def docs_moment(page):
    """The picture's moment, the same on every run: the weekly routine started at t=0 by a
    click, time stopped at its first acupressure pulse. Returns what the page shows then
    (its words, the editor's text by hash, the viewport), which the picture carries."""
    page.evaluate("() => { studio.freeze(true); studio.restart('0:short'); }")
    step_to(page, "rec.cue === 'press' && rec.motor > 0")
    page.evaluate("() => new Promise(requestAnimationFrame)")  # the pulse is drawn
    return shown(page)


def shown(page):
    words = page.evaluate("""() => ['.device', '.panel', '.editor'].map(
        (s) => document.querySelector(s).innerText)""")
    editor = page.input_value("#source").encode("utf-8")
    return {"viewport": page.viewport_size, "words": words,
            "editor_sha256": hashlib.sha256(editor).hexdigest()}


def png_with_text(png, key, text):
    """The PNG with a tEXt chunk key=text right after its header chunk."""
    body = key.encode("latin-1") + b"\0" + text.encode("latin-1")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(
        ">I", zlib.crc32(b"tEXt" + body))
    end = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4  # signature, then IHDR
    return png[:end] + chunk + png[end:]


def png_text(png, key):
    """The text of the PNG's tEXt chunk `key`, or None."""
    i = 8
    while i < len(png):
        size, kind = struct.unpack(">I4s", png[i:i + 8])
        if kind == b"tEXt":
            name, _, value = png[i + 8:i + 8 + size].partition(b"\0")
            if name == key.encode("latin-1"):
                return value.decode("latin-1")
        i += 12 + size
    return None
