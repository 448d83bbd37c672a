import os

from hypothesis import HealthCheck, settings

# Behaviour, never wall-clock time: no hypothesis deadlines on shared, noisy machines.
settings.register_profile("default", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", deadline=None, max_examples=5000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
