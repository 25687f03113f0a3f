"""The reference ingest format: valid bodies, and all-or-nothing refusals naming each problem."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import BadRequest, ValidationError
from shared.telemetry import reference
from shared.telemetry.errors import MAX_PROBLEMS, InvalidReadings, _Collector
from shared.telemetry.reference import RawReading, parse, parse_bytes
from tests.support.strategies import json_values

EXAMPLE = {"sensor_id": "4", "timestamp": 1526717967, "value": "91827364"}


def test_the_reference_example() -> None:
    assert parse(EXAMPLE) == [
        RawReading("4", 1_526_717_967_000_000_000, "91827364", 0, EXAMPLE),
    ]


def test_array_with_mixed_units_and_values() -> None:
    body = [
        {"sensor_id": "a", "timestamp": 1526717967123, "value": 1.5},
        {"sensor_id": "b", "timestamp": "1526717967123456", "value": True},
        {"sensor_id": "c", "timestamp": 1526717967123456789, "value": {"x": 1}},
        {"sensor_id": "d", "timestamp": 1526717967.25, "value": [1, 2]},
    ]
    readings = parse_bytes(
        b'[{"sensor_id":"a","timestamp":1526717967123,"value":1.5},'
        b'{"sensor_id":"b","timestamp":"1526717967123456","value":true},'
        b'{"sensor_id":"c","timestamp":1526717967123456789,"value":{"x":1}},'
        b'{"sensor_id":"d","timestamp":1526717967.25,"value":[1,2]}]'
    )
    assert [(r.sensor_id, r.ts, r.value, r.index) for r in readings] == [
        ("a", 1_526_717_967_123_000_000, 1.5, 0),
        ("b", 1_526_717_967_123_456_000, True, 1),
        ("c", 1_526_717_967_123_456_789, {"x": 1}, 2),
        ("d", 1_526_717_967_250_000_000, [1, 2], 3),
    ]
    assert [r.original for r in readings] == body


def _problems(body: Any) -> dict[str, str]:
    with pytest.raises(InvalidReadings) as info:
        parse(body)
    assert isinstance(info.value, ValidationError)
    assert info.value.status == 400
    return {p.field: p.message for p in info.value.problems}


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ([], {"readings": "must not be an empty array"}),
        (None, {"readings": "must be a reading object or an array of them, not null"}),
        ("x", {"readings": "must be a reading object or an array of them, not str"}),
        (
            [[EXAMPLE]],
            {
                "readings[0]": "must be an object {sensor_id, timestamp, value}, "
                "not an array (arrays cannot nest)"
            },
        ),
        ([5], {"readings[0]": "must be an object {sensor_id, timestamp, value}, not 5"}),
        (
            {"sensor_id": "4"},
            {"readings[0].timestamp": "is missing", "readings[0].value": "is missing"},
        ),
        (
            {**EXAMPLE, "unit": "Cel"},
            {"readings[0].unit": "unknown field (expected sensor_id, timestamp, value)"},
        ),
        ({**EXAMPLE, "sensor_id": 4}, {"readings[0].sensor_id": "must be a non-empty string"}),
        ({**EXAMPLE, "sensor_id": ""}, {"readings[0].sensor_id": "must be a non-empty string"}),
        ({**EXAMPLE, "timestamp": -1}, {"readings[0].timestamp": "must not be negative"}),
        (
            {**EXAMPLE, "timestamp": True},
            {"readings[0].timestamp": "must be a number, not a boolean"},
        ),
        ({**EXAMPLE, "timestamp": "soon"}, {"readings[0].timestamp": "'soon' is not a number"}),
        ({**EXAMPLE, "timestamp": "NaN"}, {"readings[0].timestamp": "'NaN' is not a number"}),
        ({**EXAMPLE, "value": None}, {"readings[0].value": "must not be null"}),
    ],
)
def test_refused(body: Any, problems: dict[str, str]) -> None:
    assert _problems(body) == problems


def test_all_or_nothing_names_each_bad_reading() -> None:
    body = [EXAMPLE, EXAMPLE, EXAMPLE, {**EXAMPLE, "timestamp": -5}, {"value": 1}]
    with pytest.raises(InvalidReadings) as info:
        parse(body)
    error = info.value
    assert error.field == "readings[3].timestamp"
    assert error.message == "readings[3].timestamp: must not be negative (and 2 more)"
    assert [str(p) for p in error.problems] == [
        "readings[3].timestamp: must not be negative",
        "readings[4].sensor_id: is missing",
        "readings[4].timestamp: is missing",
    ]


def test_problem_list_is_bounded() -> None:
    with pytest.raises(InvalidReadings) as info:
        parse([{"value": 1}] * 100)
    assert len(info.value.problems) == MAX_PROBLEMS
    assert info.value.total == 200
    assert info.value.message.endswith("(and 199 more)")


def test_not_json() -> None:
    with pytest.raises(BadRequest, match="body is not valid JSON"):
        parse_bytes(b'{"sensor_id":')


# The fast path (`_valid_reading`) must never accept what the full check refuses, nor read an
# accepted reading differently.
_items = st.dictionaries(
    st.sampled_from(["sensor_id", "timestamp", "value", "unit", ""]), json_values, max_size=4
) | st.fixed_dictionaries(
    {"sensor_id": st.text(max_size=3), "timestamp": st.integers(-5, 2**64), "value": json_values}
)


@given(_items)
def test_fast_path_agrees_with_the_full_check(item: dict[str, Any]) -> None:
    fast = reference._valid_reading(item, 0)
    problems = _Collector()
    full = reference._reading(item, 0, problems)
    if fast is not None:
        assert problems.total == 0
        assert fast == full


def test_fast_path_leaves_unusual_readings_to_the_full_check() -> None:
    for item in (
        {"sensor_id": "a", "timestamp": 1.5, "value": 1},  # float time: exact decimal rules
        {"sensor_id": "a", "timestamp": "1", "value": 1},
        {"sensor_id": "a", "timestamp": -1, "value": 1},
        {"sensor_id": "a", "timestamp": True, "value": 1},
        {"sensor_id": "a", "timestamp": 2**64, "value": 1},
        {"sensor_id": "a", "timestamp": 1, "value": None},
        {"sensor_id": "", "timestamp": 1, "value": 1},
        {"sensor_id": "a", "timestamp": 1, "unit": "x"},
    ):
        assert reference._valid_reading(item, 0) is None
