"""Core of the status function: a platform report built from the checks it is given."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Check", "StatusReport", "report"]

VERSION = "0.1.0"

Check = Callable[[], None]  # raises when the dependency is unhealthy


@dataclass(frozen=True, slots=True)
class StatusReport:
    healthy: bool
    body: dict[str, object]


def report(service: str, project: str, checks: Mapping[str, Check]) -> StatusReport:
    """Run each check once, timing it; the report is healthy when every check passed."""
    results: dict[str, object] = {}
    healthy = True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            healthy = False
            results[name] = {"status": "unavailable", "error": type(exc).__name__}
        else:
            elapsed = round((time.perf_counter() - started) * 1000, 2)
            results[name] = {"status": "ok", "latency_ms": elapsed}
    return StatusReport(
        healthy=healthy,
        body={
            "service": service,
            "version": VERSION,
            "project": project,
            "status": "ok" if healthy else "degraded",
            "dependencies": results,
        },
    )
