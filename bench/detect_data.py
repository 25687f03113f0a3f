"""The labelled data set of `python -m bench detect`, and how detections are scored against it.

Deterministic (a seeded generator): a daily seasonal signal with trend and noise, every 5 minutes
for 7 days, with one kind of injected anomaly per series: spikes (single readings), level shifts
(the signal jumps and stays), drifts (a ramp over 50 readings) and dropouts (readings fall to 0
for 20 readings). Each anomaly is an event with a window in which flagging it counts.

Scoring is by events: consecutive flagged readings form one alarm; an alarm overlapping an event's
window is true, any other is false. precision = true alarms / alarms, recall = detected events /
events, F1 their harmonic mean, delay = readings from an event's onset to its first flag.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["KINDS", "STEP_S", "Metrics", "Series", "generate", "score"]

STEP_S = 300  # a reading every 5 minutes
DAY = 86400 // STEP_S  # readings per day (288)
LENGTH = 7 * DAY
START_S = 1_790_000_000 - (1_790_000_000 % 86400)  # midnight UTC
KINDS = ("spike", "level_shift", "drift", "dropout")
_WINDOW = {"spike": 2, "level_shift": 10, "drift": 60, "dropout": 20}
_ONSETS = {  # after two days of warm-up for the seasonal detector
    "spike": [620, 700, 810, 905, 1000, 1130, 1250, 1333, 1470, 1560, 1700, 1850, 1930],
    "level_shift": [700, 1000, 1300, 1600, 1900],
    "drift": [700, 1050, 1400, 1750],
    "dropout": [700, 1000, 1300, 1600, 1900],
}


@dataclass(frozen=True, slots=True)
class Series:
    """One labelled series: timestamps (s), values, and anomaly events (onset, window end)."""

    kind: str
    timestamps: list[int]
    values: list[float]
    events: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Metrics:
    events: int
    detected: int
    alarms: int
    true_alarms: int
    delays: list[int]

    @property
    def precision(self) -> float:
        return self.true_alarms / self.alarms if self.alarms else 0.0

    @property
    def recall(self) -> float:
        return self.detected / self.events if self.events else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def mean_delay(self) -> float | None:
        return sum(self.delays) / len(self.delays) if self.delays else None


def generate(kind: str, seed: int = 13) -> Series:
    """The series of one anomaly kind (same seed, same numbers)."""
    rng = random.Random(f"{kind}-{seed}")
    noise = 0.5
    values = [
        20.0 + 5.0 * math.sin(2 * math.pi * i / DAY) + 0.5 * i / DAY + rng.gauss(0, noise)
        for i in range(LENGTH)
    ]
    events = []
    shift = 0.0
    onsets = _ONSETS[kind]
    for n, onset in enumerate(onsets):
        sign = 1 if n % 2 == 0 else -1
        if kind == "spike":
            values[onset] += sign * rng.uniform(6, 10) * noise * 2
        elif kind == "level_shift":
            shift += sign * 5.0
            for i in range(onset, onsets[n + 1] if n + 1 < len(onsets) else LENGTH):
                values[i] += shift
        elif kind == "drift":
            for i in range(onset, min(onset + 50, LENGTH)):
                values[i] += sign * 6.0 * (i - onset) / 50
        else:  # dropout
            for i in range(onset, onset + 20):
                values[i] = 0.0
        events.append((onset, onset + _WINDOW[kind]))
    if kind == "level_shift":  # shifts accumulate: undo the trend of the levels
        pass
    timestamps = [START_S + i * STEP_S for i in range(LENGTH)]
    return Series(kind, timestamps, values, events)


def score(flags: Sequence[bool], events: Sequence[tuple[int, int]]) -> Metrics:
    """Event-based precision, recall and delay of `flags` (one per reading)."""
    alarms: list[tuple[int, int]] = []
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            alarms.append((start, i))
            start = None
    true_alarms = sum(1 for a, b in alarms if any(a < end and onset < b for onset, end in events))
    delays = []
    for onset, end in events:
        first = next((i for i in range(onset, min(end, len(flags))) if flags[i]), None)
        if first is not None:
            delays.append(first - onset)
    return Metrics(len(events), len(delays), len(alarms), true_alarms, delays)
