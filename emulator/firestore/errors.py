"""The one error type the emulator's core raises, carrying the gRPC status code to answer with."""

from __future__ import annotations

import grpc

__all__ = [
    "FirestoreError",
    "aborted",
    "already_exists",
    "failed_precondition",
    "invalid",
    "not_found",
    "unimplemented",
]


class FirestoreError(Exception):
    """A request failed in a way the client should see as the given gRPC status."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> FirestoreError:
    """INVALID_ARGUMENT: the request itself is malformed."""
    return FirestoreError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> FirestoreError:
    """NOT_FOUND: a document that must exist does not."""
    return FirestoreError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str) -> FirestoreError:
    """ALREADY_EXISTS: a document that must not exist does."""
    return FirestoreError(grpc.StatusCode.ALREADY_EXISTS, message)


def failed_precondition(message: str) -> FirestoreError:
    """FAILED_PRECONDITION: e.g. an update_time precondition does not hold."""
    return FirestoreError(grpc.StatusCode.FAILED_PRECONDITION, message)


def aborted(message: str) -> FirestoreError:
    """ABORTED: a transaction lost a race; the client is expected to retry."""
    return FirestoreError(grpc.StatusCode.ABORTED, message)


def unimplemented(message: str) -> FirestoreError:
    """UNIMPLEMENTED: a feature this emulator leaves out."""
    return FirestoreError(grpc.StatusCode.UNIMPLEMENTED, message)
