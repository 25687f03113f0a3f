"""The Firestore adapter on our emulator beyond the port's contract (tests/shared/store/
test_contract.py runs the contract on it): what it stored survives a kill -9 of the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.store.firestore import FirestoreStore
from tests.support.services import running_service

pytestmark = [pytest.mark.process]


def test_data_survives_a_restart(tmp_path: Path) -> None:
    with running_service("firestore", tmp_path) as service, pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        FirestoreStore("restart").create("things/a", {"v": 1})
        service.kill()
        service.port = 0
        service.start()
        patch.setenv("FIRESTORE_EMULATOR_HOST", service.address)
        doc = FirestoreStore("restart").get("things/a")
        assert doc is not None and doc.data == {"v": 1}
