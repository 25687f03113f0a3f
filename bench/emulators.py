"""`python -m bench emulators`: our Firestore and Pub/Sub emulators next to Google's, same sitting.

Per service and emulator: start-up to the first answered request (median of `starts`), resident
memory of the whole process group (idle after start, peak after the load), throughput through
the official clients (Firestore: commits and queries; Pub/Sub: publish, pull + ack, streaming
pull), and how many of 100 confirmed commits or messages survive a `kill -9` and a restart on the
same data directory. The ratios are ours against Google's measured in this run.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.emulator_servers import Server, Service, Vendor, group_memory, start

__all__ = ["measure", "section", "splice"]

THREADS = 8  # concurrent official-client callers for the Firestore rows
SURVIVORS = 100  # commits / messages written before the kill -9
HEADING = "## Emulators side by side: ours and Google's"


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    """The Google clients read *_EMULATOR_HOST when they are built."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _rate(count: int, work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return count / (time.perf_counter() - began)


# Firestore -----------------------------------------------------------------------------------


def _firestore_client(server: Server) -> Any:
    from google.cloud import firestore

    with _env("FIRESTORE_EMULATOR_HOST", server.address):
        return firestore.Client(project="bench-emulators")


def _firestore_load(server: Server, scale: float) -> dict[str, float]:
    from google.cloud.firestore_v1.base_query import FieldFilter

    client = _firestore_client(server)
    docs = client.collection("readings")
    commits, queries = max(20, int(2000 * scale)), max(10, int(500 * scale))

    def write(i: int) -> None:
        docs.document(f"d{i:06d}").set({"n": i, "value": i * 0.5, "sensor": f"s{i % 10}"})

    def query(i: int) -> None:
        found = docs.where(filter=FieldFilter("n", ">=", i % commits)).order_by("n").limit(20)
        list(found.stream())

    with ThreadPoolExecutor(THREADS) as pool:
        commit_rate = _rate(commits, lambda: list(pool.map(write, range(commits))))
        query_rate = _rate(queries, lambda: list(pool.map(query, range(queries))))
    client.close()
    return {"commits/s": commit_rate, "queries/s": query_rate}


def _firestore_write(server: Server) -> None:
    client = _firestore_client(server)
    for i in range(SURVIVORS):
        client.collection("durable").document(f"d{i}").set({"n": i})
    client.close()


def _firestore_count(server: Server) -> int:
    client = _firestore_client(server)
    count = len(list(client.collection("durable").stream()))
    client.close()
    return count


# Pub/Sub -------------------------------------------------------------------------------------


@contextmanager
def _pubsub_clients(server: Server) -> Iterator[tuple[Any, Any]]:
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # no py.typed

    with _env("PUBSUB_EMULATOR_HOST", server.address):
        publisher = pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.01)
        )
        subscriber = pubsub_v1.SubscriberClient()
    try:
        yield publisher, subscriber
    finally:
        publisher.transport.close()
        subscriber.close()


def _drain(subscriber: Any, sub: str, want: int, batch: int = 1000) -> int:
    """Pull + acknowledge until `want` messages came (or nothing is left); how many came."""
    seen: set[str] = set()
    empty = 0
    while len(seen) < want and empty < 3:
        got = subscriber.pull(
            request={"subscription": sub, "max_messages": batch, "return_immediately": True},
            timeout=30,
        ).received_messages
        empty = 0 if got else empty + 1
        if got:
            seen.update(m.message.message_id for m in got)
            subscriber.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in got])
    return len(seen)


def _pubsub_load(server: Server, scale: float) -> dict[str, float]:
    import threading

    count = max(200, int(20000 * scale))
    body = b'{"device":"d1","readings":[{"n":"temperature","v":21.5}]}'
    with _pubsub_clients(server) as (publisher, subscriber):
        topic = "projects/bench-emulators/topics/readings"
        pulled, streamed = (
            f"projects/bench-emulators/subscriptions/{n}" for n in ("pull", "stream")
        )
        publisher.create_topic(name=topic)
        for sub in (pulled, streamed):
            subscriber.create_subscription(name=sub, topic=topic, ack_deadline_seconds=60)

        def publish() -> None:
            futures = [publisher.publish(topic, body, org="o1") for _ in range(count)]
            for future in futures:
                future.result(timeout=120)

        publish_rate = _rate(count, publish)
        pull_rate = _rate(count, lambda: _check(_drain(subscriber, pulled, count), count))
        received: set[str] = set()
        done = threading.Event()

        def callback(message: Any) -> None:
            received.add(message.message_id)
            message.ack()
            if len(received) >= count:
                done.set()

        began = time.perf_counter()
        future = subscriber.subscribe(streamed, callback)
        finished = done.wait(300)
        stream_rate = len(received) / (time.perf_counter() - began)
        future.cancel()
        future.result(timeout=60)  # the stream and its acks are done before the client closes
        _check(len(received) if finished else 0, count)
    return {"published/s": publish_rate, "pulled+acked/s": pull_rate, "streamed/s": stream_rate}


def _check(got: int, want: int) -> None:
    if got < want:
        raise RuntimeError(f"only {got} of {want} messages came back")


def _pubsub_write(server: Server) -> None:
    with _pubsub_clients(server) as (publisher, subscriber):
        topic = "projects/bench-emulators/topics/durable"
        publisher.create_topic(name=topic)
        subscriber.create_subscription(
            name="projects/bench-emulators/subscriptions/durable", topic=topic
        )
        futures = [publisher.publish(topic, f"m{i}".encode()) for i in range(SURVIVORS)]
        for future in futures:
            future.result(timeout=60)


def _pubsub_count(server: Server) -> int:
    from google.api_core import exceptions

    with _pubsub_clients(server) as (_, subscriber):
        try:
            return _drain(subscriber, "projects/bench-emulators/subscriptions/durable", SURVIVORS)
        except exceptions.NotFound:  # the subscription itself did not survive
            return 0


_LOAD = {"firestore": _firestore_load, "pubsub": _pubsub_load}
_WRITE = {"firestore": _firestore_write, "pubsub": _pubsub_write}
_COUNT = {"firestore": _firestore_count, "pubsub": _pubsub_count}


# the sitting ---------------------------------------------------------------------------------


def _one(vendor: Vendor, service: Service, root: Path, scale: float, starts: int) -> dict[str, Any]:
    times = []
    for attempt in range(starts):
        server, seconds = start(vendor, service, root / f"{vendor}-{service}-{attempt}")
        times.append(seconds)
        if attempt < starts - 1:
            server.stop()
    try:
        idle, _ = group_memory(server)
        figures: dict[str, Any] = {"start-up s": statistics.median(times), "idle RSS MiB": idle}
        figures.update(_LOAD[service](server, scale))
        figures["peak RSS MiB"] = group_memory(server)[1]
    finally:
        server.stop()
    durable, _ = start(vendor, service, root / f"{vendor}-{service}-durable")
    try:
        _WRITE[service](durable)
    finally:
        durable.kill()
    durable, _ = start(vendor, service, durable.data)
    try:
        figures["survive kill -9"] = _COUNT[service](durable)
    finally:
        durable.stop()
    return figures


def measure(
    services: tuple[Service, ...] = ("firestore", "pubsub"),
    vendors: tuple[Vendor, ...] = ("ours", "google"),
    scale: float = 1.0,
    starts: int = 3,
) -> dict[str, Any]:
    """Every figure for every service and emulator, measured now, one after the other."""
    from bench.report import machine

    result: dict[str, Any] = {"machine": machine(), "scale": scale, "starts": starts}
    with tempfile.TemporaryDirectory(prefix="bench-emulators-") as tmp:
        for service in services:
            result[service] = {v: _one(v, service, Path(tmp), scale, starts) for v in vendors}
    result["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return result


# the report ----------------------------------------------------------------------------------

_LOWER_IS_BETTER = {"start-up s", "idle RSS MiB", "peak RSS MiB"}


def _cell(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    if name == "survive kill -9":
        return f"{int(value)} of {SURVIVORS}"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def _ratio(name: str, ours: float | None, google: float | None) -> str:
    if ours is None or google is None:
        return "-"
    if name == "survive kill -9":
        return "as durable" if ours == google else ("more durable" if ours > google else "less")
    better, worse = (google, ours) if name in _LOWER_IS_BETTER else (ours, google)
    return f"{better / worse:.2f}x" if worse else "-"


def section(result: dict[str, Any]) -> list[str]:
    """The BENCHMARKS.md section: one table, ratios > 1 meaning ours is better."""
    from bench.report import machine_line

    info = result.get("machine") or {}
    load = f", load average at start {' '.join(info['loadavg'])}" if info.get("loadavg") else ""
    lines = [
        HEADING,
        "",
        f"`{result.get('command', 'python -m bench emulators')}` at {result.get('finished_at')},",
        f"scale {result['scale']}, on {machine_line(info) if info else 'this machine'}{load}.",
        "Each emulator is started as its users start it (`python -m emulator.<service>`; `gcloud",
        "beta emulators <service> start`), one after the other in the same sitting, and driven by",
        "the official clients (google-cloud-firestore, google-cloud-pubsub). Start-up: launch to",
        f"the first answered request, median of {result['starts']} starts. Memory: resident set of",
        "the emulator's whole process group (Google's: gcloud's Python wrapper and the JVM).",
        f"Firestore rows use {THREADS} client threads (2,000 commits, 500 queries at scale 1);",
        "Pub/Sub rows move 20,000 messages at scale 1 (publish with batching, pull + ack in",
        "batches of 1,000, `subscribe()` with acks). Survive kill -9: of 100 confirmed commits or",
        "messages, how many a restart on the same data directory still has (Google's Firestore",
        "emulator keeps nothing on disk). Last column: ours against Google's in this run, above 1",
        "when ours is better (for time and memory, lower is better).",
        "",
        "| service | measure | ours | Google's | ours vs Google's |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for service in ("firestore", "pubsub"):
        figures = result.get(service)
        if not figures:
            continue
        ours, google = figures.get("ours", {}), figures.get("google", {})
        for name in list(ours or google):
            a, b = ours.get(name), google.get(name)
            lines.append(
                f"| {service} | {name} | {_cell(name, a)} | {_cell(name, b)} | "
                f"{_ratio(name, a, b)} |"
            )
    return [*lines, ""]


def splice(document: str, lines: list[str], heading: str = HEADING) -> str:
    """`document` (BENCHMARKS.md) with the section under `heading` (the emulators' by default)
    replaced, or added before 'How to reproduce' (at the end when that heading is missing)."""
    text = "\n".join(lines)
    if heading in document:
        head, rest = document.split(heading, 1)
        after = rest.find("\n## ")
        return head + text + (rest[after + 1 :] if after >= 0 else "")
    marker = "## How to reproduce"
    if marker in document:
        head, rest = document.split(marker, 1)
        return head + text + "\n" + marker + rest
    return document.rstrip("\n") + "\n\n" + text
