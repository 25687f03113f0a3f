"""Google's own emulators for the differential suites, started once per session and only when a
test asks for them; the tests are skipped, saying why, where gcloud or Java is missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.google_emulators import GoogleEmulator, google_emulator, missing_reason


def _google(kind: str) -> Iterator[GoogleEmulator]:
    reason = missing_reason(kind)  # type: ignore[arg-type]
    if reason is not None:
        pytest.skip(f"differential tests need Google's {kind} emulator: {reason}")
    with google_emulator(kind) as emulator:  # type: ignore[arg-type]
        yield emulator


@pytest.fixture(scope="session")
def google_firestore() -> Iterator[GoogleEmulator]:
    """`gcloud beta emulators firestore start` on a free port (memory only)."""
    yield from _google("firestore")


@pytest.fixture(scope="session")
def google_pubsub() -> Iterator[GoogleEmulator]:
    """`gcloud beta emulators pubsub start` on a free port, data in a temporary directory."""
    yield from _google("pubsub")
