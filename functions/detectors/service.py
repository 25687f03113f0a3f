"""Core of the detectors function: bindings of a detector to one sensor of the organisation, each
with two derived sensors (its score and its verdict) whose readings the scorers write."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.directory import (
    DESCRIPTION_MAX,
    NAME_MAX,
    device_path,
    new_id,
    purge_collection,
    require_id,
    rfc3339,
    sensor_path,
    text_field,
)
from shared.egress import TargetRefused, check_url
from shared.errors import NotFound, ValidationError
from shared.inference.bindings import default_threshold, validate_kind_params
from shared.inference.onnx_models import Signature, TensorSpec, check_binding
from shared.inference.paths import detector_path, detectors_path, model_path, model_version_path
from shared.store import Document, Query, Store

__all__ = ["Detectors", "detector_view"]

_CREATE = {"name", "description", "device", "sensor", "kind", "params", "threshold", "enabled"}
_CHANGE = {"name", "description", "threshold", "enabled"}


def detector_view(document: Document) -> dict[str, Any]:
    data = document.data
    keys = ("name", "description", "device", "sensor", "kind", "params", "threshold", "enabled",
            "score_sensor", "anomaly_sensor", "version")  # fmt: skip
    view = {"id": document.id, **{key: data.get(key) for key in keys}}
    view.update(
        created_at=rfc3339(data.get("created_at")), updated_at=rfc3339(data.get("updated_at"))
    )
    return view


def _threshold(body: Mapping[str, Any], kind: str, required: bool) -> float | None:
    if "threshold" not in body:
        value = default_threshold(kind) if required else None
        if value is None and required:
            raise ValidationError(f"threshold is required for {kind} detectors", field="threshold")
        return value
    raw = body["threshold"]
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not raw >= 0:
        raise ValidationError("threshold is a number >= 0", field="threshold")
    return float(raw)


class Detectors:
    """Detector CRUD for the organisation of each call."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        allow_private_targets: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.allow_private_targets = allow_private_targets  # STRATUS_ALLOW_PRIVATE_TARGETS

    def _load(self, org: str, detector: str) -> Document:
        document = self.store.get(detector_path(org, require_id(detector, "detector")))
        if document is None:
            raise NotFound(f"no detector {detector!r}")
        return document

    def _model_version(self, org: str, params: dict[str, Any]) -> int:
        """The version an onnx binding uses (the latest when none is named), after checking the
        model's signature against the binding."""
        model = params["model"]
        if not isinstance(model, str) or len(model) != 20:
            raise NotFound("params.model: no model with that id", field="params.model")
        found = self.store.get(model_path(org, require_id(model, "model")))
        if found is None or not found.data.get("latest"):
            raise NotFound(
                "params.model: no model with that id (or no version yet)", field="params.model"
            )
        version = int(params.get("version") or found.data["latest"])
        document = self.store.get(model_version_path(org, model, version))
        if document is None:
            raise NotFound(
                f"params.version: model has no version {version}", field="params.version"
            )
        signature = Signature(
            tuple(TensorSpec.from_data(t) for t in document.data["inputs"]),
            tuple(TensorSpec.from_data(t) for t in document.data["outputs"]),
        )
        check_binding(signature, int(params["window"]), str(params["output"]))
        return version

    def create(self, org: str, body: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - _CREATE)
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
        name = text_field(body, "name", required=True, limit=NAME_MAX)
        description = text_field(
            body, "description", required=False, limit=DESCRIPTION_MAX, default="", allow_empty=True
        )
        kind = body.get("kind")
        if not isinstance(kind, str):
            raise ValidationError("kind is required", field="kind")
        params = validate_kind_params(kind, body.get("params"))
        if kind == "remote" and not self.allow_private_targets:
            try:
                check_url(params["url"])
            except TargetRefused as exc:
                raise ValidationError(str(exc), field="params.url") from None
        threshold = _threshold(body, kind, required=True)
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValidationError("enabled is true or false", field="enabled")
        device, sensor = body.get("device"), body.get("sensor")
        if not isinstance(device, str) or not isinstance(sensor, str):
            raise ValidationError(
                "device and sensor are ids",
                field="device" if not isinstance(device, str) else "sensor",
            )
        require_id(device, "device")
        source = self.store.get(sensor_path(org, device, require_id(sensor, "sensor")))
        if source is None or self.store.get(device_path(org, device)) is None:
            raise NotFound("no such sensor on that device", field="sensor")
        if source.data.get("derived"):
            raise ValidationError("a derived sensor cannot be scored again", field="sensor")
        if kind == "onnx":
            params["version"] = self._model_version(org, params)
        detector, now = new_id(), datetime.fromtimestamp(self.clock(), UTC)
        score_id, anomaly_id = new_id(), new_id()
        base = f"{source.data.get('name', sensor)}.{detector[:8]}"
        folder = source.data.get("path", "")
        batch = self.store.batch()
        for sensor_id, suffix, kind_of in (
            (score_id, "score", "double"),
            (anomaly_id, "anomaly", "boolean"),
        ):
            batch.create(
                sensor_path(org, device, sensor_id),
                {"name": f"{base}.{suffix}", "description": f"{suffix} of detector {name}",
                 "path": folder, "mapping": {"type": kind_of, "unit": None},
                 "derived": {"detector": detector, "source": sensor, "series": suffix},
                 "created_at": now, "updated_at": now},
            )  # fmt: skip
        batch.create(
            detector_path(org, detector),
            {"name": name, "description": description, "device": device, "sensor": sensor,
             "kind": kind, "params": params, "threshold": threshold, "enabled": enabled,
             "score_sensor": score_id, "anomaly_sensor": anomaly_id, "version": 1,
             "created_at": now, "updated_at": now},
        )  # fmt: skip
        batch.commit()
        return detector_view(self._load(org, detector))

    def list(self, org: str, limit: int, cursor: str | None) -> dict[str, Any]:
        query = Query(
            detectors_path(org), order_by=(("created_at", "asc"),), limit=limit, after=cursor
        )
        page = self.store.query(query)
        return {"items": [detector_view(d) for d in page.documents], "next": page.next}

    def get(self, org: str, detector: str) -> dict[str, Any]:
        return detector_view(self._load(org, detector))

    def update(self, org: str, detector: str, body: Mapping[str, Any]) -> dict[str, Any]:
        current = self._load(org, detector)
        unknown = sorted(set(body) - _CHANGE)
        if unknown:
            raise ValidationError(
                f"{unknown[0]!r} cannot be changed (create another detector)", field=unknown[0]
            )
        fields: dict[str, Any] = {}
        if "name" in body:
            fields["name"] = text_field(body, "name", required=True, limit=NAME_MAX)
        if "description" in body:
            fields["description"] = text_field(
                body, "description", required=True, limit=DESCRIPTION_MAX, allow_empty=True
            )
        threshold = _threshold(body, str(current.data["kind"]), required=False)
        if threshold is not None:
            fields["threshold"] = threshold
        if "enabled" in body:
            if not isinstance(body["enabled"], bool):
                raise ValidationError("enabled is true or false", field="enabled")
            fields["enabled"] = body["enabled"]
        if not fields:
            raise ValidationError("nothing to update", field="body")
        fields.update(
            version=int(current.data.get("version", 1)) + 1,
            updated_at=datetime.fromtimestamp(self.clock(), UTC),
        )
        self.store.update(current.path, fields, if_version=current.update_time)
        return detector_view(self._load(org, detector))

    def delete(self, org: str, detector: str) -> None:
        """The derived sensors with their readings, the state, then the binding; repeatable."""
        document = self._load(org, detector)
        device = document.data["device"]
        for sensor in (document.data["score_sensor"], document.data["anomaly_sensor"]):
            path = sensor_path(org, device, sensor)
            purge_collection(self.store, f"{path}/chunks")
            self.store.delete(path)
        purge_collection(self.store, f"{document.path}/state")
        self.store.delete(document.path)
