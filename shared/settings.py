"""Settings read once from the environment into a frozen object; cores never read os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["MAX_BODY_BYTES_LIMIT", "Settings", "env_bool", "env_int", "settings"]

DEFAULT_PROJECT = "stratus-local"
# The largest STRATUS_MAX_BODY_BYTES: a body, with the bridge's batch around it, must fit one bus
# message (shared.bus.MAX_MESSAGE_BYTES, 10 MB)
MAX_BODY_BYTES_LIMIT = 8 * 1000 * 1000


def env_int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int | None = None,
) -> int:
    """An integer variable, with a clear error naming it when it is not one or out of range."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ValueError(f"environment variable {name}={value} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"environment variable {name}={value} must be at most {maximum}")
    return value


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"environment variable {name}={raw!r} is not a boolean")


@dataclass(frozen=True, slots=True)
class Settings:
    """Process-wide settings. See the configuration table in README.md for each variable."""

    project: str = DEFAULT_PROJECT
    environment: str = "local"
    function: str = ""
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    access_log: bool = False

    @property
    def is_local(self) -> bool:
        return self.environment == "local"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        environment = environ.get("STRATUS_ENV", "local").strip().lower() or "local"
        if environment not in {"local", "production"}:
            raise ValueError(f"STRATUS_ENV={environment!r} must be 'local' or 'production'")
        return cls(
            project=(
                environ.get("STRATUS_PROJECT")
                or environ.get("GOOGLE_CLOUD_PROJECT")
                or DEFAULT_PROJECT
            ),
            environment=environment,
            function=(
                environ.get("STRATUS_FUNCTION")
                or environ.get("K_SERVICE")
                or environ.get("__OW_ACTION_NAME", "").rsplit("/", 1)[-1]
            ),
            max_body_bytes=env_int(
                environ,
                "STRATUS_MAX_BODY_BYTES",
                1024 * 1024,
                minimum=1,
                maximum=MAX_BODY_BYTES_LIMIT,
            ),
            log_level=environ.get("STRATUS_LOG_LEVEL", "INFO").strip().upper() or "INFO",
            access_log=env_bool(environ, "STRATUS_ACCESS_LOG", False),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return Settings.from_env(os.environ)
