"""The detectors core: a binding makes its two derived sensors, parameters and thresholds are
checked, derived sensors cannot be scored again, an ONNX binding is checked against its model,
deletion takes the derived sensors along."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from functions.detectors.service import Detectors
from functions.models.service import Models
from shared.directory import device_path, new_id, sensor_path
from shared.errors import NotFound, ValidationError
from shared.store.firestore import FirestoreStore

pytestmark = pytest.mark.process


def sensor(store: FirestoreStore, org: str) -> tuple[str, str]:
    d, s = new_id(), new_id()
    store.create(device_path(org, d), {"name": "d"})
    store.create(
        sensor_path(org, d, s), {"name": "temp", "path": "engine", "mapping": {"type": "double"}}
    )
    return d, s


def test_a_binding_makes_its_derived_sensors(store: FirestoreStore, org: str) -> None:
    d, s = sensor(store, org)
    found = Detectors(store).create(org, {"name": "z", "device": d, "sensor": s, "kind": "ewma"})
    assert found["threshold"] == 4.0 and found["params"]["alpha"] == 0.1
    score = store.get(sensor_path(org, d, found["score_sensor"]))
    anomaly = store.get(sensor_path(org, d, found["anomaly_sensor"]))
    assert score is not None and anomaly is not None
    assert (
        score.data["mapping"]["type"] == "double" and anomaly.data["mapping"]["type"] == "boolean"
    )
    assert score.data["path"] == "engine" and score.data["name"].startswith("temp.")
    with pytest.raises(ValidationError, match="derived sensor"):
        Detectors(store).create(
            org, {"name": "again", "device": d, "sensor": found["score_sensor"], "kind": "ewma"}
        )
    Detectors(store).delete(org, found["id"])
    assert store.get(sensor_path(org, d, found["score_sensor"])) is None
    with pytest.raises(NotFound):
        Detectors(store).get(org, found["id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "lstm"}, "kind"),
        ({"kind": "mad", "params": {"window": 1}}, "params"),
        ({"kind": "ewma", "threshold": -1}, "threshold"),
        ({"kind": "onnx", "params": {"model": "m" * 20, "window": 4}}, "threshold"),
        (
            {"kind": "remote", "threshold": 3, "params": {"model": "x", "url": "file:///etc"}},
            "params.url",
        ),
        ({"kind": "ewma", "colour": 1}, "colour"),
    ],
)
def test_bad_bindings_are_named(
    store: FirestoreStore, org: str, body: dict[str, object], field: str
) -> None:
    d, s = sensor(store, org)
    with pytest.raises(ValidationError) as bad:
        Detectors(store).create(org, {"name": "z", "device": d, "sensor": s, **body})
    assert bad.value.field == field


def test_an_onnx_binding_is_checked_against_the_model(store: FirestoreStore, org: str) -> None:
    d, s = sensor(store, org)
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=1)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    models = Models(store)
    created = models.create(org, {"name": "mean"})
    models.upload(org, created["id"], model.SerializeToString())
    body = {"name": "z", "device": d, "sensor": s, "kind": "onnx", "threshold": 1}
    bound = Detectors(store).create(org, {**body, "params": {"model": created["id"], "window": 8}})
    assert bound["params"]["version"] == 1
    with pytest.raises(ValidationError) as wrong:
        Detectors(store).create(
            org,
            {**body, "params": {"model": created["id"], "window": 8, "output": "reconstruction"}},
        )
    assert wrong.value.field == "params.output"
    with pytest.raises(NotFound):
        Detectors(store).create(org, {**body, "params": {"model": new_id(), "window": 8}})
