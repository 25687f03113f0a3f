"""HTTP ingest end to end through the running emulator: a device posts readings with its token,
the normalizer's message arrives on `telemetry-normalized`, refusals answer 400/401/403/413/415
and a reading the normalizer rejects lands in `telemetry-dead-inbox` with its reason.

Organisation, device and sensors are written straight into the emulator's store and the device
token is minted with the emulator's signing key (the provisioning API has its own tests)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.cloud import pubsub_v1

from shared.auth import KeySet, issue_device_token
from shared.directory import new_id
from shared.store.firestore import FirestoreStore
from tests.support.api import until_status
from tests.support.emulator import RunningEmulator

pytestmark = pytest.mark.e2e

ISSUED_AT = 1_700_000_000


@dataclass
class Device:
    org: str
    id: str
    temp: str  # double, Cel
    door: str  # boolean, at front/left
    label: str  # string
    token: str


@dataclass
class Telemetry:
    platform: RunningEmulator
    store: FirestoreStore
    keys: KeySet
    http: httpx.Client
    subscriber: pubsub_v1.SubscriberClient
    normalized: str  # a pull subscription of this test module on telemetry-normalized
    dead: str  # the manifest's telemetry-dead-inbox

    def device(self, org: str | None = None) -> Device:
        org = org or new_id()
        device = new_id()
        now = int(time.time())
        self.store.set(f"orgs/{org}", {"name": "e2e", "created_at": now})
        self.store.create(
            f"orgs/{org}/devices/{device}",
            {"name": "car", "description": "", "key_version": 1, "key_issued_at": ISSUED_AT},
        )
        self.store.create(f"device_index/{device}", {"org": org})
        ids = new_id(), new_id(), new_id()
        specs = [
            ("temp", "", {"type": "double", "unit": "Cel"}),
            ("open", "front/left", {"type": "boolean"}),
            ("label", "", {"type": "string"}),
        ]
        for sensor, (name, path, mapping) in zip(ids, specs, strict=True):
            self.store.create(
                f"orgs/{org}/devices/{device}/sensors/{sensor}",
                {"name": name, "description": "", "path": path, "mapping": mapping},
            )
        token = issue_device_token(device, org, 1, ISSUED_AT, keys=self.keys)
        return Device(org, device, *ids, token)

    def post(
        self,
        device: Device | None,
        body: Any,
        *,
        path: str = "/ingest",
        content_type: str = "application/json",
        token: str | None = None,
    ) -> httpx.Response:
        headers = {"content-type": content_type}
        if token is not None:
            headers["authorization"] = token
        elif device is not None:
            headers["authorization"] = f"Bearer {device.token}"
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.http.post(f"{self.platform.base_url}{path}", content=data, headers=headers)

    def receive(self, subscription: str, request_id: str, count: int = 1) -> list[Any]:
        """The `count` messages of one ingest request (by request_id) on a subscription; the
        others are left for their own tests."""
        found: list[Any] = []
        deadline = time.monotonic() + 60
        while len(found) < count and time.monotonic() < deadline:
            response = self.subscriber.pull(subscription=subscription, max_messages=50, timeout=10)
            mine = [
                m
                for m in response.received_messages
                if m.message.attributes.get("request_id") == request_id
            ]
            found.extend(m.message for m in mine)
            if mine:
                self.subscriber.acknowledge(
                    subscription=subscription, ack_ids=[m.ack_id for m in mine]
                )
            taken = {m.ack_id for m in mine}
            others = [m.ack_id for m in response.received_messages if m.ack_id not in taken]
            if others:  # hand them back at once
                self.subscriber.modify_ack_deadline(
                    subscription=subscription, ack_ids=others, ack_deadline_seconds=0
                )
        assert len(found) == count, f"{len(found)} of {count} messages for {request_id}"
        return found


@pytest.fixture(scope="module")
def telemetry(platform: RunningEmulator) -> Iterator[Telemetry]:
    pem = (platform.data_dir / "keys" / "signing-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in platform.client_env().items():
            patch.setenv(name, value)
        subscriber = pubsub_v1.SubscriberClient()
        project = platform.project
        normalized = subscriber.subscription_path(project, f"e2e-ingest-{uuid.uuid4().hex[:8]}")
        subscriber.create_subscription(
            name=normalized, topic=f"projects/{project}/topics/telemetry-normalized"
        )
        with httpx.Client(timeout=30) as http:
            yield Telemetry(
                platform,
                FirestoreStore(project),
                KeySet.from_private_key(key),
                http,
                subscriber,
                normalized,
                subscriber.subscription_path(project, "telemetry-dead-inbox"),
            )
        subscriber.delete_subscription(subscription=normalized)
        subscriber.close()


def test_readings_arrive_normalized(telemetry: Telemetry) -> None:
    device = telemetry.device()
    body = [
        {"sensor_id": device.temp, "timestamp": 1526717967, "value": "91827364"},
        {"sensor_id": device.door, "timestamp": 1526717967500, "value": True},
        {"sensor_id": device.label, "timestamp": "1526717968000000", "value": "parked"},
    ]
    response = telemetry.post(device, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 3}
    request_id = response.headers["x-request-id"]
    [message] = telemetry.receive(telemetry.normalized, request_id)
    assert message.attributes["transport"] == "http"
    assert orjson.loads(message.data) == {
        "org": device.org,
        "device": device.id,
        "source": {"message_id": request_id, "transport": "http"},
        "readings": [
            {
                "sensor": device.temp,
                "ts": 1526717967 * 10**9,
                "value": 91827364.0,
                "type": "double",
                "unit": "Cel",
            },
            {"sensor": device.door, "ts": 1526717967500 * 10**6, "value": True, "type": "boolean"},
            {
                "sensor": device.label,
                "ts": 1526717968000000 * 10**3,
                "value": "parked",
                "type": "string",
            },
        ],
    }


def test_the_reference_gateway_url_and_example(telemetry: Telemetry) -> None:
    device = telemetry.device()
    example = {"sensor_id": device.temp, "timestamp": 1526717967, "value": "91827364"}
    response = telemetry.post(device, example, path="/")
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1}
    [message] = telemetry.receive(telemetry.normalized, response.headers["x-request-id"])
    [reading] = orjson.loads(message.data)["readings"]
    assert (reading["sensor"], reading["value"]) == (device.temp, 91827364.0)


def test_senml_names_resolve_to_the_device_sensors(telemetry: Telemetry) -> None:
    device = telemetry.device()
    pack = [
        {
            "bn": "urn:dev:ow:10e2073a01080063:",
            "bt": 1.320067464e09,
            "n": "temp",
            "u": "Cel",
            "v": 23.1,
        },
        {"bn": "", "n": "front/left/open", "vb": False, "t": 1},
        {"n": "label", "vs": "moving", "t": 2},
    ]
    response = telemetry.post(device, pack, content_type="application/senml+json")
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 3}
    [message] = telemetry.receive(telemetry.normalized, response.headers["x-request-id"])
    readings = orjson.loads(message.data)["readings"]
    assert [(r["sensor"], r["ts"], r["value"]) for r in readings] == [
        (device.temp, 1_320_067_464 * 10**9, 23.1),
        (device.door, 1_320_067_465 * 10**9, False),
        (device.label, 1_320_067_466 * 10**9, "moving"),
    ]


def test_a_rejected_reading_lands_in_the_dead_letter_inbox(telemetry: Telemetry) -> None:
    device = telemetry.device()
    body = [
        {"sensor_id": device.temp, "timestamp": 1526717967, "value": 20.5},
        {"sensor_id": device.temp, "timestamp": 1526717968, "value": "abc"},
    ]
    response = telemetry.post(device, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 2}
    request_id = response.headers["x-request-id"]
    [normalized] = telemetry.receive(telemetry.normalized, request_id)
    assert [r["value"] for r in orjson.loads(normalized.data)["readings"]] == [20.5]
    [dead] = telemetry.receive(telemetry.dead, request_id)
    reason = f"sensor {device.temp!r}: 'abc' is not a number (sensor type double)"
    assert dead.attributes["device"] == device.id
    assert dead.attributes["reason"] == reason
    dead_body = orjson.loads(dead.data)
    assert dead_body.pop("received_ns") > 1_700_000_000 * 10**9  # when ingest received it
    assert dead_body == {
        "reason": reason,
        "where": "readings[1]",
        "format": "reference",
        "original": body[1],
    }


def test_refusals(telemetry: Telemetry) -> None:
    device = telemetry.device()
    other = telemetry.device(device.org)
    good = {"sensor_id": device.temp, "timestamp": 1526717967, "value": 1}

    response = telemetry.post(device, [good, good, good, {**good, "timestamp": "soon"}])
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "readings[3].timestamp"

    response = telemetry.post(device, b"{not json")
    assert response.status_code == 400

    response = telemetry.post(None, good)
    assert response.status_code == 401
    response = telemetry.post(None, good, token=f"Token {device.token}")
    assert response.status_code == 401

    response = telemetry.post(None, good, token="Bearer " + device.token[:-4] + "AAAA")
    assert response.status_code == 403
    response = telemetry.post(device, [good, {**good, "sensor_id": other.temp}])
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "readings[1].sensor_id"
    pack = [{"n": "temp", "v": 1}, {"n": other.temp, "v": 2}]  # the other device's sensor id
    response = telemetry.post(device, pack, content_type="application/senml+json")
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "records[1].n"

    response = telemetry.post(device, good, content_type="text/plain")
    assert response.status_code == 415

    big = orjson.dumps([good] * 30_000)
    assert len(big) > 1024 * 1024
    response = telemetry.post(device, big)
    assert response.status_code == 413


def test_a_rotated_key_refuses_the_old_token_within_the_cache_bound(telemetry: Telemetry) -> None:
    device = telemetry.device()
    good = {"sensor_id": device.temp, "timestamp": 1526717967, "value": 1}
    assert telemetry.post(device, good).status_code == 200
    telemetry.store.update(f"orgs/{device.org}/devices/{device.id}", {"key_version": 2})
    # STRATUS_TOKEN_CACHE_SECONDS is 5 by default
    response = until_status(lambda: telemetry.post(device, good), 403, timeout=30)
    assert response.status_code == 403, "the old token is still accepted"
    assert response.json()["error"]["message"] == "token revoked: the device key was rotated"
    new_token = issue_device_token(device.id, device.org, 2, ISSUED_AT + 1, keys=telemetry.keys)
    assert telemetry.post(device, good, token=f"Bearer {new_token}").status_code == 200
