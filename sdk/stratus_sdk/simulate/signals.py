"""Signals of a simulated device: a temperature with a daily cycle and noise, a humidity that
follows it, a counter, GPS positions along a looping route; occasional anomalies (spikes) and
dropouts (silences). Pure and seeded: the same seed and times give the same readings."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SENSORS", "DeviceSignals", "Route"]

DAY_S = 86_400.0

# What every simulated device registers (bootstrap creates these sensors).
SENSORS: list[dict[str, Any]] = [
    {"name": "temperature", "mapping": {"type": "double", "unit": "Cel"}},
    {"name": "humidity", "mapping": {"type": "double", "unit": "%RH"}},
    {"name": "counter", "mapping": {"type": "long"}},
    {"name": "position", "mapping": {"type": "object"}},
]

_EARTH_M = 6_371_000.0


@dataclass(frozen=True, slots=True)
class Route:
    """A closed loop of (lat, lon) waypoints driven at `speed` m/s."""

    points: tuple[tuple[float, float], ...]
    speed: float

    @classmethod
    def around(cls, rng: random.Random, lat: float, lon: float, radius_m: float = 2000) -> Route:
        count = rng.randint(5, 8)
        angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(count))
        points = []
        for angle in angles:
            distance = rng.uniform(0.3, 1.0) * radius_m
            dlat = distance * math.cos(angle) / _EARTH_M
            dlon = distance * math.sin(angle) / (_EARTH_M * math.cos(math.radians(lat)))
            points.append((lat + math.degrees(dlat), lon + math.degrees(dlon)))
        return cls(tuple(points), rng.uniform(8.0, 15.0))

    def _legs(self) -> list[float]:
        out = []
        for (lat1, lon1), (lat2, lon2) in zip(
            self.points, self.points[1:] + self.points[:1], strict=True
        ):
            dy = math.radians(lat2 - lat1) * _EARTH_M
            dx = math.radians(lon2 - lon1) * _EARTH_M * math.cos(math.radians((lat1 + lat2) / 2))
            out.append(math.hypot(dx, dy))
        return out

    def at(self, seconds: float) -> dict[str, float]:
        """Where the vehicle is `seconds` after it left the first waypoint."""
        legs = self._legs()
        travelled = (seconds * self.speed) % sum(legs)
        for index, length in enumerate(legs):
            if travelled <= length:
                (lat1, lon1) = self.points[index]
                (lat2, lon2) = self.points[(index + 1) % len(self.points)]
                part = travelled / length if length else 0.0
                return {"lat": round(lat1 + (lat2 - lat1) * part, 6),
                        "lon": round(lon1 + (lon2 - lon1) * part, 6)}  # fmt: skip
            travelled -= length
        lat, lon = self.points[0]
        return {"lat": lat, "lon": lon}


@dataclass
class DeviceSignals:
    """One device's signal state. `tick(t)` gives the readings at `t` (seconds since the epoch)
    as `(sensor name, value)` pairs, or none while the device is in a dropout."""

    seed: int
    anomaly_rate: float = 0.002
    dropout_rate: float = 0.0005
    center: tuple[float, float] = (48.137, 11.575)
    rng: random.Random = field(init=False)
    base: float = field(init=False)
    amplitude: float = field(init=False)
    route: Route = field(init=False)
    counter: int = 0
    silent_until: float = 0.0
    spike_left: int = 0
    spike: float = 0.0
    started: float | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.base = self.rng.uniform(18.0, 24.0)
        self.amplitude = self.rng.uniform(3.0, 6.0)
        self.route = Route.around(self.rng, *self.center)

    def temperature(self, t: float) -> float:
        """Warmest at 15:00 UTC, coldest at 03:00, with noise."""
        cycle = math.sin(2 * math.pi * ((t % DAY_S) / DAY_S - 0.375))
        return self.base + self.amplitude * cycle + self.rng.gauss(0.0, 0.2)

    def tick(self, t: float) -> list[tuple[str, Any]]:
        if self.started is None:
            self.started = t
        if t < self.silent_until:
            return []
        if self.rng.random() < self.dropout_rate:
            self.silent_until = t + self.rng.uniform(20.0, 90.0)  # the device goes quiet
            return []
        if self.spike_left == 0 and self.rng.random() < self.anomaly_rate:
            self.spike_left, self.spike = self.rng.randint(1, 3), self.rng.uniform(8.0, 15.0)
        temperature = self.temperature(t)
        if self.spike_left:
            temperature += self.spike
            self.spike_left -= 1
        humidity = 55.0 - 1.5 * (temperature - self.base) + self.rng.gauss(0.0, 1.0)
        self.counter += self.rng.randint(0, 3)
        return [
            ("temperature", round(temperature, 3)),
            ("humidity", round(min(100.0, max(5.0, humidity)), 2)),
            ("counter", self.counter),
            ("position", self.route.at(t - self.started)),
        ]
