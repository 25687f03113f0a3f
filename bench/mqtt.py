"""MQTT benchmark: readings stored per second end to end at QoS 1, next to the raw ceiling of the
same paho clients through a plain Mosquitto to a plain subscriber, measured in the same run.

`python -m bench.mqtt --help`. The MQTT baseline (`bench.mqtt_baseline`) reuses its plain broker
and its connected paho client.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

__all__ = ["Login", "Result", "connected_client", "plain_mosquitto", "publish_all", "raw_ceiling"]

INFLIGHT = 1000  # in-flight QoS 1 publishes across all publishers (paho stalls when unbounded)


@dataclass(frozen=True)
class Login:
    """One publishing client: who it is and the topic it publishes to."""

    username: str | None
    password: str | None
    topic: str
    sensor_id: str = "s"


@dataclass
class Result:
    """One measurement: `rate` is messages per second from the first publish to the last one
    received (or stored); `lost` counts messages that never arrived."""

    name: str
    messages: int
    seconds: float
    rate: float
    lost: int
    publish_seconds: float
    extra: dict[str, Any]


def connected_client(host: str, port: int, login: Login, client_id: str = "") -> mqtt.Client:
    """A paho MQTT 5 client connected to host:port (its network loop started in a thread)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if login.username is not None:
        client.username_pw_set(login.username, login.password)
    connected = threading.Event()
    client.on_connect = lambda c, u, f, reason, p: connected.set()
    client.connect(host, port, keepalive=60)
    client.loop_start()
    if not connected.wait(10):
        raise RuntimeError(f"{login.username or 'anonymous'} could not connect to {host}:{port}")
    return client


def payload(sensor_id: str, n: int, base_ns: int) -> bytes:
    """One reading in the reference format; distinct nanosecond timestamps per message."""
    return orjson.dumps({"sensor_id": sensor_id, "timestamp": base_ns + n, "value": n % 1000})


def publish_all(host: str, port: int, logins: Sequence[Login], per_client: int) -> float:
    """Every login publishes `per_client` readings at QoS 1, in parallel, at most INFLIGHT
    unacknowledged in total; returns when the broker acknowledged them all (seconds taken)."""
    window = threading.Semaphore(INFLIGHT)
    clients = [connected_client(host, port, login) for login in logins]
    done = threading.Event()
    remaining = [per_client * len(logins)]
    lock = threading.Lock()

    def on_publish(client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        if reason.value >= 128:
            raise RuntimeError(f"broker refused a publish: {reason}")
        window.release()
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()

    base_ns = time.time_ns()

    def run(client: mqtt.Client, login: Login, index: int) -> None:
        for n in range(per_client):
            window.acquire()
            client.publish(login.topic, payload(login.sensor_id, n, base_ns + index), qos=1)

    for client in clients:
        client.on_publish = on_publish
    started = time.perf_counter()
    threads = [
        threading.Thread(target=run, args=(client, login, i * per_client * 10))
        for i, (client, login) in enumerate(zip(clients, logins, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.wait(600)
    elapsed = time.perf_counter() - started
    for client in clients:
        client.disconnect()
        client.loop_stop()
    return elapsed


@contextmanager
def plain_mosquitto(port: int) -> Iterator[int]:
    """A Mosquitto with no authentication and no persistence on `port` (0: a free one)."""
    from emulator.process import free_port

    port = port or free_port("127.0.0.1")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory() as home:
        conf = Path(home) / "plain.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n"
            "max_inflight_messages 1000\n"
        )
        process = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    connected_client("127.0.0.1", port, Login(None, None, "x")).disconnect()
                    break
                except (OSError, RuntimeError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            process.wait(10)


def _subscribe(port: int, total: int, ready: Any, result: Any) -> None:
    """In a process of its own (like the bridge): count messages, report the last one's time."""
    received = [0]
    all_in = threading.Event()

    def on_message(client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received[0] += 1
        if received[0] == total:
            all_in.set()

    subscriber = connected_client("127.0.0.1", port, Login(None, None, "x"), "bench-subscriber")
    subscriber.on_message = on_message
    subscriber.subscribe("devices/#", qos=1)
    time.sleep(0.2)
    ready.set()
    all_in.wait(max(60.0, total / 500))
    result.put((received[0], time.time()))
    subscriber.disconnect()
    subscriber.loop_stop()


def raw_ceiling(messages: int, publishers: int, port: int = 0) -> Result:
    """Paho publishers -> plain Mosquitto -> one paho subscriber (another process) at QoS 1."""
    per_client = messages // publishers
    total = per_client * publishers
    context = multiprocessing.get_context("spawn")
    with plain_mosquitto(port) as port:
        ready, queue = context.Event(), context.Queue()
        process = context.Process(target=_subscribe, args=(port, total, ready, queue))
        process.start()
        if not ready.wait(30):
            raise RuntimeError("the benchmark subscriber did not start")
        logins = [Login(None, None, f"devices/p{i}/events") for i in range(publishers)]
        started = time.time()
        publish_seconds = publish_all("127.0.0.1", port, logins, per_client)
        received, finished = queue.get(timeout=max(120.0, total / 200))
        process.join(10)
    elapsed = finished - started
    return Result(
        "raw mosquitto (plain subscriber)", total, round(elapsed, 3), round(received / elapsed),
        total - received, round(publish_seconds, 3), {"publishers": publishers},
    )  # fmt: skip


def _print(results: list[Result], out: Callable[[str], Any] = print) -> None:
    ceiling = results[0].rate
    for result in results:
        share = f"{100 * result.rate / ceiling:.0f}% of ceiling" if ceiling else ""
        out(f"{result.name:40s} {result.messages:8d} msgs {result.seconds:8.2f} s "
            f"{result.rate:8.0f} msg/s  lost {result.lost}  {share}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mqtt", description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args(argv)
    results = [raw_ceiling(args.messages, args.publishers)]
    _print(results)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
