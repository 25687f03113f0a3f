"""Apache OpenWhisk entry points: `main(args)` for web actions and for trigger actions.

Web actions are deployed raw (`web-export: true`, `raw-http: true`): OpenWhisk passes `__ow_method`,
`__ow_headers` (lower-case names), `__ow_path`, `__ow_query` and `__ow_body` (base64 unless the
content type is text). Non-raw web actions, whose JSON body and query are merged into `args`, are
also accepted: the body is rebuilt from the non-`__ow_` parameters. A web action's result is one
JSON document, so a streaming answer (Server-Sent Events) becomes 501 `not_implemented`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlencode

from shared.errors import PayloadTooLarge, StratusError
from shared.events import EventFunction, Message
from shared.function import HttpFunction
from shared.http import Request, Response, check_size, dumps, error_response
from shared.streaming import StreamingResponse, StreamingUnsupported

__all__ = ["trigger_action", "web_action"]

_TEXTUAL = ("text/", "application/json", "application/senml+json", "application/problem+json")


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


def web_action(function: HttpFunction) -> Any:
    """`main(args)` for an OpenWhisk web action serving `function`."""

    def main(args: dict[str, Any]) -> dict[str, Any]:
        method = str(args.get("__ow_method") or "get").upper()
        headers = {str(k).lower(): str(v) for k, v in (args.get("__ow_headers") or {}).items()}
        path = str(args.get("__ow_path") or "/")
        try:
            body, query = _body(args, headers, method)
            check_size(len(body), function.max_body_bytes)
        except PayloadTooLarge as error:
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


def trigger_action(function: EventFunction) -> Any:
    """`main(args)` for an OpenWhisk action fired by a trigger carrying a Pub/Sub message.

    `args` is a Pub/Sub push body (`{"message": {...}, "subscription": ...}`) or a structured-mode
    CloudEvent whose `data` is one. The result is `{"outcome": ...}`; failures come back as an
    OpenWhisk application error (`{"error": {...}}`) so the activation is marked failed.
    """

    def main(args: dict[str, Any]) -> dict[str, Any]:
        body = args.get("data") if "specversion" in args else args
        try:
            message = Message.from_push(body, topic=str(args.get("topic") or ""))
            return {"outcome": function(message)}
        except StratusError as error:
            return {"error": error.to_dict()}
        except Exception as exc:  # the action failed: OpenWhisk records it, the feed retries
            return {"error": {"status": 500, "code": "internal", "message": type(exc).__name__}}

    main.__stratus_function__ = function  # type: ignore[attr-defined]
    return main
