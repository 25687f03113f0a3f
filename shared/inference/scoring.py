"""Scoring readings in a store transaction: detector state, derived series and anomaly events.

Per binding, the state document holds the detector's state, the keys of the last messages it
scored, the latest scored `ts` and whether the sensor is anomalous now. In one transaction the
readings of a message are scored in event-time order, the derived readings (`score`, `anomaly`)
are written as chunks of the derived sensors in the writer's layout (so the query API serves
them unchanged), and the anomaly events go to the state's outbox; they are published to
`anomalies` after the commit and then dropped from it. A redelivered message scores nothing again
and publishes what is left in its outbox. A reading at or before the latest scored `ts` is late:
a built-in detector scores it without learning from it; window models skip it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.bus import Bus
from shared.errors import Conflict, PreconditionFailed, Unavailable
from shared.inference.bindings import Binding
from shared.inference.detectors import BUILTIN_KINDS, step
from shared.inference.paths import detector_state_path
from shared.inference.states import StateCache
from shared.locks import KeyedLocks
from shared.outbox import publish_outbox
from shared.redelivery import pack_keys, unpack_keys
from shared.store import Store
from shared.telemetry.chunks import plan
from shared.telemetry.model import NormalizedMessage, Reading, Source
from shared.topics import ANOMALIES

__all__ = [
    "SEEN",
    "Output",
    "ScoreState",
    "Scoring",
    "StaleState",
    "WindowModel",
    "score_with_windows",
    "windows_for",
]

SEEN = 64
_ATTEMPTS = 10  # batches refused because another instance moved a state, before giving up
_BACKOFF_S = 0.002  # the wait before reading again grows to a random 0..2^attempt times this
WindowModel = Callable[[Binding, list[list[float]]], list[float]]  # windows -> scores


@dataclass
class ScoreState:
    detector: dict[str, Any] = field(default_factory=dict)
    last_ts: int = -1
    anomalous: bool = False
    seen: list[str] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> ScoreState:
        if not data:
            return cls()
        return cls(
            orjson.loads(data.get("detector") or b"{}"),
            int(data.get("last_ts", -1)),
            bool(data.get("anomalous")),
            unpack_keys(data.get("seen")),
            list(orjson.loads(data.get("outbox") or b"[]")),
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "detector": orjson.dumps(self.detector),
            "last_ts": self.last_ts,
            "anomalous": self.anomalous,
            "seen": pack_keys(self.seen[-SEEN:]),
            "outbox": orjson.dumps(self.outbox),
        }


@dataclass(frozen=True, slots=True)
class Output:
    ts: int
    value: float
    score: float


def _numeric(readings: Sequence[tuple[int, Any]]) -> list[tuple[int, float]]:
    """Numeric readings by time, one per instant (the last given wins)."""
    by_ts: dict[int, float] = {}
    for ts, value in readings:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            by_ts[ts] = float(value)
    return sorted(by_ts.items())


def windows_for(
    binding: Binding, state: ScoreState, readings: Sequence[tuple[int, Any]]
) -> tuple[list[tuple[int, float]], list[list[float]]]:
    """The fresh readings of a window model (after `state.last_ts`) and, for each that completes
    a window, the window ending with it."""
    fresh = [(ts, v) for ts, v in _numeric(readings) if ts > state.last_ts]
    history = [float(v) for v in state.detector.get("window", [])]
    windows: list[list[float]] = []
    for _, value in fresh:
        history = [*history, value][-binding.window :]
        if len(history) == binding.window:
            windows.append(history)
    return fresh, windows


def _score_builtin(
    binding: Binding, state: ScoreState, readings: Sequence[tuple[int, Any]]
) -> list[Output]:
    out = []
    for ts, value in _numeric(readings):
        score, new = step(binding.kind, state.detector, binding.params, ts, value)
        if ts > state.last_ts:
            state.detector, state.last_ts = new, ts
        if score is not None:
            out.append(Output(ts, value, score))
    return out


def score_with_windows(
    binding: Binding, state: ScoreState, readings: Sequence[tuple[int, Any]], scores: list[float]
) -> list[Output]:
    """Apply a window model's `scores` (one per window of `windows_for`) to the state."""
    fresh, windows = windows_for(binding, state, readings)
    if len(scores) != len(windows):
        raise ValueError(f"the model gave {len(scores)} scores for {len(windows)} windows")
    history = [float(v) for v in state.detector.get("window", [])]
    outputs, index = [], 0
    for ts, value in fresh:
        history = [*history, value][-binding.window :]
        if len(history) == binding.window:
            outputs.append(Output(ts, value, float(scores[index])))
            index += 1
    if fresh:
        state.detector = {"window": history}
        state.last_ts = fresh[-1][0]
    return outputs


class Scoring:
    """Scores bindings' readings in `store`, publishing anomaly events on `bus()`.

    One store round trip per message in the steady state: the states this process wrote last
    are kept with their versions (`StateCache`), and the message's derived chunks and new
    states go in one batch whose state writes are guarded by those versions (a `create` for a
    new state). If another instance moved a state meanwhile the batch applies nothing, the
    states are read again and the message is scored again."""

    def __init__(self, store: Store, bus: Callable[[], Bus], model: WindowModel | None = None):
        self.store = store
        self.bus = bus
        self.model = model  # for onnx bindings (in-process)
        self.locks = KeyedLocks()
        self.states = StateCache()

    def score(
        self,
        org: str,
        work: Sequence[tuple[Binding, Sequence[tuple[int, Any]]]],
        key: str,
        received_ns: int,
        *,
        scores: Mapping[str, list[float]] | None = None,
        expect: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Score every (binding, readings) of one message in one atomic batch; the anomaly
        events published. `scores` gives remote models' answers by binding id; `expect` the state
        versions they were computed on (a change meanwhile raises StaleState, to retry)."""
        paths = [detector_state_path(org, b.id) for b, _ in work]
        with self.locks.hold(f"{org}/{binding.id}" for binding, _ in work):
            for attempt in range(_ATTEMPTS):
                known = {} if expect is not None else self.states.get_many(paths)
                missing = [path for path in paths if path not in known]
                for path, document in zip(missing, self.store.get_many(missing), strict=True):
                    known[path] = (document.update_time, document.data) if document else None
                try:
                    pending, written = self._apply(
                        org, work, paths, known, key, received_ns, scores, expect
                    )
                except (PreconditionFailed, Conflict):
                    self.states.forget(paths)  # another instance moved a state: read again
                    time.sleep(random.uniform(0, _BACKOFF_S * 2**attempt))
                    continue
                break
            else:
                raise Unavailable(f"detector states of {org} kept changing; will retry")
        if pending:  # their outboxes are emptied below, in other versions
            self.states.forget([*written, *(path for path, _ in pending)])
            publish_outbox(self.store, self.bus(), ANOMALIES, pending, _attributes)
        return [event for _, event in pending]

    def _apply(
        self,
        org: str,
        work: Sequence[tuple[Binding, Sequence[tuple[int, Any]]]],
        paths: list[str],
        known: Mapping[str, tuple[Any, Mapping[str, Any]] | None],
        key: str,
        received_ns: int,
        scores: Mapping[str, list[float]] | None,
        expect: Mapping[str, Any] | None,
    ) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
        """Score on the `known` (version, data) states and commit the batch; (pending events,
        state paths written). PreconditionFailed or Conflict when a state moved meanwhile."""
        pending: list[tuple[str, dict[str, Any]]] = []
        derived: list[Reading] = []
        writes: list[tuple[str, ScoreState, Any]] = []
        for (binding, readings), path in zip(work, paths, strict=True):
            found = known[path]
            version = found[0] if found else None
            state = ScoreState.from_data(found[1] if found else None)
            if expect is not None and version != expect.get(binding.id):
                raise StaleState(binding.id)
            if key in state.seen:
                pending.extend((path, event) for event in state.outbox)
                continue
            state.seen = [*state.seen[-(SEEN - 1) :], key]
            outputs = self._outputs(binding, state, readings, scores)
            events = _events(org, binding, state, outputs)
            state.outbox.extend(events)
            pending.extend((path, event) for event in events)
            for out in outputs:
                derived.append(
                    Reading(binding.score_sensor, out.ts, out.score, "double", None, binding.device)
                )
                anomalous = out.score > binding.threshold
                derived.append(
                    Reading(binding.anomaly_sensor, out.ts, anomalous, "boolean", None,
                            binding.device)
                )  # fmt: skip
            writes.append((path, state, version))
        if not writes:
            return pending, []
        batch = self.store.batch()
        if derived:
            message = NormalizedMessage(org, "", Source(f"score-{key}", "derived"), tuple(derived))
            for chunk in plan(message, received_ns):
                batch.set(chunk.path, chunk.data)
        for path, state, version in writes:  # the states last: commit() gives their version
            if version is None:
                batch.create(path, state.to_data())
            else:
                batch.update(path, state.to_data(), if_version=version)
        committed = batch.commit()
        for path, state, _ in writes:
            self.states.put(path, committed, state.to_data())
        return pending, [path for path, _, _ in writes]

    def _outputs(
        self,
        binding: Binding,
        state: ScoreState,
        readings: Sequence[tuple[int, Any]],
        scores: Mapping[str, list[float]] | None,
    ) -> list[Output]:
        if binding.kind in BUILTIN_KINDS:
            return _score_builtin(binding, state, readings)
        if scores is not None and binding.id in scores:
            return score_with_windows(binding, state, readings, scores[binding.id])
        if binding.kind != "onnx" or self.model is None:
            raise ValueError(f"no model to score detector {binding.id} ({binding.kind})")
        _, windows = windows_for(binding, state, readings)
        return score_with_windows(
            binding, state, readings, self.model(binding, windows) if windows else []
        )


class StaleState(Exception):
    """A remote score was computed on a state that changed meanwhile: compute it again."""


def _events(
    org: str, binding: Binding, state: ScoreState, outputs: list[Output]
) -> list[dict[str, Any]]:
    events = []
    for out in outputs:
        anomalous = out.score > binding.threshold
        if anomalous or state.anomalous:
            events.append({
                "id": f"{binding.id}-{out.ts}-{int(anomalous)}", "org": org,
                "device": binding.device, "sensor": binding.sensor, "detector": binding.id,
                "ts": out.ts, "value": out.value, "score": out.score,
                "threshold": binding.threshold, "anomaly": anomalous,
            })  # fmt: skip
        state.anomalous = anomalous
    return events


def _attributes(event: Mapping[str, Any]) -> dict[str, str]:
    return {
        "event": "anomaly",
        "org": event["org"],
        "device": event["device"],
        "detector": event["detector"],
        "anomaly": "true" if event["anomaly"] else "false",
    }
