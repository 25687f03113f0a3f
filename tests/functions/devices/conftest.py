"""Devices core fixtures: a real Firestore emulator, a real Mosquitto, a fixed signing key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from emulator.mosquitto import Broker
from shared.auth import KeySet
from shared.broker.mosquitto import MosquittoAdmin
from tests.support.broker import running_broker


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return KeySet.from_private_key(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with running_broker(tmp_path_factory.mktemp("broker")) as running:
        yield running


@pytest.fixture(scope="module")
def admin(broker: Broker) -> Iterator[MosquittoAdmin]:
    client = MosquittoAdmin(*broker.login("stratus-admin"))
    yield client
    client.close()
