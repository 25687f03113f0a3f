"""Every platform's entry points of a function from one call, the last line of its main.py.

    app, http, main = http_function("status", build_router(_status))
    app, event, main = event_function("writer", _handle, dead_letter=...)

`app` is the function object the emulator's host and the tests call, `http` / `event` the
functions-framework target (Cloud Run), `main` the OpenWhisk action. Each target carries `app` as
`__stratus_function__`, which is how the host finds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from shared import clients
from shared.events import DeadLetter, EventFunction, Message
from shared.function import HttpFunction, Middleware
from shared.platforms import functions_framework, openwhisk
from shared.router import Handler

__all__ = ["EventEntries", "HttpEntries", "event_function", "http_function"]

Action = Callable[[dict[str, Any]], dict[str, Any]]


class HttpEntries(NamedTuple):
    """An HTTP function and its targets."""

    app: HttpFunction
    http: Callable[[Any], tuple[bytes, int, dict[str, str]]]
    main: Action


class EventEntries(NamedTuple):
    """An event function and its targets."""

    app: EventFunction
    event: Callable[[Any], None]
    main: Action


def http_function(
    name: str,
    handler: Handler,
    *,
    authenticated: bool = False,
    max_body_bytes: int | None = None,
    middlewares: Sequence[Middleware] = (),
) -> HttpEntries:
    """The entry points of the HTTP function `name` serving `handler` (its router).

    `authenticated` stacks the bearer-token middleware first, checking revocation against the
    directory in `clients.store()` (built on the first token, not here); routes then call
    `require(request, ...)`, and routes that do not stay public. `max_body_bytes` defaults to
    STRATUS_MAX_BODY_BYTES.
    """
    stack = list(middlewares)
    if authenticated:
        # imported here: functions without tokens (status, jwks) skip the JWT libraries
        from shared.auth import Authenticator
        from shared.directory import version_lookup

        stack.insert(0, Authenticator(version_lookup(clients.store)).middleware)
    app = HttpFunction(name, handler, middlewares=stack, max_body_bytes=max_body_bytes)
    return HttpEntries(app, functions_framework.http_entry(app), openwhisk.web_action(app))


def event_function(
    name: str, handler: Callable[[Message], object], *, dead_letter: DeadLetter | None = None
) -> EventEntries:
    """The entry points of the event function `name`: `handler` takes one bus message (what it
    returns is ignored); `dead_letter` parks the messages it refuses (`shared.deadletter`)."""
    app = EventFunction(name, handler, dead_letter=dead_letter)
    return EventEntries(
        app, functions_framework.cloud_event_entry(app), openwhisk.trigger_action(app)
    )
