"""Core of the rules function: an organisation's rules in the store, validated (condition parsed
and type-checked, every referenced device, sensor and detector in the organisation) before they
are saved; deleting a rule resolves its open alerts and drops its window states."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.bus import Bus
from shared.deadletter import confirm
from shared.directory import device_path, new_id, purge_collection, require_id, rfc3339, sensor_path
from shared.egress import TargetRefused, check_url
from shared.errors import NotFound, ValidationError
from shared.inference.paths import detector_path
from shared.rules.alerts import (
    alert_path,
    change,
    change_attributes,
    events_path,
    rule_path,
    rules_path,
    transition,
)
from shared.rules.model import validate_rule
from shared.store import Document, Filter, Query, Store
from shared.topics import ALERT_CHANGES

__all__ = ["Rules", "api_form", "rule_view", "webhook_secret_path"]

_VIEW_KEYS = ("name", "description", "select", "condition", "severity", "enabled", "actions")


def webhook_secret_path(org: str) -> str:
    """The organisation's webhook signing secret (`secret`, `created_at`)."""
    return f"orgs/{org}/secrets/webhook"


def api_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored rule as a request body would give it (PATCH merges into this)."""
    body = {key: data[key] for key in _VIEW_KEYS if key in data}
    select = {k: v for k, v in (data.get("select") or {}).items() if v not in (None, [], ())}
    body["select"] = select
    body["for"] = int(data.get("for_ns") or 0) / 1e9
    return body


def rule_view(document: Document) -> dict[str, Any]:
    """A rule as the API shows it."""
    data = document.data
    view = {"id": document.id, **api_form(data)}
    view.update(
        version=data.get("version", 1),
        created_at=rfc3339(data.get("created_at")),
        updated_at=rfc3339(data.get("updated_at")),
    )
    return view


class Rules:
    """Rule CRUD for the organisation of each call; `topics` are those a `publish` action may
    name; `bus` carries the alert changes of a deletion."""

    def __init__(
        self,
        store: Store,
        bus: Callable[[], Bus],
        *,
        topics: Collection[str] = (),
        clock: Callable[[], int] = time.time_ns,
        allow_private_targets: bool = False,
    ) -> None:
        self.store = store
        self.bus = bus
        self.topics = topics
        self.clock = clock
        self.allow_private_targets = allow_private_targets  # STRATUS_ALLOW_PRIVATE_TARGETS

    def _load(self, org: str, rule: str) -> Document:
        document = self.store.get(rule_path(org, require_id(rule, "rule")))
        if document is None:
            raise NotFound(f"no rule {rule!r}")
        return document

    def _check_references(self, org: str, fields: Mapping[str, Any]) -> None:
        """404 for any device, sensor or detector that is not the organisation's."""
        select = fields["select"]
        paths: list[tuple[str, str, str]] = []
        for n, device in enumerate(select.get("devices") or []):
            paths.append((device_path(org, device), f"select.devices[{n}]", "device"))
        for n, ref in enumerate(select.get("sensors") or []):
            device, sensor = ref.split("/")
            paths.append((sensor_path(org, device, sensor), f"select.sensors[{n}]", "sensor"))
        if select.get("detector"):
            paths.append((detector_path(org, select["detector"]), "select.detector", "detector"))
        for n, action in enumerate(fields.get("actions") or []):
            if action["type"] == "command":
                paths.append((device_path(org, action["device"]), f"actions[{n}].device", "device"))
            if action["type"] == "webhook" and not self.allow_private_targets:
                try:
                    check_url(action["url"])
                except TargetRefused as exc:
                    raise ValidationError(str(exc), field=f"actions[{n}].url") from None
        found = self.store.get_many([path for path, _, _ in paths]) if paths else []
        for (_, where, what), document in zip(paths, found, strict=True):
            if document is None:
                raise NotFound(f"{where}: no {what} with that id", field=where)

    def create(self, org: str, body: Mapping[str, Any]) -> dict[str, Any]:
        fields = validate_rule(body, partial=False, topics=self.topics)
        self._check_references(org, fields)
        rule, now = new_id(), self.clock()
        moment = datetime.fromtimestamp(now / 1e9, UTC)
        data = {**fields, "version": 1, "created_ns": now, "created_at": moment}
        data["updated_at"] = moment
        self.store.create(rule_path(org, rule), data)
        return rule_view(self._load(org, rule))

    def list(self, org: str, limit: int, cursor: str | None) -> dict[str, Any]:
        query = Query(rules_path(org), order_by=(("created_ns", "asc"),), limit=limit, after=cursor)
        page = self.store.query(query)
        return {"items": [rule_view(d) for d in page.documents], "next": page.next}

    def get(self, org: str, rule: str) -> dict[str, Any]:
        return rule_view(self._load(org, rule))

    def update(self, org: str, rule: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if not body:
            raise ValidationError("nothing to update", field="body")
        current = self._load(org, rule)
        fields = validate_rule(
            {**api_form(current.data), **body}, partial=False, topics=self.topics
        )
        self._check_references(org, fields)
        moment = datetime.fromtimestamp(self.clock() / 1e9, UTC)
        version = int(current.data.get("version", 1)) + 1
        self.store.update(
            current.path,
            {**fields, "version": version, "updated_at": moment},
            if_version=current.update_time,
        )
        return rule_view(self._load(org, rule))

    def delete(self, org: str, rule: str) -> None:
        """Resolve the rule's unresolved alerts (by `rule-deleted`), drop its window states, then
        the rule; each step can be repeated."""
        document = self._load(org, rule)
        unresolved = self.store.query(
            Query(
                f"orgs/{org}/alerts",
                where=(
                    Filter("rule", "==", document.id),
                    Filter("state", "in", ["open", "acknowledged"]),
                ),
            )
        ).documents
        now = self.clock()
        changes = []
        for alert in unresolved:
            data = transition(alert.data, "resolved", now_ns=now, by="rule-deleted")
            record = change(org, alert.id, data)
            batch = self.store.batch()
            batch.set(alert_path(org, alert.id), data)
            batch.create(f"{events_path(org)}/{record.event_id}", record.data)
            batch.commit()
            changes.append(record.data)
        if changes:
            confirm(
                self.bus().publish(ALERT_CHANGES, orjson.dumps(c), change_attributes(c))
                for c in changes
            )
        purge_collection(self.store, f"{document.path}/series")
        purge_collection(self.store, f"{document.path}/scan")  # deadman's walk position
        self.store.delete(document.path)

    def webhook_secret(self, org: str, *, rotate: bool = False) -> dict[str, Any]:
        """The organisation's webhook signing secret, made on first use (or replaced)."""
        path = webhook_secret_path(org)
        document = None if rotate else self.store.get(path)
        if document is None:
            now = datetime.fromtimestamp(self.clock() / 1e9, UTC)
            self.store.set(path, {"secret": secrets.token_urlsafe(32), "created_at": now})
            document = self.store.get(path)
            assert document is not None
        return {
            "secret": document.data["secret"],
            "created_at": rfc3339(document.data.get("created_at")),
        }
