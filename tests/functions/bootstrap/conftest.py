"""Bootstrap core fixtures: a real Firestore emulator (the suite's `store`), a real Mosquitto,
a fixed signing key, and the two cores wired on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from emulator.mosquitto import Broker
from functions.bootstrap.registrations import Registrations
from functions.bootstrap.service import BOOTSTRAP_SCOPE, Bootstrapper, BrokerAddress
from shared.auth import KeySet, issue_device_token
from shared.broker.mosquitto import MosquittoAdmin
from shared.store.firestore import FirestoreStore
from shared.throttle import FailureBudget
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


@pytest.fixture
def registrations(store: FirestoreStore) -> Registrations:
    return Registrations(store)


@pytest.fixture
def make_bootstrapper(
    store: FirestoreStore, keys: KeySet, admin: MosquittoAdmin, broker: Broker
) -> Callable[..., Bootstrapper]:
    def issue(device: str, org: str, version: int, issued_at: int) -> str:
        return issue_device_token(device, org, version, issued_at, keys=keys)

    def make(attempts: int = 5, window: int = 300, clock: Callable[[], float] | None = None):
        budget = FailureBudget(
            store, BOOTSTRAP_SCOPE, attempts, window, **({"clock": clock} if clock else {})
        )
        address = BrokerAddress(f"mqtt://{broker.host}:{broker.port}")
        return Bootstrapper(store, admin, address, budget, issue=issue)

    return make
