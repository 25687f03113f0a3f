"""The transport-free core of the telemetry pipeline: body formats, types, normalized model.

Modules: `reference` (the reference ingest format), `senml` (RFC 8428 JSON, resolved),
`timestamps` (exact conversion to ns, unit detection), `types` (sensor value types), `model`
(the normalized message), `errors` (InvalidReadings, listing every problem of a body), `sensors`
(a device's sensors, SenML name resolution, the cached store-backed directory).
"""

from shared.telemetry.errors import InvalidReadings, Problem
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.telemetry.reference import RawReading
from shared.telemetry.senml import Record
from shared.telemetry.timestamps import detect_unit, timestamp_to_ns
from shared.telemetry.types import TYPES, TypeMismatch, canonical_type, coerce

__all__ = [
    "TYPES",
    "InvalidReadings",
    "NormalizedMessage",
    "Problem",
    "RawReading",
    "Reading",
    "Record",
    "Source",
    "TypeMismatch",
    "canonical_type",
    "coerce",
    "detect_unit",
    "timestamp_to_ns",
]
