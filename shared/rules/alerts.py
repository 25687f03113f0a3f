"""Alert documents and their lifecycle: open -> acknowledged -> resolved, with history.

One open (or acknowledged) alert per (rule, device, sensor): the rule's series state holds the id
of its unresolved alert and both documents change in one transaction. Every change appends to
the alert's `history`, writes one change document under `alert_events` (the live stream reads
those, in id order) and yields one `alert-changes` bus message (notifications).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.directory import new_id

__all__ = [
    "STATES",
    "AlertChange",
    "alert_path",
    "alert_view",
    "alerts_path",
    "change",
    "change_attributes",
    "events_path",
    "new_alert",
    "rule_path",
    "rules_path",
    "series_path",
    "transition",
]

STATES = ("open", "acknowledged", "resolved")
_CHANGE = {"open": "opened", "acknowledged": "acknowledged", "resolved": "resolved"}


def rules_path(org: str) -> str:
    return f"orgs/{org}/rules"


def rule_path(org: str, rule: str) -> str:
    return f"orgs/{org}/rules/{rule}"


def series_path(org: str, rule: str, device: str, sensor: str) -> str:
    """The window state of a rule on one sensor."""
    return f"orgs/{org}/rules/{rule}/series/{device}-{sensor}"


def alerts_path(org: str) -> str:
    return f"orgs/{org}/alerts"


def alert_path(org: str, alert: str) -> str:
    return f"orgs/{org}/alerts/{alert}"


def events_path(org: str) -> str:
    """Alert changes in order (document ids sort by time): what the live stream reads."""
    return f"orgs/{org}/alert_events"


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One change of one alert: the event document to write and the bus message to publish."""

    event_id: str
    data: dict[str, Any]


def change_attributes(data: Mapping[str, Any]) -> dict[str, str]:
    """The bus attributes of an `alert-changes` message (its data is the change record)."""
    alert = data["alert"]
    return {
        "org": data["org"],
        "change": data["change"],
        "alert": alert["id"],
        "rule": alert["rule"],
        "event_id": data["id"],
    }


def alert_view(alert_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """An alert as the API shows it."""
    keys = (
        "rule", "rule_name", "device", "sensor", "severity", "state", "opened_ns", "value",
        "acknowledged_ns", "acknowledged_by", "resolved_ns", "resolved_by", "updated_ns",
        "history",
    )  # fmt: skip
    return {"id": alert_id, **{key: data.get(key) for key in keys}}


def new_alert(
    *,
    rule: str,
    rule_name: str,
    device: str,
    sensor: str,
    severity: str,
    event_ns: int,
    now_ns: int,
    value: Any,
    series: str,
) -> tuple[str, dict[str, Any]]:
    """A fresh open alert: its id and document (opened at event time `event_ns`)."""
    data = {
        "rule": rule,
        "rule_name": rule_name,
        "device": device,
        "sensor": sensor,
        "severity": severity,
        "state": "open",
        "opened_ns": event_ns,
        "value": value,
        "acknowledged_ns": None,
        "acknowledged_by": None,
        "resolved_ns": None,
        "resolved_by": None,
        "updated_ns": now_ns,
        "series": series,
        "history": [{"state": "open", "at_ns": now_ns, "by": "rule", "value": value}],
    }
    return new_id(), data


def transition(
    data: dict[str, Any], state: str, *, now_ns: int, by: str, value: Any = None
) -> dict[str, Any]:
    """The alert's document after moving to `state` (acknowledged or resolved)."""
    out = dict(data)
    out["state"] = state
    out["updated_ns"] = now_ns
    out[f"{state}_ns"] = now_ns
    out[f"{state}_by"] = by
    entry = {"state": state, "at_ns": now_ns, "by": by}
    if value is not None:
        entry["value"] = value
    out["history"] = [*data.get("history", []), entry]
    return out


def change(org: str, alert_id: str, data: Mapping[str, Any]) -> AlertChange:
    """The change record of the alert's latest history entry."""
    latest = data["history"][-1]
    event_id = f"{latest['at_ns']:019d}-{alert_id}-{len(data['history']):03d}"
    body = {
        "id": event_id,
        "org": org,
        "change": _CHANGE[latest["state"]],
        "at_ns": latest["at_ns"],
        "by": latest["by"],
        "alert": alert_view(alert_id, data),
    }
    return AlertChange(event_id, body)
