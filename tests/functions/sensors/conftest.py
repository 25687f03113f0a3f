"""Sensors core fixtures: a real Firestore emulator and a fixed signing key."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import KeySet


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))
