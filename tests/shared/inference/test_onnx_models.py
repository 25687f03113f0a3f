"""ONNX models: the signature read from a file built with the onnx helper API, the binding check,
chunked storage on the Firestore emulator, and the in-process runner."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from shared.errors import ValidationError
from shared.inference.bindings import Binding
from shared.inference.onnx_models import (
    BLOB_BYTES,
    OnnxRunner,
    check_binding,
    load_model,
    read_signature,
    write_version,
)
from shared.store.firestore import FirestoreStore

pytestmark = pytest.mark.process  # the store fixture runs the Firestore emulator


def mean_model(window: int, padding: int = 0) -> bytes:
    """Rebuilds each row as its mean; `padding` floats of an unused initializer make it big."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", window])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", window])
    weights = helper.make_tensor("w", TensorProto.FLOAT, [window, window], [1 / window] * window**2)
    extra = (
        [helper.make_tensor("pad", TensorProto.FLOAT, [padding], [0.5] * padding)]
        if padding
        else []
    )
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "mean", [x], [y],
                              initializer=[weights, *extra])  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def test_the_signature_comes_from_the_file() -> None:
    signature = read_signature(mean_model(4))
    ((name, kind, shape),) = [(t.name, t.type, t.shape) for t in signature.inputs]
    assert (name, kind, shape) == ("x", "FLOAT", (None, 4))  # initializers are not inputs
    assert [t.name for t in signature.outputs] == ["y"]
    with pytest.raises(ValidationError, match="not a valid ONNX model"):
        read_signature(b"\x00garbage")


def test_a_binding_is_checked_against_the_signature() -> None:
    signature = read_signature(mean_model(4))
    check_binding(signature, 4, "reconstruction")
    with pytest.raises(ValidationError) as wrong_window:
        check_binding(signature, 5, "score")
    assert wrong_window.value.field == "params.window"
    ints = helper.make_graph(
        [helper.make_node("Identity", ["a"], ["b"])], "g",
        [helper.make_tensor_value_info("a", TensorProto.INT64, ["n", 4])],
        [helper.make_tensor_value_info("b", TensorProto.INT64, ["n", 4])],
    )  # fmt: skip
    model = helper.make_model(ints, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    with pytest.raises(ValidationError, match="not FLOAT"):
        check_binding(read_signature(model.SerializeToString()), 4, "score")


def test_a_big_model_is_stored_in_chunks_and_runs(store: FirestoreStore, org: str) -> None:
    data = mean_model(4, padding=300_000)  # about 1.2 MB: three blobs
    assert len(data) > 2 * BLOB_BYTES
    write_version(store, org, "m" * 20, 1, data, {"format": "onnx"})
    assert load_model(store, org, "m" * 20, 1) == data
    binding = Binding("b" * 20, org, "d", "dev", "s", "onnx",
                      {"model": "m" * 20, "version": 1, "window": 4, "output": "reconstruction"},
                      10.0, True, "s1", "s2", 1)  # fmt: skip
    scores = OnnxRunner(store)(binding, [[20, 20, 20, 40], [1, 1, 1, 1]])
    assert scores == [pytest.approx(75.0), pytest.approx(0.0)]
    onnx.checker.check_model(onnx.load_model_from_string(data))
