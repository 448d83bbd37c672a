# Built-in routines, in the order the button cycles through them.
NAMES = ("daily", "weekly")


def text(name):
    """The JSON text of a built-in routine, or None."""
    if name not in NAMES:
        return None
    module = __import__("massager.routines." + name, None, None, ("TEXT",))
    return module.TEXT


def built(name):
    """(document as routine.validate() returns it, length in ms) of built-in `name` as the
    build compiled it on the host, or None here in the source: the build (host_tools/
    flash.py) appends a `built` that returns them, so a device compiles its built-ins
    without importing the validator."""
    return None
