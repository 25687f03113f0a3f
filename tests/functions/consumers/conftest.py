"""Consumers core fixtures: a real Firestore emulator and a fixed signing key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import KeySet
from shared.store.firestore import FirestoreStore
from tests.support.services import running_service


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirestoreStore]:
    with (
        running_service("firestore", tmp_path_factory.mktemp("firestore")) as service,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        yield FirestoreStore(project=f"consumers-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def org() -> str:
    """An organisation no other test uses."""
    return f"o{uuid.uuid4().hex[:12]}"
