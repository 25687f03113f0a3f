"""Query fixtures: a real Firestore emulator per module and a store on a fresh project."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.store.firestore import FirestoreStore
from tests.support.services import RunningService, running_service


@pytest.fixture(scope="module")
def firestore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with running_service("firestore", tmp_path_factory.mktemp("firestore")) as service:
        yield service


@pytest.fixture(scope="module")
def store(firestore: RunningService) -> Iterator[FirestoreStore]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", firestore.address)
        yield FirestoreStore(project=f"query-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def org() -> str:
    """An organisation no other test uses."""
    return f"o{uuid.uuid4().hex[:12]}"
