"""The entry points as the deploy targets call them: OpenWhisk web actions without a path (API
gateway), pushes to a secured web action, alarm ticks, the zip's `action()` entry, and the Cloud
Run push target taking both a plain Pub/Sub push and an Eventarc CloudEvent."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import functions_framework
import pytest

from shared.errors import ValidationError
from shared.events import EventFunction, Message
from shared.function import HttpFunction
from shared.http import Request, Response, json_response
from shared.platforms import functions_framework as ff_entries
from shared.platforms import openwhisk
from shared.router import Router
from tests.support.host import ROOT

SINK = ROOT / "tests/fixtures/sink/main.py"


def _users_like() -> HttpFunction:
    """Two routes without path parameters for one method, like the users function."""
    router = Router()

    @router.route("POST", "/api/things/signin")
    def signin(request: Request) -> Response:
        return json_response({"route": "signin"})

    @router.route("GET", "/api/things")
    def listing(request: Request) -> Response:
        return json_response({"route": "list"})

    @router.route("POST", "/api/things")
    def create(request: Request) -> Response:
        return json_response({"route": "create"}, 201)

    return HttpFunction("things", router)


def _web(main: Any, method: str, path: str) -> tuple[int, dict[str, Any]]:
    result = main({"__ow_method": method, "__ow_path": path, "__ow_headers": {}, "__ow_body": ""})
    return result["statusCode"], json.loads(result["body"])


def test_an_empty_ow_path_means_the_one_route_for_the_method() -> None:
    main = openwhisk.web_action(_users_like())
    assert _web(main, "get", "") == (200, {"route": "list"})
    assert _web(main, "post", "/api/things/signin") == (200, {"route": "signin"})
    assert _web(main, "post", "/api/things")[0] == 201


def test_an_empty_ow_path_with_one_handler_behind_several_routes() -> None:
    """ingest serves POST /ingest and POST / with one handler: either is what an empty path
    stands for."""
    router = Router()

    def post(request: Request) -> Response:
        return json_response({"path": request.path})

    router.add("POST", "/ingest", post)
    router.add("POST", "/", post)
    assert _web(openwhisk.web_action(HttpFunction("ingest", router)), "post", "") == (
        200,
        {"path": "/ingest"},
    )


def test_an_empty_ow_path_with_several_candidates_is_a_clear_404() -> None:
    status, body = _web(openwhisk.web_action(_users_like()), "post", "")
    assert status == 404
    assert "__ow_path is empty" in body["error"]["message"]
    assert "python -m infra" in body["error"]["message"]


def push_body(payload: dict[str, Any], attempt: int | None = 3) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(json.dumps(payload).encode()).decode(),
            "attributes": {"org": "o1"},
            "messageId": "m-7",
            "publishTime": "2026-11-22T10:00:00Z",
        },
        "subscription": "projects/p/subscriptions/sink-things",
    }
    if attempt is not None:
        body["deliveryAttempt"] = attempt
    return body


def _recorder() -> tuple[EventFunction, list[Message]]:
    seen: list[Message] = []

    def handle(message: Message) -> None:
        seen.append(message)
        data = message.json()
        if data.get("poison"):
            raise ValidationError("poison", field="poison")
        if data.get("fail"):
            raise RuntimeError("transient")

    return EventFunction("recorder", handle), seen


def _push_args(payload: dict[str, Any], query: str) -> dict[str, Any]:
    return {
        "__ow_method": "post",
        "__ow_path": "/projects/p/topics/things",
        "__ow_query": query,
        "__ow_headers": {"content-type": "application/json"},
        "__ow_body": base64.b64encode(json.dumps(push_body(payload)).encode()).decode(),
    }


@pytest.mark.parametrize(
    ("query", "payload", "status"),
    [
        ("token=s3cret", {"ok": 1}, 200),
        ("token=wrong", {"ok": 1}, 403),
        ("", {"ok": 1}, 403),
        ("token=s3cret", {"poison": 1}, 400),  # no sink: Pub/Sub retries, then dead-letters
        ("token=s3cret", {"fail": 1}, 500),
    ],
)
def test_a_push_to_the_secured_web_action(
    monkeypatch: pytest.MonkeyPatch, query: str, payload: dict[str, Any], status: int
) -> None:
    monkeypatch.setenv("STRATUS_PUSH_TOKEN", "s3cret")
    function, seen = _recorder()
    result = openwhisk.trigger_action(function)(_push_args(payload, query))
    assert result["statusCode"] == status
    if status == 403:
        assert seen == []
    else:
        assert seen[0].id == "m-7" and seen[0].topic == "things"
        assert seen[0].delivery_attempt == 3
        assert seen[0].subscription == "projects/p/subscriptions/sink-things"


def test_without_a_push_token_every_push_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRATUS_PUSH_TOKEN", raising=False)
    function, seen = _recorder()
    result = openwhisk.trigger_action(function)(_push_args({"ok": 1}, "token="))
    assert result["statusCode"] == 503 and seen == []


def test_an_alarm_tick_is_a_message_of_its_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("__OW_ACTIVATION_ID", "act-1")
    function, seen = _recorder()
    tick = {"function": "deadman", "schedule": "rate(1 minute)"}
    assert openwhisk.trigger_action(function)(dict(tick)) == {"outcome": "ack"}
    assert seen[0].id == "act-1" and json.loads(seen[0].data) == tick
    failed = openwhisk.trigger_action(function)({"fail": 1})
    assert failed["error"]["status"] == 500


def test_the_zip_entry_moves_parameters_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STRATUS_TEST_SETTING", raising=False)
    main = openwhisk.action("tests.fixtures.echo.main")
    args = {
        "__ow_method": "get",
        "__ow_path": "/echo/x",
        "__ow_headers": {},
        "__ow_query": "",
        "STRATUS_TEST_SETTING": "on",
    }
    result = main(args)
    assert os.environ.pop("STRATUS_TEST_SETTING") == "on"
    assert result["statusCode"] == 200
    assert "STRATUS_TEST_SETTING" not in args


CE_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "m-7",
    "ce-source": "//pubsub.googleapis.com/projects/p/topics/things",
    "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
    "content-type": "application/json",
}


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """functions-framework's decorators register signatures process-wide: keep ours to a test."""
    from functions_framework import _function_registry

    monkeypatch.setattr(_function_registry, "REGISTRY_MAP", {})


def _cloud_run_client(function: EventFunction) -> Any:
    """A Flask app calling `push_entry(function)` with the request, as functions-framework's
    http signature does (its own app is used below, on a module file)."""
    import flask

    target = ff_entries.push_entry(function)
    app = flask.Flask("pushed")
    app.add_url_rule("/<path:path>", "run", lambda path: target(flask.request), methods=["POST"])
    app.add_url_rule("/", "root", lambda: target(flask.request), methods=["POST"])
    return app.test_client()


def test_cloud_run_push_target_keeps_the_delivery_attempt() -> None:
    function, seen = _recorder()
    client = _cloud_run_client(function)
    response = client.post("/projects/p/topics/things", json=push_body({"ok": 1}))
    assert response.status_code == 200 and response.get_json() == {"outcome": "ack"}
    assert seen[0].delivery_attempt == 3 and seen[0].topic == "things"
    assert seen[0].subscription.endswith("sink-things")


@pytest.mark.parametrize(("payload", "status"), [({"ok": 1}, 200), ({"fail": 1}, 500)])
def test_cloud_run_push_target_takes_an_eventarc_cloud_event(
    payload: dict[str, Any], status: int
) -> None:
    function, seen = _recorder()
    client = _cloud_run_client(function)
    response = client.post("/", headers=CE_HEADERS, data=json.dumps(push_body(payload)))
    assert response.status_code == status
    assert seen[0].topic == "things"


def test_cloud_run_push_target_refuses_what_is_no_push() -> None:
    function, seen = _recorder()
    response = _cloud_run_client(function).post("/", data=b"{", content_type="application/json")
    assert response.status_code == 400 and seen == []


def test_the_real_framework_serves_the_declared_signature(tmp_path: Any) -> None:
    """functions-framework with no --signature-type: the decorator in the artefact's main.py
    decides (a CloudEvent to the default `http` signature would be a 500 forever)."""
    (tmp_path / "main.py").write_text(
        "import functions_framework\n"
        "from tests.fixtures.sink.main import app\n"
        "from shared.platforms.functions_framework import push_entry\n"
        "event = functions_framework.http(push_entry(app))\n"
    )
    client = functions_framework.create_app("event", str(tmp_path / "main.py")).test_client()
    response = client.post("/", headers=CE_HEADERS, data=json.dumps(push_body({"ok": 1})))
    assert response.status_code == 200
