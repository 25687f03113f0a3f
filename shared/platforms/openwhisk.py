"""Apache OpenWhisk entry points: `main(args)` for web actions and for event (push) actions.

Web actions are deployed raw (`web-export: true`, `raw-http: true`): OpenWhisk passes `__ow_method`,
`__ow_headers` (lower-case names), `__ow_path`, `__ow_query` and `__ow_body` (base64 unless the
content type is text). Non-raw web actions, whose JSON body and query are merged into `args`, are
also accepted: the body is rebuilt from the non-`__ow_` parameters. An empty `__ow_path` (the API
gateway's, for a route without path parameters) means the action's only route for that method,
when it has one. A web action's result is one JSON document, so a streaming answer (Server-Sent
Events) becomes 501 `not_implemented`.

Event functions are web actions too: a Pub/Sub push subscription delivers to
`.../<action>.http?token=<STRATUS_PUSH_TOKEN>` (a push cannot send the Basic auth a trigger URL
needs, and a trigger fires once, with no retry). The token is checked here; the answer is 200 or
the error's status, so Pub/Sub's own retries and dead-letter policy hold. Invoked as a plain action
(an alarms-feed rule, `wsk action invoke`), the parameters are the event: a push body, or a clock
tick; such an activation fails with `{"error"}` and is not retried (the next tick comes).

`action(module)` is the zip's `__main__.py` entry: it moves the action's configuration parameters
(upper-case names, bound with `wsk action update -p`) into `os.environ` before importing the
function, which reads only its environment. `STRATUS_GOOGLE_CREDENTIALS` (a service account key,
JSON) is written to a private file named by GOOGLE_APPLICATION_CREDENTIALS, where the Google
clients look for it outside Google Cloud.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from shared import logs
from shared.errors import NotFound, StratusError
from shared.events import EventFunction, Message
from shared.function import HttpFunction
from shared.http import Request, Response, check_size, dumps, error_response, json_response
from shared.platforms.push import PUSH_BODY_LIMIT, answer, check_token, read_push
from shared.router import Router
from shared.settings import settings
from shared.streaming import StreamingResponse, StreamingUnsupported

__all__ = ["action", "trigger_action", "web_action"]

Action = Callable[[dict[str, Any]], dict[str, Any]]
_TEXTUAL = ("text/", "application/json", "application/senml+json", "application/problem+json")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")

_NO_STREAMING = StreamingUnsupported(
    "this endpoint streams Server-Sent Events, which OpenWhisk web actions cannot send; read the "
    "same data by polling its JSON endpoint, or deploy this function to Cloud Run or the emulator"
)


def _body(args: dict[str, Any], headers: dict[str, str], method: str) -> tuple[bytes, str]:
    """(body bytes, query string) from raw or non-raw web action arguments."""
    if "__ow_body" in args or "__ow_query" in args:
        raw = args.get("__ow_body") or ""
        query = str(args.get("__ow_query") or "")
        if isinstance(raw, (dict, list)):
            return dumps(raw), query
        content_type = headers.get("content-type", "")
        if content_type.startswith("text/"):
            return str(raw).encode(), query
        try:
            return base64.b64decode(str(raw), validate=True), query
        except (binascii.Error, ValueError):
            return str(raw).encode(), query
    params = {k: v for k, v in args.items() if not k.startswith("__ow_")}
    if method in {"GET", "HEAD", "DELETE"}:
        return b"", urlencode({k: str(v) for k, v in params.items()})
    return (dumps(params) if params else b""), ""


def _web_response(response: Response) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    if not response.body:
        body = ""
    elif content_type.startswith(_TEXTUAL):
        body = response.body.decode("utf-8", "replace")
    else:
        body = base64.b64encode(response.body).decode("ascii")
    return {"statusCode": response.status, "headers": dict(response.headers), "body": body}


def _headers(args: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (args.get("__ow_headers") or {}).items()}


def _only_route(function: HttpFunction, method: str) -> str:
    """The path an empty `__ow_path` stands for: the action's route without path parameters for
    `method` (one, or several leading to one handler, as `POST /ingest` and `POST /`); NotFound
    when there is none or they differ."""
    router = function.handler
    candidates = [
        route
        for route in (router if isinstance(router, Router) else ())
        if "{" not in route.pattern
        and (route.method == method or (method == "HEAD" and route.method == "GET"))
    ]
    if not candidates or len({id(route.handler) for route in candidates}) > 1:
        raise NotFound(
            "the request reached this action without its path (__ow_path is empty) and the "
            f"action has {len(candidates)} routes for {method} without path parameters; route "
            "it with the API description python -m infra builds (each route's backend carries "
            "its path)"
        )
    return candidates[0].pattern


def _log_setup(name: str) -> Callable[[], None]:
    done = False

    def once() -> None:
        nonlocal done
        if not done:
            done = True
            logs.configure_once(settings().log_level, name)

    return once


def web_action(function: HttpFunction) -> Any:
    """`main(args)` for an OpenWhisk web action serving `function`."""
    first_call = _log_setup(function.name)

    def main(args: dict[str, Any]) -> dict[str, Any]:
        first_call()
        method = str(args.get("__ow_method") or "get").upper()
        headers = _headers(args)
        # A web action returns a text body as text (only binary types are base64): it cannot send
        # a compressed one, so functions must not compress (the console's assets would)
        headers.pop("accept-encoding", None)
        path = str(args.get("__ow_path") or "")
        try:
            if not path:
                path = _only_route(function, method)
            body, query = _body(args, headers, method)
            check_size(len(body), function.max_body_bytes)
        except StratusError as error:
            return _web_response(function.reject(error))
        request = Request(
            method=method,
            path=path if path.startswith("/") else "/" + path,
            headers=headers,
            body=body,
            query_string=query,
        )
        response = function(request)
        if isinstance(response, StreamingResponse):
            response.close()  # never started: a web action's result is one JSON document
            refusal = error_response(_NO_STREAMING, request.context.get("request_id"))
            if "x-request-id" in response.headers:
                refusal.headers["x-request-id"] = response.headers["x-request-id"]
            return _web_response(refusal)
        return _web_response(response)

    main.__stratus_function__ = function  # type: ignore[attr-defined]
    return main


def _pushed(function: EventFunction, args: dict[str, Any]) -> dict[str, Any]:
    """A push delivered to the web action: token, then the message, then the answer."""
    if str(args.get("__ow_method") or "").upper() != "POST":
        return _web_response(json_response({"error": {"status": 405, "code": "method"}}, 405))
    headers = _headers(args)
    try:
        check_token(str(args.get("__ow_query") or ""), required=True)
        body, _ = _body(args, headers, "POST")
        check_size(len(body), PUSH_BODY_LIMIT)
        message = read_push(body, headers, str(args.get("__ow_path") or ""))
    except StratusError as error:
        return _web_response(error_response(error))
    return _web_response(answer(function, message))


def _event_of(args: dict[str, Any]) -> Message:
    """The message of a plain invocation: a push body, a structured CloudEvent, or the
    parameters of a fired trigger (an alarms-feed tick) as the JSON data of a new message."""
    if "specversion" in args:
        return Message.from_push(args.get("data"), topic=str(args.get("topic") or ""))
    if "message" in args:
        return Message.from_push(args, topic=str(args.get("topic") or ""))
    params = {k: v for k, v in args.items() if not k.startswith("__")}
    return Message(
        id=os.environ.get("__OW_ACTIVATION_ID") or uuid.uuid4().hex,
        data=dumps(params),
        topic=str(params.get("topic") or ""),
    )


def trigger_action(function: EventFunction) -> Any:
    """`main(args)` for an event function: a web action taking Pub/Sub pushes, or a plain action
    fired by a rule (see the module's docstring). Plain invocations answer `{"outcome"}`, or
    `{"error"}` so OpenWhisk marks the activation failed."""
    first_call = _log_setup(function.name)

    def main(args: dict[str, Any]) -> dict[str, Any]:
        first_call()
        if "__ow_method" in args:
            return _pushed(function, args)
        try:
            return {"outcome": function(_event_of(args))}
        except StratusError as error:
            return {"error": error.to_dict()}
        except Exception as exc:  # failed; OpenWhisk does not retry a plain activation
            return {"error": {"status": 500, "code": "internal", "message": type(exc).__name__}}

    main.__stratus_function__ = function  # type: ignore[attr-defined]
    return main


def _credentials_file(key: str) -> None:
    """Google's clients read a key from a file: write STRATUS_GOOGLE_CREDENTIALS to one (0600)."""
    if not key or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return
    fd, path = tempfile.mkstemp(prefix="stratus-google-", suffix=".json")
    with os.fdopen(fd, "w") as out:
        out.write(key)
    os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = path


def action(module: str) -> Action:
    """The `main(args)` of an action zip: configuration parameters (upper-case names) go to
    `os.environ` and out of `args`, then `module`'s `main` is imported (once) and called."""
    loaded: Action | None = None

    def main(args: dict[str, Any]) -> dict[str, Any]:
        nonlocal loaded
        for name in [k for k in args if _ENV_NAME.match(k)]:
            value = args.pop(name)
            if isinstance(value, str):
                os.environ[name] = value
        if loaded is None:
            _credentials_file(os.environ.get("STRATUS_GOOGLE_CREDENTIALS", ""))
            loaded = importlib.import_module(module).main
        return loaded(args)

    return main
