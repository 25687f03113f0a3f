"""Rule actions end to end through an emulator configured with a real SMTP server (aiosmtpd): a
signed webhook whose receiver checks the HMAC and timestamp, an email the SMTP server receives, an
MQTT command a device receives on its command topic, a publish to `rule-output`; a webhook that
keeps failing is retried and parked on `notifications-dead` with the reason."""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
import pytest
from aiosmtpd.controller import Controller
from google.cloud import pubsub_v1
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.provisioning import Api, foreign_admin, signin
from tests.support.emulator import RunningEmulator, start_emulator
from tests.support.http_server import serving
from tests.support.waiting import until

pytestmark = [pytest.mark.e2e, pytest.mark.process]

BASE = 1_790_000_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        handler.port = controller.port  # type: ignore[attr-defined]
        yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def emulator(
    tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox
) -> Iterator[RunningEmulator]:
    running = start_emulator(
        tmp_path_factory.mktemp("notify") / "data",
        STRATUS_SMTP_HOST="127.0.0.1",
        STRATUS_SMTP_PORT=str(mailbox.port),  # type: ignore[attr-defined]
        STRATUS_SMTP_FROM="alerts@stratus.test",
    )
    try:
        yield running
    finally:
        running.stop()


class Receiver:
    """A webhook receiver that checks the signature the way a user's service would."""

    def __init__(self, secret: str, *, failing: bool = False) -> None:
        self.secret, self.failing = secret, failing
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                ok = receiver.check(body, self.headers.get("x-stratus-signature", ""))
                if ok and not receiver.failing:
                    receiver.accepted.append(orjson.loads(body))
                    self.send_response(204)
                else:
                    receiver.refused += 1
                    self.send_response(500 if ok else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._serving = ExitStack()
        self.url = self._serving.enter_context(serving(Handler)) + "/hook"

    def check(self, body: bytes, header: str) -> bool:
        fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        stamp = fields.get("t", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:  # replay window
            return False
        mac = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest(mac.hexdigest(), fields.get("v1", ""))

    def close(self) -> None:
        self._serving.close()


def _setup(api: Api, emulator: RunningEmulator) -> tuple[str, str, str]:
    device = api.post("/api/devices", json={"name": "notify-e2e"}).json()["result"]["id"]
    sensor = api.post(
        f"/api/devices/{device}/sensors", json={"name": "temp", "mapping": {"type": "double"}}
    ).json()["id"]
    return device, sensor, api.get(f"/api/devices/{device}/key").json()["token"]


def _send(emulator: RunningEmulator, token: str, sensor: str, t: int, value: float) -> None:
    answer = httpx.post(
        f"{emulator.base_url}/ingest",
        json={"sensor_id": sensor, "timestamp": BASE + t, "value": value},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def _pull(
    emulator: RunningEmulator, subscription: str, org: str, rule: str | None = None
) -> list[Any]:
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(emulator.project, subscription)
    got: list[Any] = []

    def arrived() -> bool:
        answer = subscriber.pull(subscription=path, max_messages=50, timeout=10)
        if answer.received_messages:
            ids = [m.ack_id for m in answer.received_messages]
            subscriber.acknowledge(subscription=path, ack_ids=ids)
        for received in answer.received_messages:
            message = received.message
            if message.attributes.get("org") != org:
                continue
            if rule is not None and orjson.loads(message.data).get("rule") != rule:
                print("other dead letter:", dict(message.attributes), message.data[:400])
                continue
            got.append(message)
        return bool(got)

    until(arrived, 90, 0.5)
    subscriber.close()
    return got


def test_every_action_of_a_rule_is_carried_out(
    emulator: RunningEmulator, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.pubsub)
    admin = signin(emulator)
    device, sensor, token = _setup(admin, emulator)
    secret = admin.get("/api/webhook-secret").json()["secret"]
    receiver = Receiver(secret)
    commands: list[tuple[str, bytes]] = []
    host, port = str(emulator.endpoints["mqtt"]).rsplit(":", 1)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device, protocol=mqtt.MQTTv5)
    client.username_pw_set(device, token)
    client.on_message = lambda c, u, m: commands.append((m.topic, m.payload))
    client.connect(host, int(port))
    client.subscribe(f"devices/{device}/commands/#", qos=1)
    client.loop_start()
    try:
        actions = [
            {"type": "webhook", "url": receiver.url},
            {"type": "email", "to": ["ops@example.com"], "on": ["opened"]},
            {"type": "command", "device": device, "command": "fan-on", "payload": {"speed": 3},
             "on": ["opened"]},
            {"type": "publish", "topic": "rule-output", "on": ["opened"]},
        ]  # fmt: skip
        rule = admin.post(
            "/api/rules",
            json={"name": "hot", "condition": "value > 30", "select": {"devices": [device]},
                  "severity": "critical", "actions": actions},
        )  # fmt: skip
        assert rule.status_code == 201, rule.text
        _send(emulator, token, sensor, 0, 35.0)
        assert until(lambda: len(receiver.accepted) >= 1 and bool(mailbox.messages), 60)
        assert until(lambda: bool(commands), 30)
        _send(emulator, token, sensor, 1, 20.0)  # resolves: the webhook hears it too
        assert until(lambda: len(receiver.accepted) >= 2, 60)
        changes = sorted(event["change"] for event in receiver.accepted)
        assert changes == ["opened", "resolved"] and receiver.refused == 0
        assert receiver.accepted[0]["alert"]["device"] == device
        (recipients, mail) = mailbox.messages[0]
        assert recipients == ["ops@example.com"] and mail["From"] == "alerts@stratus.test"
        assert "opened" in mail["Subject"] and device in mail.get_payload()
        assert commands[0] == (f"devices/{device}/commands/fan-on", b'{"speed":3}')
        (published,) = _pull(emulator, "rule-output-inbox", admin.org)
        assert orjson.loads(published.data)["change"] == "opened"
        assert len(mailbox.messages) == 1  # email wanted only the opening
    finally:
        client.loop_stop()
        client.disconnect()
        receiver.close()


def test_a_failing_webhook_is_retried_then_dead_lettered_with_the_reason(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.pubsub)
    admin = foreign_admin(emulator)  # an organisation whose rules no evaluator has cached
    device, sensor, token = _setup(admin, emulator)
    receiver = Receiver(admin.get("/api/webhook-secret").json()["secret"], failing=True)
    try:
        rule = admin.post(
            "/api/rules",
            json={"name": "down", "condition": "value > 30", "select": {"devices": [device]},
                  "actions": [{"type": "webhook", "url": receiver.url, "on": ["opened"]}]},
        )  # fmt: skip
        assert rule.status_code == 201, rule.text
        _send(emulator, token, sensor, 0, 99.0)
        parked = _pull(emulator, "notifications-dead-inbox", admin.org, rule.json()["id"])
        assert receiver.refused == 5, [(m.attributes, m.data[:300]) for m in parked]
        reason = parked[0].attributes["reason"]
        assert "webhook failed" in reason and "answered 500" in reason and "attempt 5" in reason
        assert orjson.loads(parked[0].data)["action"]["url"] == receiver.url
    finally:
        receiver.close()
