"""The transport-free core of the telemetry pipeline: body formats, types, normalized model."""

from shared.telemetry.errors import InvalidReadings, Problem
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.telemetry.types import TYPES, TypeMismatch, canonical_type, coerce

__all__ = [
    "TYPES",
    "InvalidReadings",
    "NormalizedMessage",
    "Problem",
    "Reading",
    "Source",
    "TypeMismatch",
    "canonical_type",
    "coerce",
]
