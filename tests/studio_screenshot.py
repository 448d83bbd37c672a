"""Write the README's screenshot of `massager studio`: python tests/studio_screenshot.py OUT.png

The weekly routine at its first acupressure press, time stopped, at 1280x800 (`make
studio-screenshot` writes docs/studio.png). The picture carries what the page showed (its
words, as JSON in a PNG text chunk): tests/test_studio.py compares that with the page of
today, so a stale picture fails the tests. No device is listed: virtual devices are looked
for in an empty folder. The tests write their own screenshots elsewhere.
"""
import json
import os
import sys
import tempfile

import studio_browser as sb
from host_tools.studio import Studio


def main(argv):
    if len(argv) != 1 or not argv[0].endswith(".png"):
        print("usage: python tests/studio_screenshot.py OUT.png", file=sys.stderr)
        return 2
    problem = sb.missing()
    if problem:
        print("studio_screenshot: " + problem, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as nowhere:
        os.environ["MASSAGER_RUN_DIR"] = nowhere
        return _write(argv[0])


def _write(out):
    with Studio() as server, sb.Browser() as browser:
        page = browser.page(server.url)
        what = sb.docs_moment(page)
        png = sb.png_with_text(page.screenshot(), sb.PICTURE_KEY,
                               json.dumps(what, ensure_ascii=True, sort_keys=True))
        with open(out, "wb") as f:
            f.write(png)
        if page.problems:
            print("studio_screenshot: the page reported: " + page.problems[0], file=sys.stderr)
            return 1
    print("wrote " + out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
