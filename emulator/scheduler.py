"""The emulator's clock: publishes a tick on `schedule-<function>` for every `schedule` event of
the manifest when it is due, as Cloud Scheduler (Pub/Sub target) does in the cloud.

`python -m emulator.scheduler --manifest serverless.yml --project P [--ready-file F]`, with
PUBSUB_EMULATOR_HOST set. A tick's data is `{"function", "schedule", "scheduled_ns"}`.
STRATUS_SCHEDULE_SCALE (default 1) multiplies every `rate(...)` interval: tests run
`rate(1 minute)` every 3 s with 0.05. Cron schedules are not scaled.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from emulator.process import die_with_parent
from shared.manifest import ScheduleSpec, load

__all__ = ["Due", "main", "next_due"]

_log = logging.getLogger("stratus.scheduler")


@dataclass
class Due:
    """A schedule and the wall-clock time (s) of its next tick."""

    spec: ScheduleSpec
    at: float


def next_due(spec: ScheduleSpec, after: float, scale: float = 1.0) -> float:
    """The first tick strictly after `after` (seconds since the epoch)."""
    if spec.interval_seconds is not None:
        return after + spec.interval_seconds * scale
    from croniter import croniter

    assert spec.cron is not None
    return float(croniter(spec.cron, after).get_next(float))


def run(
    schedules: list[ScheduleSpec],
    publish: Callable[[str, bytes, dict[str, str]], Any],
    stop: threading.Event,
    *,
    scale: float = 1.0,
    clock: Callable[[], float] = time.time,
) -> None:
    """Publish each schedule's ticks until `stop` is set; a failed publish is logged and the
    schedule goes on (the next tick comes)."""
    now = clock()
    dues = [Due(spec, next_due(spec, now, scale)) for spec in schedules]
    while dues and not stop.is_set():
        soonest = min(dues, key=lambda due: due.at)
        if stop.wait(max(0.0, soonest.at - clock())):
            return
        data = {
            "function": soonest.spec.function,
            "schedule": soonest.spec.expression,
            "scheduled_ns": int(soonest.at * 1e9),
        }
        try:
            publish(soonest.spec.topic, orjson.dumps(data), {"schedule": soonest.spec.expression})
        except Exception:
            _log.exception("tick of %s not published", soonest.spec.function)
        soonest.at = next_due(soonest.spec, max(soonest.at, clock() - 1), scale)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator.scheduler", description=__doc__)
    parser.add_argument("--manifest", default=os.environ.get("STRATUS_MANIFEST", "serverless.yml"))
    parser.add_argument("--project", default=os.environ.get("STRATUS_PROJECT", "stratus-local"))
    parser.add_argument("--ready-file", default="")
    args = parser.parse_args(argv)
    die_with_parent()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(message)s")
    schedules = load(args.manifest).schedules
    scale = float(os.environ.get("STRATUS_SCHEDULE_SCALE") or 1.0)
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # no py.typed

    publisher = pubsub_v1.PublisherClient()

    def publish(topic: str, data: bytes, attributes: dict[str, str]) -> None:
        path = publisher.topic_path(args.project, topic)
        publisher.publish(path, data, **attributes).result(timeout=30)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.ready_file:
        Path(args.ready_file).write_text("ready")
    _log.info("%d schedule(s), rate scale %g", len(schedules), scale)
    try:
        run(schedules, publish, stop, scale=scale)
        stop.wait()
    finally:
        publisher.stop()


if __name__ == "__main__":
    main()
