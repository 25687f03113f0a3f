"""Entry points from one call: the function object, its functions-framework target and its
OpenWhisk action agree, and carry the function for the emulator's host."""

from __future__ import annotations

import base64
import json

from shared.auth import require
from shared.entry import event_function, http_function
from shared.events import Message
from shared.http import Request, Response, json_response
from shared.router import Router


def _router() -> Router:
    router = Router()

    @router.route("GET", "/open")
    def open_route(request: Request) -> Response:
        return json_response({"ok": True})

    @router.route("POST", "/closed")
    def closed_route(request: Request) -> Response:
        return json_response({"who": require(request).subject})

    return router


def test_an_http_function_exports_one_app_under_both_targets() -> None:
    app, http, main = http_function("thing", _router(), max_body_bytes=10)
    assert http.__stratus_function__ is app  # type: ignore[attr-defined]
    assert main.__stratus_function__ is app  # type: ignore[attr-defined]
    assert app.name == "thing" and app.max_body_bytes == 10
    answer = main({"__ow_method": "get", "__ow_path": "/open", "__ow_headers": {}})
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == {"ok": True}
    big = main({"__ow_method": "post", "__ow_path": "/open", "__ow_body": "x" * 11})
    assert big["statusCode"] == 413


def test_authenticated_stacks_the_token_check_and_leaves_routes_that_require_nothing_open() -> None:
    open_app, _, _ = http_function("thing", _router())
    assert open_app(Request("POST", "/closed")).status == 500  # require() without it: a bug
    app, _, _ = http_function("thing", _router(), authenticated=True)
    assert app(Request("GET", "/open")).status == 200
    refused = app(Request("POST", "/closed"))
    assert refused.status == 401
    assert "authorization header missing" in json.loads(refused.body)["error"]["message"]


def test_an_event_function_exports_one_app_under_both_targets() -> None:
    seen: list[bytes] = []
    app, event, main = event_function("sink", lambda message: seen.append(message.data))
    assert event.__stratus_function__ is app  # type: ignore[attr-defined]
    assert main.__stratus_function__ is app  # type: ignore[attr-defined]
    body = {"message": {"messageId": "m1", "data": base64.b64encode(b"hi").decode()}}
    assert main(body) == {"outcome": "ack"}
    assert app(Message("m2", b"again")) == "ack"
    assert seen == [b"hi", b"again"]
