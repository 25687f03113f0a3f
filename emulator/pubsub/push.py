"""Push subscriptions: deliver each message as Eventarc delivers Pub/Sub to Cloud Run.

One asyncio task per push subscription leases due messages and POSTs them concurrently (up to
IN_FLIGHT per subscription) through one shared httpx.AsyncClient: a CloudEvent in binary mode
whose body is the Pub/Sub push body. A 2xx answer acknowledges; anything else, a connection error
or no answer within the ack deadline retries after an exponential backoff between the retry
policy's minimum and maximum (10 s and 600 s when unset); past max_delivery_attempts the broker
moves the message to the dead-letter topic. Leases are stored, so after a restart the messages
that were in flight are pushed again once their lease ends.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import Any

import httpx
import orjson

from emulator.pubsub.broker import Broker
from emulator.pubsub.delivery import Lease, Subscription
from emulator.pubsub.http1 import Http1Pool
from emulator.pubsub.names import duration_seconds, rfc3339

__all__ = ["Pusher", "backoff", "push_request"]

_log = logging.getLogger("stratus.pubsub.push")

IN_FLIGHT = 64
WAKE = 0.5  # seconds: the longest a push loop sleeps before looking for due messages
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


def backoff(sub: Subscription, attempt: int) -> float:
    """Seconds before retrying after failed attempt number `attempt` (1, 2, ...)."""
    policy = sub.pb.retry_policy
    low = duration_seconds(policy.minimum_backoff) if policy.HasField("minimum_backoff") else 10
    high = duration_seconds(policy.maximum_backoff) if policy.HasField("maximum_backoff") else 600
    return float(min(high, low * 2 ** max(attempt - 1, 0)))


def push_request(sub: Subscription, lease: Lease) -> tuple[dict[str, str], bytes]:
    """Headers and body of the POST for one leased message."""
    row = lease.row
    published = rfc3339(row.publish_ns)
    message: dict[str, Any] = {
        "data": base64.b64encode(row.data).decode(),
        "attributes": orjson.loads(row.attributes),
        "messageId": str(row.msg),
        "message_id": str(row.msg),
        "publishTime": published,
        "publish_time": published,
    }
    if row.ordering_key:
        message["orderingKey"] = row.ordering_key
    body: dict[str, Any] = {"message": message, "subscription": sub.name}
    if sub.max_attempts:
        body["deliveryAttempt"] = lease.attempt
    headers = {
        "ce-specversion": "1.0",
        "ce-type": PUBLISHED,
        "ce-source": f"//pubsub.googleapis.com/{sub.pb.topic}",
        "ce-id": str(row.msg),
        "ce-time": published,
        "content-type": "application/json",
        "user-agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
    }
    return headers, orjson.dumps(body)


class Pusher:
    """Runs one delivery loop per push subscription, started and stopped as they change."""

    def __init__(self, broker: Broker, in_flight: int = IN_FLIGHT) -> None:
        self.broker = broker
        self.in_flight = in_flight
        self.loops: dict[str, asyncio.Task[None]] = {}
        self.client: httpx.AsyncClient | None = None  # https endpoints
        # http endpoints (the emulator's host): every subscription's pushes may be in flight at
        # once to the same host, so keep enough idle connections for several subscriptions
        self.plain = Http1Pool(max_idle=in_flight * 4)

    def start(self) -> None:
        self.client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            trust_env=False,  # pushes go to local endpoints: never through a proxy
        )
        self.broker.on_change = self._changed
        for sub in list(self.broker.subs.values()):
            self._changed(sub, True)

    async def stop(self) -> None:
        for task in self.loops.values():
            task.cancel()
        for task in list(self.loops.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.loops.clear()
        if self.client is not None:
            await self.client.aclose()
        await self.plain.close()

    def _changed(self, sub: Subscription, alive: bool) -> None:
        task = self.loops.get(sub.name)
        wanted = alive and bool(sub.pb.push_config.push_endpoint) and not sub.pb.detached
        if task is not None and (not wanted or task.done()):
            task.cancel()
            del self.loops[sub.name]
            task = None
        if wanted and task is None:
            self.loops[sub.name] = asyncio.get_running_loop().create_task(self._loop(sub))

    async def _loop(self, sub: Subscription) -> None:
        pending: set[asyncio.Task[None]] = set()
        try:
            while True:
                room = self.in_flight - len(pending)
                leases = []
                if room > 0:
                    # the lease outlasts the request's timeout: no second copy while one is out
                    leases = self.broker.take(sub, room, sub.pb.ack_deadline_seconds + 5)
                for lease in leases:
                    task = asyncio.create_task(self._deliver(sub, lease))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                if not leases or len(pending) >= self.in_flight:
                    await sub.signal.wait(WAKE)
                else:
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            for task in pending:
                task.cancel()
            raise
        except Exception:
            _log.exception("%s: push loop failed", sub.name)
            raise

    async def _deliver(self, sub: Subscription, lease: Lease) -> None:
        assert self.client is not None
        endpoint = sub.pb.push_config.push_endpoint
        headers, body = push_request(sub, lease)
        timeout = sub.pb.ack_deadline_seconds
        try:
            if endpoint.startswith("http://"):
                status = await self.plain.post(endpoint, body, headers, timeout)
            else:
                response = await self.client.post(
                    endpoint, content=body, headers=headers, timeout=timeout
                )
                status = response.status_code
            ok, reason = 200 <= status < 300, f"HTTP {status}"
        except (httpx.HTTPError, OSError, EOFError, TimeoutError, ValueError) as exc:
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        if self.broker.subs.get(sub.name) is not sub:
            return  # deleted meanwhile
        if ok:
            self.broker.acknowledge(sub.name, [lease.ack_id])
        else:
            delay = backoff(sub, lease.attempt)
            if sub.max_attempts and lease.attempt >= sub.max_attempts:
                delay = 0.0  # the next take() moves it to the dead-letter topic
            _log.info(
                "%s: push of %s failed (%s), attempt %d; retry in %.1f s",
                sub.name,
                lease.row.msg,
                reason,
                lease.attempt,
                delay,
            )
            self.broker.retry_later(sub, lease, delay)
        sub.signal.notify()
