"""Scoring in one guarded batch per message: several instances (each with its own cache of the
states it wrote) scoring one detector agree with a single instance, count every message once,
and a redelivery to another instance changes nothing."""

from __future__ import annotations

import random
import threading

import pytest

from shared.inference.bindings import Binding
from shared.inference.detectors import validate_params
from shared.inference.paths import detector_state_path
from shared.inference.scoring import ScoreState, Scoring
from shared.store import Query, Store
from shared.telemetry.chunks import chunks_path, decode_readings
from tests.support.memory_bus import MemoryBus

D, S, SCORE, FLAG = "d" * 20, "s" * 20, "1" * 20, "2" * 20
SEC = 10**9


def _binding(org: str) -> Binding:
    params = validate_params("ewma", {"warmup": 3})
    return Binding("e" * 20, org, "e", D, S, "ewma", params, 4.0, True, SCORE, FLAG, 1)


def _message(n: int) -> list[tuple[int, float]]:
    return [((10 * n + i) * SEC, 20.0 + (i % 3)) for i in range(10)]


def _state(store: Store, org: str) -> ScoreState:
    document = store.get(detector_state_path(org, "e" * 20))
    assert document is not None
    return ScoreState.from_data(document.data)


def _derived(store: Store, org: str, sensor: str) -> list[tuple[int, object]]:
    chunks = store.query(Query(chunks_path(org, D, sensor))).documents
    return sorted(r for c in chunks for r in decode_readings(c.data["readings"]))


def test_instances_taking_turns_agree_with_one_instance(store: Store, org: str) -> None:
    binding, bus = _binding(org), MemoryBus()
    instances = [Scoring(store, lambda: bus), Scoring(store, lambda: bus)]
    for n in range(12):  # alternate: each batch finds the other instance moved the state
        instances[n % 2].score(org, [(binding, _message(n))], f"m{n}", n)
    alone, other_org = Scoring(store, lambda: bus), org + "x"
    other = _binding(other_org)
    for n in range(12):
        alone.score(other_org, [(other, _message(n))], f"m{n}", n)
    assert _state(store, org).detector == _state(store, other_org).detector
    assert _state(store, org).seen == [f"m{n}" for n in range(12)]
    assert _derived(store, org, SCORE) == _derived(store, other_org, SCORE)
    assert len(_derived(store, org, FLAG)) == 12 * 10 - 3  # warm-up of 3 readings


def test_a_redelivery_to_another_instance_changes_nothing(store: Store, org: str) -> None:
    binding, bus = _binding(org), MemoryBus()
    first, second = Scoring(store, lambda: bus), Scoring(store, lambda: bus)
    first.score(org, [(binding, _message(0))], "m0", 0)
    before = store.get(detector_state_path(org, binding.id))
    second.score(org, [(binding, _message(0))], "m0", 0)
    first.score(org, [(binding, _message(0))], "m0", 0)
    after = store.get(detector_state_path(org, binding.id))
    assert before is not None and after is not None and after.update_time == before.update_time
    assert len(_derived(store, org, SCORE)) == 10 - 3


@pytest.mark.parametrize("seed", [1, 2])
def test_concurrent_instances_count_every_message_once(store: Store, org: str, seed: int) -> None:
    binding, bus = _binding(org), MemoryBus()
    instances = [Scoring(store, lambda: bus) for _ in range(3)]
    order = list(range(30))
    random.Random(seed).shuffle(order)
    errors: list[BaseException] = []

    def work(share: list[int], scoring: Scoring) -> None:
        try:
            for n in share:
                scoring.score(org, [(binding, _message(n))], f"m{n}", n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(order[i::3], instances[i])) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(_state(store, org).seen) == sorted(f"m{n}" for n in range(30))
    flags = _derived(store, org, FLAG)
    assert len(flags) == len({ts for ts, _ in flags})  # each reading's verdict stored once
    assert _state(store, org).last_ts == 299 * SEC
