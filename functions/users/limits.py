"""Sign-in throttling: per-user and per-client budgets of failed attempts kept in the store, so
they hold across every instance; over budget is 429 with Retry-After, logged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.store import Store
from shared.throttle import FailureBudget

__all__ = ["SigninLimits"]


def _key(kind: str, value: str) -> str:
    """A document-safe key (user names and addresses may hold any character)."""
    return f"{kind}-{hashlib.sha256(value.encode()).hexdigest()[:32]}"


@dataclass(frozen=True, slots=True)
class SigninLimits:
    """`per_user` failed attempts per window for one user name, whoever tries it, and
    `per_client` failed attempts per window from one client address, whatever names it tries.
    Successes cost nothing, so a user or a fleet script signing in many times at once with the
    right password is never throttled; a success does not give failures back either, so the
    owner's sign-ins never reopen a name to someone guessing its password."""

    per_user: FailureBudget
    per_client: FailureBudget

    @classmethod
    def of(
        cls, store: Store, *, user_attempts: int = 10, client_attempts: int = 50, window: int = 300
    ) -> SigninLimits:
        return cls(
            FailureBudget(store, "signin-user", user_attempts, window),
            FailureBudget(store, "signin-client", client_attempts, window),
        )

    def check(self, username: str, client: str) -> None:
        """TooManyAttempts (429, retry_after) when either budget is spent: before the password
        is checked, and again before a success is answered (attempts in flight may have spent
        it meanwhile). Both budgets' documents are read in one round trip."""
        user = self.per_user.paths(_key("user", username))
        paths = [*user, *(self.per_client.paths(_key("client", client)) if client else ())]
        found = self.per_user.store.get_many(paths)
        self.per_user.check(_key("user", username), (found[0], found[1]))
        if client:
            self.per_client.check(_key("client", client), (found[2], found[3]))

    def failed(self, username: str, client: str) -> None:
        """Count a wrong password (or unknown name) against both budgets."""
        self.per_user.failed(_key("user", username))
        if client:
            self.per_client.failed(_key("client", client))
