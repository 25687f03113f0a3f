"""Hypothesis settings of the differential suites: a bounded, repeatable run in CI (a few dozen
examples each, derandomized); `DIFFERENTIAL_EXAMPLES=500 DIFFERENTIAL_RANDOM=1` explores more."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["differential"]

differential = settings(
    max_examples=int(os.environ.get("DIFFERENTIAL_EXAMPLES", "40")),
    derandomize=not os.environ.get("DIFFERENTIAL_RANDOM"),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    print_blob=True,
)
