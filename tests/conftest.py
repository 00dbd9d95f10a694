import os

from hypothesis import HealthCheck, settings

# CI keeps the whole suite well under a minute on two cores; `HYPOTHESIS_PROFILE=thorough` digs deeper.
settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
