"""The normalized message: round trip through bytes, and validation naming each problem."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import BadRequest
from shared.telemetry import model
from shared.telemetry.errors import InvalidReadings, _Collector
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.telemetry.types import TYPES
from tests.support.strategies import json_values


def _message() -> NormalizedMessage:
    return NormalizedMessage(
        "o1",
        "d1",
        Source("req-1", "http"),
        (
            Reading("s1", 1_790_000_000_000_000_000, 21.5, "double", "Cel"),
            Reading("s2", 1, 7, "long"),
            Reading("s3", 2, True, "boolean"),
            Reading("s4", 3, "on", "string"),
            Reading("s5", 4, {"x": [1, 2]}, "object"),
        ),
    )


def test_round_trip() -> None:
    message = _message()
    data = message.to_bytes()
    assert NormalizedMessage.from_bytes(data) == message
    body = orjson.loads(data)
    assert body["source"] == {"message_id": "req-1", "transport": "http"}
    assert body["readings"][0] == {
        "sensor": "s1",
        "ts": 1_790_000_000_000_000_000,
        "value": 21.5,
        "type": "double",
        "unit": "Cel",
    }
    assert "unit" not in body["readings"][1]


def test_values_are_typed_on_read() -> None:
    body = _message().to_dict()
    body["readings"][0]["value"] = 21  # an integral double written as 21 by another encoder
    message = NormalizedMessage.from_dict(body)
    assert message.readings[0].value == 21.0
    assert isinstance(message.readings[0].value, float)


def test_not_json() -> None:
    with pytest.raises(BadRequest, match="not valid JSON"):
        NormalizedMessage.from_bytes(b"{nope")


def _problems(body: Any) -> dict[str, str]:
    with pytest.raises(InvalidReadings) as info:
        NormalizedMessage.from_dict(body)
    return {p.field: p.message for p in info.value.problems}


def test_not_an_object() -> None:
    assert _problems([1]) == {"message": "must be a JSON object"}


def test_every_problem_is_named() -> None:
    body = _message().to_dict()
    body["extra"] = 1
    body["device"] = 5
    del body["source"]["transport"]
    body["readings"][0]["ts"] = -1
    body["readings"][1]["value"] = "abc"
    body["readings"][2]["type"] = "bool"
    body["readings"][3]["unit"] = 5
    del body["readings"][4]["sensor"]
    body["readings"].append("x")
    body["readings"].append({"sensor": "s", "ts": True, "type": "double"})
    assert _problems(body) == {
        "extra": "unknown field",
        "device": "must be a string",
        "source.transport": "must be a non-empty string",
        "readings[0].ts": "must be an integer number of ns, 0 <= ts < 2**63",
        "readings[1].value": "'abc' is not an integer (sensor type long)",
        "readings[2].type": "must be one of double, long, boolean, string, object",
        "readings[3].unit": "must be a string",
        "readings[4].sensor": "must be a non-empty string",
        "readings[5]": "must be an object",
        "readings[6].ts": "must be an integer number of ns, 0 <= ts < 2**63",
        "readings[6].value": "is missing",
    }


def test_readings_of_several_devices() -> None:
    """A bridge batch: the message has no device, each reading names its own; a reading of the
    message's device does not repeat it."""
    message = NormalizedMessage(
        "o1",
        "",
        Source("bridge-1", "mqtt"),
        (Reading("s1", 1, 1.0, "double", device="d1"), Reading("s2", 2, 2.0, "double", None, "d2")),
    )
    body = orjson.loads(message.to_bytes())
    assert [r["device"] for r in body["readings"]] == ["d1", "d2"]
    parsed = NormalizedMessage.from_bytes(message.to_bytes())
    assert parsed == message
    assert [parsed.device_of(r) for r in parsed.readings] == ["d1", "d2"]
    single = _message()
    assert "device" not in single.to_dict()["readings"][0]
    assert single.device_of(single.readings[0]) == "d1"


def test_a_reading_without_any_device() -> None:
    body = _message().to_dict()
    body["device"] = ""
    body["readings"][1]["device"] = "d2"
    body["readings"][2]["device"] = ""
    problems = _problems(body)
    assert problems["readings[0].device"] == "is needed when the message has no device"
    assert problems["readings[2].device"] == "must be a non-empty string"
    assert "readings[1].device" not in problems


def test_empty_readings() -> None:
    body = _message().to_dict()
    body["readings"] = []
    assert _problems(body) == {"readings": "must be a non-empty array"}


def test_error_body_lists_problems() -> None:
    body = _message().to_dict()
    body["readings"][0]["ts"] = "x"
    body["readings"][1]["ts"] = "y"
    with pytest.raises(InvalidReadings) as info:
        NormalizedMessage.from_dict(body)
    error = info.value.to_dict()
    assert error["status"] == 400
    assert error["field"] == "readings[0].ts"
    assert error["message"].endswith("(and 1 more)")
    fields = [p["field"] for p in error["details"]["problems"]]
    assert fields == ["readings[0].ts", "readings[1].ts"]


# The writer's fast path (`_valid_reading`) must never accept what the full check refuses, nor
# read an accepted reading differently.
_items = st.dictionaries(
    st.sampled_from(["sensor", "ts", "value", "type", "unit", "device", "x"]),
    json_values | st.sampled_from(TYPES),
    max_size=7,
) | st.fixed_dictionaries(
    {
        "sensor": st.text(max_size=3),
        "ts": st.integers(-5, 2**64),
        "value": json_values,
        "type": st.sampled_from(TYPES),
    },
    optional={"unit": st.none() | st.text(max_size=3), "device": st.text(max_size=3)},
)


@given(_items)
def test_fast_path_agrees_with_the_full_check(item: dict[str, Any]) -> None:
    fast = model._valid_reading(item)
    problems = _Collector()
    full = model._reading(item, "readings[0]", problems)
    if fast is not None:
        assert problems.total == 0
        assert fast == full
    elif full is not None:  # the full check accepts what the fast path leaves to it
        assert problems.total == 0
