"""MQTT scenarios: devices publish readings to `devices/{id}/events` on the platform's broker (QoS
0 or 1), then the readings are counted back through the query API (the end-to-end figure).

Setup creates `devices` devices with a sensor each through the API, like HTTP ingest, and reads
each device's token (`GET /api/devices/{id}/key`): a device logs in with username = its id,
password = its token. Every VU (or open-loop slot) is one publishing connection, opened before
the clock starts; VUs share the devices round-robin. Latency is publish -> PUBACK at QoS 1, and
publish -> packet written to the TCP socket at QoS 0 (there is no acknowledgement: it measures
the client, not the broker). Options: `devices` (10), `batch` readings per message (1: a
reference object; more: an array), `e2e_wait` (most seconds to wait for the readings to become
queryable, 60), `e2e_idle` (give up after this many seconds without a new reading, 15).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import orjson

from bench import stratus_api as api
from bench.metrics import Outcome
from bench.mqtt_async import Publisher
from bench.registry import register
from bench.scenario import AdminScenario, Context
from bench.stored import StoredReadings

__all__ = ["MqttQos0", "MqttQos1", "Publishing"]


class Publishing:
    """The publishing side shared by the platform scenarios and the plain-Mosquitto baseline."""

    qos: ClassVar[int] = 1
    transport = "mqtt"
    readings_per_request = 1

    def __init__(self) -> None:
        self._publishers: list[Publisher] = []
        self._last_stamp = 0

    _LOCAL: ClassVar[tuple[str, ...]] = ("_publishers",)  # not sent to worker processes

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in self._LOCAL}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self._publishers = []

    def _login(self, device: dict[str, Any]) -> tuple[str | None, str | None]:
        return device["id"], device["token"]

    async def open(self, ctx: Context) -> None:
        if not ctx.mqtt:
            raise api.SetupError("MQTT scenarios need the broker (--mqtt HOST:PORT)")
        devices = ctx.state["devices"]

        async def connect(vu: int) -> Publisher:
            device = devices[(vu * ctx.workers + ctx.worker) % len(devices)]
            username, password = self._login(device)
            publisher = Publisher(str(ctx.mqtt), username, password)
            return await publisher.connect(ctx.timeout)

        self._publishers = await api.each(range(ctx.vus), connect)

    async def close(self, ctx: Context) -> None:
        await asyncio.gather(*(p.close() for p in self._publishers), return_exceptions=True)
        self._publishers = []

    async def request(self, ctx: Context, vu: int) -> Outcome:
        publisher = self._publishers[vu % len(self._publishers)]
        devices = ctx.state["devices"]
        device = devices[(vu * ctx.workers + ctx.worker) % len(devices)]
        batch = ctx.option("batch", 1)
        sensor = device["sensors"][0]
        readings = [
            {"sensor_id": sensor, "timestamp": self._stamp(ctx), "value": n % 1000 / 10}
            for n in range(batch)
        ]
        payload = orjson.dumps(readings[0] if batch == 1 else readings)
        return await publisher.publish(
            f"devices/{device['id']}/events", payload, self.qos, ctx.timeout
        )

    def _stamp(self, ctx: Context) -> int:
        """Nanoseconds near now, strictly increasing in this process and distinct across the
        load processes (ts % workers == worker), so no two readings of a sensor share an instant
        (the store keeps one reading per instant)."""
        self._last_stamp = max(time.time_ns() // ctx.workers, self._last_stamp + 1)
        return self._last_stamp * ctx.workers + ctx.worker

    def costs(self, ctx: Context) -> dict[str, int]:
        batch = ctx.option("batch", 1)
        # upper bound: the bridge batches the messages of all devices into one bus message per
        # window and organisation
        return {"readings": batch, "bus_messages": 4, "store_reads": 0, "store_writes": batch}


class _PlatformMqtt(StoredReadings, Publishing, AdminScenario):
    devices = 10

    async def setup(self, ctx: Context) -> None:
        # the broker holds one connection per account (a second login with the same device id
        # ends the first): at least one device per connection
        wanted = max(ctx.option("devices", self.devices), ctx.vus)
        ctx.options["devices"] = str(wanted)
        await super().setup(ctx)


@register
class MqttQos1(_PlatformMqtt):
    """Readings published at QoS 1 as devices; latency publish -> PUBACK."""

    name = "mqtt-qos1"
    description = "MQTT publish to devices/{id}/events at QoS 1 (publish -> PUBACK)"
    qos = 1


@register
class MqttQos0(_PlatformMqtt):
    """Readings published at QoS 0 as devices; latency publish -> written to the socket."""

    name = "mqtt-qos0"
    description = "MQTT publish to devices/{id}/events at QoS 0 (publish -> socket write)"
    qos = 0
