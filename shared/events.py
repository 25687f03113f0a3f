"""Bus messages as event functions see them, and the shape of an event-triggered function."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import BadRequest, Disposition, StratusError
from shared.http import parse_json
from shared.logs import function_var
from shared.settings import Settings, settings

__all__ = ["PUBLISHED", "DeadLetter", "EventFunction", "Message", "Outcome", "topic_from_source"]

_log = logging.getLogger("stratus.events")

PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


@dataclass(frozen=True, slots=True)
class Message:
    """One Pub/Sub message delivered to a function (push, Eventarc CloudEvent or OpenWhisk)."""

    id: str
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    publish_time: str = ""
    ordering_key: str = ""
    subscription: str = ""
    topic: str = ""
    delivery_attempt: int | None = None

    def json(self) -> Any:
        """The payload parsed as JSON; a BadRequest (poison) when it is not JSON or nests too
        deep (shared.http.parse_json)."""
        return parse_json(self.data, f"message {self.id} data")

    @classmethod
    def from_push(cls, body: Any, *, topic: str = "") -> Message:
        """Read a Pub/Sub push body `{"message": {...}, "subscription": ...}`, validating it."""
        if not isinstance(body, Mapping):
            raise BadRequest("push body must be a JSON object with a 'message' field")
        message = body.get("message")
        if not isinstance(message, Mapping):
            raise BadRequest("push body has no 'message' object", field="message")
        message_id = message.get("messageId") or message.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise BadRequest("push message has no messageId", field="message.messageId")
        raw = message.get("data", "")
        if not isinstance(raw, str):
            raise BadRequest("push message data must be a base64 string", field="message.data")
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(
                "push message data is not valid base64", field="message.data"
            ) from None
        attributes = message.get("attributes") or {}
        if not isinstance(attributes, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
        ):
            raise BadRequest("push message attributes must map strings to strings")
        attempt = body.get("deliveryAttempt")
        return cls(
            id=message_id,
            data=data,
            attributes=dict(attributes),
            publish_time=str(message.get("publishTime") or message.get("publish_time") or ""),
            ordering_key=str(message.get("orderingKey") or message.get("ordering_key") or ""),
            subscription=str(body.get("subscription") or ""),
            topic=topic,
            delivery_attempt=attempt if isinstance(attempt, int) else None,
        )


def topic_from_source(source: str) -> str:
    """The topic id in a CloudEvent source `//pubsub.googleapis.com/projects/P/topics/T`."""
    marker = "/topics/"
    return source.rsplit(marker, 1)[1] if marker in source else ""


Outcome = str  # "ack" or "dead_lettered"; a retry is an exception
DeadLetter = Callable[[Message, StratusError], None]


class EventFunction:
    """A named event function: `handler(message)` with the one error policy every trigger shares.

    - returns normally: the message is acknowledged;
    - raises a StratusError whose disposition is DEAD_LETTER: `dead_letter(message, error)` parks it
      with its reason and the message is acknowledged; without a dead-letter sink the error is
      re-raised so the bus redelivers and its own dead-letter policy parks it (nothing vanishes);
    - raises anything else (or a RETRY error): re-raised, so the platform answers with an error
      and the bus redelivers with backoff.
    """

    def __init__(
        self,
        name: str,
        handler: Callable[[Message], object],
        *,
        dead_letter: DeadLetter | None = None,
        config: Settings | None = None,
    ) -> None:
        self.name = name
        self.handler = handler
        self.dead_letter = dead_letter
        self.config = config or settings()

    def __call__(self, message: Message) -> Outcome:
        token = function_var.set(self.name)
        try:
            return self._handle(message)
        finally:
            function_var.reset(token)

    def _handle(self, message: Message) -> Outcome:
        try:
            self.handler(message)
            return "ack"
        except StratusError as error:
            if error.disposition is Disposition.DEAD_LETTER and self.dead_letter is not None:
                self.dead_letter(message, error)
                _log.warning("message %s dead-lettered: %s", message.id, error.message)
                return "dead_lettered"
            _log.warning("message %s will be retried: %s", message.id, error.message)
            raise
        except Exception:
            _log.exception("message %s failed; it will be retried", message.id)
            raise
