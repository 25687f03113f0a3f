"""The state function's core on the store port (in memory and on the Firestore emulator): the newest
state wins, a late or redelivered batch changes nothing, and `config_version` acknowledges the
device's config."""

from __future__ import annotations

import orjson

from functions.state.service import store_state
from shared.control import config_path, state_path
from shared.events import Message
from shared.store import Store


def _batch(org: str, *entries: tuple[int, dict[str, object]]) -> Message:
    data = [{"format": "state", "received_ns": ns, "topic": "devices/d1/state", "payload": p}
            for ns, p in entries]  # fmt: skip
    attributes = {"org": org, "device": "d1", "format": "batch", "transport": "mqtt"}
    return Message(id="m1", data=orjson.dumps(data), attributes=attributes)


def test_the_newest_state_is_kept_and_older_ones_change_nothing(store: Store, org: str) -> None:
    assert store_state(store, _batch(org, (10, {"t": 1}), (20, {"t": 2})))
    saved = store.get(state_path(org, "d1"))
    assert saved is not None
    assert saved.data == {"state": {"t": 2}, "received_ns": 20, "transport": "mqtt"}
    assert not store_state(store, _batch(org, (15, {"t": 9})))  # late
    assert not store_state(store, _batch(org, (20, {"t": 2})))  # redelivered
    assert store.get(state_path(org, "d1")).data["state"] == {"t": 2}  # type: ignore[union-attr]
    assert store.get(config_path(org, "d1")) is None  # no config_version: nothing acknowledged


def test_config_version_acknowledges_the_config(store: Store, org: str) -> None:
    store.set(config_path(org, "d1"), {"version": 3, "config": {"rate": 5}, "updated_ns": 1})
    assert store_state(store, _batch(org, (30, {"config_version": 3})))
    config = store.get(config_path(org, "d1"))
    assert config is not None and config.data == {
        "version": 3,
        "config": {"rate": 5},
        "updated_ns": 1,
        "acknowledged_version": 3,
        "acknowledged_ns": 30,
    }


def test_an_acknowledgement_before_any_config_is_kept_and_booleans_are_not_versions(
    store: Store, org: str
) -> None:
    assert store_state(store, _batch(org, (5, {"config_version": True})))
    assert store.get(config_path(org, "d1")) is None
    assert store_state(store, _batch(org, (6, {"config_version": 2})))
    config = store.get(config_path(org, "d1"))
    assert config is not None and config.data["version"] == 0
    assert (config.data["acknowledged_version"], config.data["acknowledged_ns"]) == (2, 6)
