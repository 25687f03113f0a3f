"""The state function reads a bridge state batch: the newest entry wins, bad ones are poison."""

from __future__ import annotations

import orjson
import pytest

from functions.state.service import newest_state
from shared.errors import BadRequest, ValidationError
from shared.events import Message

ATTRS = {"org": "o1", "device": "d1", "format": "batch", "transport": "mqtt"}


def _message(data: object, attributes: dict[str, str] = ATTRS) -> Message:
    return Message(id="m1", data=orjson.dumps(data), attributes=attributes)


def _entry(received_ns: int, payload: object) -> dict[str, object]:
    return {"format": "state", "received_ns": received_ns, "topic": "devices/d1/state",
            "payload": payload}  # fmt: skip


def test_the_newest_entry_of_a_batch_is_taken() -> None:
    message = _message([_entry(5, {"a": 1}), _entry(9, {"a": 2}), _entry(7, {"a": 3})])
    assert newest_state(message) == ("o1", "d1", 9, {"a": 2})


@pytest.mark.parametrize(
    ("data", "attributes", "error"),
    [
        ([_entry(1, {})], {"device": "d1"}, BadRequest),
        ([], ATTRS, ValidationError),
        ({"state": 1}, ATTRS, ValidationError),
        ([_entry(1, [1, 2])], ATTRS, ValidationError),
        ([{"payload": {}, "received_ns": "1"}], ATTRS, ValidationError),
    ],
)
def test_malformed_batches_are_poison(
    data: object, attributes: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        newest_state(_message(data, attributes))


def test_data_that_is_not_json_is_poison() -> None:
    with pytest.raises(BadRequest):
        newest_state(Message(id="m", data=b"{", attributes=ATTRS))
