# A real headless browser on the studio page: Debian's chromium driven by Playwright's
# Python client (its own browser download is not used). Shared by tests/test_studio.py and
# tests/studio_screenshot.py.
import json
import os
import shutil
import tempfile
import time

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

    def page(self, url, viewport=WIDE):
        """A new tab on the studio, ready; its console errors and requests are recorded."""
        page = self.context.new_page()
        page.set_viewport_size(viewport)
        page.problems = []  # console errors and uncaught exceptions
        page.requests = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.on("request", lambda r: page.requests.append(r.url))
        page.goto(url)
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
