"""A Pub/Sub push as every platform receives it, read once and answered once.

Three shapes reach an event function over HTTP: a plain Pub/Sub push body (`{"message": {...},
"subscription": ..., "deliveryAttempt"?}`, what a push subscription sends), an Eventarc
CloudEvent in binary mode (`ce-*` headers, the push body as the HTTP body: what the emulator's bus
sends) and a structured-mode CloudEvent (`{"specversion", "source", "data": <push body>}`). The
answer is 200 with the outcome (ack, also for a dead-lettered message) or the error's status, so
the push subscription redelivers with backoff and, after its last attempt, dead-letters.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from shared.bus import MAX_MESSAGE_BYTES
from shared.errors import BadRequest, StratusError
from shared.events import EventFunction, Message, topic_from_source
from shared.http import Response, error_response, json_response

__all__ = ["PUSH_BODY_LIMIT", "answer", "read_push"]

# A push carries one bus message, its data in base64 inside a JSON envelope: take the largest the
# bus may carry (a 413 would park a message the platform had acknowledged)
PUSH_BODY_LIMIT = MAX_MESSAGE_BYTES * 4 // 3 + 64 * 1024


def read_push(body: bytes, headers: Mapping[str, str], path: str = "") -> Message:
    """The message of a push in any of the three shapes (`headers` with lower-case names).

    The topic comes from the CloudEvent's source, else from a push endpoint whose path ends in
    `projects/P/topics/T` (as functions-framework reads it); BadRequest for anything else."""
    try:
        push = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("push body is not JSON") from None
    if isinstance(push, dict) and "specversion" in push:  # structured-mode CloudEvent
        source, push = str(push.get("source") or ""), push.get("data")
    elif headers.get("ce-specversion"):  # binary mode: the body is the push body
        source = headers.get("ce-source", "")
    else:
        source = path
    return Message.from_push(push, topic=topic_from_source(source))


def answer(function: EventFunction, message: Message) -> Response:
    """Deliver `message`: 200 `{"outcome"}` when handled (acknowledged or dead-lettered), the
    error's status for a StratusError, 500 for anything else (the function logged it)."""
    try:
        outcome = function(message)
    except StratusError as error:
        return error_response(error)
    except Exception:
        return json_response(
            {"error": {"status": 500, "code": "internal", "message": "internal error"}}, 500
        )
    return json_response({"outcome": outcome})
