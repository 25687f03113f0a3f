"""A Pub/Sub push as every platform receives it, read once and answered once.

Three shapes reach an event function over HTTP: a plain Pub/Sub push body (`{"message": {...},
"subscription": ..., "deliveryAttempt"?}`, what a push subscription sends), an Eventarc
CloudEvent in binary mode (`ce-*` headers, the push body as the HTTP body: what the emulator's bus
sends) and a structured-mode CloudEvent (`{"specversion", "source", "data": <push body>}`). The
answer is 200 with the outcome (ack, also for a dead-lettered message) or the error's status, so
the push subscription redelivers with backoff and, after its last attempt, dead-letters.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from urllib.parse import parse_qs

import orjson

from shared.bus import MAX_MESSAGE_BYTES
from shared.errors import BadRequest, PermissionDenied, StratusError, Unavailable
from shared.events import EventFunction, Message, topic_from_source
from shared.http import Response, error_response, json_response

__all__ = ["PUSH_BODY_LIMIT", "answer", "check_token", "read_push"]

# A push carries one bus message, its data in base64 inside a JSON envelope: take the largest the
# bus may carry (a 413 would park a message the platform had acknowledged)
PUSH_BODY_LIMIT = MAX_MESSAGE_BYTES * 4 // 3 + 64 * 1024


def check_token(query: str, *, required: bool) -> None:
    """A push endpoint secured by a shared secret: its `token` query parameter must equal
    STRATUS_PUSH_TOKEN (PermissionDenied). Unset, the push is refused when `required`
    (Unavailable: fail closed), else allowed (Cloud Run checks the push's OIDC token itself)."""
    expected = os.environ.get("STRATUS_PUSH_TOKEN", "")
    if not expected:
        if required:
            raise Unavailable("STRATUS_PUSH_TOKEN is not set: this action refuses every push")
        return
    given = (parse_qs(query).get("token") or [""])[0]
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PermissionDenied("push token missing or wrong")


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
