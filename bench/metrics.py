"""What a load run measures: latency histograms (HdrHistogram, microseconds), a per-second series,
the error breakdown and goodput; mergeable across worker processes.

Latency is recorded for every completed request, failed ones included (as k6 does); a request
counts as successful when it got a 2xx or 3xx status, or for MQTT publishes `puback` (QoS 1,
reason code 0) or `sent` (QoS 0, written to the socket). An outcome is an HTTP status (int), one
of those two names, or the name of what went wrong instead (an exception class such as
`ClientConnectorError`, or `puback-135 Not authorized`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

__all__ = [
    "HIGHEST_US", "LOWEST_US", "MQTT_SUCCESS", "Histogram", "Outcome", "Recorder", "is_success",
    "success_key",
]  # fmt: skip

LOWEST_US = 1
HIGHEST_US = 60_000_000
DIGITS = 3
PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)

Outcome = int | str
MQTT_SUCCESS = frozenset({"puback", "sent"})


def is_success(outcome: Outcome) -> bool:
    if isinstance(outcome, str):
        return outcome in MQTT_SUCCESS
    return 200 <= outcome < 400


class Histogram:
    """Latencies in microseconds, 1 us .. 60 s, 3 significant digits; larger values are clamped."""

    def __init__(self) -> None:
        self._h = HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)

    def record(self, microseconds: float, count: int = 1) -> None:
        value = min(max(round(microseconds), LOWEST_US), HIGHEST_US)
        self._h.record_value(value, count)

    @property
    def count(self) -> int:
        return int(self._h.get_total_count())

    def percentile(self, p: float) -> int:
        return int(self._h.get_value_at_percentile(p)) if self.count else 0

    def summary(self) -> dict[str, float]:
        """count, min, mean, p50..p99.9 and max, in microseconds (zeros when empty)."""
        if not self.count:
            zeros: dict[str, float] = {"count": 0, "min": 0, "mean": 0, "max": 0}
            return zeros | {_name(p): 0 for p in PERCENTILES}
        out: dict[str, float] = {
            "count": self.count,
            "min": int(self._h.get_min_value()),
            "mean": round(float(self._h.get_mean_value()), 1),
        }
        out |= {_name(p): self.percentile(p) for p in PERCENTILES}
        out["max"] = int(self._h.get_max_value())
        return out

    def distribution(self) -> list[tuple[int, int]]:
        """(value in us, count) for every recorded bucket, ascending."""
        return [
            (int(step.value_iterated_to), int(step.count_added_in_this_iter_step))
            for step in self._h.get_recorded_iterator()
        ]

    def encode(self) -> str:
        """The compressed HdrHistogram wire form (base64 text), for files and other processes."""
        data = self._h.encode()
        return data.decode() if isinstance(data, bytes) else str(data)

    def add_encoded(self, encoded: str) -> None:
        self._h.decode_and_add(encoded)

    def add(self, other: Histogram) -> None:
        self._h.add(other._h)

    @classmethod
    def decode(cls, encoded: str) -> Histogram:
        histogram = cls()
        histogram.add_encoded(encoded)
        return histogram


def _name(p: float) -> str:
    return "p" + (f"{p:g}".replace(".", ""))


@dataclass
class _Second:
    requests: int = 0
    errors: int = 0
    histogram: Histogram = field(default_factory=Histogram)


class Recorder:
    """Collects one run's outcomes; `now` is seconds since the run's start (any clock)."""

    def __init__(self) -> None:
        self.latency = Histogram()
        self.outcomes: Counter[str] = Counter()
        self.dropped = 0  # open loop: arrivals not started because every slot was busy
        self.late = 0  # open loop: arrivals started noticeably after their scheduled time
        self._open: dict[int, _Second] = {}
        self._closed: dict[int, dict[str, Any]] = {}

    def record(self, outcome: Outcome, latency_s: float, now: float) -> None:
        """One completed request, bucketed by the second it completed in."""
        microseconds = latency_s * 1e6
        self.latency.record(microseconds)
        self.outcomes[str(outcome)] += 1
        second = max(int(now), 0)
        bucket = self._open.get(second)
        if bucket is None:
            self.close_before(second)
            bucket = self._open[second] = _Second()
        bucket.requests += 1
        bucket.errors += 0 if is_success(outcome) else 1
        bucket.histogram.record(microseconds)

    def close_before(self, second: int) -> None:
        """Freeze the seconds before `second` (they keep an encoded histogram, not a live one)."""
        for done in [s for s in self._open if s < second]:
            bucket = self._open.pop(done)
            self._closed[done] = _freeze(bucket)

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def errors(self) -> int:
        return sum(n for kind, n in self.outcomes.items() if not success_key(kind))

    @property
    def goodput(self) -> float:
        """Successful / total, as a fraction (1.0 when nothing was sent)."""
        total = self.requests
        return (total - self.errors) / total if total else 1.0

    def last_second(self, now: float) -> dict[str, Any] | None:
        """The latest complete second before `now` (for the live progress line)."""
        self.close_before(int(now))
        previous = int(now) - 1
        return self._closed.get(previous)

    def series(self) -> list[dict[str, Any]]:
        """One row per second from 0 to the last one: t, requests, errors, p50/p95/p99 (ms)."""
        self.close_before(1 << 62)
        if not self._closed:
            return []
        last = max(self._closed)
        empty = {"requests": 0, "errors": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}
        return [
            {"t": s} | {k: v for k, v in self._closed.get(s, empty).items() if k != "histogram"}
            for s in range(last + 1)
        ]

    def errors_by_kind(self) -> dict[str, int]:
        return {kind: n for kind, n in sorted(self.outcomes.items()) if not success_key(kind)}

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "goodput": round(self.goodput, 6),
            "dropped": self.dropped,
            "late": self.late,
            "outcomes": dict(sorted(self.outcomes.items())),
            "errors_by_kind": self.errors_by_kind(),
            "latency_us": self.latency.summary(),
        }

    def to_state(self) -> dict[str, Any]:
        """Everything needed to merge this recorder into another one (JSON-safe)."""
        self.close_before(1 << 62)
        return {
            "latency": self.latency.encode(),
            "outcomes": dict(self.outcomes),
            "dropped": self.dropped,
            "late": self.late,
            "seconds": {str(s): row for s, row in self._closed.items()},
        }

    def merge(self, state: dict[str, Any]) -> None:
        """Add another recorder's `to_state()` (same start time) into this one."""
        self.close_before(1 << 62)
        self.latency.add_encoded(state["latency"])
        self.outcomes.update(state["outcomes"])
        self.dropped += state["dropped"]
        self.late += state["late"]
        for key, row in state["seconds"].items():
            second = int(key)
            mine = self._closed.get(second)
            if mine is None:
                self._closed[second] = dict(row)
                continue
            bucket = _Second(mine["requests"] + row["requests"], mine["errors"] + row["errors"])
            bucket.histogram.add_encoded(mine["histogram"])
            bucket.histogram.add_encoded(row["histogram"])
            self._closed[second] = _freeze(bucket)


def success_key(kind: str) -> bool:
    """Whether a recorded outcome key (an HTTP status as text, or an MQTT outcome) is a success."""
    return is_success(int(kind)) if kind.isdigit() else is_success(kind)


def _freeze(bucket: _Second) -> dict[str, Any]:
    h = bucket.histogram
    return {
        "requests": bucket.requests,
        "errors": bucket.errors,
        "p50_ms": round(h.percentile(50) / 1000, 3) if h.count else None,
        "p95_ms": round(h.percentile(95) / 1000, 3) if h.count else None,
        "p99_ms": round(h.percentile(99) / 1000, 3) if h.count else None,
        "histogram": h.encode(),
    }
