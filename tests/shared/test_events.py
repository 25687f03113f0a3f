"""Push envelopes and the event function's error policy."""

import base64
from typing import Any

import pytest

from shared.errors import BadRequest, StratusError, Unavailable, ValidationError
from shared.events import EventFunction, Message, topic_from_source
from shared.settings import Settings


def push(data: bytes = b'{"a":1}', **message: Any) -> dict[str, Any]:
    body = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "messageId": "m1",
            "publishTime": "2026-11-22T10:00:00Z",
            "attributes": {"k": "v"},
            **message,
        },
        "subscription": "projects/p/subscriptions/s",
        "deliveryAttempt": 3,
    }
    return body


def test_push_body_is_read() -> None:
    message = Message.from_push(push(), topic="raw")
    assert message.id == "m1"
    assert message.json() == {"a": 1}
    assert message.attributes == {"k": "v"}
    assert message.subscription == "projects/p/subscriptions/s"
    assert (message.delivery_attempt, message.topic) == (3, "raw")


def test_snake_case_fields_are_accepted_too() -> None:
    body = {"message": {"data": "", "message_id": "m2", "publish_time": "t"}}
    message = Message.from_push(body)
    assert (message.id, message.data, message.publish_time) == ("m2", b"", "t")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "JSON object"),
        ({}, "'message'"),
        ({"message": {"data": ""}}, "messageId"),
        ({"message": {"messageId": "m", "data": 5}}, "base64 string"),
        ({"message": {"messageId": "m", "data": "!!!"}}, "not valid base64"),
        ({"message": {"messageId": "m", "attributes": {"a": 1}}}, "attributes"),
    ],
)
def test_malformed_push_bodies_are_rejected_precisely(body: Any, problem: str) -> None:
    with pytest.raises(BadRequest, match=problem):
        Message.from_push(body)


def test_non_json_data_is_bad_request() -> None:
    with pytest.raises(BadRequest, match="not valid JSON"):
        Message.from_push(push(b"\xff")).json()


def test_topic_from_cloud_event_source() -> None:
    assert topic_from_source("//pubsub.googleapis.com/projects/p/topics/raw") == "raw"
    assert topic_from_source("") == ""


class Recorder:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.parked: list[tuple[str, str]] = []

    def handle(self, message: Message) -> None:
        if self.error:
            raise self.error

    def park(self, message: Message, error: StratusError) -> None:
        self.parked.append((message.id, error.message))


CONFIG = Settings()


def test_success_acks() -> None:
    recorder = Recorder()
    assert EventFunction("f", recorder.handle, config=CONFIG)(Message.from_push(push())) == "ack"


def test_poison_is_dead_lettered_with_reason_and_acked() -> None:
    recorder = Recorder(ValidationError("value is not a number", field="value"))
    function = EventFunction("f", recorder.handle, dead_letter=recorder.park, config=CONFIG)
    assert function(Message.from_push(push())) == "dead_lettered"
    assert recorder.parked == [("m1", "value is not a number")]


def test_poison_without_sink_is_raised_so_the_bus_redelivers() -> None:
    recorder = Recorder(ValidationError("bad"))
    with pytest.raises(ValidationError):
        EventFunction("f", recorder.handle, config=CONFIG)(Message.from_push(push()))


@pytest.mark.parametrize("error", [Unavailable("store down"), RuntimeError("bug")])
def test_transient_and_unexpected_errors_are_raised_for_retry(error: Exception) -> None:
    recorder = Recorder(error)
    function = EventFunction("f", recorder.handle, dead_letter=recorder.park, config=CONFIG)
    with pytest.raises(type(error)):
        function(Message.from_push(push()))
    assert recorder.parked == []


def test_failing_dead_letter_sink_is_raised_not_swallowed() -> None:
    def broken_sink(message: Message, error: StratusError) -> None:
        raise Unavailable("bus down")

    function = EventFunction(
        "f", Recorder(ValidationError("bad")).handle, dead_letter=broken_sink, config=CONFIG
    )
    with pytest.raises(Unavailable):
        function(Message.from_push(push()))
