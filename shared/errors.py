"""One error model: each error carries its HTTP status and what a bus trigger should do with it."""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "Disposition",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "PreconditionFailed",
    "StratusError",
    "Unavailable",
    "UnsupportedMediaType",
    "ValidationError",
]


class Disposition(enum.Enum):
    """What an event trigger does with a message whose handling raised this error."""

    RETRY = "retry"  # transient: let the bus redeliver it
    DEAD_LETTER = "dead_letter"  # poison: park it with its reason, never retry


class StratusError(Exception):
    """Base of every error Stratus code raises on purpose."""

    status: int = 500
    code: str = "internal"
    disposition: Disposition = Disposition.RETRY

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body's `error` object."""
        body: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(StratusError):
    """The envelope is malformed: unparsable JSON, a bad query parameter, a broken event."""

    status, code, disposition = 400, "bad_request", Disposition.DEAD_LETTER


class ValidationError(StratusError):
    """The payload parsed but a field is missing or wrong; `field` names it."""

    status, code, disposition = 400, "invalid_argument", Disposition.DEAD_LETTER


class AuthenticationError(StratusError):
    """No credentials, or credentials in a form we cannot read."""

    status, code, disposition = 401, "unauthenticated", Disposition.DEAD_LETTER


class PermissionDenied(StratusError):
    """Credentials were read but are invalid, expired, revoked or not scoped for this call."""

    status, code, disposition = 403, "permission_denied", Disposition.DEAD_LETTER


class NotFound(StratusError):
    """The resource does not exist (or belongs to another organisation)."""

    status, code, disposition = 404, "not_found", Disposition.DEAD_LETTER


class MethodNotAllowed(StratusError):
    """The path exists but not for this method; `allow` lists the methods that do."""

    status, code, disposition = 405, "method_not_allowed", Disposition.DEAD_LETTER

    def __init__(self, message: str, *, allow: list[str]) -> None:
        super().__init__(message)
        self.allow = allow


class Conflict(StratusError):
    """The resource already exists, or a unique name is taken."""

    status, code, disposition = 409, "conflict", Disposition.DEAD_LETTER


class PreconditionFailed(StratusError):
    """A write's precondition (version, existence) did not hold."""

    status, code, disposition = 412, "precondition_failed", Disposition.RETRY


class PayloadTooLarge(StratusError):
    """The body is bigger than this endpoint accepts."""

    status, code, disposition = 413, "payload_too_large", Disposition.DEAD_LETTER


class UnsupportedMediaType(StratusError):
    """The body's content type is not one this endpoint reads."""

    status, code, disposition = 415, "unsupported_media_type", Disposition.DEAD_LETTER


class Unavailable(StratusError):
    """A dependency (store, bus) failed or timed out; trying again later may work."""

    status, code, disposition = 503, "unavailable", Disposition.RETRY
