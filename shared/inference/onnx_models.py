"""ONNX models in the store: chunked storage under Firestore's 1 MiB document limit, the
input/output signature read from the file, the check of a binding against it, and an in-process
runner (onnxruntime, imported only when a model is first run: the scorer's cold start pays
nothing for sensors without a model).

Layout: `orgs/{org}/models/{id}` (`name`, `latest`), `.../versions/{v:06d}` (`size`, `sha256`,
`parts`, `inputs`, `outputs`, `created_ns`) and `.../versions/{v}/blobs/{i:05d}` (`data`: at
most 512 KiB of the file each). A version document is written after all its blobs, so a reader
that finds it finds the whole file.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.errors import NotFound, ValidationError
from shared.inference.bindings import Binding
from shared.inference.paths import model_blob_path, model_version_path
from shared.store import Store

__all__ = [
    "BLOB_BYTES",
    "OnnxRunner",
    "Signature",
    "TensorSpec",
    "check_binding",
    "load_model",
    "read_signature",
    "scores_of",
    "signature_data",
    "write_version",
]

BLOB_BYTES = 512 * 1024
_BATCH_BYTES = 4 * 1024 * 1024  # blobs per commit, well under the 10 MiB request limit
_FLOAT = {"tensor(float)", "tensor(double)", "float32", "float64", "FLOAT", "DOUBLE"}


@dataclass(frozen=True, slots=True)
class TensorSpec:
    name: str
    type: str  # onnx element type name, e.g. FLOAT
    shape: tuple[int | None, ...]  # None for a symbolic (dynamic) dimension

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "shape": list(self.shape)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TensorSpec:
        return cls(str(data["name"]), str(data["type"]), tuple(data["shape"]))


@dataclass(frozen=True, slots=True)
class Signature:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


def read_signature(data: bytes) -> Signature:
    """The graph's inputs (initializers excluded) and outputs; 400 for a file onnx refuses."""
    import onnx  # only the models function reads files

    try:
        model = onnx.load_model_from_string(data)
        onnx.checker.check_model(model)
    except Exception as exc:
        raise ValidationError(f"not a valid ONNX model: {exc}"[:500], field="body") from None
    initializers = {init.name for init in model.graph.initializer}

    def spec(value: Any) -> TensorSpec:
        tensor = value.type.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)
        return TensorSpec(value.name, onnx.TensorProto.DataType.Name(tensor.elem_type), dims)

    inputs = tuple(spec(v) for v in model.graph.input if v.name not in initializers)
    return Signature(inputs, tuple(spec(v) for v in model.graph.output))


def check_binding(signature: Signature, window: int, output: str) -> None:
    """A model a binding may use: one float input taking `window` values per row ([N, window]
    or [window]), and a float output: the score per row, or (`reconstruction`) the row rebuilt."""
    if len(signature.inputs) != 1:
        raise ValidationError("the model must have exactly one input", field="params.model")
    (tensor,) = signature.inputs
    if tensor.type not in _FLOAT:
        raise ValidationError(
            f"the model's input is {tensor.type}, not FLOAT", field="params.model"
        )
    if not 1 <= len(tensor.shape) <= 2 or tensor.shape[-1] not in (None, window):
        raise ValidationError(
            f"the model's input shape {list(tensor.shape)} does not take windows of {window} "
            "values ([N, window] or [window])",
            field="params.window",
        )
    if not signature.outputs or signature.outputs[0].type not in _FLOAT:
        raise ValidationError("the model's first output must be FLOAT", field="params.model")
    shape = signature.outputs[0].shape
    if output == "reconstruction" and shape and shape[-1] not in (None, window):
        raise ValidationError(
            f"params.output reconstruction needs an output of {window} values per row, the "
            f"model gives {list(shape)}",
            field="params.output",
        )


def write_version(
    store: Store, org: str, model: str, version: int, data: bytes, doc: dict[str, Any]
) -> None:
    """The file's blobs, then the version document (`doc` plus size, digest and part count)."""
    parts = [data[i : i + BLOB_BYTES] for i in range(0, len(data), BLOB_BYTES)] or [b""]
    batch, size = store.batch(), 0
    for index, part in enumerate(parts):
        if size + len(part) > _BATCH_BYTES:
            batch.commit()
            batch, size = store.batch(), 0
        batch.set(model_blob_path(org, model, version, index), {"data": part})
        size += len(part)
    batch.commit()
    store.create(
        model_version_path(org, model, version),
        {**doc, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "parts": len(parts)},
    )


def load_model(store: Store, org: str, model: str, version: int) -> bytes:
    """A stored version's file, checked against its digest."""
    document = store.get(model_version_path(org, model, version))
    if document is None:
        raise NotFound(f"no version {version} of model {model!r}")
    paths = [model_blob_path(org, model, version, i) for i in range(int(document.data["parts"]))]
    blobs = store.get_many(paths)
    if any(blob is None for blob in blobs):
        raise NotFound(f"model {model!r} version {version} is incomplete")
    data = b"".join(bytes(blob.data["data"]) for blob in blobs if blob is not None)
    if hashlib.sha256(data).hexdigest() != document.data["sha256"]:
        raise ValueError(f"model {model!r} version {version} does not match its digest")
    return data


class OnnxRunner:
    """Runs bindings' ONNX models (one onnxruntime session per model version per process)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sessions: dict[tuple[str, str, int], Any] = {}
        self._lock = threading.Lock()

    def _session(self, binding: Binding) -> Any:
        key = (binding.org, str(binding.params["model"]), int(binding.params["version"]))
        session = self._sessions.get(key)
        if session is None:
            import onnxruntime  # lazily: the cold start of a scorer without models skips it

            data = load_model(self.store, *key)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                data, options, providers=["CPUExecutionProvider"]
            )
            with self._lock:
                self._sessions[key] = session
        return session

    def __call__(self, binding: Binding, windows: list[list[float]]) -> list[float]:
        import numpy as np

        session = self._session(binding)
        spec = session.get_inputs()[0]
        dtype = np.float64 if spec.type == "tensor(double)" else np.float32
        rows = np.asarray(windows, dtype=dtype)
        if len(spec.shape) == 1 or spec.shape[0] == 1:  # one window per run
            results = [
                session.run(None, {spec.name: row if len(spec.shape) == 1 else row[None, :]})[0]
                for row in rows
            ]
            out = np.asarray([np.asarray(r).reshape(-1) for r in results])
        else:
            out = np.asarray(session.run(None, {spec.name: rows})[0]).reshape(len(rows), -1)
        return scores_of(out, rows, str(binding.params.get("output", "score")))


def scores_of(out: Any, rows: Any, output: str) -> list[float]:
    """One score per row: the model's output, or the mean squared reconstruction error."""
    import numpy as np

    if output == "reconstruction":
        return [float(x) for x in np.mean((np.asarray(out, dtype=np.float64) - rows) ** 2, axis=1)]
    return [float(x) for x in np.asarray(out, dtype=np.float64).reshape(len(rows), -1)[:, 0]]


def signature_data(signature: Signature) -> dict[str, Sequence[dict[str, Any]]]:
    return {
        "inputs": [t.to_data() for t in signature.inputs],
        "outputs": [t.to_data() for t in signature.outputs],
    }
