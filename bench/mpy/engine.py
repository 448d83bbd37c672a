# The engine as it names itself: version and build.
import sys

v = sys.version.split("; ", 1)[-1].split()  # "MicroPython v1.29.0-6.g... on DATE ... pyscript"
print(v[1].lstrip("v"), getattr(sys.implementation, "_build", "") or "standard")
