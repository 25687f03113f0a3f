"""infra/firestore.indexes.json against the queries the rules, alerts and inference functions
make: their cores run on an in-memory store that records every query, and each recorded query
that Firestore can only answer from a composite index must find that index in the file.

When a query needs a composite index (Firestore's documented rules, taken conservatively): a
query on one collection that filters or orders on two or more fields (equality filters first, in
any order, then the order-by fields and the inequality fields it orders by implicitly, each in
its direction). Equality-only queries could be served by merging single-field indexes, but the
merge is the planner's choice and slow on large sets, so they get a composite index too. A
collection group query needs an index of collection group scope for any field it filters or
orders on (single-field indexes are made automatically for collection scope only).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.alerts.service import AlertFeed, Alerts, Filters
from functions.deadman.service import Deadman
from functions.detectors.service import Detectors
from functions.models.service import Models
from functions.rules.service import Rules
from shared.directory import device_path, new_id, sensor_path
from shared.inference.bindings import BindingSource
from shared.rules.alerts import alert_path, new_alert
from shared.rules.engine import Engine
from shared.rules.source import RuleSource
from shared.store import Query
from tests.support.host import ROOT
from tests.support.memory_bus import MemoryBus
from tests.support.memory_store import MemoryStore

EQUALITY = {"==", "in", "array-contains", "array-contains-any"}
S = 10**9
Index = tuple[str, str, frozenset[str], tuple[tuple[str, str], ...]]  # scope, eq, orders


class RecordingStore(MemoryStore):
    """MemoryStore remembering every query it ran (inside transactions too)."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[Query] = []

    def query(self, query: Query) -> Any:
        self.queries.append(query)
        return super().query(query)

    def count(self, query: Query) -> int:
        self.queries.append(query)
        return super().count(query)

    def run_transaction(self, fn: Callable[[Any], Any], *, max_attempts: int = 5) -> Any:
        store = self

        class Recorded:
            def __init__(self, txn: Any) -> None:
                self._txn = txn

            def __getattr__(self, name: str) -> Any:
                return getattr(self._txn, name)

            def query(self, query: Query) -> Any:
                store.queries.append(query)
                return self._txn.query(query)

        return super().run_transaction(lambda txn: fn(Recorded(txn)), max_attempts=max_attempts)


def needed(query: Query) -> Index | None:
    """The composite (or collection-group) index `query` needs: (collection, scope, equality
    fields, ordered fields with directions); None when automatic single-field indexes serve it."""
    collection = query.collection.rsplit("/", 1)[-1]
    orders = [(name, direction) for name, direction in query.order_by if name != "__name__"]
    direction = orders[-1][1] if orders else "asc"
    for field in sorted({f.field for f in query.where if f.op not in EQUALITY}):
        if field not in {name for name, _ in orders}:
            orders.append((field, direction))  # Firestore orders by inequality fields implicitly
    ordered = {name for name, _ in orders}
    equal = frozenset(f.field for f in query.where if f.op in EQUALITY) - ordered
    if len(equal | ordered) == 0 or (len(equal | ordered) == 1 and not query.group):
        return None
    scope = "COLLECTION_GROUP" if query.group else "COLLECTION"
    return collection, scope, equal, tuple(orders)


def _declared() -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    config = json.loads((ROOT / "infra" / "firestore.indexes.json").read_text())
    out = []
    for index in config["indexes"]:
        fields = tuple(
            (f["fieldPath"], "desc" if f.get("order") == "DESCENDING" else "asc")
            for f in index["fields"]
            if f["fieldPath"] != "__name__"
        )
        out.append((index["collectionGroup"], index.get("queryScope", "COLLECTION"), fields))
    return out


def covered(need: Index, declared: list[tuple[str, str, tuple[tuple[str, str], ...]]]) -> bool:
    """Some declared index has the query's equality fields first (any order and direction),
    then exactly its ordered fields in their directions."""
    collection, scope, equal, orders = need
    for group, declared_scope, fields in declared:
        if (group, declared_scope) != (collection, scope) or len(fields) != len(equal) + len(
            orders
        ):
            continue
        head, tail = fields[: len(equal)], fields[len(equal) :]
        if {name for name, _ in head} == equal and tail == orders:
            return True
    return False


@pytest.fixture(scope="module")
def recorded() -> Iterator[list[Query]]:
    """Every query of the alerts, rules, deadman, detectors, models cores and the rule and
    binding sources, over data that takes each path."""
    store, bus = RecordingStore(), MemoryBus()
    org, device, sensor = "o" * 20, new_id(), new_id()
    store.create(device_path(org, device), {"name": "d"})
    store.create(sensor_path(org, device, sensor), {"name": "t", "path": "engine",
                 "mapping": {"type": "double"}})  # fmt: skip
    rules = Rules(store, lambda: bus, clock=lambda: 2000 * S)
    for select in (
        {"devices": [device]},
        {"path": "engine/*"},
        {"sensors": [f"{device}/{sensor}"]},
    ):
        body = {"name": "quiet", "condition": "deadman(1m)", "select": select}
        rules.create(org, body)
    rule = rules.create(org, {"name": "hot", "condition": "value > 1"})["id"]
    alert, data = new_alert(
        rule=rule, rule_name="hot", device=device, sensor=sensor, severity="warning",
        event_ns=S, now_ns=S, value=2.0, series="s",
    )  # fmt: skip
    store.create(alert_path(org, alert), data)
    alerts = Alerts(store, lambda: bus)
    values = {"state": "open", "device": device, "sensor": sensor, "rule": rule}
    for n in range(len(values) + 1):
        for names in itertools.combinations(values, n):
            for start, end in ((None, None), (0, None), (0, 10 * S)):
                chosen = {name: values[name] for name in names}
                alerts.list(org, Filters(chosen, start, end), 10, None)
    AlertFeed(store, org, None).next_events(0)
    rules.list(org, 10, None)
    Deadman(store, Engine(store, lambda: bus)).tick(2100 * S)
    RuleSource(lambda: store).rules(org)
    BindingSource(lambda: store).bindings(org)
    Detectors(store).list(org, 10, None)
    models = Models(store)
    model = models.create(org, {"name": "m"})["id"]
    models.list(org, 10, None)
    models.versions(org, model)
    models.delete(org, model)
    rules.delete(org, rule)
    yield store.queries


def test_every_query_needing_a_composite_index_has_one(recorded: list[Query]) -> None:
    declared = _declared()
    needs = {need for query in recorded if (need := needed(query)) is not None}
    missing = [need for need in needs if not covered(need, declared)]
    assert not missing, f"add to infra/firestore.indexes.json: {missing}"
    # the recorded paths include the composite queries
    assert ("alerts", "COLLECTION", frozenset({"rule", "state"}), ()) in needs  # rule deletion
    assert ("rules", "COLLECTION_GROUP", frozenset({"deadman", "enabled"}), ()) in needs
    listed = [n for n in needs if n[0] == "alerts" and n[3] == (("opened_ns", "desc"),)]
    assert len(listed) == 15  # every combination of the list's equality filters


def test_the_rules_of_the_checker() -> None:
    from shared.store import Filter

    ordered = (("opened_ns", "desc"),)
    assert needed(Query("o/x/alerts", order_by=ordered)) is None
    assert needed(Query("o/x/alerts", where=(Filter("rule", "==", "r"),))) is None
    assert (
        needed(Query("o/x/e", where=(Filter("id", ">", "1"),), order_by=(("id", "asc"),))) is None
    )
    assert needed(
        Query("o/x/alerts", where=(Filter("rule", "==", "r"), Filter("opened_ns", ">=", 1)))
    ) == ("alerts", "COLLECTION", frozenset({"rule"}), (("opened_ns", "asc"),))
    assert needed(Query("rules", where=(Filter("a", "==", 1),), group=True)) == (
        "rules", "COLLECTION_GROUP", frozenset({"a"}), ())  # fmt: skip
    declared = [
        ("alerts", "COLLECTION", (("state", "asc"), ("rule", "asc"), ("opened_ns", "desc")))
    ]
    both = frozenset({"rule", "state"})
    assert covered(("alerts", "COLLECTION", both, ordered), declared)
    assert not covered(("alerts", "COLLECTION", frozenset({"rule"}), ordered), declared)
    assert not covered(("alerts", "COLLECTION", both, (("opened_ns", "asc"),)), declared)
    assert not covered(("alerts", "COLLECTION_GROUP", both, ordered), declared)
