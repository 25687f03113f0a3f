"""The emulator's scheduler: when ticks are due and what it publishes (no process started)."""

from __future__ import annotations

import threading

import orjson

from emulator.scheduler import next_due, run
from shared.manifest import ScheduleSpec


def test_rate_and_cron_ticks() -> None:
    rate = ScheduleSpec("f", "rate(5 minutes)", "schedule-f", interval_seconds=300)
    assert next_due(rate, 1000.0) == 1300.0
    assert next_due(rate, 1000.0, scale=0.05) == 1015.0
    cron = ScheduleSpec("f", "cron(*/5 * * * *)", "schedule-f", cron="*/5 * * * *")
    assert next_due(cron, 1_790_000_001.0) == 1_790_000_100.0  # the next multiple of 5 minutes


def test_run_publishes_each_due_tick_until_stopped() -> None:
    now = [1000.0]
    published: list[tuple[str, dict[str, object]]] = []
    stop = threading.Event()

    class Clock:
        def __call__(self) -> float:
            return now[0]

    def publish(topic: str, data: bytes, attributes: dict[str, str]) -> None:
        published.append((topic, orjson.loads(data)))
        now[0] += 60
        if len(published) == 3:
            stop.set()

    spec = ScheduleSpec("deadman", "rate(1 minute)", "schedule-deadman", interval_seconds=60)
    original = stop.wait
    stop.wait = lambda timeout=None: original(0) if not stop.is_set() else True  # type: ignore[method-assign]
    run([spec], publish, stop, clock=Clock())
    assert [topic for topic, _ in published] == ["schedule-deadman"] * 3
    assert [body["scheduled_ns"] for _, body in published] == [
        1060 * 10**9,
        1120 * 10**9,
        1180 * 10**9,
    ]
    assert published[0][1]["schedule"] == "rate(1 minute)"
