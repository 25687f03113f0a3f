"""The shape of an HTTP function: a handler wrapped in middlewares, callable on a `Request`.

Platform adapters (`shared.platforms`) and the emulator's host turn their own envelopes into a
`Request` and call the function; the function never sees Flask, OpenWhisk args or os.environ.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence

from shared.errors import StratusError
from shared.http import Request, Response, error_response, json_response
from shared.logs import function_var, request_id_var, trace_var
from shared.settings import Settings, settings

__all__ = ["HttpFunction", "Middleware", "request_context"]

Handler = Callable[[Request], Response]
Middleware = Callable[[Request, Handler], Response]

_log = logging.getLogger("stratus.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _trace(request: Request, project: str) -> str | None:
    cloud = request.headers.get("x-cloud-trace-context")
    if cloud:
        trace_id = cloud.split("/", 1)[0]
        if trace_id:
            return f"projects/{project}/traces/{trace_id}"
    parent = request.headers.get("traceparent")
    if parent and parent.count("-") == 3:
        return f"projects/{project}/traces/{parent.split('-')[1]}"
    return None


def request_context(config: Settings, function: str = "") -> Middleware:
    """Give every request an id (kept from `x-request-id` when sane), a trace and the function's
    name for the logs."""

    def middleware(request: Request, call_next: Handler) -> Response:
        given = request.headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request.context["request_id"] = request_id
        id_token = request_id_var.set(request_id)
        trace_token = trace_var.set(_trace(request, config.project))
        function_token = function_var.set(function or None)
        started = time.perf_counter()
        try:
            response = call_next(request)
        finally:
            request_id_var.reset(id_token)
            trace_var.reset(trace_token)
            function_var.reset(function_token)
        response.headers["x-request-id"] = request_id
        if config.access_log:
            _log.info(
                "%s %s %d",
                request.method,
                request.path,
                response.status,
                extra={"latency_ms": round((time.perf_counter() - started) * 1000, 3)},
            )
        return response

    return middleware


def _errors(request: Request, call_next: Handler) -> Response:
    """Map StratusError to its JSON answer; anything unexpected is logged and becomes a bare 500."""
    try:
        return call_next(request)
    except StratusError as error:
        if error.status >= 500:
            _log.error("%s %s failed: %s", request.method, request.path, error.message)
        return error_response(error, request.context.get("request_id"))
    except Exception:
        _log.exception("unhandled error in %s %s", request.method, request.path)
        body = {"error": {"status": 500, "code": "internal", "message": "internal error"}}
        if request.context.get("request_id"):
            body["request_id"] = request.context["request_id"]
        return json_response(body, 500)


class HttpFunction:
    """A named HTTP function: `handler` (usually a Router) under the standard middleware stack.

    The stack, outermost first: request context, error mapping, then `middlewares` in order.
    """

    def __init__(
        self,
        name: str,
        handler: Handler,
        *,
        middlewares: Sequence[Middleware] = (),
        max_body_bytes: int | None = None,
        config: Settings | None = None,
    ) -> None:
        self.name = name
        self.handler = handler
        self.config = config or settings()
        self.max_body_bytes = max_body_bytes or self.config.max_body_bytes
        chain: Handler = handler
        for middleware in reversed([request_context(self.config, name), _errors, *middlewares]):
            chain = _bind(middleware, chain)
        self._chain = chain

    def __call__(self, request: Request) -> Response:
        return self._chain(request)

    def reject(self, error: StratusError) -> Response:
        """The answer for a request the platform adapter refused before the function ran."""
        return error_response(error)


def _bind(middleware: Middleware, call_next: Handler) -> Handler:
    def bound(request: Request) -> Response:
        return middleware(request, call_next)

    return bound
