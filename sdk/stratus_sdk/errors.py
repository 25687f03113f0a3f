"""Typed errors: one class per answer status of the Stratus API, built from its error body."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "MethodNotAllowed",
    "NotFound",
    "NotImplementedHere",
    "PayloadTooLarge",
    "PermissionDenied",
    "PreconditionFailed",
    "ServerError",
    "StratusError",
    "TooManyRequests",
    "Unauthenticated",
    "Unavailable",
    "UnsupportedMediaType",
    "error_for",
    "from_response",
    "is_transient",
]


class StratusError(Exception):
    """An error answer (`status`, `code`, `message`, `field`, `request_id`), or a failure to get
    one (`ConnectionFailed`, status 0)."""

    status = 0

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        field: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.code = code
        self.field = field
        self.request_id = request_id
        self.retry_after = retry_after
        self.details = details or {}

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.status} {self.code}: {self.message}{where}" if self.status else self.message


class BadRequest(StratusError):
    status = 400


class Unauthenticated(StratusError):
    status = 401


class PermissionDenied(StratusError):
    status = 403


class NotFound(StratusError):
    status = 404


class MethodNotAllowed(StratusError):
    status = 405


class Conflict(StratusError):
    status = 409


class PreconditionFailed(StratusError):
    status = 412


class PayloadTooLarge(StratusError):
    status = 413


class UnsupportedMediaType(StratusError):
    status = 415


class TooManyRequests(StratusError):
    status = 429


class ServerError(StratusError):
    status = 500


class NotImplementedHere(StratusError):
    """501: the platform cannot do this (an OpenWhisk deployment cannot stream)."""

    status = 501


class Unavailable(StratusError):
    status = 503


class ConnectionFailed(StratusError):
    """No answer: the connection failed or timed out."""


_BY_STATUS: dict[int, type[StratusError]] = {
    cls.status: cls
    for cls in (
        BadRequest, Unauthenticated, PermissionDenied, NotFound, MethodNotAllowed, Conflict,
        PreconditionFailed, PayloadTooLarge, UnsupportedMediaType, TooManyRequests, ServerError,
        NotImplementedHere, Unavailable,
    )
}  # fmt: skip


def error_for(status: int, message: str, code: str = "") -> StratusError:
    """The typed error of `status` (e.g. from a stream's error event)."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else StratusError)
    return cls(message, status=status, code=code)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


def from_response(response: httpx.Response) -> StratusError:
    """The typed error of an error answer (its JSON error body, or the bare status)."""
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else StratusError)
    try:
        body = response.json()
        error = body["error"]
        message, code = str(error.get("message", "")), str(error.get("code", ""))
        field, details = error.get("field"), error.get("details")
        request_id = body.get("request_id")
    except (ValueError, KeyError, TypeError, AttributeError):
        message, code, field, details = (
            response.text[:200] or response.reason_phrase,
            "",
            None,
            None,
        )
        request_id = None
    return cls(
        message,
        status=status,
        code=code,
        field=field,
        request_id=request_id or response.headers.get("x-request-id"),
        retry_after=_retry_after(response),
        details=details if isinstance(details, dict) else None,
    )


def is_transient(error: StratusError) -> bool:
    """Whether trying again later may work: no answer, 429, or a 5xx."""
    return isinstance(error, ConnectionFailed) or error.status == 429 or error.status >= 500
