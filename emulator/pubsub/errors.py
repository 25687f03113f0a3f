"""The one error type the emulator's core raises, carrying the gRPC status code to answer with."""

from __future__ import annotations

import grpc

__all__ = ["PubSubError", "already_exists", "invalid", "not_found"]


class PubSubError(Exception):
    """A request failed in a way the client should see as the given gRPC status."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> PubSubError:
    """INVALID_ARGUMENT: the request itself is malformed."""
    return PubSubError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> PubSubError:
    """NOT_FOUND: a topic or subscription that must exist does not."""
    return PubSubError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str) -> PubSubError:
    """ALREADY_EXISTS: a topic or subscription that must not exist does."""
    return PubSubError(grpc.StatusCode.ALREADY_EXISTS, message)
