"""The models core: versions numbered in order with their signature, files refused by onnx are
400, a model in use cannot be deleted."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from functions.models.service import Models
from shared.errors import Conflict, NotFound, ValidationError
from shared.inference.onnx_models import load_model
from shared.store.firestore import FirestoreStore

pytestmark = pytest.mark.process


def identity(width: int) -> bytes:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, width])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def test_versions_in_order_with_their_signature(store: FirestoreStore, org: str) -> None:
    models = Models(store)
    model = models.create(org, {"name": "m"})["id"]
    first = models.upload(org, model, identity(3))
    second = models.upload(org, model, identity(5))
    assert (first["version"], second["version"]) == (1, 2)
    assert second["inputs"][0]["shape"] == [None, 5]
    assert models.get(org, model)["latest"] == 2
    assert [v["version"] for v in models.versions(org, model)["items"]] == [1, 2]
    assert load_model(store, org, model, 1) == identity(3)
    with pytest.raises(ValidationError):
        models.upload(org, model, b"garbage")
    with pytest.raises(NotFound):
        models.version(org, model, 3)


def test_a_model_in_use_is_kept(store: FirestoreStore, org: str) -> None:
    models = Models(store)
    model = models.create(org, {"name": "m"})["id"]
    store.create(f"orgs/{org}/detectors/{'d' * 20}", {"params": {"model": model}})
    with pytest.raises(Conflict):
        models.delete(org, model)
    store.delete(f"orgs/{org}/detectors/{'d' * 20}")
    models.upload(org, model, identity(2))
    models.delete(org, model)
    with pytest.raises(NotFound):
        models.get(org, model)
