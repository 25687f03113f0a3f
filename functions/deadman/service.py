"""Core of the deadman function: on each clock tick, every enabled rule with `deadman(...)` is
evaluated at the tick's time on each of its series, so silence opens alerts: the series that
reported, the sensors the rule names, and those its devices or path select that never reported
(found by `functions.deadman.scan`, a bounded number per tick)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from functions.deadman.scan import SensorScan
from shared.rules.engine import Engine, SeriesInput
from shared.rules.model import Rule
from shared.rules.syntax import ExpressionError
from shared.store import Filter, Query, Store

__all__ = ["Deadman"]

_log = logging.getLogger("stratus.deadman")
_PAGE = 200


class Deadman:
    """Ticks deadman rules across every organisation."""

    def __init__(self, store: Store, engine: Engine, *, scan_budget: int = 1000) -> None:
        self.store = store
        self.engine = engine
        self.scan = SensorScan(store, scan_budget)

    def _rules(self) -> Iterator[Rule]:
        after = None
        while True:
            query = Query(
                "rules",
                where=(Filter("deadman", "==", True), Filter("enabled", "==", True)),
                group=True,
                limit=_PAGE,
                after=after,
            )
            page = self.store.query(query)
            for document in page.documents:
                org = document.path.split("/")[1]
                try:
                    yield Rule.from_document(org, document.id, document.data)
                except (ExpressionError, KeyError, TypeError, ValueError) as exc:
                    _log.error("rule %s of %s cannot be evaluated: %s", document.id, org, exc)
            if page.next is None:
                return
            after = page.next

    def _series(self, rule: Rule) -> list[tuple[str, str]]:
        """The rule's series: those that reported since it exists, and every sensor it names
        (silent from the start: their silence counts from the rule's creation)."""
        out: dict[tuple[str, str], None] = {}
        for ref in rule.selection.sensors:
            device, sensor = ref.split("/", 1)
            out[(device, sensor)] = None
        after = None
        base = f"orgs/{rule.org}/rules/{rule.id}/series"
        while True:
            page = self.store.query(
                Query(base, select=("device", "sensor"), limit=_PAGE, after=after)
            )
            for document in page.documents:
                found = (document.data.get("device"), document.data.get("sensor"))
                if isinstance(found[0], str) and isinstance(found[1], str):
                    out[(found[0], found[1])] = None
            if page.next is None:
                return list(out)
            after = page.next

    def tick(self, now_ns: int) -> int:
        """Evaluate every deadman rule at `now_ns`; the number of alert changes."""
        changes = 0
        for rule in self._rules():
            series = self._series(rule)
            inputs = [
                SeriesInput(rule, device, sensor, {"device": device, "sensor": sensor})
                for device, sensor in series
            ]
            inputs += [
                SeriesInput(rule, found.device, found.sensor,
                            {"device": found.device, "sensor": found.sensor},
                            since_ns=found.since_ns)
                for found in self.scan.missing(rule, set(series))
            ]  # fmt: skip
            if inputs:
                changes += len(self.engine.apply(rule.org, inputs, None, now_ns).changes)
        return changes
