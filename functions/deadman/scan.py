"""The sensors a deadman rule selects that have no series yet (never reported since the rule
exists): the selection's devices and their sensors are walked, a bounded number of sensor
documents per tick, each tick resuming where the last stopped (`.../rules/{rule}/scan/deadman`);
a walk over, the next tick starts another, so sensors made later are found too."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.rules.alerts import rule_path
from shared.rules.model import Rule
from shared.store import Query, Store

__all__ = ["Found", "SensorScan", "scan_path"]

_DEVICES = 50  # devices listed per page


def scan_path(org: str, rule: str) -> str:
    return f"{rule_path(org, rule)}/scan/deadman"


@dataclass(frozen=True, slots=True)
class Found:
    """A selected sensor without a series: silence counts from `since_ns` (its creation)."""

    device: str
    sensor: str
    since_ns: int


@dataclass
class _Position:
    """Where the walk is: the page of devices (`devices`: the cursor that lists it, None for the
    first), how many of its devices are done, and the cursor into the next one's sensors."""

    devices: str | None = None
    done: int = 0
    sensors: str | None = None

    def data(self, version: int) -> dict[str, Any]:
        return {"version": version, "devices": self.devices, "done": self.done,
                "sensors": self.sensors}  # fmt: skip


def _ns(value: Any) -> int:
    return int(value.timestamp() * 10**9) if isinstance(value, datetime) else 0


class SensorScan:
    """Walks a rule's selection, at most `budget` sensor documents per rule and tick."""

    def __init__(self, store: Store, budget: int = 1000) -> None:
        self.store = store
        self.budget = max(1, budget)

    def _devices(self, rule: Rule, after: str | None) -> tuple[list[str], str | None]:
        """A page of the selection's devices and the cursor of the next page (None: last)."""
        if rule.selection.devices:
            chosen = sorted(set(rule.selection.devices))
            start = int(after or 0)
            end = start + _DEVICES
            return chosen[start:end], str(end) if end < len(chosen) else None
        page = self.store.query(
            Query(f"orgs/{rule.org}/devices", select=("name",), limit=_DEVICES, after=after)
        )
        return [document.id for document in page.documents], page.next

    def missing(self, rule: Rule, known: Collection[tuple[str, str]]) -> list[Found]:
        """The next selected sensors (within the budget) that are not in `known`; empty for a
        rule that names its sensors or watches a detector (nothing to discover)."""
        selection = rule.selection
        if selection.detector is not None or selection.sensors:
            return []
        path = scan_path(rule.org, rule.id)
        stored = self.store.get(path)
        data = stored.data if stored is not None else {}
        start = (
            _Position(data.get("devices"), int(data.get("done") or 0), data.get("sensors"))
            if data.get("version") == rule.version
            else _Position()
        )
        at = _Position(start.devices, start.done, start.sensors)
        found: list[Found] = []
        budget = self.budget
        while budget > 0:
            devices, following = self._devices(rule, at.devices)
            while at.done < len(devices) and budget > 0:
                budget = self._sensors(rule, devices[at.done], at, budget, known, found)
                if at.sensors is not None:
                    break  # the budget ran out inside this device: resume in it
                at.done += 1
            if at.done < len(devices):
                break  # the budget ran out on this page of devices
            if following is None:
                at = _Position()  # a whole walk done: the next tick starts another
                break
            at = _Position(following)
        if at.data(rule.version) != data:
            self.store.set(path, at.data(rule.version))
        return found

    def _sensors(
        self,
        rule: Rule,
        device: str,
        at: _Position,
        budget: int,
        known: Collection[tuple[str, str]],
        found: list[Found],
    ) -> int:
        """Read the device's sensors from `at.sensors` within `budget`; the budget left."""
        base = f"orgs/{rule.org}/devices/{device}/sensors"
        while budget > 0:
            page = self.store.query(
                Query(base, select=("name", "path", "derived", "created_at"),
                      limit=min(budget, 300), after=at.sensors)
            )  # fmt: skip
            budget -= max(1, len(page.documents))
            for document in page.documents:
                data = document.data
                folder, name = str(data.get("path") or "").strip("/"), str(data.get("name") or "")
                tree = f"{folder}/{name}" if folder else name
                if data.get("derived") or (device, document.id) in known:
                    continue  # derived series are written by detectors, never by readings
                if rule.selection.matches(device, document.id, tree):
                    found.append(Found(device, document.id, _ns(data.get("created_at"))))
            at.sensors = page.next
            if page.next is None:
                break
        return budget
