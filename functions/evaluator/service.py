"""Core of the evaluator: each reading (or anomaly event) goes to the rules that select it, whose
window states move in the store and open or resolve alerts (`shared.rules.engine`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.errors import ValidationError
from shared.rules.engine import Engine, Outcome, SeriesInput
from shared.rules.evaluate import Point
from shared.rules.model import Rule
from shared.rules.source import RuleSource
from shared.telemetry.model import NormalizedMessage
from shared.telemetry.sensors import Sensor, SensorDirectory

__all__ = ["Evaluator"]

_ANOMALY_FIELDS = ("org", "device", "sensor", "detector", "ts", "score", "anomaly")


def _names(device: str, sensor: str, meta: Sensor | None) -> dict[str, Any]:
    return {
        "device": device,
        "sensor": sensor,
        "name": meta.name if meta else None,
        "path": meta.tree_path if meta else None,
        "unit": meta.unit if meta else None,
    }


class Evaluator:
    """Routes readings and anomaly events to the engine."""

    def __init__(self, engine: Engine, rules: RuleSource, sensors: SensorDirectory) -> None:
        self.engine = engine
        self.rules = rules
        self.sensors = sensors

    def readings(self, message: NormalizedMessage, key: str, received_ns: int) -> Outcome:
        """Evaluate the sensor rules that select any reading of a `telemetry-normalized` message."""
        rules = [r for r in self.rules.rules(message.org) if r.selection.detector is None]
        if not rules:
            return Outcome()
        groups: dict[tuple[str, str, str], list[Point]] = {}
        found: dict[str, Rule] = {}
        names: dict[tuple[str, str], dict[str, Any]] = {}
        for reading in message.readings:
            device = reading.device or message.device
            pair = (device, reading.sensor)
            if pair not in names:
                meta = self.sensors.lookup(message.org, device).get(reading.sensor)
                names[pair] = _names(device, reading.sensor, meta)
            tree_path = names[pair]["path"]
            for rule in rules:
                if rule.selection.matches(device, reading.sensor, tree_path):
                    found[rule.id] = rule
                    point = (reading.ts, reading.value, None, None)
                    groups.setdefault((rule.id, device, reading.sensor), []).append(point)
        inputs = [
            SeriesInput(found[rule], device, sensor, names[(device, sensor)], points)
            for (rule, device, sensor), points in groups.items()
        ]
        return self.engine.apply(message.org, inputs, key, received_ns) if inputs else Outcome()

    def anomaly(self, event: Mapping[str, Any], received_ns: int) -> Outcome:
        """Evaluate the rules on the event's detector (an `anomalies` message)."""
        missing = [name for name in _ANOMALY_FIELDS if name not in event]
        if missing:
            raise ValidationError(f"anomaly event has no {missing[0]!r}", field=missing[0])
        org, device, sensor = str(event["org"]), str(event["device"]), str(event["sensor"])
        detector = str(event["detector"])
        rules = [r for r in self.rules.rules(org) if r.selection.detector == detector]
        if not rules:
            return Outcome()
        meta = self.sensors.lookup(org, device).get(sensor)
        names = _names(device, sensor, meta)
        names.update(detector=detector, threshold=event.get("threshold"))
        point = (int(event["ts"]), event.get("value"), event["score"], bool(event["anomaly"]))
        inputs = [SeriesInput(rule, device, sensor, names, [point]) for rule in rules]
        key = f"anomaly-{detector}-{int(event['ts'])}-{bool(event['anomaly'])}"
        return self.engine.apply(org, inputs, key, received_ns)
