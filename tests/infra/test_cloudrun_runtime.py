"""The Cloud Run artefacts run the way Cloud Run runs them: each source directory installed into a
fresh virtualenv from its own requirements.txt only (one per distinct file) and started with the
upstream `functions-framework --target=<target>` from that directory, no PYTHONPATH, with the
environment the plan gives it (the private key only where tokens are signed), on the emulators'
Firestore and Pub/Sub. Every HTTP route reaches its server through one host, as through the API
Gateway; push subscriptions made from the manifest deliver to the event functions."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from infra import cloudrun
from infra.venvs import fresh_venv, pins_of, venv_cache
from shared.manifest import Manifest
from tests.e2e.test_reference_script import REPORT, SCRIPT
from tests.support.deployment import Deployment, function_env, routing_host
from tests.support.services import RunningService
from tests.support.waiting import eventually, listening, until

pytestmark = [pytest.mark.process, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dist(manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    cloudrun.build(manifest, out, list(manifest.functions))
    return out / "cloudrun"


@pytest.fixture(scope="module")
def venvs(dist: Path, manifest: Manifest) -> dict[str, Path]:
    """One fresh virtualenv per distinct requirements.txt, two built at a time."""
    by_text: dict[str, list[str]] = {}
    for name in manifest.functions:
        by_text.setdefault(pins_of(dist / name / "requirements.txt"), []).append(name)
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        files = [dist / names[0] / "requirements.txt" for names in by_text.values()]
        built = list(pool.map(lambda file: fresh_venv(file, venv_cache()), files))
    print(f"\n{len(built)} virtualenvs for {len(manifest.functions)} functions in "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
    return {name: venv for names, venv in zip(by_text.values(), built, strict=True)
            for name in names}  # fmt: skip


@pytest.fixture(scope="module")
def deployment(firestore: RunningService, pubsub_service: RunningService) -> Deployment:
    project = f"cloudrun-{uuid.uuid4().hex[:8]}"
    return Deployment.create(firestore.address, pubsub_service.address, project)


@pytest.fixture(scope="module")
def servers(
    manifest: Manifest, dist: Path, venvs: dict[str, Path], deployment: Deployment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Server]]:  # fmt: skip
    logs = tmp_path_factory.mktemp("logs")
    running: dict[str, Server] = {}
    started = time.monotonic()
    try:
        for name, spec in manifest.functions.items():
            port = _free_port()
            env = {"PATH": "/usr/bin:/bin", "HOME": str(logs), "PORT": str(port),
                   **function_env(manifest, spec, deployment)}  # fmt: skip
            log = logs / f"{name}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    [str(venvs[name] / "bin" / "functions-framework"),
                     f"--target={cloudrun.target_of(spec)}", "--host", "127.0.0.1"],
                    cwd=dist / name, env=env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,  # gunicorn and its worker, stopped together
                )  # fmt: skip
            running[name] = Server(name, f"http://127.0.0.1:{port}", process, log)
        for server in running.values():
            port = int(server.url.rsplit(":", 1)[1])
            up = until(lambda s=server, p=port: s.process.poll() is not None  # type: ignore[misc]
                       or listening("127.0.0.1", p), timeout=120)  # fmt: skip
            assert up and server.process.poll() is None, f"{server.name}:\n{server.output()}"
        print(f"\n{len(running)} functions listening after {time.monotonic() - started:.1f} s")
        yield running
    finally:
        for server in running.values():
            if server.process.poll() is None:
                os.killpg(server.process.pid, signal.SIGKILL)  # its own group: master, worker
            server.process.wait(20)


@pytest.fixture(scope="module")
def bus(manifest: Manifest, servers: dict[str, Server], deployment: Deployment) -> None:
    """The manifest's topics and push subscriptions, pushing to the artefacts (the same
    derivation the emulator and the plan use)."""
    from emulator.bus_setup import ensure_bus

    def endpoint(sub: object) -> str:
        function, topic = getattr(sub, "function"), getattr(sub, "topic")  # noqa: B009
        return f"{servers[function].url}/projects/{deployment.project}/topics/{topic}"

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", deployment.pubsub)
        ensure_bus(manifest, deployment.project, "", "", endpoint=endpoint)


@pytest.fixture(scope="module")
def base(manifest: Manifest, servers: dict[str, Server], bus: None) -> Iterator[str]:
    with routing_host(manifest, {name: s.url for name, s in servers.items()}) as url:
        yield url


def test_every_function_answers_from_its_own_directory(
    manifest: Manifest, servers: dict[str, Server]
) -> None:
    """No PYTHONPATH: the root main.py, the declared signature and the pinned packages suffice.
    HTTP functions answer their first route (401 without a token, never 5xx); an event function
    answers a push that is no push with 400, not the 500 a wrong signature would give."""
    for name, spec in manifest.functions.items():
        server = servers[name]
        if spec.routes:
            route = sorted(spec.routes, key=lambda r: (r.method != "GET", "{" in r.path))[0]
            path = route.path.replace("{", "x").replace("}", "")
            answer = httpx.request(route.method, server.url + path, timeout=60)
        else:
            answer = httpx.post(server.url + "/", content=b"{}", timeout=60,
                                headers={"content-type": "application/json"})  # fmt: skip
            assert answer.status_code == 400, (name, answer.text)
        assert answer.status_code < 500, (name, answer.text, server.output())


def _signin(base: str, deployment: Deployment) -> str:
    login = {"username": "admin", "password": deployment.admin_password}
    answer = httpx.post(f"{base}/api/users/signin", json=login, timeout=60)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl, jq")
def test_the_reference_curl_script(base: str, deployment: Deployment, tmp_path: Path) -> None:
    script = SCRIPT.replace("@NAME@", "cloudrun").replace("@USER@", "admin")
    (tmp_path / "create.sh").write_text(
        script.replace("@PASSWORD@", deployment.admin_password) + REPORT
    )
    done = subprocess.run(["bash", "create.sh"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "IOTCORE_BACKEND": base}, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert all(found[key] not in {"", "null"} for key in ("DEVICE_ID", "SENSOR_ID", "TOKEN"))
    keys = httpx.get(f"{base}/.well-known/jwks.json", timeout=60).json()
    assert keys == json.loads(deployment.jwks)  # the jwks function holds only the public keys


def _device(base: str, token: str) -> tuple[str, str, str]:
    auth = {"authorization": f"Bearer {token}"}
    device = httpx.post(f"{base}/api/devices/", json={"name": "pipe"}, headers=auth, timeout=60)
    device_id = device.json()["result"]["id"]
    sensor = httpx.post(f"{base}/api/devices/{device_id}/sensors/", headers=auth, timeout=60,
                        json={"name": "t", "mapping": '{"type":"double"}'})  # fmt: skip
    key = httpx.get(f"{base}/api/devices/{device_id}/key", headers=auth, timeout=60)
    return device_id, sensor.json()["id"], key.json()["token"]


def _values(base: str, token: str, device: str, sensor: str) -> list[float]:
    answer = httpx.get(f"{base}/api/devices/{device}/sensors/{sensor}/data", timeout=60,
                       headers={"authorization": f"Bearer {token}"})  # fmt: skip
    if answer.status_code != 200:
        return []
    body = answer.json()
    points = body.get("data") or body.get("values") or body.get("items") or []
    return sorted(float(p.get("value", p.get("v", 0))) for p in points if isinstance(p, dict))


def test_ingest_reaches_the_store_through_pushes_to_the_artefacts(
    base: str, deployment: Deployment
) -> None:
    """ingest (device token checked with the public keys only) -> Pub/Sub -> push (CloudEvent)
    -> normalizer artefact -> Pub/Sub -> push -> writer artefact -> Firestore -> query."""
    token = _signin(base, deployment)
    device, sensor, key = _device(base, token)
    now = int(time.time())
    sent = httpx.post(f"{base}/ingest", headers={"authorization": f"Bearer {key}"}, timeout=60,
                      json=[{"sensor_id": sensor, "timestamp": now, "value": 21.5}])  # fmt: skip
    assert sent.status_code == 200, sent.text
    found = eventually(lambda: _values(base, token, device, sensor), bool, timeout=60)
    assert found == [21.5]


def _raw(deployment: Deployment, org: str, device: str, sensor: str, value: float) -> dict:
    at = int(time.time()) - 100 + int(value)  # one instant per value (one value per instant)
    data = json.dumps({"sensor_id": sensor, "timestamp": at, "value": value})
    attributes = {"org": org, "device": device, "format": "reference", "transport": "http",
                  "received_ns": str(time.time_ns()), "request_id": uuid.uuid4().hex}  # fmt: skip
    return {
        "message": {"data": base64.b64encode(data.encode()).decode(), "attributes": attributes,
                    "messageId": uuid.uuid4().hex[:12], "publishTime": "2026-12-01T10:00:00Z"},
        "subscription": f"projects/{deployment.project}/subscriptions/normalizer-telemetry-raw",
        "deliveryAttempt": 1,
    }  # fmt: skip


def test_a_plain_push_envelope_and_an_eventarc_cloud_event(
    base: str, servers: dict[str, Server], deployment: Deployment
) -> None:
    """The normalizer artefact takes Pub/Sub's own push body (as a push subscription without
    Eventarc sends it) and a binary-mode CloudEvent (as Eventarc sends it); both are stored."""
    import jwt

    token = _signin(base, deployment)
    org = jwt.decode(token, options={"verify_signature": False})["org"]
    device, sensor, _ = _device(base, token)
    normalizer = servers["normalizer"].url
    topic = f"projects/{deployment.project}/topics/telemetry-raw"
    plain = httpx.post(f"{normalizer}/{topic}", json=_raw(deployment, org, device, sensor, 1.0),
                       timeout=60)  # fmt: skip
    assert plain.status_code == 200, plain.text
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "e-1",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": f"//pubsub.googleapis.com/{topic}",
        "content-type": "application/json",
    }
    pushed = json.dumps(_raw(deployment, org, device, sensor, 2.0))
    cloud_event = httpx.post(normalizer + "/", headers=headers, content=pushed, timeout=60)
    assert cloud_event.status_code == 200, cloud_event.text
    found = eventually(lambda: _values(base, token, device, sensor), lambda v: len(v) == 2,
                       timeout=60)  # fmt: skip
    assert found == [1.0, 2.0]
    broken = httpx.post(
        f"{normalizer}/{topic}",
        timeout=60,
        json={"message": {"data": "%%%", "messageId": "m"}, "subscription": "s"},
    )
    assert broken.status_code == 400  # refused: Pub/Sub retries it, then dead-letters it


def test_logs_are_cloud_logging_json_at_the_configured_level(
    base: str, servers: dict[str, Server]
) -> None:
    httpx.get(f"{base}/api/status", timeout=60)
    lines = [json.loads(line) for line in servers["status"].output().splitlines()
             if line.startswith("{")]  # fmt: skip
    access = [line for line in lines if line.get("message", "").startswith("GET /api/status")]
    assert access, servers["status"].output()
    assert access[0]["severity"] == "INFO"
    assert access[0]["logging.googleapis.com/labels"] == {
        "function": "status",
        "service": "stratus",
    }
