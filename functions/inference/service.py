"""Core of the inference function: readings for remote models (from `inference-requests`) scored
over the Open Inference Protocol, then applied like in-process scores. A model that fails or
times out is retried through the bus; on the last attempt the request is dead-lettered on
`inference-dead` with the reason. The writer and the in-process scorer never wait for it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from shared.egress import TargetRefused
from shared.errors import Unavailable, ValidationError
from shared.inference.bindings import Binding
from shared.inference.paths import detector_path, detector_state_path
from shared.inference.remote import RemoteModelFailed, infer
from shared.inference.scoring import ScoreState, Scoring, StaleState, windows_for
from shared.store import Store

__all__ = ["RemoteScorer"]

_log = logging.getLogger("stratus.inference")
_RACES = 3


class RemoteScorer:
    """Scores one inference request."""

    def __init__(self, store: Store, scoring: Scoring, client: httpx.Client, max_attempts: int):
        self.store = store
        self.scoring = scoring
        self.client = client
        self.max_attempts = max_attempts

    def handle(self, request: Mapping[str, Any], attempt: int | None) -> list[dict[str, Any]]:
        for name in ("org", "detector", "readings", "key", "received_ns"):
            if name not in request:
                raise ValidationError(f"inference request has no {name!r}", field=name)
        org, detector = str(request["org"]), str(request["detector"])
        document = self.store.get(detector_path(org, detector))
        if document is None or not document.data.get("enabled", True):
            _log.info("detector %s of %s is gone or disabled; request dropped", detector, org)
            return []
        binding = Binding.from_document(org, detector, document.data)
        readings = [(int(ts), value) for ts, value in request["readings"]]
        key, received = str(request["key"]), int(request["received_ns"])
        for _ in range(_RACES):
            found = self.store.get(detector_state_path(org, detector))
            state = ScoreState.from_data(found.data if found else None)
            _, windows = windows_for(binding, state, readings)
            scores = (
                self._infer(binding, windows, attempt) if windows and key not in state.seen else []
            )
            try:
                return self.scoring.score(
                    org, [(binding, readings)], key, received,
                    scores={binding.id: scores},
                    expect={binding.id: found.update_time if found else None},
                )  # fmt: skip
            except StaleState:
                continue  # another request moved the state while the model ran: again
        raise Unavailable(f"the state of detector {detector} kept changing; retrying")

    def _infer(
        self, binding: Binding, windows: list[list[float]], attempt: int | None
    ) -> list[float]:
        try:
            return infer(self.client, binding, windows)
        except TargetRefused as exc:  # a private address: retrying will not help
            raise RemoteModelFailed(
                f"remote model {binding.params.get('model')} refused: {exc}", field="url"
            ) from None
        except (httpx.HTTPError, ValueError) as exc:
            reason = (
                f"remote model {binding.params.get('model')} failed: {type(exc).__name__}: {exc}"
            )
            if attempt is not None and attempt >= self.max_attempts:
                raise RemoteModelFailed(reason, field="model") from None
            raise Unavailable(reason) from None
