"""tests.support.costs: a test's seconds land in its tier (first of load, e2e, process; else
fast) and its area (a folder under tests/, or the browser and schemathesis modules apart)."""

from __future__ import annotations

from typing import Literal

import pytest

from tests.support.costs import Costs, area_of, tier_of


@pytest.mark.parametrize(
    ("keywords", "tier"),
    [({"test_x": 1}, "fast"), ({"process": 1}, "process"), ({"e2e": 1, "process": 1}, "e2e"),
     ({"load": 1, "process": 1}, "load")],
)  # fmt: skip
def test_tier(keywords: dict[str, int], tier: str) -> None:
    assert tier_of(keywords) == tier


@pytest.mark.parametrize(
    ("nodeid", "area"),
    [("tests/functions/query/test_api.py::test_x", "tests/functions"),
     ("tests/e2e/test_console.py::test_y[a]", "tests/e2e/test_console.py"),
     ("tests/e2e/test_ingest.py::test_z", "tests/e2e"),
     ("tests/test_layout.py::test_w", "tests/test_layout.py")],
)  # fmt: skip
def test_area(nodeid: str, area: str) -> None:
    assert area_of(nodeid) == area


def test_phases_add_up_and_calls_count_tests() -> None:
    costs = Costs()
    phases: tuple[tuple[Literal["setup", "call", "teardown"], float], ...] = (
        ("setup", 2.0), ("call", 1.0), ("teardown", 0.5),
    )  # fmt: skip
    for when, duration in phases:
        report = pytest.TestReport(
            nodeid="tests/e2e/test_ingest.py::t", location=("f", 1, "t"), keywords={"e2e": 1},
            outcome="passed", longrepr=None, when=when, sections=[], duration=duration,
        )  # fmt: skip
        costs.add(report)
    assert costs.lines(0) == ["     3.5 s      1 tests  e2e"]
    assert costs.lines(1) == ["     3.5 s      1 tests  tests/e2e"]
