"""functions-framework (Cloud Run) targets for Stratus functions; imports no Flask on cold start.

Each target sets up the JSON logs (Cloud Logging's structured form, at STRATUS_LOG_LEVEL) on its
first request, unless the process configured logging already.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared import logs
from shared.errors import PayloadTooLarge, StratusError
from shared.events import EventFunction, Message, topic_from_source
from shared.function import HttpFunction
from shared.http import Request, check_size, error_response
from shared.platforms.push import PUSH_BODY_LIMIT, answer, check_token, read_push
from shared.settings import settings
from shared.streaming import StreamingResponse

__all__ = ["cloud_event_entry", "http_entry", "push_entry"]


def _headers(request: Any) -> dict[str, str]:
    headers = {name.lower(): value for name, value in request.headers.items()}
    # behind Google's API Gateway with IAM, the gateway's own token takes `authorization` and the
    # caller's moves to `x-forwarded-authorization` (a caller could send either anyway)
    if "x-forwarded-authorization" in headers:
        headers["authorization"] = headers.pop("x-forwarded-authorization")
    return headers


def http_entry(function: HttpFunction) -> Any:
    """A target for `functions-framework --target http` (signature type http).

    The returned plain function takes the flask.Request the framework passes and answers with a
    (body, status, headers) tuple, so Flask is never imported here; a `StreamingResponse` body is
    an iterator, which Flask sends as it is produced.
    """

    def http(request: Any) -> tuple[bytes | Iterator[bytes], int, dict[str, str]]:
        logs.configure_once(settings().log_level, function.name)
        try:
            if request.content_length is not None:
                check_size(request.content_length, function.max_body_bytes)
            body = request.stream.read(function.max_body_bytes + 1)
            check_size(len(body), function.max_body_bytes)
        except PayloadTooLarge as error:
            response = function.reject(error)
        else:
            response = function(
                Request(
                    method=request.method,
                    path=request.path,
                    headers=_headers(request),
                    body=body,
                    query_string=request.query_string.decode("latin-1"),
                    remote_addr=request.remote_addr or "",
                )
            )
        if isinstance(response, StreamingResponse):
            # Flask streams an iterator body chunk by chunk and closes it when the client leaves
            return _closing(response), response.status, response.headers
        return response.body, response.status, response.headers

    http.__stratus_function__ = function  # type: ignore[attr-defined]
    return http


def _closing(response: StreamingResponse) -> Iterator[bytes]:
    try:
        yield from response
    finally:
        response.close()


def cloud_event_entry(function: EventFunction) -> Any:
    """A target for `functions-framework --target event --signature-type cloudevent`.

    Eventarc (and a raw Pub/Sub push, which the framework converts) delivers a CloudEvent of type
    google.cloud.pubsub.topic.v1.messagePublished whose data is the push body. Returning acks the
    message; raising makes the framework answer 500 so Pub/Sub redelivers it.
    """

    def event(cloud_event: Any) -> None:
        logs.configure_once(settings().log_level, function.name)
        message = Message.from_push(
            cloud_event.data, topic=topic_from_source(cloud_event["source"] or "")
        )
        function(message)

    event.__stratus_function__ = function  # type: ignore[attr-defined]
    return event


def push_entry(function: EventFunction) -> Any:
    """A target for `functions-framework --target event --signature-type http` taking any push
    (`shared.platforms.push`): a plain Pub/Sub push body, as a push subscription sends it, or an
    Eventarc CloudEvent (binary or structured). What the Cloud Run artefacts serve: the
    framework's own conversion of a plain push to a CloudEvent drops `deliveryAttempt` and
    `subscription`, which the functions read. 200 acks; any other status makes Pub/Sub retry.
    With STRATUS_PUSH_TOKEN set (Knative, where no IAM checks the push), the endpoint's `token`
    query parameter must match it."""

    def event(request: Any) -> tuple[bytes, int, dict[str, str]]:
        logs.configure_once(settings().log_level, function.name)
        try:
            check_token(request.query_string.decode("latin-1"), required=False)
            if request.content_length is not None:
                check_size(request.content_length, PUSH_BODY_LIMIT)
            body = request.stream.read(PUSH_BODY_LIMIT + 1)
            check_size(len(body), PUSH_BODY_LIMIT)
            message = read_push(body, _headers(request), request.path)
        except StratusError as error:
            response = error_response(error)
        else:
            response = answer(function, message)
        return response.body, response.status, response.headers

    event.__stratus_function__ = function  # type: ignore[attr-defined]
    return event
