"""The query API's access rules: `shared.access` (the live streams use the same rules)."""

from shared.access import Access, VisibleSensor

__all__ = ["Access", "VisibleSensor"]
