"""Tokens, keys, passwords and request authentication for the provisioning API and its peers."""

from shared.auth.config import AuthConfig, auth_config
from shared.auth.guard import Authenticator, VersionLookup, bearer_token, require
from shared.auth.keys import KeySet, jwks, keyset, public_jwk, thumbprint
from shared.auth.passwords import check_policy, hash_password, verify_or_dummy, verify_password
from shared.auth.tokens import (
    Principal,
    issue_consumer_token,
    issue_device_token,
    issue_user_token,
    verify_token,
)

__all__ = [
    "AuthConfig",
    "Authenticator",
    "KeySet",
    "Principal",
    "VersionLookup",
    "auth_config",
    "bearer_token",
    "check_policy",
    "hash_password",
    "issue_consumer_token",
    "issue_device_token",
    "issue_user_token",
    "jwks",
    "keyset",
    "public_jwk",
    "require",
    "reset_caches",
    "thumbprint",
    "verify_or_dummy",
    "verify_password",
    "verify_token",
]


def reset_caches() -> None:
    """Forget the settings and keys read so far (tests; a process normally reads them once)."""
    auth_config.cache_clear()
    keyset.cache_clear()
