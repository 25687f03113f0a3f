"""What each tier and area of the suite cost in a run: wall seconds of setup, call and teardown
summed per test, printed at the end (`time by tier`, `time by area`) so CI's log says what the
fast core tests, the process tests, the end-to-end and load tests and each folder cost."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Container
from dataclasses import dataclass, field

import pytest

__all__ = ["Costs"]

_TIERS = ("load", "e2e", "process")  # the first marker a test has names its tier; none: fast


def tier_of(keywords: Container[str]) -> str:
    for marker in _TIERS:
        if marker in keywords:
            return marker
    return "fast"


def area_of(nodeid: str) -> str:
    """`tests/e2e/test_console.py::...` -> `tests/e2e`; a browser or schemathesis module is
    its own area (the costly ones worth seeing apart)."""
    path = nodeid.split("::", 1)[0]
    parts = path.split("/")
    if parts[:2] == ["tests", "e2e"] and parts[-1] in {"test_console.py", "test_schemathesis.py"}:
        return path
    return "/".join(parts[:2]) if len(parts) > 2 else path


@dataclass
class Costs:
    seconds: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    tests: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, report: pytest.TestReport) -> None:
        key = (tier_of(report.keywords), area_of(report.nodeid))
        self.seconds[key] += report.duration
        if report.when == "call":
            self.tests[key] += 1

    def lines(self, index: int) -> list[str]:
        """Seconds and tests per tier (index 0) or per area (index 1), the costliest first."""
        seconds: defaultdict[str, float] = defaultdict(float)
        tests: Counter[str] = Counter()
        for key, spent in self.seconds.items():
            seconds[key[index]] += spent
            tests[key[index]] += self.tests[key]
        ranked = sorted(seconds.items(), key=lambda entry: -entry[1])
        return [f"{spent:8.1f} s {tests[name]:6d} tests  {name}" for name, spent in ranked]

    def summary(self, terminal: pytest.TerminalReporter) -> None:
        if not self.seconds:
            return
        for title, index in (("time by tier", 0), ("time by area", 1)):
            terminal.write_sep("-", title)
            for line in self.lines(index):
                terminal.write_line(line)
