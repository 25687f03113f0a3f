"""Two official Firestore clients side by side: one on our emulator (the session's `firestore`
service), one on Google's (`google_firestore`), each test in a project of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.differential.firestore.compare import Pair, pair_of
from tests.support.google_emulators import GoogleEmulator
from tests.support.services import RunningService


@pytest.fixture
def pair(firestore: RunningService, google_firestore: GoogleEmulator) -> Iterator[Pair]:
    """Clients of both emulators, in a fresh project named alike on both."""
    yield pair_of(firestore.address, google_firestore.address, f"diff-{uuid.uuid4().hex[:10]}")
