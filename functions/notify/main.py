"""Wiring of the notify function: `alert-changes` fan out to `notifications`, each carried out."""

from __future__ import annotations

import os
from functools import cache

from functions.notify.service import Notifier, SmtpSettings
from shared import clients, egress
from shared.deadletter import DeadLetters
from shared.entry import event_function
from shared.events import Message
from shared.settings import env_bool, env_int
from shared.topics import NOTIFICATIONS_DEAD, RULE_OUTPUT

__all__ = ["app", "event", "main"]


def _smtp() -> SmtpSettings | None:
    host = os.environ.get("STRATUS_SMTP_HOST", "").strip()
    if not host:
        return None
    return SmtpSettings(
        host=host,
        port=env_int(os.environ, "STRATUS_SMTP_PORT", 25, minimum=1),
        sender=os.environ.get("STRATUS_SMTP_FROM", "stratus@localhost"),
        username=os.environ.get("STRATUS_SMTP_USERNAME") or None,
        password=os.environ.get("STRATUS_SMTP_PASSWORD") or None,
        starttls=env_bool(os.environ, "STRATUS_SMTP_STARTTLS", False),
    )


@cache
def _notifier() -> Notifier:
    topics = os.environ.get("STRATUS_RULE_TOPICS", RULE_OUTPUT).split(",")
    return Notifier(
        clients.store(),
        clients.bus,
        http=egress.client(allow_private=egress.allowed(os.environ)),
        smtp=_smtp(),
        broker=clients.broker_publisher,
        topics={t.strip() for t in topics if t.strip()},
        max_attempts=env_int(os.environ, "STRATUS_NOTIFY_MAX_ATTEMPTS", 5, minimum=1),
        webhook_secret=os.environ.get("STRATUS_WEBHOOK_SECRET") or None,
    )


def handle(message: Message) -> None:
    """An `alert-changes` message (fan out) or a `notifications` one (attribute `action`)."""
    if "action" in message.attributes:
        _notifier().deliver(message.json(), message.delivery_attempt)
    else:
        _notifier().fan_out(message.json())


app, event, main = event_function(
    "notify",
    handle,
    dead_letter=DeadLetters(
        clients.bus,
        id_attribute="notification_message_id",
        stage="notify",
        topic=NOTIFICATIONS_DEAD,
    ),
)
