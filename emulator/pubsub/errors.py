"""The one error type the emulator's core raises, carrying the gRPC status code to answer with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

__all__ = [
    "PubSubError",
    "ack_failures",
    "already_exists",
    "failed_precondition",
    "invalid",
    "not_found",
]


class PubSubError(Exception):
    """A request failed in a way the client should see as the given gRPC status; `details`
    (google.rpc error details) travel in the `grpc-status-details-bin` trailer."""

    def __init__(self, code: grpc.StatusCode, message: str, details: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def trailer(self) -> tuple[tuple[str, bytes], ...]:
        """The trailing metadata that carries `details` (empty without)."""
        if not self.details:
            return ()
        status = status_pb2.Status(code=self.code.value[0], message=self.message)
        for detail in self.details:
            packed = any_pb2.Any()
            packed.Pack(detail)
            status.details.append(packed)
        return (("grpc-status-details-bin", status.SerializeToString()),)


def ack_failures(ack_ids: Sequence[str]) -> PubSubError:
    """Exactly-once: the ack ids that could not be acknowledged or modified, as Pub/Sub reports
    them (INVALID_ARGUMENT with an ErrorInfo mapping each to PERMANENT_FAILURE_INVALID_ACK_ID,
    which the official clients turn into AcknowledgeError(INVALID_ACK_ID))."""
    info = error_details_pb2.ErrorInfo(
        reason="EXACTLY_ONCE_ACKID_FAILURE",
        domain="pubsub.googleapis.com",
        metadata={ack_id: "PERMANENT_FAILURE_INVALID_ACK_ID" for ack_id in ack_ids},
    )
    return PubSubError(grpc.StatusCode.INVALID_ARGUMENT, "", [info])


def failed_precondition(message: str) -> PubSubError:
    """FAILED_PRECONDITION: the resource is not in a state that allows the request."""
    return PubSubError(grpc.StatusCode.FAILED_PRECONDITION, message)


def invalid(message: str) -> PubSubError:
    """INVALID_ARGUMENT: the request itself is malformed."""
    return PubSubError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> PubSubError:
    """NOT_FOUND: a topic or subscription that must exist does not."""
    return PubSubError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str) -> PubSubError:
    """ALREADY_EXISTS: a topic or subscription that must not exist does."""
    return PubSubError(grpc.StatusCode.ALREADY_EXISTS, message)
