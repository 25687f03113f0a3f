"""The function host refuses bad input with a precise 4xx and a JSON error, never a 500."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import httpx
import pytest

from emulator.host.app import PUSH_BODY_LIMIT
from tests.support.host import RunningHost, running_host

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def host() -> Iterator[RunningHost]:
    with running_host() as running:
        yield running


def error_of(response: httpx.Response) -> dict:
    assert response.headers["content-type"] == "application/json"
    return response.json()["error"]


def test_health(host: RunningHost) -> None:
    response = httpx.get(f"{host.base_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "functions": ["echo", "sink"]}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        (
            "POST",
            "/echo/a",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "bad_request",
        ),
        (
            "POST",
            "/echo/a",
            {"content": b"", "headers": {"content-type": "application/json"}},
            400,
            "bad_request",
        ),
        (
            "POST",
            "/echo/a",
            {"content": b"x" * 4096, "headers": {"content-type": "application/json"}},
            413,
            "payload_too_large",
        ),
        (
            "POST",
            "/echo/a",
            {"content": b"{}", "headers": {"content-type": "application/xml"}},
            415,
            "unsupported_media_type",
        ),
        ("GET", "/nowhere", {}, 404, "not_found"),
        ("GET", "/echo", {}, 404, "not_found"),
        ("PUT", "/echo/a", {"json": {}}, 405, "method_not_allowed"),
        ("POST", "/_/events/sink", {"json": {}}, 403, "permission_denied"),
        ("POST", "/_/events/sink?token=wrong", {"json": {}}, 403, "permission_denied"),
        ("POST", "/_/events/echo?token=test-token", {"json": {}}, 404, "not_found"),
        ("GET", "/_/events/sink?token=test-token", {}, 405, "method_not_allowed"),
        ("POST", "/_/events/sink?token=test-token", {"content": b"[["}, 400, "bad_request"),
        ("POST", "/_/events/sink?token=test-token", {"json": {"message": {}}}, 400, "bad_request"),
    ],
)
def test_bad_requests_get_precise_json_errors(host, method, path, kwargs, status, code) -> None:
    response = httpx.request(method, f"{host.base_url}{path}", **kwargs)
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code


def test_method_not_allowed_names_the_allowed_methods(host: RunningHost) -> None:
    response = httpx.delete(f"{host.base_url}/echo/a")
    assert response.headers["allow"] == "GET, POST"


def test_declared_length_above_limit_is_refused_before_reading(host: RunningHost) -> None:
    """A client announcing a huge body gets 413 without the host waiting for the bytes."""
    port = int(host.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /echo/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n{"
        )
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413")


def test_unexpected_function_error_is_500_without_details(host: RunningHost) -> None:
    response = httpx.post(f"{host.base_url}/echo/a", json={"explode": True})
    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.headers["x-request-id"]


def test_a_push_of_the_largest_bus_message_is_delivered_not_refused(host: RunningHost) -> None:
    """A push carries one bus message in base64: the host takes the largest the bus may carry
    (10 MB of data), where it used to refuse 2 MiB of push (413) and park messages the platform
    had already acknowledged. Only a push above that is 413."""
    from shared.bus import MAX_MESSAGE_BYTES

    data = b'{"pad": "' + b"x" * (MAX_MESSAGE_BYTES - 64) + b'"}'
    push = {"message": {"data": base64.b64encode(data).decode(), "messageId": "m-big"}}
    url = f"{host.base_url}/_/events/sink?token=test-token"
    answer = httpx.post(url, json=push, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"outcome": "ack"}
    too_big = httpx.post(url, content=b"x" * (PUSH_BODY_LIMIT + 1), timeout=60)
    assert too_big.status_code == 413
