"""The platform's wiring of its components (without starting them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.demo import demo_component
from emulator.platform import INDEX_CONFIG, Platform, PlatformConfig
from tests.support.emulator import ROOT


def _config(tmp_path: Path) -> PlatformConfig:
    return PlatformConfig(
        host="127.0.0.1", port=0, firestore_port=0, pubsub_port=0, mqtt_port=0, mqtt_ws_port=0,
        data_dir=tmp_path, manifest=ROOT / "serverless.yml", project="p", workers=1, ws_port=0,
    )  # fmt: skip


@pytest.mark.process  # components() prepares Mosquitto: runs `mosquitto_ctrl dynsec init`
def test_the_store_indexes_what_production_indexes(tmp_path: Path) -> None:
    firestore = Platform(_config(tmp_path)).components()[0]
    assert firestore.name == "firestore"
    assert firestore.env == {"FIRESTORE_INDEXES": str(ROOT.resolve() / INDEX_CONFIG)}
    assert (ROOT / INDEX_CONFIG).is_file()


@pytest.mark.process  # components() prepares Mosquitto (see above)
def test_the_demo_fleet_stops_before_what_it_sends_to(tmp_path: Path) -> None:
    """The demo was in the services' tier, stopped after the functions: a fleet holding unsent
    batches retried against a closed port until it was killed at the stop deadline (measured:
    SIGINT took 4.1-4.2 s with the demo killed, 3 of 3 runs)."""
    platform = Platform(_config(tmp_path))
    tiers = {c.name: c.tier for c in platform.components()}
    demo = demo_component("http://127.0.0.1:1", tmp_path, {}, devices=1, interval=1.0)
    clients = [tiers["mqtt"], tiers["firestore"], tiers["pubsub"], tiers["functions"]]
    assert demo.tier > max(clients)
