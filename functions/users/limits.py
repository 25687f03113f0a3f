"""Sign-in throttling: per-user and per-client attempt budgets in the store (shared.throttle), so
they hold across every instance; over budget is 429 with Retry-After, logged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.store import Store
from shared.throttle import Budget

__all__ = ["SigninLimits"]


def _key(kind: str, value: str) -> str:
    """A document-safe key (user names and addresses may hold any character)."""
    return f"{kind}-{hashlib.sha256(value.encode()).hexdigest()[:32]}"


@dataclass(frozen=True, slots=True)
class SigninLimits:
    """`per_user` attempts per window for one user name, whoever tries it (a success gives the
    budget back), and `per_client` attempts per window from one client address, whatever
    names it tries (a success gives its own attempt back, so a shared address is not punished
    for its users' sign-ins)."""

    per_user: Budget
    per_client: Budget

    @classmethod
    def of(
        cls, store: Store, *, user_attempts: int = 10, client_attempts: int = 50, window: int = 300
    ) -> SigninLimits:
        return cls(
            Budget(store, "signin-user", user_attempts, window),
            Budget(store, "signin-client", client_attempts, window),
        )

    def spend(self, username: str, client: str) -> None:
        """Spend an attempt of both budgets before the password is checked; TooManyAttempts
        (429, retry_after) when either is spent."""
        self.per_user.spend(_key("user", username))
        if client:
            self.per_client.spend(_key("client", client))

    def succeeded(self, username: str, client: str) -> None:
        self.per_user.clear(_key("user", username))
        if client:
            self.per_client.refund(_key("client", client))
