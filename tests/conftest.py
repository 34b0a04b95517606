"""Shared test set-up: Hypothesis profiles (fast by default, thorough on request)."""

import os

# One BLAS thread: the suite runs a child Python alongside itself, and on 2 cores OpenBLAS's
# spinning workers make every small matmul many times slower. (Set before numpy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("thorough" if os.environ.get("MINIGRAD_THOROUGH") else "ci")
