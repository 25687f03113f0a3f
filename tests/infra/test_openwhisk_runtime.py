"""The OpenWhisk zips run through the runtime's own contract (tests/support/openwhisk_runtime.py):
`POST /init` with the zip in base64, `POST /run` with the web action's `__ow_*` arguments and
the action's bound parameters, on a clean Python 3.11 holding only the python:3.11 image's
packages (the functions of `custom.stratus.openwhisk.docker` on that Python plus the generated
image's pins). Answers are checked in the web action shape `{statusCode, headers, body}`."""

from __future__ import annotations

import base64
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra import openwhisk
from infra.openwhisk_local import ActionProxy, init_action, running_action
from infra.venvs import fresh_venv, venv_cache
from shared.manifest import Manifest
from tests.support.deployment import Deployment, function_env
from tests.support.services import RunningService
from tests.support.waiting import eventually

pytestmark = [pytest.mark.process, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
PUSH_TOKEN = uuid.uuid4().hex


@dataclass
class Action:
    name: str
    url: str
    proxy: ActionProxy
    params: dict[str, str]

    def run(self, value: dict[str, Any]) -> Any:
        body = {"value": {**self.params, **value}, "action_name": f"/guest/stratus/{self.name}",
                "activation_id": uuid.uuid4().hex, "namespace": "guest",
                "deadline": str(int(time.time() * 1000) + 60_000),
                "transaction_id": "t"}  # fmt: skip
        answer = httpx.post(f"{self.url}/run", json=body, timeout=120)
        assert answer.status_code == 200, (answer.text, self.proxy.logs())
        return answer.json()

    def web(self, method: str, path: str, *, body: Any = None, query: str = "",
            headers: dict[str, str] | None = None) -> tuple[int, Any]:  # fmt: skip
        data = b"" if body is None else json.dumps(body).encode()
        result = self.run({
            "__ow_method": method.lower(), "__ow_path": path, "__ow_query": query,
            "__ow_headers": {"content-type": "application/json", **(headers or {})},
            "__ow_body": base64.b64encode(data).decode(),
        })  # fmt: skip
        assert set(result) == {"statusCode", "headers", "body"}, result
        text = result["body"]
        return result["statusCode"], json.loads(text) if text.startswith(("{", "[")) else text


@pytest.fixture(scope="module")
def built(manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> openwhisk.Built:
    started = time.monotonic()
    result = openwhisk.build(manifest, tmp_path_factory.mktemp("dist"), list(manifest.functions))
    print(f"\nOpenWhisk zips built in {time.monotonic() - started:.1f} s")
    return result


@pytest.fixture(scope="module")
def pythons(built: openwhisk.Built) -> dict[str, Path]:
    """The runtime's Python (its image's packages), and the same with the generated image's."""
    started = time.monotonic()
    runtime = ROOT / "infra" / "openwhisk_runtime.txt"
    image = next(iter(built.zips.values())).parent / "image" / "requirements.txt"
    with ThreadPoolExecutor(2) as pool:
        plain = pool.submit(fresh_venv, runtime, venv_cache(), deps=True)
        heavy = pool.submit(fresh_venv, runtime, venv_cache(), deps=True, then=image)
        found = {"zip": plain.result() / "bin/python", "image": heavy.result() / "bin/python"}
    print(f"\nruntime Pythons ready in {time.monotonic() - started:.1f} s")
    return found


@pytest.fixture(scope="module")
def deployment(firestore: RunningService, pubsub_service: RunningService,
               manifest: Manifest) -> Deployment:  # fmt: skip
    project = f"openwhisk-{uuid.uuid4().hex[:8]}"
    made = Deployment.create(firestore.address, pubsub_service.address, project)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", made.pubsub)
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        for topic in manifest.topics:
            publisher.create_topic(name=publisher.topic_path(project, topic))
        for topic in ("telemetry-raw", "telemetry-normalized"):
            subscriber.create_subscription(name=subscriber.subscription_path(project, f"t-{topic}"),
                                           topic=publisher.topic_path(project, topic))  # fmt: skip
        subscriber.close()
    return made


@pytest.fixture(scope="module")
def actions(
    manifest: Manifest, built: openwhisk.Built, pythons: dict[str, Path], deployment: Deployment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Action]]:  # fmt: skip
    folder = tmp_path_factory.mktemp("containers")
    with ExitStack() as stack:
        found: dict[str, Action] = {}
        for name, spec in manifest.functions.items():
            python = pythons["image" if name in built.docker else "zip"]
            url, proxy = stack.enter_context(running_action(folder / name, python))
            params = function_env(manifest, spec, deployment)
            if not spec.routes:
                params["STRATUS_PUSH_TOKEN"] = PUSH_TOKEN
            found[name] = Action(name, url, proxy, params)
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            inits = dict(zip(found, pool.map(lambda a: init_action(a.url, built.zips[a.name]),
                                             found.values()), strict=True))  # fmt: skip
        for name, answer in inits.items():
            assert answer.json() == {"ok": True}, (name, answer.text, found[name].proxy.logs())
        print(f"\n{len(found)} actions initialised in {time.monotonic() - started:.1f} s")
        yield found


def test_every_action_answers_in_the_web_action_shape(
    manifest: Manifest, actions: dict[str, Action]
) -> None:
    """HTTP functions answer their first route (never 5xx; 401 without a token); event
    functions refuse a push without the token (403)."""
    for name, spec in manifest.functions.items():
        if spec.routes:
            route = sorted(spec.routes, key=lambda r: (r.method != "GET", "{" in r.path))[0]
            path = route.path.replace("{", "x").replace("}", "")
            status, body = actions[name].web(route.method, path)
            assert status < 500, (name, body, actions[name].proxy.logs())
        else:
            status, body = actions[name].web("POST", "/", body={"message": {}}, query="token=no")
            assert status == 403, (name, body)
    assert actions["status"].web("GET", "/api/status")[0] == 200


def test_an_empty_ow_path_means_the_route_without_parameters(actions: dict[str, Action]) -> None:
    """What the API gateway sends for a route without path parameters (404 before)."""
    assert actions["status"].web("GET", "")[0] == 200
    status, body = actions["ingest"].web(
        "POST", "", body=[]
    )  # POST /ingest and POST /: one handler
    assert status == 401, body


def _signin(actions: dict[str, Action], deployment: Deployment) -> str:
    status, body = actions["users"].web(
        "POST",
        "/api/users/signin",
        body={"username": "admin", "password": deployment.admin_password},
    )
    assert status == 200, body
    return str(body["token"])


def _pull(deployment: Deployment, topic: str) -> dict[str, Any]:
    """One message of `topic` as Pub/Sub would push it, acknowledged."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", deployment.pubsub)
        subscriber = pubsub_v1.SubscriberClient()
        path = subscriber.subscription_path(deployment.project, f"t-{topic}")
        try:
            pulled = eventually(lambda: subscriber.pull(subscription=path, max_messages=1,
                                                        timeout=30).received_messages,
                                bool, timeout=30)  # fmt: skip
            received = pulled[0]
            subscriber.acknowledge(subscription=path, ack_ids=[received.ack_id])
        finally:
            subscriber.close()
    message = received.message
    return {"message": {"data": base64.b64encode(message.data).decode(),
                        "attributes": dict(message.attributes), "messageId": message.message_id,
                        "publishTime": message.publish_time.isoformat()},
            "subscription": path, "deliveryAttempt": 1}  # fmt: skip


def _push(
    action: Action, topic: str, envelope: dict[str, Any], token: str = PUSH_TOKEN
) -> tuple[int, Any]:
    return action.web("POST", f"/projects/p/topics/{topic}", body=envelope, query=f"token={token}")


def test_the_pipeline_through_the_actions(
    actions: dict[str, Action], deployment: Deployment
) -> None:
    """sign-in (signs) -> device, sensor, key -> ingest (verifies with the public keys) ->
    Pub/Sub -> push to the normalizer web action -> Pub/Sub -> push to the writer -> query."""
    auth = {"authorization": f"Bearer {_signin(actions, deployment)}"}
    status, device = actions["devices"].web(
        "POST", "/api/devices", body={"name": "ow"}, headers=auth
    )
    assert status == 201, device
    device_id = device["result"]["id"]
    status, sensor = actions["sensors"].web("POST", f"/api/devices/{device_id}/sensors",
                                            body={"name": "t", "mapping": '{"type":"double"}'},
                                            headers=auth)  # fmt: skip
    assert status == 201, sensor
    status, key = actions["devices"].web("GET", f"/api/devices/{device_id}/key", headers=auth)
    assert status == 200, key
    reading = [{"sensor_id": sensor["id"], "timestamp": int(time.time()), "value": 4.5}]
    device_auth = {"authorization": f"Bearer {key['token']}"}
    status, body = actions["ingest"].web("POST", "/ingest", body=reading, headers=device_auth)
    assert (status, body) == (200, {"accepted": 1}), body
    assert (
        _push(actions["normalizer"], "telemetry-raw", _pull(deployment, "telemetry-raw"))[0] == 200
    )
    stored = _push(
        actions["writer"], "telemetry-normalized", _pull(deployment, "telemetry-normalized")
    )
    assert stored[0] == 200, stored
    status, data = actions["query"].web(
        "GET", f"/api/devices/{device_id}/sensors/{sensor['id']}/data", headers=auth
    )
    assert status == 200 and [point["value"] for point in data["data"]] == [4.5], data


def test_pushes_need_the_token_and_failures_are_not_2xx(actions: dict[str, Action]) -> None:
    good = {"message": {"data": base64.b64encode(b"{}").decode(), "messageId": "m-1"},
            "subscription": "s"}  # fmt: skip
    assert _push(actions["writer"], "telemetry-normalized", good, token="wrong")[0] == 403
    broken = {"message": {"data": "%%%", "messageId": "m-2"}, "subscription": "s"}
    assert _push(actions["writer"], "telemetry-normalized", broken)[0] == 400
    get = actions["writer"].web("GET", "/", query=f"token={PUSH_TOKEN}")
    assert get[0] == 405


def test_an_alarm_tick_fires_the_schedule(actions: dict[str, Action]) -> None:
    """What the alarms feed's rule invokes: a plain activation with the trigger's payload."""
    tick = {"function": "deadman", "schedule": "rate(1 minute)", "topic": "schedule-deadman"}
    assert actions["deadman"].run(tick) == {"outcome": "ack"}


def test_the_image_functions_run_on_the_image_python(
    built: openwhisk.Built, actions: dict[str, Action], deployment: Deployment
) -> None:
    auth = {"authorization": f"Bearer {_signin(actions, deployment)}"}
    assert built.docker == ("detectors", "inference", "models", "scorer")
    assert actions["detectors"].web("GET", "/api/detectors", headers=auth)[0] == 200
    assert actions["models"].web("GET", "/api/models", headers=auth)[0] == 200


def test_logs_are_json_at_the_configured_level(actions: dict[str, Action]) -> None:
    actions["status"].web("GET", "/api/status")
    lines = [json.loads(line) for line in actions["status"].proxy.logs().splitlines()
             if line.startswith("{")]  # fmt: skip
    access = [line for line in lines if line.get("message", "").startswith("GET /api/status")]
    assert access and access[0]["severity"] == "INFO"
    assert access[0]["logging.googleapis.com/labels"]["function"] == "status"


def test_zips_are_reproducible_and_fit_the_action_limit(
    manifest: Manifest, built: openwhisk.Built, tmp_path: Path
) -> None:
    # two builds back to back (other work may edit the tree while this module runs)
    first = openwhisk.build(manifest, tmp_path / "a", ["status", "detectors"])
    again = openwhisk.build(manifest, tmp_path / "b", ["status", "detectors"])
    for name, path in again.zips.items():
        assert path.read_bytes() == first.zips[name].read_bytes(), name
    for name, path in built.zips.items():
        assert path.stat().st_size < openwhisk.ACTION_LIMIT_BYTES
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "__main__.py" in names and f"functions/{name}/main.py" in names
        has_venv = "virtualenv/bin/activate_this.py" in names
        assert has_venv == (name not in built.docker), name
