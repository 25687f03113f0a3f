"""The HTTP function shape: middleware order, request ids, error mapping."""

import logging

import pytest

from shared.errors import Conflict
from shared.function import HttpFunction
from shared.http import Request, Response, json_response
from shared.logs import request_id_var, trace_var
from shared.settings import Settings

CONFIG = Settings(project="p1")


def handler(request: Request) -> Response:
    if request.path == "/conflict":
        raise Conflict("name 'x' is taken", field="name")
    if request.path == "/boom":
        raise ValueError("database password is hunter2")
    return json_response({"request_id": request_id_var.get(), "trace": trace_var.get()})


app = HttpFunction("t", handler, config=CONFIG)


def test_request_id_is_kept_when_sane_and_echoed() -> None:
    response = app(Request("GET", "/", {"x-request-id": "abc-123"}))
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["request_id"] == "abc-123"


@pytest.mark.parametrize("given", ["", "has space", "x" * 65, "<script>"])
def test_request_id_is_generated_otherwise(given: str) -> None:
    response = app(Request("GET", "/", {"x-request-id": given}))
    generated = response.headers["x-request-id"]
    assert generated != given and len(generated) == 32


def test_trace_from_cloud_trace_header_or_traceparent() -> None:
    cloud = app(Request("GET", "/", {"x-cloud-trace-context": "abc123/1;o=1"}))
    assert cloud.json()["trace"] == "projects/p1/traces/abc123"
    w3c = app(Request("GET", "/", {"traceparent": "00-0af7651916cd43dd-b7ad6b7169203331-01"}))
    assert w3c.json()["trace"] == "projects/p1/traces/0af7651916cd43dd"


def test_stratus_error_becomes_its_status_with_json_body() -> None:
    response = app(Request("GET", "/conflict", {"x-request-id": "r1"}))
    assert response.status == 409
    assert response.json() == {
        "error": {
            "status": 409,
            "code": "conflict",
            "message": "name 'x' is taken",
            "field": "name",
        },
        "request_id": "r1",
    }


def test_unexpected_error_is_a_bare_500_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        response = app(Request("GET", "/boom"))
    assert response.status == 500
    assert "hunter2" not in response.body.decode()
    assert response.json()["error"]["message"] == "internal error"
    assert "hunter2" in caplog.text


def test_middlewares_run_in_order_inside_the_standard_stack() -> None:
    calls: list[str] = []

    def outer(request: Request, call_next):  # type: ignore[no-untyped-def]
        calls.append("outer")
        assert "request_id" in request.context  # the request context runs first
        return call_next(request)

    def inner(request: Request, call_next):  # type: ignore[no-untyped-def]
        calls.append("inner")
        raise Conflict("from middleware")

    wrapped = HttpFunction("t", handler, middlewares=[outer, inner], config=CONFIG)
    response = wrapped(Request("GET", "/"))
    assert calls == ["outer", "inner"]
    assert response.status == 409  # errors raised by middlewares are mapped too
