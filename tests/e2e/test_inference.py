"""Inference end to end through the emulator: a built-in detector's score and verdict come back
as derived series through the query API (range and aggregates) and its anomaly events drive a
rule; an ONNX model built here with the `onnx` helper API is uploaded, checked against its
binding and scores readings; a real MLServer scores them over the Open Inference Protocol; a
remote model that fails is retried and dead-lettered with the reason while the readings are
still stored; tenants never see or bind each other's detectors and models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import onnx
import pytest
from google.cloud import pubsub_v1
from onnx import TensorProto, helper

from tests.e2e.provisioning import Api, foreign_admin
from tests.support.emulator import RunningEmulator
from tests.support.mlserver import RunningMLServer, mlserver
from tests.support.waiting import eventually, until

pytestmark = [pytest.mark.e2e, pytest.mark.process]

BASE = 1_790_000_000
NORMAL = [20.0 + (0.3 if i % 2 else -0.3) + 0.1 * (i % 3) for i in range(30)]


def _device(admin: Api) -> tuple[str, str, str]:
    device = admin.post("/api/devices", json={"name": "infer-e2e"}).json()["result"]["id"]
    sensor = admin.post(
        f"/api/devices/{device}/sensors", json={"name": "temp", "mapping": {"type": "double"}}
    ).json()["id"]
    return device, sensor, admin.get(f"/api/devices/{device}/key").json()["token"]


def _send(
    platform: RunningEmulator, token: str, sensor: str, values: list[float], first: int = 0
) -> None:
    body = [
        {"sensor_id": sensor, "timestamp": BASE + first + i, "value": v}
        for i, v in enumerate(values)
    ]
    answer = httpx.post(
        f"{platform.base_url}/ingest",
        json=body,
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def _series(admin: Api, device: str, sensor: str, count: int, query: str = "") -> list[Any]:
    answer = eventually(
        lambda: admin.get(f"/api/devices/{device}/sensors/{sensor}/data{query}"),
        lambda r: r.status_code == 200 and len(r.json()["data"]) >= count,
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return [(row["timestamp"] // 10**9 - BASE, row["value"]) for row in answer.json()["data"]]


def _detector(admin: Api, **body: Any) -> dict[str, Any]:
    answer = admin.post("/api/detectors", json={"name": "d", **body})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_builtin_detector_writes_derived_series_and_its_anomalies_drive_a_rule(
    platform: RunningEmulator,
) -> None:
    admin = foreign_admin(platform)
    device, sensor, token = _device(admin)
    detector = _detector(admin, device=device, sensor=sensor, kind="ewma", params={"warmup": 5})
    body = {"name": "spikes", "condition": "anomaly", "select": {"detector": detector["id"]}}
    rule = admin.post("/api/rules", json=body).json()["id"]
    values = [*NORMAL, 40.0, *NORMAL[:5]]
    # the spike first, then the return to normal once its alert is open: the two anomaly events
    # are separate bus messages, and a rule evaluates at the newest reading it has seen, so a
    # spike whose event arrives after the next reading's opens no alert (docs/ARCHITECTURE.md,
    # "Rules, inference and alerts")
    _send(platform, token, sensor, values[:31])
    opened = eventually(
        lambda: admin.get("/api/alerts", params={"rule": rule}),
        lambda r: bool(r.json()["items"]),
        timeout=60,
    )
    assert [a["state"] for a in opened.json()["items"]] == ["open"]
    _send(platform, token, sensor, values[31:], first=31)
    scored = len(values) - 5  # the first five readings warm the detector up
    verdicts = _series(admin, device, detector["anomaly_sensor"], scored)
    assert [t for t, flagged in verdicts if flagged] == [30]  # the spike, and only it
    scores = dict(_series(admin, device, detector["score_sensor"], scored))
    assert scores[30] > 4 > max(v for t, v in scores.items() if t != 30)
    (hourly,) = _series(admin, device, detector["score_sensor"], 1, "?agg=max&every=1h")
    assert hourly[1] == pytest.approx(scores[30])
    raw = _series(admin, device, sensor, len(values))  # the readings are stored as ever
    assert len(raw) == len(values)
    answer = eventually(
        lambda: admin.get("/api/alerts", params={"rule": rule}),
        lambda r: r.json()["items"] and r.json()["items"][0]["state"] == "resolved",
        timeout=60,
    )
    (alert,) = answer.json()["items"]  # opened by the spike, resolved by the next reading
    assert alert["opened_ns"] == (BASE + 30) * 10**9 and alert["resolved_by"] == "rule"


def _window_model(window: int, fixed: bool = False) -> bytes:
    """A tiny linear autoencoder: every output is the window's mean (its reconstruction error is
    large when one value stands out)."""
    rows: Any = window if fixed else None
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n" if rows is None else 1, window])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n" if rows is None else 1, window])
    weights = helper.make_tensor(
        "w", TensorProto.FLOAT, [window, window], [1.0 / window] * (window * window)
    )
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "mean", [x], [y], initializer=[weights]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def test_an_onnx_model_is_uploaded_checked_and_scores_readings(platform: RunningEmulator) -> None:
    admin = foreign_admin(platform)
    device, sensor, token = _device(admin)
    model = admin.post("/api/models", json={"name": "autoencoder"}).json()["id"]
    octet = {"content-type": "application/octet-stream"}
    bad = admin.post(f"/api/models/{model}/versions", content=b"not onnx", headers=octet)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "body"
    uploaded = admin.post(f"/api/models/{model}/versions", content=_window_model(4), headers=octet)
    assert uploaded.status_code == 201, uploaded.text
    version = uploaded.json()
    assert version["version"] == 1
    assert version["inputs"] == [{"name": "x", "type": "FLOAT", "shape": [None, 4]}]
    assert admin.get(f"/api/models/{model}").json()["latest"] == 1
    wrong = admin.post(
        "/api/detectors",
        json={
            "name": "w",
            "device": device,
            "sensor": sensor,
            "kind": "onnx",
            "threshold": 10,
            "params": {"model": model, "window": 5, "output": "reconstruction"},
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "params.window"
    detector = _detector(
        admin,
        device=device,
        sensor=sensor,
        kind="onnx",
        threshold=10,
        params={"model": model, "window": 4, "output": "reconstruction"},
    )
    assert detector["params"]["version"] == 1
    values = [20.0] * 10 + [40.0] + [20.0] * 5
    _send(platform, token, sensor, values)
    scores = dict(_series(admin, device, detector["score_sensor"], len(values) - 3))
    assert scores[10] == pytest.approx(75.0)  # ((5^2) * 3 + 15^2) / 4
    assert scores[5] == pytest.approx(0.0)
    verdicts = _series(admin, device, detector["anomaly_sensor"], len(values) - 3)
    assert [t for t, flagged in verdicts if flagged] == [10, 11, 12, 13]  # windows holding it
    assert admin.delete(f"/api/models/{model}").status_code == 409  # still bound
    assert admin.delete(f"/api/detectors/{detector['id']}").status_code == 204
    assert admin.delete(f"/api/models/{model}").status_code == 204


@pytest.fixture(scope="module")
def remote_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMLServer]:
    with mlserver(tmp_path_factory.mktemp("mlserver")) as running:
        yield running


def test_a_model_served_by_mlserver_scores_readings(
    platform: RunningEmulator, remote_model: RunningMLServer
) -> None:
    admin = foreign_admin(platform)
    device, sensor, token = _device(admin)
    detector = _detector(
        admin,
        device=device,
        sensor=sensor,
        kind="remote",
        threshold=8,
        params={"url": remote_model.url, "model": "spike", "window": 6},
    )
    values = [*NORMAL[:12], 40.0, *NORMAL[:4]]
    _send(platform, token, sensor, values)
    verdicts = _series(admin, device, detector["anomaly_sensor"], len(values) - 5)
    assert [t for t, flagged in verdicts if flagged] == [12]
    scores = dict(_series(admin, device, detector["score_sensor"], len(values) - 5))
    assert scores[12] > 8


def test_a_failing_remote_model_is_dead_lettered_with_its_reason_and_blocks_nothing(
    platform: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = foreign_admin(platform)
    device, sensor, token = _device(admin)
    with socket_closed() as url:
        _detector(
            admin,
            device=device,
            sensor=sensor,
            kind="remote",
            threshold=3,
            params={"url": url, "model": "gone", "window": 2, "timeout": 1},
        )
    _send(platform, token, sensor, [1.0, 2.0, 3.0])
    assert len(_series(admin, device, sensor, 3)) == 3  # stored while the model fails
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", platform.pubsub)
    subscriber = pubsub_v1.SubscriberClient()
    inbox = subscriber.subscription_path(platform.project, "inference-dead-inbox")
    parked: list[Any] = []

    def arrived() -> bool:
        got = subscriber.pull(subscription=inbox, max_messages=50, timeout=10).received_messages
        if got:
            subscriber.acknowledge(subscription=inbox, ack_ids=[m.ack_id for m in got])
        parked.extend(m.message for m in got if m.message.attributes.get("org") == admin.org)
        return bool(parked)

    assert until(arrived, 90, 0.5), "nothing reached inference-dead"
    reason = parked[0].attributes["reason"]
    assert "remote model gone failed" in reason, reason
    assert parked[0].attributes["stage"] == "inference"
    subscriber.close()


class socket_closed:
    """An http URL on a port nobody listens on."""

    def __enter__(self) -> str:
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        return None


def test_tenants_never_see_or_bind_each_others_detectors_and_models(
    platform: RunningEmulator, tmp_path: Path
) -> None:
    owner, other = foreign_admin(platform), foreign_admin(platform)
    device, sensor, token = _device(owner)
    detector = _detector(owner, device=device, sensor=sensor, kind="mad")
    model = owner.post("/api/models", json={"name": "m"}).json()["id"]
    anonymous, as_device = owner.with_token(None), owner.with_token(token)
    for path in (f"/api/detectors/{detector['id']}", f"/api/models/{model}", "/api/detectors",
                 "/api/models"):  # fmt: skip
        assert anonymous.get(path).status_code == 401
        assert as_device.get(path).status_code == 403
    for path in (f"/api/detectors/{detector['id']}", f"/api/models/{model}",
                 f"/api/models/{model}/versions"):  # fmt: skip
        assert other.get(path).status_code == 404
    assert other.delete(f"/api/detectors/{detector['id']}").status_code == 404
    assert other.delete(f"/api/models/{model}").status_code == 404
    octet = {"content-type": "application/octet-stream"}
    upload = other.post(f"/api/models/{model}/versions", content=_window_model(2), headers=octet)
    assert upload.status_code == 404
    bind = other.post(
        "/api/detectors", json={"name": "x", "device": device, "sensor": sensor, "kind": "ewma"}
    )
    assert bind.status_code == 404
    other_device, other_sensor, _ = _device(other)
    foreign_model = other.post(
        "/api/detectors",
        json={
            "name": "x",
            "device": other_device,
            "sensor": other_sensor,
            "kind": "onnx",
            "threshold": 1,
            "params": {"model": model, "window": 2},
        },
    )
    assert foreign_model.status_code == 404
    assert foreign_model.json()["error"]["field"] == "params.model"
    assert other.get("/api/detectors").json()["items"] == []
    assert other.get("/api/models").json()["items"] == []
