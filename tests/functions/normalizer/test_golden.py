"""Golden pairs: each `golden/*.json` holds sensors, a raw message and the expected outcome."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import orjson
import pytest

from functions.normalizer.transform import normalize
from shared.telemetry.model import NormalizedMessage
from shared.telemetry.sensors import Sensor

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))


class _Directory:
    def __init__(self, sensors: Mapping[str, Sensor]) -> None:
        self.sensors = sensors

    def lookup(self, org: str, device: str) -> Mapping[str, Sensor]:
        return self.sensors


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden(path: Path) -> None:
    case = orjson.loads(path.read_bytes())
    sensors = {s["id"]: Sensor(**s) for s in case["sensors"]}
    outcome = normalize(
        orjson.dumps(case["data"]), case["attributes"], _Directory(sensors), received_ns=0
    )
    expected = case["expected"]
    message = outcome.message.to_dict() if outcome.message else None
    assert message == expected["message"]
    assert [r.to_dict() for r in outcome.rejected] == expected["rejected"]
    if outcome.message is not None:  # the bytes the writer will read validate
        assert NormalizedMessage.from_bytes(outcome.message.to_bytes()) == outcome.message


def test_there_are_golden_pairs() -> None:
    assert len(GOLDEN) >= 3
