"""The query function's wiring: its access rules reuse an allowed sensor read for as long as a
revocation lookup is cached (STRATUS_TOKEN_CACHE_SECONDS)."""

from __future__ import annotations

from functions.query import main
from shared.auth.config import auth_config


def test_access_decisions_are_cached_as_long_as_revocation_lookups() -> None:
    access = main._access()  # builds the store's adapter lazily: no connection yet
    assert access.cache_seconds == auth_config().cache_seconds
