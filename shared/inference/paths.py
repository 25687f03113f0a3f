"""Where inference documents live: detectors, their per-series state, models and their chunks."""

from __future__ import annotations

__all__ = [
    "detector_path",
    "detector_state_path",
    "detectors_path",
    "model_blob_path",
    "model_path",
    "model_version_path",
    "models_path",
]


def detectors_path(org: str) -> str:
    return f"orgs/{org}/detectors"


def detector_path(org: str, detector: str) -> str:
    return f"orgs/{org}/detectors/{detector}"


def detector_state_path(org: str, detector: str) -> str:
    """The streaming state of a detector on its sensor (one sensor per detector)."""
    return f"orgs/{org}/detectors/{detector}/state/current"


def models_path(org: str) -> str:
    return f"orgs/{org}/models"


def model_path(org: str, model: str) -> str:
    return f"orgs/{org}/models/{model}"


def model_version_path(org: str, model: str, version: int) -> str:
    return f"orgs/{org}/models/{model}/versions/{version:06d}"


def model_blob_path(org: str, model: str, version: int, part: int) -> str:
    """One chunk of a model file (each under Firestore's 1 MiB document limit)."""
    return f"orgs/{org}/models/{model}/versions/{version:06d}/blobs/{part:05d}"
