"""functions-framework (Cloud Run) targets for Stratus functions; imports no Flask on cold start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.errors import PayloadTooLarge
from shared.events import EventFunction, Message, topic_from_source
from shared.function import HttpFunction
from shared.http import Request, check_size
from shared.streaming import StreamingResponse

__all__ = ["cloud_event_entry", "http_entry"]


def http_entry(function: HttpFunction) -> Any:
    """A target for `functions-framework --target http` (signature type http).

    The returned plain function takes the flask.Request the framework passes and answers with a
    (body, status, headers) tuple, so Flask is never imported here; a `StreamingResponse` body is
    an iterator, which Flask sends as it is produced.
    """

    def http(request: Any) -> tuple[bytes | Iterator[bytes], int, dict[str, str]]:
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
                    headers={name.lower(): value for name, value in request.headers.items()},
                    body=body,
                    query_string=request.query_string.decode("latin-1"),
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
        message = Message.from_push(
            cloud_event.data, topic=topic_from_source(cloud_event["source"] or "")
        )
        function(message)

    event.__stratus_function__ = function  # type: ignore[attr-defined]
    return event
