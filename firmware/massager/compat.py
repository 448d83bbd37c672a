# The few names that differ between MicroPython and CPython, shimmed in one place.
try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython: host tools and the simulator

    def const(value):
        return value
