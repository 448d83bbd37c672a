import os
import signal

import pytest
from hypothesis import HealthCheck, settings

# Behaviour, never wall-clock time: no hypothesis deadlines on shared, noisy machines.
# `make test` (the default profile) is deterministic: the same commit draws the same
# examples on every run and machine, and no example database can replay a failure found
# elsewhere (a fresh clone cannot be turned red by a stale .hypothesis/). The random,
# longer exploration with a database is `make test-long` (HYPOTHESIS_PROFILE=long).
_QUIET = [HealthCheck.too_slow]
settings.register_profile("default", deadline=None, derandomize=True, database=None,
                          suppress_health_check=_QUIET)
settings.register_profile("long", deadline=None, max_examples=5000,
                          suppress_health_check=_QUIET)
# Mutation testing (tests/mutate.py): deterministic and lighter, one run per mutant.
settings.register_profile("mutate", deadline=None, derandomize=True, database=None,
                          max_examples=40, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The Ctrl-C tests send SIGINT to the commands they start, as a terminal does. A run started
# in the background without job control (`make test &` in a script, nohup) ignores SIGINT,
# every child would inherit that (an ignored signal stays ignored across exec), and Python
# would then never raise KeyboardInterrupt in them. Catch it here, so the children get the
# default again (a handler is reset at exec).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def pico_image(tmp_path_factory):
    """A flash image of the emulated Pico (stock rp2 port) with the firmware installed by
    `massager flash`, once per run: tests copy it."""
    from helpers import massager
    from simulator.pico import EmulatedPico

    image = tmp_path_factory.mktemp("pico") / "flashed.img"
    with EmulatedPico(str(image)) as pico:
        pico.wait(lambda e: e["ev"] == "usb")
        rc, out, err = massager("flash", "-p", pico.port)
    assert rc == 0, err
    assert " 0 unchanged, /board.json written" in out
    return str(image)
