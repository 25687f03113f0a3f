"""Token and key settings, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from shared.settings import env_int

__all__ = ["AuthConfig", "auth_config"]


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Where the signing key comes from and how long tokens and revocation answers live.

    | variable | meaning |
    | --- | --- |
    | `STRATUS_JWT_PRIVATE_KEY` | the EC P-256 signing key, PEM text (wins over the file) |
    | `STRATUS_JWT_PRIVATE_KEY_FILE` | path of the PEM signing key (the emulator sets it) |
    | `STRATUS_JWT_PUBLIC_KEYS` | a JWKS (JSON text) of the keys that verify (alone: verify only) |
    | `STRATUS_JWT_PUBLIC_KEYS_FILE` | the same JWKS in a file |
    | `STRATUS_USER_TOKEN_TTL` | seconds a user token lives (default 3600) |
    | `STRATUS_TOKEN_CACHE_SECONDS` | seconds a revocation lookup is reused (default 5; 0 = off) |
    """

    private_key_pem: str | None = None
    private_key_file: str | None = None
    public_keys_file: str | None = None
    public_keys: str | None = None
    user_token_ttl: int = 3600
    cache_seconds: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AuthConfig:
        return cls(
            private_key_pem=environ.get("STRATUS_JWT_PRIVATE_KEY") or None,
            private_key_file=environ.get("STRATUS_JWT_PRIVATE_KEY_FILE") or None,
            public_keys_file=environ.get("STRATUS_JWT_PUBLIC_KEYS_FILE") or None,
            public_keys=environ.get("STRATUS_JWT_PUBLIC_KEYS") or None,
            user_token_ttl=env_int(environ, "STRATUS_USER_TOKEN_TTL", 3600, minimum=1),
            cache_seconds=env_int(environ, "STRATUS_TOKEN_CACHE_SECONDS", 5, minimum=0),
        )


@lru_cache(maxsize=1)
def auth_config() -> AuthConfig:
    """The token settings of this process, read from the environment on first use."""
    return AuthConfig.from_env(os.environ)
