"""A rule as stored and as the API accepts it: selection, condition, `for`, severity, actions.

Bodies are validated field by field (400 naming the field, and for the condition the column);
references to devices, sensors and detectors are checked against the store by the rules function.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from shared.directory import DESCRIPTION_MAX, NAME_MAX, is_id, text_field
from shared.errors import ValidationError
from shared.rules.check import Checked, compile_condition
from shared.rules.syntax import ExpressionError

__all__ = [
    "ACTION_TYPES",
    "CHANGES",
    "SEVERITIES",
    "Rule",
    "Selection",
    "parse_duration_ns",
    "validate_rule",
]

SEVERITIES = ("info", "warning", "critical")
CHANGES = ("opened", "acknowledged", "resolved")
ACTION_TYPES = ("webhook", "email", "command", "publish")
MAX_ACTIONS = 10
MAX_SELECTED = 100
MAX_FOR_NS = 86400 * 10**9
_DURATION = re.compile(r"^(\d{1,9})(ms|s|m|h|d)$")
_UNITS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_COMMAND = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_FIELDS = {"name", "description", "select", "condition", "for", "severity", "enabled", "actions"}


def parse_duration_ns(raw: Any, field: str) -> int:
    """`"30s"`, `"5m"`, `"250ms"` or a number of seconds, as ns (0..1 day)."""
    if isinstance(raw, bool) or raw is None:
        raise ValidationError(f"{field} is a duration like 30s, 5m or 1h", field=field)
    if isinstance(raw, (int, float)):
        ns = int(raw * 10**9)
    else:
        match = _DURATION.match(str(raw).strip())
        if not match:
            raise ValidationError(f"{field} is a duration like 30s, 5m or 1h", field=field)
        ns = int(match.group(1)) * _UNITS[match.group(2)]
    if not 0 <= ns <= MAX_FOR_NS:
        raise ValidationError(f"{field} must be between 0 and 1d", field=field)
    return ns


@dataclass(frozen=True, slots=True)
class Selection:
    """Which readings a rule sees: sensors of the org (optionally limited to devices, to
    `device/sensor` references and to a glob over the sensor's tree path), or a detector's
    anomaly events."""

    devices: tuple[str, ...] = ()
    sensors: tuple[str, ...] = ()  # "device/sensor"
    path: str | None = None
    detector: str | None = None

    def matches(self, device: str, sensor: str, tree_path: str | None) -> bool:
        if self.detector is not None:
            return False
        if self.devices and device not in self.devices:
            return False
        if self.sensors and f"{device}/{sensor}" not in self.sensors:
            return False
        if self.path is not None:
            return tree_path is not None and fnmatch.fnmatchcase(tree_path, self.path)
        return True

    def to_data(self) -> dict[str, Any]:
        return {
            "devices": list(self.devices),
            "sensors": list(self.sensors),
            "path": self.path,
            "detector": self.detector,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Selection:
        return cls(
            tuple(data.get("devices") or ()),
            tuple(data.get("sensors") or ()),
            data.get("path"),
            data.get("detector"),
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """A stored rule, ready to evaluate."""

    id: str
    org: str
    name: str
    condition: Checked
    for_ns: int
    severity: str
    enabled: bool
    selection: Selection
    actions: tuple[dict[str, Any], ...]
    version: int
    created_ns: int

    @classmethod
    def from_document(cls, org: str, rule_id: str, data: Mapping[str, Any]) -> Rule:
        selection = Selection.from_data(data.get("select") or {})
        return cls(
            id=rule_id,
            org=org,
            name=str(data.get("name", "")),
            condition=compile_condition(
                str(data["condition"]), detector=selection.detector is not None
            ),
            for_ns=int(data.get("for_ns") or 0),
            severity=str(data.get("severity") or "warning"),
            enabled=bool(data.get("enabled", True)),
            selection=selection,
            actions=tuple(data.get("actions") or ()),
            version=int(data.get("version") or 1),
            created_ns=int(data.get("created_ns") or 0),
        )


def _id_list(raw: Any, field: str, *, refs: bool = False) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_SELECTED:
        raise ValidationError(f"{field} is a list of at most {MAX_SELECTED} ids", field=field)
    out = []
    for index, item in enumerate(raw):
        parts = item.split("/") if isinstance(item, str) else []
        ok = len(parts) == 2 and all(map(is_id, parts)) if refs else len(parts) == 1 and is_id(item)
        if not ok:
            what = "a 'device/sensor' reference" if refs else "a device id"
            raise ValidationError(f"{field}[{index}] is not {what}", field=f"{field}[{index}]")
        out.append(item)
    return tuple(dict.fromkeys(out))


def _selection(raw: Any) -> Selection:
    if not isinstance(raw, dict):
        raise ValidationError(
            'select is an object: {"devices"?, "sensors"?, "path"?} or {"detector"}',
            field="select",
        )
    unknown = sorted(set(raw) - {"devices", "sensors", "path", "detector"})
    if unknown:
        raise ValidationError(f"unknown field select.{unknown[0]}", field=f"select.{unknown[0]}")
    detector = raw.get("detector")
    if detector is not None:
        if not isinstance(detector, str) or not is_id(detector):
            raise ValidationError("select.detector is a detector id", field="select.detector")
        if any(raw.get(key) is not None for key in ("devices", "sensors", "path")):
            raise ValidationError(
                "a rule selects a detector's anomalies or sensors, not both", field="select"
            )
        return Selection(detector=detector)
    path = text_field(raw, "path", required=False, limit=256)
    return Selection(
        _id_list(raw.get("devices"), "select.devices"),
        _id_list(raw.get("sensors"), "select.sensors", refs=True),
        path or None,
    )


def _action(raw: Any, index: int, topics: Collection[str]) -> dict[str, Any]:
    where = f"actions[{index}]"
    if not isinstance(raw, dict) or raw.get("type") not in ACTION_TYPES:
        raise ValidationError(
            f"{where} is an object whose type is one of {', '.join(ACTION_TYPES)}",
            field=f"{where}.type",
        )
    kind = raw["type"]
    allowed = {"type", "on"} | {
        "webhook": {"url"},
        "email": {"to", "subject"},
        "command": {"device", "command", "payload"},
        "publish": {"topic"},
    }[kind]
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValidationError(f"unknown field {where}.{unknown[0]}", field=f"{where}.{unknown[0]}")
    on = raw.get("on", ["opened", "resolved"])
    if not isinstance(on, list) or not on or any(item not in CHANGES for item in on):
        raise ValidationError(
            f"{where}.on lists changes among {', '.join(CHANGES)}", field=f"{where}.on"
        )
    action: dict[str, Any] = {"type": kind, "on": list(dict.fromkeys(on))}
    if kind == "webhook":
        url = raw.get("url")
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= 2048 else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(f"{where}.url is an http(s) URL", field=f"{where}.url")
        action["url"] = url
    elif kind == "email":
        to = raw.get("to")
        if not isinstance(to, list) or not 1 <= len(to) <= 10:
            raise ValidationError(f"{where}.to lists 1..10 addresses", field=f"{where}.to")
        for n, address in enumerate(to):
            if not isinstance(address, str) or not _EMAIL.match(address):
                raise ValidationError(
                    f"{where}.to[{n}] is not an address", field=f"{where}.to[{n}]"
                )
        action["to"] = to
        subject = text_field(raw, "subject", required=False, limit=200)
        if subject:
            action["subject"] = subject
    elif kind == "command":
        device, command = raw.get("device"), raw.get("command")
        if not isinstance(device, str) or not is_id(device):
            raise ValidationError(f"{where}.device is a device id", field=f"{where}.device")
        if not isinstance(command, str) or not _COMMAND.match(command):
            raise ValidationError(
                f"{where}.command is 1..64 of A-Z a-z 0-9 _ . -", field=f"{where}.command"
            )
        payload = raw.get("payload", {})
        if len(orjson.dumps(payload)) > 16 * 1024:
            raise ValidationError(f"{where}.payload is at most 16 KiB", field=f"{where}.payload")
        action.update(device=device, command=command, payload=payload)
    else:
        topic = raw.get("topic")
        if topic not in topics:
            raise ValidationError(
                f"{where}.topic must be one of {', '.join(sorted(topics)) or '(none configured)'}",
                field=f"{where}.topic",
            )
        action["topic"] = topic
    return action


def validate_rule(
    body: Mapping[str, Any], *, partial: bool, topics: Collection[str] = ()
) -> dict[str, Any]:
    """The stored fields of a create (`partial=False`) or PATCH body; 400 names the field (and,
    for the condition, the column in `details.column`)."""
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", field=unknown[0])
    fields: dict[str, Any] = {}
    name = text_field(body, "name", required=not partial, limit=NAME_MAX)
    if name is not None:
        fields["name"] = name
    description = text_field(
        body, "description", required=False, limit=DESCRIPTION_MAX,
        default=None if partial else "", allow_empty=True,
    )  # fmt: skip
    if description is not None:
        fields["description"] = description
    if "select" in body or not partial:
        fields["select"] = _selection(body.get("select", {})).to_data()
    if "condition" in body or not partial:
        text = body.get("condition")
        if not isinstance(text, str):
            raise ValidationError("condition is required (text)", field="condition")
        detector = (fields.get("select") or {}).get("detector") is not None
        try:
            checked = compile_condition(text, detector=detector)
        except ExpressionError as error:
            raise ValidationError(
                f"condition: {error}", field="condition", column=error.column
            ) from None
        fields["condition"] = text
        fields["deadman"] = checked.deadman_ns is not None
    if "for" in body or not partial:
        fields["for_ns"] = parse_duration_ns(body.get("for", 0), "for")
    if "severity" in body or not partial:
        severity = body.get("severity", "warning")
        if severity not in SEVERITIES:
            raise ValidationError(f"severity is one of {', '.join(SEVERITIES)}", field="severity")
        fields["severity"] = severity
    if "enabled" in body or not partial:
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValidationError("enabled is true or false", field="enabled")
        fields["enabled"] = enabled
    if "actions" in body or not partial:
        raw = body.get("actions", [])
        if not isinstance(raw, list) or len(raw) > MAX_ACTIONS:
            raise ValidationError(f"actions is a list of at most {MAX_ACTIONS}", field="actions")
        fields["actions"] = [_action(item, n, topics) for n, item in enumerate(raw)]
    if partial and not fields:
        raise ValidationError("nothing to update", field="body")
    return fields
