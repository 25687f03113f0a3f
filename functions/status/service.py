"""Core of the status function: a platform report built from the checks it is given."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store's module is imported by whoever builds one
    from shared.store import Store

__all__ = ["HEALTH_DOCUMENT", "VERSION", "Check", "Status", "StatusReport", "store_check"]

VERSION = "0.1.0"
HEALTH_DOCUMENT = "_stratus/health"  # read, never written: a missing document is a healthy answer

Check = Callable[[], None]  # raises when the dependency is unhealthy


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The answer's body, and whether every dependency answered."""

    healthy: bool
    body: dict[str, object]


def store_check(store: Callable[[], Store]) -> Check:
    """A check that reads one document; `store` is called inside it, so a store that cannot even
    be built is reported unhealthy like one that does not answer."""

    def check() -> None:
        store().get(HEALTH_DOCUMENT)

    return check


@dataclass(frozen=True, slots=True)
class Status:
    """Reports what is running (`service`, `project`) and runs `checks` by dependency name."""

    project: str
    checks: Mapping[str, Check]
    service: str = "stratus"

    def report(self) -> StatusReport:
        """Run each check once, timing it; the report is healthy when every check passed."""
        results: dict[str, object] = {}
        healthy = True
        for name, check in self.checks.items():
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
                "service": self.service,
                "version": VERSION,
                "project": self.project,
                "status": "ok" if healthy else "degraded",
                "dependencies": results,
            },
        )
