"""Aggregates per epoch-aligned interval, in either time order, and which types they accept."""

from __future__ import annotations

import pytest

from functions.query.aggregate import aggregate, check_type
from functions.query.series import Sample
from shared.errors import BadRequest

M = 60 * 10**9
T0 = 29_833_200 * M  # a whole hour
SAMPLES = [
    Sample(T0 + 1, 4.0),
    Sample(T0 + 30 * 10**9, 2.0),
    Sample(T0 + M - 1, 9.0),
    Sample(T0 + 2 * M, 5.0),  # the interval T0 + M is empty
    Sample(T0 + 2 * M + 5, -1.0),
]


def run(agg: str, every: int = M, desc: bool = False) -> list[tuple[int, object]]:
    samples = SAMPLES[::-1] if desc else SAMPLES
    return [(s.ts, s.value) for s in aggregate(samples, agg, every)]


@pytest.mark.parametrize(
    ("agg", "values"),
    [
        ("count", [3, 2]),
        ("sum", [15.0, 4.0]),
        ("mean", [5.0, 2.0]),
        ("min", [2.0, -1.0]),
        ("max", [9.0, 5.0]),
        ("first", [4.0, 5.0]),
        ("last", [9.0, -1.0]),
    ],
)
def test_each_aggregate_per_interval(agg: str, values: list[object]) -> None:
    expected = [(T0, values[0]), (T0 + 2 * M, values[1])]
    assert run(agg) == expected
    assert run(agg, desc=True) == expected[::-1]


def test_intervals_are_aligned_to_the_epoch_not_to_the_first_reading() -> None:
    assert run("count", every=90 * 10**9) == [(T0, 3), (T0 + 90 * 10**9, 2)]
    assert run("count", every=3600 * 10**9) == [(T0, 5)]
    assert run("count", every=1) == [(s.ts, 1) for s in SAMPLES]


def test_integer_sums_stay_integers() -> None:
    samples = [Sample(T0, 2), Sample(T0 + 1, 3)]
    assert [s.value for s in aggregate(samples, "sum", M)] == [5]
    assert [s.value for s in aggregate(samples, "mean", M)] == [2.5]


def test_count_first_and_last_work_for_any_type() -> None:
    samples = [Sample(T0, "a"), Sample(T0 + 1, {"b": 1}), Sample(T0 + 2, True)]
    assert [s.value for s in aggregate(samples, "count", M)] == [3]
    assert [s.value for s in aggregate(samples, "first", M)] == ["a"]
    assert [s.value for s in aggregate(samples, "last", M)] == [True]


@pytest.mark.parametrize("agg", ["mean", "min", "max", "sum"])
@pytest.mark.parametrize("sensor_type", ["string", "boolean", "object", None])
def test_numeric_aggregates_need_a_numeric_sensor(agg: str, sensor_type: str | None) -> None:
    with pytest.raises(BadRequest) as caught:
        check_type(agg, sensor_type)
    assert caught.value.field == "agg"


@pytest.mark.parametrize("sensor_type", ["double", "long"])
def test_numeric_sensors_take_every_aggregate(sensor_type: str) -> None:
    for agg in ("mean", "min", "max", "sum", "count", "first", "last"):
        check_type(agg, sensor_type)
    check_type("count", "string")
