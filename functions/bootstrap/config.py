"""The bootstrap function's settings, read once from the environment (README.md lists them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.broker import BrokerSettings
from shared.settings import env_int

__all__ = ["BootstrapSettings"]


@dataclass(frozen=True, slots=True)
class BootstrapSettings:
    """`mqtt_url`: the broker address devices are given (None: MQTT off); `attempts` per
    `window_seconds`: each external id's budget of bootstrap attempts."""

    mqtt_url: str | None = None
    attempts: int = 5
    window_seconds: int = 300

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> BootstrapSettings:
        """STRATUS_BOOTSTRAP_MQTT_URL (default `mqtt://<STRATUS_MQTT_HOST>:<STRATUS_MQTT_PORT>`),
        STRATUS_BOOTSTRAP_MAX_ATTEMPTS (5), STRATUS_BOOTSTRAP_WINDOW_SECONDS (300)."""
        url = environ.get("STRATUS_BOOTSTRAP_MQTT_URL", "").strip() or None
        if url is None:
            broker = BrokerSettings.from_env(environ)
            url = f"mqtt://{broker.host}:{broker.port}" if broker is not None else None
        return cls(
            mqtt_url=url,
            attempts=env_int(environ, "STRATUS_BOOTSTRAP_MAX_ATTEMPTS", 5, minimum=1),
            window_seconds=env_int(environ, "STRATUS_BOOTSTRAP_WINDOW_SECONDS", 300, minimum=1),
        )
