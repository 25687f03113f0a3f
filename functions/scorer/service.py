"""Core of the scorer: each reading of a sensor with detectors is scored in-process (built-in
detectors, ONNX models); readings for remote models leave on `inference-requests`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from shared.bus import Bus
from shared.deadletter import confirm
from shared.inference.bindings import IN_PROCESS, Binding, BindingSource
from shared.inference.scoring import Scoring
from shared.telemetry.model import NormalizedMessage
from shared.topics import INFERENCE_REQUESTS

__all__ = ["Scorer"]


class Scorer:
    """Routes a normalized message's readings to its sensors' detectors."""

    def __init__(self, bindings: BindingSource, scoring: Scoring, bus: Callable[[], Bus]) -> None:
        self.bindings = bindings
        self.scoring = scoring
        self.bus = bus

    def handle(self, message: NormalizedMessage, key: str, received_ns: int) -> int:
        """Score the message; the number of readings scored or sent for remote scoring."""
        if message.source.transport == "derived":
            return 0
        table = self.bindings.bindings(message.org)
        if not table:
            return 0
        work: dict[str, tuple[Binding, list[tuple[int, Any]]]] = {}
        for reading in message.readings:
            device = reading.device or message.device
            for binding in table.get((device, reading.sensor), ()):
                work.setdefault(binding.id, (binding, []))[1].append((reading.ts, reading.value))
        local = [item for item in work.values() if item[0].kind in IN_PROCESS]
        remote = [item for item in work.values() if item[0].kind not in IN_PROCESS]
        if remote:
            confirm(
                self.bus().publish(
                    INFERENCE_REQUESTS,
                    orjson.dumps(
                        {
                            "org": message.org,
                            "detector": binding.id,
                            "readings": readings,
                            "key": key,
                            "received_ns": received_ns,
                        }
                    ),
                    {"org": message.org, "detector": binding.id},
                )
                for binding, readings in remote
            )
        if local:
            self.scoring.score(message.org, local, key, received_ns)
        return sum(len(readings) for _, readings in work.values())
