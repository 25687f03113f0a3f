"""The enabled rules of an organisation, read from the store and kept briefly per process."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from shared.rules.alerts import rules_path
from shared.rules.model import Rule
from shared.rules.syntax import ExpressionError
from shared.store import Filter, Query, Store

__all__ = ["RuleSource"]

_log = logging.getLogger("stratus.rules")
_PAGE = 300


class RuleSource:
    """`rules(org)`: the organisation's enabled rules, each answer reused for `ttl` seconds
    (STRATUS_RULE_CACHE_SECONDS), so a change takes effect within that bound."""

    def __init__(
        self,
        store: Callable[[], Store],
        ttl: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, list[Rule]]] = {}
        self._lock = threading.Lock()

    def rules(self, org: str) -> list[Rule]:
        hit = self._cache.get(org)
        now = self._clock()
        if hit is not None and hit[0] + self._ttl > now:
            return hit[1]
        rules = load_rules(self._store(), org)
        with self._lock:
            self._cache[org] = (now, rules)
        return rules


def load_rules(store: Store, org: str, *, where: tuple[Filter, ...] = ()) -> list[Rule]:
    """Every enabled rule of `org` (a stored rule that no longer checks is skipped and logged)."""
    out: list[Rule] = []
    after = None
    while True:
        query = Query(
            rules_path(org), where=(Filter("enabled", "==", True), *where), limit=_PAGE, after=after
        )
        page = store.query(query)
        for document in page.documents:
            try:
                out.append(Rule.from_document(org, document.id, document.data))
            except (ExpressionError, KeyError, TypeError, ValueError) as exc:
                _log.error("rule %s of %s cannot be evaluated: %s", document.id, org, exc)
        if page.next is None:
            return out
        after = page.next
