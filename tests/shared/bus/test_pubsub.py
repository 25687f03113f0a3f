"""The bus port's Pub/Sub adapter beyond the port's contract (tests/shared/bus/test_contract.py
runs the contract on it, an immediate client error included): one client per process."""

from __future__ import annotations

import pytest

from shared import clients
from shared.bus import Bus
from shared.bus.pubsub import PubSubBus
from tests.support.services import RunningService


def test_clients_bus_is_built_once(
    pubsub_service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_service.address)
    clients.bus.cache_clear()
    try:
        first = clients.bus()
        assert first is clients.bus()
        assert isinstance(first, PubSubBus)
        port: Bus = first  # satisfies the port
        assert port is first
        first.close()
    finally:
        clients.bus.cache_clear()
