"""Detector bindings: which detector scores which sensor, with which parameters and threshold.

A binding is stored at `orgs/{org}/detectors/{id}`. Kinds: the built-ins (`ewma`, `mad`,
`seasonal`), `onnx` (an uploaded model run in-process: params `model`, `version`, `window`,
`output`) and `remote` (a KServe v2 / Open Inference Protocol endpoint: params `url`, `model`,
`version`?, `window`, `output`, `input`, `timeout`). Each binding writes two derived sensors of
the scored sensor's device: `<name>.score` (double) and `<name>.anomaly` (boolean).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.errors import ValidationError
from shared.expiring import ExpiringMap
from shared.inference.detectors import BUILTIN_KINDS, DEFAULT_THRESHOLDS, validate_params
from shared.inference.paths import detectors_path
from shared.store import Filter, Query, Store

__all__ = [
    "IN_PROCESS",
    "KINDS",
    "OUTPUTS",
    "Binding",
    "BindingSource",
    "default_threshold",
    "validate_kind_params",
    "validate_model_params",
]

KINDS = (*BUILTIN_KINDS, "onnx", "remote")
IN_PROCESS = (*BUILTIN_KINDS, "onnx")
OUTPUTS = ("score", "reconstruction")  # the model's output is the score / the input rebuilt
_MODEL_NAME = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.-"


@dataclass(frozen=True, slots=True)
class Binding:
    """A stored detector."""

    id: str
    org: str
    name: str
    device: str
    sensor: str
    kind: str
    params: Mapping[str, Any]
    threshold: float
    enabled: bool
    score_sensor: str
    anomaly_sensor: str
    version: int

    @classmethod
    def from_document(cls, org: str, detector: str, data: Mapping[str, Any]) -> Binding:
        return cls(
            id=detector,
            org=org,
            name=str(data.get("name", "")),
            device=str(data["device"]),
            sensor=str(data["sensor"]),
            kind=str(data["kind"]),
            params=dict(data.get("params") or {}),
            threshold=float(data["threshold"]),
            enabled=bool(data.get("enabled", True)),
            score_sensor=str(data["score_sensor"]),
            anomaly_sensor=str(data["anomaly_sensor"]),
            version=int(data.get("version") or 1),
        )

    @property
    def window(self) -> int:
        return int(self.params.get("window", 1))


def _int(raw: Mapping[str, Any], name: str, low: int, high: int, default: int | None = None) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"params.{name} is an integer within {low}..{high}", field=f"params.{name}"
        )
    return value


def validate_model_params(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of an `onnx` or `remote` binding (a model's signature is checked against
    them by the detectors function, which reads the model)."""
    allowed = {"window", "output", "model", "version"}
    if kind == "remote":
        allowed |= {"url", "input", "timeout"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValidationError(
            f"unknown parameter params.{unknown[0]}", field=f"params.{unknown[0]}"
        )
    out: dict[str, Any] = {"window": _int(raw, "window", 1, 4096, 1)}
    output = raw.get("output", "score")
    if output not in OUTPUTS:
        raise ValidationError(
            f"params.output is one of {', '.join(OUTPUTS)}", field="params.output"
        )
    out["output"] = output
    model = raw.get("model")
    if not isinstance(model, str) or not model:
        raise ValidationError("params.model is required", field="params.model")
    out["model"] = model
    if kind == "onnx":
        if "version" in raw:
            out["version"] = _int(raw, "version", 1, 1_000_000)
        return out
    if len(model) > 128 or any(c not in _MODEL_NAME for c in model):
        raise ValidationError(
            "params.model is a model name (A-Z a-z 0-9 _ . -)", field="params.model"
        )
    version = raw.get("version")
    if version is not None:
        if (
            not isinstance(version, str)
            or not version
            or any(c not in _MODEL_NAME for c in version)
        ):
            raise ValidationError("params.version is a version name", field="params.version")
        out["version"] = version
    url = raw.get("url")
    parts = urlsplit(url) if isinstance(url, str) and len(url) <= 1024 else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("params.url is the server's http(s) base URL", field="params.url")
    out["url"] = url.rstrip("/")  # type: ignore[union-attr]
    name = raw.get("input", "input-0")
    if not isinstance(name, str) or not name or len(name) > 128:
        raise ValidationError("params.input is the model's input name", field="params.input")
    out["input"] = name
    timeout = raw.get("timeout", 5)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0.1 <= timeout <= 60
    ):
        raise ValidationError("params.timeout is 0.1..60 seconds", field="params.timeout")
    out["timeout"] = float(timeout)
    return out


def validate_kind_params(kind: str, raw: Any) -> dict[str, Any]:
    """`params` of a binding of `kind` (400 naming the parameter)."""
    if kind not in KINDS:
        raise ValidationError(f"kind is one of {', '.join(KINDS)}", field="kind")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError("params is an object", field="params")
    if kind in BUILTIN_KINDS:
        try:
            return dict(validate_params(kind, raw))
        except ValueError as exc:
            raise ValidationError(f"params: {exc}", field="params") from None
    return validate_model_params(kind, raw)


def default_threshold(kind: str) -> float | None:
    """The threshold a binding gets when it names none (models need one)."""
    return DEFAULT_THRESHOLDS.get(kind)


class BindingSource:
    """`bindings(org)`: the organisation's enabled detectors by (device, sensor), each answer
    reused for `ttl` seconds (STRATUS_DETECTOR_CACHE_SECONDS)."""

    def __init__(
        self,
        store: Callable[[], Store],
        ttl: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._clock = clock
        self._cache: ExpiringMap[str, dict[tuple[str, str], list[Binding]]] = ExpiringMap(
            ttl, clock=clock
        )

    def bindings(self, org: str) -> dict[tuple[str, str], list[Binding]]:
        hit = self._cache.get(org)
        if hit is not None:
            return hit
        read_at = self._clock()
        found: dict[tuple[str, str], list[Binding]] = {}
        after = None
        while True:
            page = self._store().query(
                Query(
                    detectors_path(org),
                    where=(Filter("enabled", "==", True),),
                    limit=300,
                    after=after,
                )
            )
            for document in page.documents:
                binding = Binding.from_document(org, document.id, document.data)
                found.setdefault((binding.device, binding.sensor), []).append(binding)
            if page.next is None:
                break
            after = page.next
        self._cache.put(org, found, at=read_at)
        return found
