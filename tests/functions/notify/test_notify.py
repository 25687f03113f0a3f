"""The notify core: webhook signatures (shared.notify.webhooks), the webhook call over httpx's
MockTransport, email to a real SMTP server (aiosmtpd), retry then dead-letter on the last attempt,
and actions that cannot succeed refused at once."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from aiosmtpd.controller import Controller

from functions.notify.service import DeliveryFailed, Notifier, SmtpSettings
from shared.errors import Unavailable, ValidationError
from shared.notify.webhooks import sign, verify
from shared.store.firestore import FirestoreStore

pytestmark = pytest.mark.process

CHANGE = {
    "id": "c1",
    "org": "o",
    "change": "opened",
    "at_ns": 5,
    "by": "rule",
    "alert": {"id": "a" * 20, "rule": "r" * 20, "device": "d", "sensor": "s", "value": 3.0},
}


def notification(action: dict[str, Any], org: str) -> dict[str, Any]:
    return {
        "id": "c1-0",
        "org": org,
        "rule": "r" * 20,
        "rule_name": "hot",
        "action": action,
        "change": {**CHANGE, "org": org},
    }


def notifier(
    store: FirestoreStore, handler: Any = None, smtp: SmtpSettings | None = None
) -> Notifier:
    client = httpx.Client(transport=httpx.MockTransport(handler or (lambda r: httpx.Response(204))))
    return Notifier(
        store,
        lambda: None,
        http=client,
        smtp=smtp,
        broker=lambda: None,  # type: ignore[arg-type,return-value]
        topics=(),
        max_attempts=3,
        webhook_secret="s3cret",
        clock=lambda: 1_800_000_000,
    )


def test_signatures_verify_and_refuse_replays_and_tampering() -> None:
    header = sign(b'{"a":1}', "k", 1000)
    assert verify(b'{"a":1}', header, "k", 1100)
    assert not verify(b'{"a":2}', header, "k", 1100)
    assert not verify(b'{"a":1}', header, "other", 1100)
    assert not verify(b'{"a":1}', header, "k", 1000 + 301)  # too old: a replay
    assert not verify(b'{"a":1}', "garbage", "k", 1000)


def test_a_webhook_is_signed(store: FirestoreStore, org: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    notifier(store, handler).deliver(notification({"type": "webhook", "url": "http://x/h"}, org), 1)
    (request,) = seen
    body = request.content
    assert verify(body, request.headers["x-stratus-signature"], "s3cret", 1_800_000_000)
    assert request.headers["x-stratus-event-id"] == "c1-0"
    assert orjson.loads(body)["alert"]["id"] == "a" * 20


def test_failures_retry_then_dead_letter(store: FirestoreStore, org: str) -> None:
    failing = notifier(store, lambda r: httpx.Response(503))
    action = notification({"type": "webhook", "url": "http://x/h"}, org)
    with pytest.raises(Unavailable, match="answered 503"):
        failing.deliver(action, 2)
    with pytest.raises(DeliveryFailed, match="attempt 3 of 3"):
        failing.deliver(action, 3)


def test_what_cannot_succeed_is_refused_at_once(store: FirestoreStore, org: str) -> None:
    plain = notifier(store)
    with pytest.raises(DeliveryFailed, match="not configured"):
        plain.deliver(notification({"type": "email", "to": ["a@b.cd"]}, org), 1)
    with pytest.raises(DeliveryFailed, match="not in the organisation"):
        plain.deliver(notification({"type": "command", "device": "d" * 20, "command": "x"}, org), 1)
    with pytest.raises(DeliveryFailed, match="not one actions may publish to"):
        plain.deliver(notification({"type": "publish", "topic": "telemetry-raw"}, org), 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, "id"),
        ([], "message"),
        ({**CHANGE, "org": 7}, "org"),
        ({**CHANGE, "change": ""}, "change"),
        ({**CHANGE, "alert": None}, "alert"),
        ({**CHANGE, "alert": {"id": "a" * 20}}, "alert"),
    ],
)
def test_a_malformed_change_is_refused_naming_the_field(
    store: FirestoreStore, change: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        notifier(store).fan_out(change)
    assert refused.value.field == field


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    got: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.append(envelope)
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, got
    controller.stop()


def test_email_reaches_the_smtp_server(
    store: FirestoreStore, org: str, smtp_server: tuple[int, list[Any]]
) -> None:
    port, got = smtp_server
    sender = notifier(store, smtp=SmtpSettings("127.0.0.1", port, "alerts@x.test"))
    sender.deliver(notification({"type": "email", "to": ["ops@x.test"], "subject": "Hot!"}, org), 1)
    (envelope,) = got
    assert envelope.rcpt_tos == ["ops@x.test"] and envelope.mail_from == "alerts@x.test"
    assert b"Subject: Hot!" in envelope.content
