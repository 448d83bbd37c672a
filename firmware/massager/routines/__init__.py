# Built-in routines, in the order the button cycles through them.
NAMES = ("daily", "weekly")


def text(name):
    """The JSON text of a built-in routine, or None."""
    if name not in NAMES:
        return None
    module = __import__("massager.routines." + name, None, None, ("TEXT",))
    return module.TEXT
