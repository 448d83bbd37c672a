"""Write the README's screenshot of `massager studio`: python tests/studio_screenshot.py OUT.png

The weekly routine at its first acupressure press, time stopped, at 1280x800 (`make
studio-screenshot` writes docs/studio.png). The tests write their own screenshots elsewhere.
"""
import sys

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
    with Studio() as server, sb.Browser() as browser:
        page = browser.page(server.url)
        sb.at_a_press(page)
        page.screenshot(path=argv[0])
        if page.problems:
            print("studio_screenshot: the page reported: " + page.problems[0], file=sys.stderr)
            return 1
    print("wrote " + argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
