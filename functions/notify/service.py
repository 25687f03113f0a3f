"""Core of the notify function: an alert change becomes one `notifications` message per action of
its rule that wants that change; each message carries out one action (signed webhook, email over
SMTP, MQTT command to a device, publish to a topic). A failure is retried through the bus with
backoff; on the last attempt it is dead-lettered on `notifications-dead` with the reason."""

from __future__ import annotations

import logging
import secrets
import smtplib
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx
import orjson

from shared.broker import BrokerPublisher, command_topic
from shared.bus import Bus
from shared.deadletter import confirm
from shared.directory import device_path
from shared.egress import TargetRefused
from shared.errors import Conflict, Disposition, StratusError, Unavailable, ValidationError
from shared.notify.webhooks import SIGNATURE_HEADER, sign
from shared.rules.alerts import rule_path
from shared.store import Store
from shared.topics import NOTIFICATIONS

__all__ = ["DeliveryFailed", "Notifier", "SmtpSettings"]

_log = logging.getLogger("stratus.notify")


class DeliveryFailed(StratusError):
    """An action that cannot succeed (or failed its last attempt): park it with the reason."""

    status, code, disposition = 502, "delivery_failed", Disposition.DEAD_LETTER


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """STRATUS_SMTP_HOST, _PORT (25), _FROM, _USERNAME, _PASSWORD, _STARTTLS (no default login)."""

    host: str
    port: int = 25
    sender: str = "stratus@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False


def _checked_change(change: Any) -> tuple[str, Mapping[str, Any]]:
    """(org, alert) of an `alert-changes` record; a malformed one is refused (dead-lettered at
    once with the field that is wrong, instead of a 500 the bus would redeliver)."""
    if not isinstance(change, Mapping):
        raise ValidationError("an alert change must be a JSON object", field="message")
    for name in ("id", "org", "change"):
        if not isinstance(change.get(name), str) or not change[name]:
            raise ValidationError(f"alert change has no '{name}' string", field=name)
    alert = change.get("alert")
    if not isinstance(alert, Mapping) or not isinstance(alert.get("rule"), str):
        raise ValidationError("alert change has no 'alert' object naming its rule", field="alert")
    return change["org"], alert


class Notifier:
    """Fans alert changes out to actions and carries actions out."""

    def __init__(
        self,
        store: Store,
        bus: Callable[[], Bus],
        *,
        http: httpx.Client,
        smtp: SmtpSettings | None,
        broker: Callable[[], BrokerPublisher | None],
        topics: Collection[str],
        max_attempts: int,
        webhook_secret: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.bus, self.http, self.smtp = store, bus, http, smtp
        self.broker, self.topics, self.max_attempts = broker, topics, max_attempts
        self.webhook_secret, self.clock = webhook_secret, clock

    def fan_out(self, change: Mapping[str, Any]) -> int:
        """One `notifications` message per action of the change's rule that wants this change."""
        org, alert = _checked_change(change)
        rule = self.store.get(rule_path(org, str(alert["rule"])))
        if rule is None:
            return 0
        futures = []
        for index, action in enumerate(rule.data.get("actions") or []):
            if change["change"] not in action.get("on", ()):
                continue
            body = {
                "id": f"{change['id']}-{index}", "org": org, "rule": rule.id,
                "rule_name": rule.data.get("name"), "action": action, "change": change,
            }  # fmt: skip
            attributes = {"org": org, "action": str(action["type"]), "rule": rule.id}
            futures.append(self.bus().publish(NOTIFICATIONS, orjson.dumps(body), attributes))
        confirm(futures)
        return len(futures)

    def deliver(self, notification: Mapping[str, Any], attempt: int | None) -> None:
        """Carry out one action; errors retry, the last attempt's error dead-letters."""
        action = notification.get("action")
        if not isinstance(action, dict) or action.get("type") not in _KINDS:
            raise ValidationError("notification has no known action", field="action")
        try:
            _KINDS[action["type"]](self, notification, action)
        except DeliveryFailed:
            raise
        except TargetRefused as exc:  # a private address: retrying will not help
            raise DeliveryFailed(f"{action['type']} refused: {exc}") from None
        except Exception as exc:
            reason = f"{action['type']} failed: {type(exc).__name__}: {exc}"[:900]
            if attempt is not None and attempt >= self.max_attempts:
                raise DeliveryFailed(
                    f"{reason} (attempt {attempt} of {self.max_attempts})"
                ) from None
            _log.warning(
                "notification %s: %s (attempt %s)", notification.get("id"), reason, attempt
            )
            raise Unavailable(reason) from None

    def _payload(self, notification: Mapping[str, Any]) -> bytes:
        change = notification["change"]
        return orjson.dumps({"id": notification["id"], "rule": notification["rule"],
                             "rule_name": notification.get("rule_name"), "change": change["change"],
                             "at_ns": change["at_ns"], "alert": change["alert"]})  # fmt: skip

    def secret(self, org: str) -> str:
        """STRATUS_WEBHOOK_SECRET, else the organisation's secret (made on first use)."""
        if self.webhook_secret:
            return self.webhook_secret
        path = f"orgs/{org}/secrets/webhook"
        document = self.store.get(path)
        if document is None:
            try:
                now = datetime.fromtimestamp(self.clock(), UTC)
                self.store.create(path, {"secret": secrets.token_urlsafe(32), "created_at": now})
            except Conflict:
                pass
            document = self.store.get(path)
            assert document is not None
        return str(document.data["secret"])

    def webhook(self, notification: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        body = self._payload(notification)
        timestamp = int(self.clock())
        headers = {
            "content-type": "application/json",
            "x-stratus-event-id": str(notification["id"]),
            "x-stratus-timestamp": str(timestamp),
            SIGNATURE_HEADER: sign(body, self.secret(str(notification["org"])), timestamp),
        }
        response = self.http.post(str(action["url"]), content=body, headers=headers, timeout=10)
        if not 200 <= response.status_code < 300:
            raise ValueError(f"{action['url']} answered {response.status_code}")

    def email(self, notification: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        if self.smtp is None:
            raise DeliveryFailed("email is not configured (STRATUS_SMTP_HOST)")
        change, alert = notification["change"], notification["change"]["alert"]
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(action["to"])
        message["Subject"] = action.get("subject") or (
            f"[{alert.get('severity', 'alert')}] {notification.get('rule_name') or 'rule'}: "
            f"alert {change['change']}"
        )
        message["Message-ID"] = f"<{notification['id']}@stratus>"
        message.set_content(
            f"Alert {alert['id']} of rule {notification.get('rule_name')} ({notification['rule']}) "
            f"was {change['change']} by {change.get('by')}.\n\nDevice {alert.get('device')}, "
            f"sensor {alert.get('sensor')}, value {alert.get('value')!r}.\n"
        )
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=10) as smtp:
            if self.smtp.starttls:
                smtp.starttls()
            if self.smtp.username and self.smtp.password:
                smtp.login(self.smtp.username, self.smtp.password)
            smtp.send_message(message)

    def command(self, notification: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        org, device = str(notification["org"]), str(action["device"])
        if self.store.get(device_path(org, device)) is None:
            raise DeliveryFailed(f"device {device} is not in the organisation any more")
        broker = self.broker()
        if broker is None:
            raise DeliveryFailed("MQTT is off (STRATUS_MQTT_HOST): commands cannot be sent")
        broker.publish(
            command_topic(device, str(action["command"])), orjson.dumps(action.get("payload", {}))
        )

    def publish(self, notification: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        topic = str(action["topic"])
        if topic not in self.topics:
            raise DeliveryFailed(f"topic {topic!r} is not one actions may publish to")
        change = notification["change"]
        attributes = {
            "org": str(notification["org"]), "rule": str(notification["rule"]),
            "alert": str(change["alert"]["id"]), "change": str(change["change"]),
        }  # fmt: skip
        confirm([self.bus().publish(topic, self._payload(notification), attributes)])


_KINDS: dict[str, Callable[[Notifier, Mapping[str, Any], Mapping[str, Any]], None]] = {
    "webhook": Notifier.webhook,
    "email": Notifier.email,
    "command": Notifier.command,
    "publish": Notifier.publish,
}
