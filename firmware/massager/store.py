# Routines and settings on the device's flash.
#
# User routines live in /routines/<name>.json. An install is atomic: the host copies the
# file to /routines/.<name>.tmp, then install() checks its hash and validates it before
# renaming it over the old one, so a pulled cable leaves the old routine or the new one,
# never half of one. Files that do not end in .json (temp files) are never loaded.
import os

ROUTINES = "routines"
SETTINGS = "settings.json"
ERROR_LOG = "error.log"
ERROR_LOG_MAX = 2048  # bytes; the older half is dropped beyond this
SUFFIX = ".json"


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _sha256_hex(data):
    import binascii
    import hashlib

    return binascii.hexlify(hashlib.sha256(data).digest()).decode()


def routine_name(filename):
    """The routine a file in /routines holds, or None (temp files, other files)."""
    if filename.endswith(SUFFIX) and not filename.startswith("."):
        return filename[:-len(SUFFIX)]
    return None


def replace_file(tmp, path):
    """Rename tmp over path. littlefs replaces the old file atomically; FAT will not rename
    over a file, so there it is removed first: a short window without one. The host tools
    send this very function to the device when they write a file (host_tools/device.py)."""
    try:
        os.rename(tmp, path)
    except OSError:
        try:
            os.remove(path)
        except OSError:
            pass  # no old file: the rename failed for another reason, raised below
        os.rename(tmp, path)


class Catalog:
    """The routines the button cycles through, a sequence of Programs. A built-in is
    compiled the first time it is asked for: at power-up only the selected one (the app's
    index 0), the next when the button goes down in idle (App.edge), before a double press
    can select it. On a device the build has validated them already (routines.built): no
    validator to import; from source (the simulators) they compile from their text."""

    def __init__(self, items):
        self._items = items  # a built-in's name until compiled, else its Program

    def __len__(self):
        return len(self._items)

    def __getitem__(self, i):
        item = self._items[i]
        if type(item) is str:
            from massager import program, routines

            built = routines.built(item)
            if built is not None:  # in source it is always None: the build sets it
                item = program.restore(*built)  # pyright: ignore[reportGeneralTypeIssues]
            else:
                item, errors = program.load(routines.text(item))
                if item is None:  # a broken build: the caller's fault path falls back
                    raise ValueError("builtin %s: %s" % (self._items[i], errors[0]))
            self._items[i] = item
        return item


class Store:
    def __init__(self, root="/"):
        self.root = root.rstrip("/")
        self.dir = self.root + "/" + ROUTINES

    def path(self, name):
        """Where routine `name` lives."""
        return "%s/%s%s" % (self.dir, name, SUFFIX)

    def temp_path(self, name):
        """Where the host copies a routine before install()."""
        return "%s/.%s.tmp" % (self.dir, name)

    def names(self):
        """User routine names, sorted; no /routines is simply none."""
        try:
            files = os.listdir(self.dir)
        except OSError:
            return []
        return sorted(n for n in (routine_name(f) for f in files) if n)

    def load(self, name):
        """(Program, []) or (None, ["routines/x.json: problem", ...]). Never raises."""
        from massager import program, routine

        where = "%s/%s%s" % (ROUTINES, name, SUFFIX)
        try:
            with open(self.path(name), "rb") as f:
                data = f.read(routine.MAX_BYTES + 1)
        except OSError:
            return None, [where + ": cannot read"]
        except MemoryError:
            return None, [where + ": too large to read"]
        prog, errors = program.load(data)
        return prog, [where + ": " + e for e in errors]

    def programs(self, user=True):
        """Built-ins first, then every user routine that loads (a Catalog); plus the
        problems found. A user routine with the name of a built-in replaces it.
        """
        problems = []
        user_progs = []
        if user:
            for name in self.names():
                prog, errors = self.load(name)
                if prog is None:
                    problems.extend(errors)
                else:
                    user_progs.append(prog)
        from massager import routines  # the built-in names: not needed by install()

        taken = [p.name for p in user_progs]
        return Catalog([n for n in routines.NAMES if n not in taken] + user_progs), problems

    def install(self, name, sha256):
        """Move an uploaded temp file into place after checking it. Returns "ok" or a
        one-line problem; the previous routine is untouched on any problem."""
        from massager import program, routine

        if not routine.valid_name(name):  # it becomes the file's name
            return "bad routine name %r" % name
        tmp = self.temp_path(name)
        if not _exists(tmp):
            return "no uploaded file for %s" % name
        # One read: the bytes hashed are the bytes validated, as they are on the flash.
        with open(tmp, "rb") as f:
            data = f.read(routine.MAX_BYTES + 1)
        # Too big: no hash to check (only the limit's worth was read); load() says why.
        if len(data) <= routine.MAX_BYTES and _sha256_hex(data) != sha256:
            os.remove(tmp)
            return "upload of %s is damaged (hash mismatch); nothing changed" % name
        prog, errors = program.load(data)
        del data
        if prog is None or prog.name != name:
            os.remove(tmp)
            return "%s: %s" % (name, errors[0] if errors else
                               "its name field is %r, not %r" % (prog.name, name))
        replace_file(tmp, self.path(name))
        return "ok"

    def remove(self, name):
        try:
            os.remove(self.path(name))
            return "ok"
        except OSError:
            return "no routine %s on the device" % name

    def ensure_dir(self):
        if not _exists(self.dir):
            os.mkdir(self.dir)

    def history(self):
        """The sessions remembered on this flash (history.py)."""
        from massager.history import History

        return History(self.root)  # "" on the device: /history.bin

    # -- settings (the intensity level survives power cycles) ----------------------------

    def level(self, default):
        import json

        try:
            with open(self.root + "/" + SETTINGS) as f:
                level = json.load(f).get("level")
            return level if type(level) is int else default
        except Exception:  # missing or corrupt: the default is safe
            return default

    def save_level(self, level):
        self._write_atomic(SETTINGS, '{"level": %d}' % level)

    def _write_atomic(self, name, text):
        path = self.root + "/" + name
        try:
            with open(path + ".tmp", "w") as f:
                f.write(text)
            replace_file(path + ".tmp", path)
        except OSError:
            pass  # a full or read-only flash must not stop a massage

    def log_error(self, text):
        """Append one line to /error.log, keeping it small."""
        path = self.root + "/" + ERROR_LOG
        try:
            try:
                size = os.stat(path)[6]
            except OSError:
                size = 0
            if size > ERROR_LOG_MAX:
                with open(path) as f:
                    f.seek(size // 2)
                    tail = f.read()
                with open(path, "w") as f:
                    f.write(tail[tail.find("\n") + 1:])
            with open(path, "a") as f:
                f.write(text.replace("\n", " ")[:200] + "\n")
        except OSError:
            pass
