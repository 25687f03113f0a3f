"""Who a device is: its id, token, sensors, config and broker address, from its bootstrap; kept
in its buffer file so a restarted device can buffer readings before the platform is back."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratus_sdk.models import Sensor

__all__ = ["Identity", "load_identity", "save_identity"]


@dataclass(frozen=True, slots=True)
class Identity:
    device_id: str
    token: str
    sensors: tuple[Sensor, ...] = ()
    config: Any = None
    broker_url: str | None = None
    external_id: str | None = None
    answer: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_bootstrap(cls, answer: dict[str, Any], external_id: str | None = None) -> Identity:
        broker = answer.get("broker") or {}
        return cls(
            device_id=answer["device_id"],
            token=answer["device_token"],
            sensors=tuple(Sensor.from_json(s) for s in answer.get("sensors", ())),
            config=answer.get("config"),
            broker_url=broker.get("url"),
            external_id=external_id,
            answer=answer,
        )


_TABLE = "CREATE TABLE IF NOT EXISTS identity (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT)"


def save_identity(path: str | Path, identity: Identity) -> None:
    """Keep the bootstrap answer in the device's buffer file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"answer": identity.answer, "external_id": identity.external_id})
    with sqlite3.connect(path) as db:
        db.execute(_TABLE)
        db.execute("INSERT OR REPLACE INTO identity (id, body) VALUES (1, ?)", (body,))
    db.close()


def load_identity(path: str | Path) -> Identity | None:
    """The identity kept by the last bootstrap, None when there is none."""
    if not Path(path).exists():
        return None
    with sqlite3.connect(path) as db:
        db.execute(_TABLE)
        row = db.execute("SELECT body FROM identity WHERE id = 1").fetchone()
    db.close()
    if row is None:
        return None
    kept = json.loads(row[0])
    return Identity.from_bootstrap(kept["answer"], kept.get("external_id"))
