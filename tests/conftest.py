import os

import pytest
from hypothesis import HealthCheck, settings

# Behaviour, never wall-clock time: no hypothesis deadlines on shared, noisy machines.
settings.register_profile("default", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", deadline=None, max_examples=5000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


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
