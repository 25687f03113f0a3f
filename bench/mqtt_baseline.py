"""The MQTT baseline: the same publishing load against a plain Mosquitto (anonymous, no
persistence, started on a free port) with one plain paho subscriber in a process of its own
standing where the bridge stands; its end-to-end figure is messages received per second."""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import paho.mqtt.client as mqtt

from bench.load import LoadConfig, LoadResult
from bench.metrics import Recorder
from bench.mqtt import Login, connected_client, plain_mosquitto
from bench.mqtt_scenarios import Publishing
from bench.scenario import Context, Scenario
from bench.stored import end_to_end, published_readings, wait_for_count

__all__ = ["NAME", "PlainSubscriber", "run_plain"]

NAME = "plain Mosquitto + paho subscriber"


def _subscribe(port: int, received: Any, ready: Any, stop: Any) -> None:
    """The subscriber process: count every message on devices/# (QoS 1) until told to stop."""

    def on_message(client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received.value += 1

    subscriber = connected_client(
        "127.0.0.1", port, Login(None, None, "x"), "bench-plain-subscriber"
    )
    subscriber.on_message = on_message
    subscribed = threading.Event()
    subscriber.on_subscribe = lambda *args: subscribed.set()
    subscriber.subscribe("devices/#", qos=1)
    subscribed.wait(10)
    ready.set()
    stop.wait()
    subscriber.disconnect()
    subscriber.loop_stop()


class PlainSubscriber:
    """A subscriber process on a plain broker; `count()` is what it received so far."""

    def __init__(self, port: int) -> None:
        spawn = multiprocessing.get_context("spawn")
        self._received = spawn.Value("q", 0, lock=False)  # one writer; reads may lag, never tear
        self._ready, self._stop = spawn.Event(), spawn.Event()
        self._process = spawn.Process(
            target=_subscribe, args=(port, self._received, self._ready, self._stop), daemon=True
        )

    def start(self, timeout: float = 30.0) -> PlainSubscriber:
        self._process.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("the baseline subscriber did not subscribe")
        return self

    def count(self) -> int:
        return int(self._received.value)

    def stop(self) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)


class PlainPublish(Publishing, Scenario):
    """The platform scenario's publishing load, anonymous, against the plain broker."""

    name = "mqtt-plain"
    description = "MQTT publish to a plain Mosquitto (the MQTT baseline)"
    _LOCAL: ClassVar[tuple[str, ...]] = ("_publishers", "_subscriber")

    def __init__(self, qos: int, subscriber: PlainSubscriber | None = None) -> None:
        super().__init__()
        self.qos = qos  # type: ignore[misc]
        self._subscriber = subscriber

    def _login(self, device: dict[str, Any]) -> tuple[str | None, str | None]:
        return None, None

    async def setup(self, ctx: Context) -> None:
        ctx.state["devices"] = [
            {"id": f"plain-{n}", "sensors": [f"plain-{n}-s"], "token": None}
            for n in range(ctx.option("devices", 10))
        ]

    async def verify(
        self, ctx: Context, recorder: Recorder, started_at: float
    ) -> dict[str, Any] | None:
        if self._subscriber is None:
            return None
        subscriber = self._subscriber
        batch = ctx.option("batch", 1)
        published = published_readings(recorder, 1)  # messages: the subscriber counts those

        async def received() -> int:
            return subscriber.count()

        began = time.time()
        arrived, arrived_at = await wait_for_count(
            received, published, idle=ctx.option("e2e_idle", 15.0),
            limit=ctx.option("e2e_wait", 60.0),
        )  # fmt: skip
        # one message carries `batch` readings: report readings, like the platform's figure
        return end_to_end(
            published * batch, recorder.requests * batch, arrived * batch, started_at,
            arrived_at, time.time() - began, "received",
        )  # fmt: skip


@contextmanager
def _plain_broker() -> Iterator[tuple[int, PlainSubscriber]]:
    with plain_mosquitto(0) as port:
        subscriber = PlainSubscriber(port).start()
        try:
            yield port, subscriber
        finally:
            subscriber.stop()


def run_plain(qos: int, config: LoadConfig, processes: int = 1) -> LoadResult:
    """The same profile and options as `config`, published to a fresh plain broker."""
    from bench.parallel import run_processes

    with _plain_broker() as (port, subscriber):
        plain = dataclasses.replace(
            config, mqtt=f"127.0.0.1:{port}", password=None, target="http://127.0.0.1:9"
        )
        return run_processes(PlainPublish(qos, subscriber), plain, processes)
