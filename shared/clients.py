"""Lazily built, once-per-process clients for the ports; wiring modules call these, cores never do.

Nothing here imports a Google library until a function first asks for that client.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from shared.settings import settings

if TYPE_CHECKING:
    from shared.store import Store

__all__ = ["store"]


@lru_cache(maxsize=1)
def store() -> Store:
    """The document store of this process (Firestore, or the emulator's when
    FIRESTORE_EMULATOR_HOST is set)."""
    from shared.store.firestore import FirestoreStore

    return FirestoreStore(settings().project)
