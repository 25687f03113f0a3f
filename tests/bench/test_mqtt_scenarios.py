"""MQTT scenarios: the asyncio publisher against real Mosquitto brokers (acknowledged, refused,
no subscriber, bad login), the plain-broker baseline end to end, and the pure parts (broker
address, end-to-end figures, the polling, distinct timestamps across load processes)."""

import asyncio
import json
import os
import shutil
import subprocess
import threading

import pytest

from bench import profiles
from bench.cli import main
from bench.endpoints import broker_address
from bench.load import LoadConfig
from bench.metrics import Recorder, is_success
from bench.mqtt import Login, connected_client
from bench.mqtt_async import ConnectRefused, Publisher, split_address
from bench.mqtt_scenarios import MqttQos0, MqttQos1
from bench.registry import get, scenarios
from bench.scenario import Context
from bench.stored import end_to_end, published_readings, wait_for_count
from bench.stratus_api import SetupError
from emulator.process import free_port
from tests.support.waiting import listening, until

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _broker(tmp_path, config: str):
    """A Mosquitto with `config` on a free port; yields host:port."""
    port = free_port("127.0.0.1")
    conf = tmp_path / "m.conf"
    # run as root, Mosquitto drops to its own user before reading the ACL unless told not to
    conf.write_text(
        f"listener {port} 127.0.0.1\n{config}" + ("user root\n" if os.getuid() == 0 else "")
    )
    process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)
    if not until(lambda: listening("127.0.0.1", port), timeout=10):
        process.kill()
        raise RuntimeError(f"mosquitto did not listen on {port}")
    return process, f"127.0.0.1:{port}"


@pytest.fixture
def restricted(tmp_path):
    """Anonymous clients may subscribe to devices/# but publish only to open/#."""
    acl = tmp_path / "acl"
    acl.write_text("topic read devices/#\ntopic readwrite open/#\n")
    process, address = _broker(tmp_path, f"allow_anonymous true\nacl_file {acl}\n")
    yield address
    process.terminate()
    process.wait(10)


def _publish(address, topic, qos, count=3, username=None):
    async def go():
        publisher = await Publisher(address, username, "pw" if username else None).connect()
        try:
            return [await publisher.publish(topic, b'{"v": 1}', qos) for _ in range(count)]
        finally:
            await publisher.close()

    return asyncio.run(go())


@pytest.mark.load
def test_publisher_outcomes_on_a_real_broker(restricted):
    listener = connected_client(*split_address(restricted), Login(None, None, "x"))
    subscribed = threading.Event()
    listener.on_subscribe = lambda client, userdata, mid, reasons, props: subscribed.set()
    listener.subscribe("open/#", qos=1)
    assert subscribed.wait(10), "no SUBACK"  # from now on open/a has a subscriber
    try:
        assert _publish(restricted, "open/a", 1) == ["puback"] * 3
        assert _publish(restricted, "open/a", 0) == ["sent"] * 3
    finally:
        listener.disconnect()
        listener.loop_stop()
    refused = _publish(restricted, "devices/d1/events", 1, count=1)
    assert refused == ["puback-135 Not authorized"] and not is_success(refused[0])
    nobody = _publish(restricted, "open/nobody-listens", 1, count=1)
    assert nobody == ["puback-16 No matching subscribers"] and not is_success(nobody[0])


@pytest.mark.load
def test_a_refused_login_is_a_setup_error(tmp_path):
    process, address = _broker(tmp_path, "allow_anonymous false\n")
    try:
        with pytest.raises(ConnectRefused, match="someone@"):
            _publish(address, "open/a", 1, username="someone")
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.load
@pytest.mark.process  # run_plain starts its own Mosquitto and subscriber processes
@pytest.mark.parametrize("qos", [0, 1])
def test_plain_baseline_end_to_end(qos):
    from bench.mqtt_baseline import run_plain

    config = LoadConfig("http://unused", profiles.sprint(2, 1.0), progress=False,
                        options={"devices": "2", "batch": "3"})  # fmt: skip
    load = run_plain(qos, config)
    outcomes = load.recorder.outcomes
    assert set(outcomes) == {"puback" if qos else "sent"}
    e2e = load.e2e
    assert e2e["what"] == "received" and e2e["published"] == 3 * sum(outcomes.values())
    assert e2e["attempted"] == e2e["published"]
    if qos:
        assert e2e["received"] == e2e["published"] and e2e["lost"] == 0 and e2e["complete"]
    assert 0 < e2e["received"] <= e2e["published"]
    assert e2e["per_second"] > 0 and e2e["seconds"] > 0


def test_split_address():
    assert split_address("127.0.0.1:1884") == ("127.0.0.1", 1884)
    assert split_address("broker.example") == ("broker.example", 1883)
    assert split_address("[::1]:1883") == ("::1", 1883)
    with pytest.raises(ValueError, match="HOST:PORT"):
        split_address("host:port")


def test_broker_address_from_flag_or_the_targets_endpoints(tmp_path):
    target = "http://127.0.0.1:8080"
    assert broker_address("b:1", tmp_path, target) == "b:1"
    with pytest.raises(SetupError, match="--mqtt HOST:PORT"):
        broker_address(None, tmp_path, target)
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(json.dumps({"base_url": target + "/", "mqtt": "127.0.0.1:1999"}))
    assert broker_address(None, tmp_path, target) == "127.0.0.1:1999"
    with pytest.raises(SetupError, match="does not describe https://elsewhere"):
        broker_address(None, tmp_path, "https://elsewhere")
    endpoints.write_text(json.dumps({"base_url": target, "mqtt": None}))
    with pytest.raises(SetupError, match="without MQTT"):
        broker_address(None, tmp_path, target)


def test_run_without_a_broker_says_how_to_name_one(tmp_path):
    args = ["run", "--scenario", "mqtt-qos1", "--target", "http://127.0.0.1:9",
            "--data-dir", str(tmp_path), "--duration", "1", "--quiet"]  # fmt: skip
    with pytest.raises(SystemExit, match="STRATUS_BENCH_MQTT"):
        main(args)


def test_registered_with_their_qos_and_transport():
    assert isinstance(get("mqtt-qos1"), MqttQos1) and isinstance(get("mqtt-qos0"), MqttQos0)
    assert (MqttQos1.qos, MqttQos0.qos) == (1, 0)
    known = scenarios()
    assert known["mqtt-qos1"].transport == known["mqtt-qos0"].transport == "mqtt"
    assert known["ingest-single"].transport == "http"


def test_published_readings_count_only_successes():
    recorder = Recorder()
    for outcome in ("puback", "puback", "puback-135 Not authorized", "TimeoutError"):
        recorder.record(outcome, 0.001, 0.5)
    assert published_readings(recorder, 5) == 10
    assert recorder.errors_by_kind() == {"TimeoutError": 1, "puback-135 Not authorized": 1}


def test_end_to_end_figures():
    e2e = end_to_end(100, 110, 90, 1000.0, 1004.5, 2.0, "stored")
    assert e2e["stored"] == 90 and e2e["lost"] == 10 and not e2e["complete"]
    assert e2e["seconds"] == 4.5 and e2e["per_second"] == 20.0
    assert end_to_end(10, 10, 12, 0.0, 1.0, 0.0, "stored")["lost"] == 0  # redelivered extras


class _Script:
    """Counts to return one after the other, and a clock advanced by each count."""

    def __init__(self, counts):
        self.counts, self.now = list(counts), 0.0

    async def count(self):
        self.now += 1.0
        return self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]

    def clock(self):
        return self.now


@pytest.mark.parametrize(
    ("counts", "expected", "final", "seen_at"),
    [
        ([0, 5, 10], 10, 10, 3.0),  # reaches the expected count
        ([0, 4, 4, 4, 4, 4, 4], 10, 4, 2.0),  # stops growing: idle after 3 s
        (list(range(100)), 1000, 7, 8.0),  # keeps growing: the limit ends it
    ],
)
def test_wait_for_count(counts, expected, final, seen_at):
    script = _Script(counts)
    got = asyncio.run(
        wait_for_count(script.count, expected, poll=0, idle=3, limit=8, clock=script.clock)
    )
    assert got == (final, seen_at)


def test_timestamps_are_distinct_across_load_processes():
    seen = set()
    for worker in range(3):
        scenario = MqttQos1()
        ctx = Context(None, None, "x", worker=worker, workers=3)
        stamps = [scenario._stamp(ctx) for _ in range(1000)]
        assert stamps == sorted(stamps) and all(s % 3 == worker for s in stamps)
        seen.update(stamps)
    assert len(seen) == 3000
