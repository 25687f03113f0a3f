"""One function, three platforms: functions-framework, OpenWhisk and the emulator's host agree."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from typing import Any

import functions_framework
import httpx
import pytest

from tests.support.host import ROOT, RunningHost, running_host

ECHO = ROOT / "tests/fixtures/echo/main.py"
SINK = ROOT / "tests/fixtures/sink/main.py"
echo_module = importlib.import_module("tests.fixtures.echo.main")
sink_module = importlib.import_module("tests.fixtures.sink.main")

REQUESTS = [
    # (method, path, query, headers, body)
    ("POST", "/echo/alpha", "x=1&x=2", {"authorization": "Bearer abc"}, {"k": "v", "n": [1, 2]}),
    ("GET", "/echo/beta", "q=%C3%A9", {}, None),
    ("POST", "/echo/alpha", "", {}, [1, 2]),  # 400: not an object
    ("POST", "/echo/alpha", "", {}, {"explode": True}),  # 500 without details
    ("DELETE", "/echo/alpha", "", {}, None),  # 405
]


@pytest.fixture(scope="module")
def host() -> Iterator[RunningHost]:
    with running_host() as running:
        yield running


def via_functions_framework(method: str, path: str, query: str, headers: dict, body: Any):
    client = functions_framework.create_app("http", str(ECHO), "http").test_client()
    response = client.open(
        f"{path}?{query}",
        method=method,
        headers=headers,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json" if body is not None else None,
    )
    return response.status_code, response.get_json()


def via_openwhisk(method: str, path: str, query: str, headers: dict, body: Any):
    args = {
        "__ow_method": method.lower(),
        "__ow_path": path,
        "__ow_query": query,
        "__ow_headers": {"content-type": "application/json", **headers},
        "__ow_body": base64.b64encode(json.dumps(body).encode()).decode()
        if body is not None
        else "",
    }
    result = echo_module.main(args)
    return result["statusCode"], json.loads(result["body"])


def via_host(host: RunningHost, method: str, path: str, query: str, headers: dict, body: Any):
    response = httpx.request(
        method,
        f"{host.base_url}{path}?{query}",
        headers=headers,
        json=body if body is not None else None,
    )
    return response.status_code, response.json()


@pytest.mark.e2e
@pytest.mark.parametrize(("method", "path", "query", "headers", "body"), REQUESTS)
def test_three_entry_points_give_the_same_answer(host, method, path, query, headers, body) -> None:
    answers = [
        via_functions_framework(method, path, query, headers, body),
        via_openwhisk(method, path, query, headers, body),
        via_host(host, method, path, query, headers, body),
    ]
    for answer in answers:
        if isinstance(answer[1], dict):
            answer[1].pop("request_id", None)  # generated per request
    assert answers[0] == answers[1] == answers[2], answers
    assert answers[0][0] in {200, 201, 400, 405, 500}


def test_non_raw_openwhisk_web_action_rebuilds_the_body() -> None:
    result = echo_module.main(
        {"__ow_method": "post", "__ow_path": "/echo/x", "__ow_headers": {}, "k": "v"}
    )
    assert result["statusCode"] == 201
    assert json.loads(result["body"])["body"] == {"k": "v"}


def test_openwhisk_oversized_body_is_413() -> None:
    result = echo_module.main(
        {
            "__ow_method": "post",
            "__ow_path": "/echo/x",
            "__ow_headers": {},
            "__ow_body": base64.b64encode(b"x" * 2048).decode(),
        }
    )
    assert result["statusCode"] == 413
    assert json.loads(result["body"])["error"]["code"] == "payload_too_large"


def test_functions_framework_oversized_body_is_413() -> None:
    client = functions_framework.create_app("http", str(ECHO), "http").test_client()
    response = client.post("/echo/x", data=b"x" * 2048, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def push_body(payload: dict) -> dict:
    return {
        "message": {
            "data": base64.b64encode(json.dumps(payload).encode()).decode(),
            "messageId": "m-1",
            "publishTime": "2026-11-22T10:00:00Z",
        },
        "subscription": "projects/p/subscriptions/sink-things",
    }


CE_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "m-1",
    "ce-source": "//pubsub.googleapis.com/projects/p/topics/things",
    "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
    "content-type": "application/json",
}

EVENTS = [
    ({"ok": True}, 200, "ack"),
    ({"poison": True}, 200, "dead_lettered"),
    ({"fail": True}, 500, None),
]


@pytest.mark.parametrize(("payload", "status", "outcome"), EVENTS)
def test_event_via_functions_framework(payload: dict, status: int, outcome: str | None) -> None:
    client = functions_framework.create_app("event", str(SINK), "cloudevent").test_client()
    response = client.post("/", headers=CE_HEADERS, data=json.dumps(push_body(payload)))
    assert response.status_code == status


@pytest.mark.parametrize(("payload", "status", "outcome"), EVENTS)
def test_event_via_openwhisk_trigger(payload: dict, status: int, outcome: str | None) -> None:
    sink_module.PARKED.clear()
    result = sink_module.main(push_body(payload))
    if outcome:
        assert result == {"outcome": outcome}
    else:
        assert result["error"]["status"] == 500
    expected = [("m-1", "poison message")] if payload.get("poison") else []
    assert sink_module.PARKED == expected


def test_openwhisk_trigger_accepts_a_structured_cloud_event() -> None:
    event = {"specversion": "1.0", "type": CE_HEADERS["ce-type"], "data": push_body({"ok": 1})}
    assert sink_module.main(event) == {"outcome": "ack"}


@pytest.mark.e2e
@pytest.mark.parametrize(("payload", "status", "outcome"), EVENTS)
def test_event_via_host_push(host, payload: dict, status: int, outcome: str | None) -> None:
    response = httpx.post(
        f"{host.base_url}/_/events/sink?token={host.push_token}",
        headers=CE_HEADERS,
        content=json.dumps(push_body(payload)),
    )
    assert response.status_code == status
    if outcome:
        assert response.json() == {"outcome": outcome}
