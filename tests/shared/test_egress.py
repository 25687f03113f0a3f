"""Outbound calls to users' targets (shared.egress): non-public addresses refused, every resolved
address checked, the connection made to the checked address (a second DNS answer cannot swap
it), STRATUS_ALLOW_PRIVATE_TARGETS=1 allowing them; and the functions that call out (notify's
webhooks, inference's remote models, the rules and detectors APIs) refusing them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from functions.detectors.service import Detectors
from functions.inference.service import RemoteScorer
from functions.notify.service import DeliveryFailed, Notifier
from functions.rules.service import Rules
from shared import egress
from shared.directory import device_path, new_id, sensor_path
from shared.errors import ValidationError
from shared.inference.remote import RemoteModelFailed
from shared.inference.scoring import Scoring
from shared.store import Store
from tests.support.http_server import serving
from tests.support.memory_bus import MemoryBus


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
        ("100.100.100.200", "not a public"), ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"), ("2002:7f00:1::1", "loopback"),
        ("8.8.8.8", None), ("2606:4700:4700::1111", None),
    ],
)  # fmt: skip
def test_which_addresses_are_refused(address: str, refused: str | None) -> None:
    why = egress.refusal(ipaddress.ip_address(address))
    assert (why is None) if refused is None else (why is not None and refused in why)


def test_every_resolved_address_is_checked() -> None:
    egress.check_url("https://hooks.example/x", lookup=lambda h, p: ["8.8.8.8", "1.1.1.1"])
    with pytest.raises(egress.TargetRefused, match=r"resolves to 10\.0\.0\.7, a private"):
        egress.check_url("https://hooks.example/x", lookup=lambda h, p: ["8.8.8.8", "10.0.0.7"])
    with pytest.raises(egress.TargetRefused, match=r"169\.254\.169\.254 a link-local"):
        egress.check_url("http://169.254.169.254/computeMetadata/v1/")

    def unknown(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    egress.check_url("https://not-yet.example/x", lookup=unknown)  # checked when connecting


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    do_GET = do_POST

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def local() -> Iterator[int]:
    """A web server on 127.0.0.1 (in process), its port."""
    with serving(_Hook) as url:
        yield int(url.rsplit(":", 1)[1])


def test_the_guarded_client_refuses_local_targets_and_rebinding(local: int) -> None:
    guarded = egress.client(allow_private=False)
    with pytest.raises(egress.TargetRefused, match="loopback"):
        guarded.get(f"http://127.0.0.1:{local}/")
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # public when checked, local after
    rebinding = lambda host, port: next(answers)  # noqa: E731
    egress.check_url(f"http://rebind.example:{local}/", lookup=rebinding)
    with pytest.raises(egress.TargetRefused, match=r"resolves to 127\.0\.0\.1"):
        egress.client(allow_private=False, lookup=rebinding).get(f"http://rebind.example:{local}/")
    assert egress.client(allow_private=True).get(f"http://127.0.0.1:{local}/").status_code == 204


def test_the_connection_goes_to_the_checked_address(
    local: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host name is resolved once, by the guard, and the socket goes to that address: the
    system resolver is never asked (it does not know this name)."""
    monkeypatch.setattr(egress, "refusal", lambda address: None)  # let the local server stand in
    asked: list[tuple[str, int]] = []

    def lookup(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["127.0.0.1"]

    client = egress.client(allow_private=False, lookup=lookup)
    assert client.get(f"http://pinned.invalid:{local}/").status_code == 204
    assert asked == [("pinned.invalid", local)]


def test_notify_dead_letters_a_webhook_to_a_private_address_at_once(local: int) -> None:
    notifier = Notifier(
        None,  # type: ignore[arg-type]  # not read: the secret is given
        lambda: MemoryBus(),
        http=egress.client(allow_private=False),
        smtp=None,
        broker=lambda: None,
        topics=(),
        max_attempts=5,
        webhook_secret="s3cret",
    )
    change = {"id": "c1", "org": "o", "change": "opened", "at_ns": 5, "alert": {"id": "a"}}
    action = {"type": "webhook", "url": f"http://127.0.0.1:{local}/hook"}
    notification = {"id": "c1-0", "org": "o", "rule": "r", "action": action, "change": change}
    with pytest.raises(DeliveryFailed, match=r"webhook refused: 127\.0\.0\.1 a loopback"):
        notifier.deliver(notification, 1)  # the first attempt: no retry


def test_inference_parks_a_remote_model_on_a_private_address_at_once(
    store: Store, org: str, local: int
) -> None:
    detector = "9" * 20
    store.create(
        f"orgs/{org}/detectors/{detector}",
        {"name": "r", "device": "d" * 20, "sensor": "s" * 20, "kind": "remote",
         "threshold": 5.0, "enabled": True, "score_sensor": "1" * 20, "anomaly_sensor": "2" * 20,
         "params": {"url": f"http://127.0.0.1:{local}", "model": "m", "window": 1,
                    "output": "score", "input": "input-0", "timeout": 1.0}},
    )  # fmt: skip
    scorer = RemoteScorer(
        store, Scoring(store, lambda: MemoryBus()), egress.client(allow_private=False), 5
    )
    request = {"org": org, "detector": detector, "readings": [[1, 1.0]], "key": "k",
               "received_ns": 1}  # fmt: skip
    with pytest.raises(RemoteModelFailed, match=r"refused: 127\.0\.0\.1 a loopback"):
        scorer.handle(request, 1)


def test_the_apis_refuse_private_targets_unless_allowed(store: Store, org: str) -> None:
    webhook = {"name": "hot", "condition": "value > 1",
               "actions": [{"type": "webhook", "url": "http://127.0.0.1:9/hook"}]}  # fmt: skip
    with pytest.raises(ValidationError, match="loopback") as caught:
        Rules(store, lambda: MemoryBus()).create(org, webhook)
    assert caught.value.field == "actions[0].url"
    assert Rules(store, lambda: MemoryBus(), allow_private_targets=True).create(org, webhook)
    device, sensor = new_id(), new_id()
    store.create(device_path(org, device), {"name": "d"})
    store.create(sensor_path(org, device, sensor), {"name": "t", "mapping": {"type": "double"}})
    remote = {"name": "r", "device": device, "sensor": sensor, "kind": "remote", "threshold": 1,
              "params": {"url": "http://10.0.0.8:8080", "model": "m"}}  # fmt: skip
    with pytest.raises(ValidationError, match="private") as refused:
        Detectors(store).create(org, remote)
    assert refused.value.field == "params.url"
    assert Detectors(store, allow_private_targets=True).create(org, remote)["kind"] == "remote"
