"""The official Firestore client with its server-streaming reads run on the calling thread.

google-cloud-firestore reads documents through server-streaming RPCs (BatchGetDocuments for a
get, RunQuery for a query). gRPC's default for such a call starts a "channel spin" thread that
polls the call's events whenever no other call is in flight, and hands every message over to the
caller through a condition variable: a thread start and several context switches per read,
about a third of a millisecond of CPU on this machine. gRPC's channel option
`SingleThreadedUnaryStream` (grpc.experimental.ChannelOptions) reads the stream on the thread
that iterates it instead; the client, its retries and its error mapping are unchanged. The store
adapter iterates every stream on the thread that opened it, which is what the option requires.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import client as gapic_client
from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport

__all__ = ["SINGLE_THREADED", "client"]

SINGLE_THREADED = (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)
# what google-cloud-firestore gives its emulator channel (base_client._emulator_channel)
_EMULATOR_OPTIONS = [
    ("Authorization", "Bearer owner"),
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
]


class _Transport(FirestoreGrpcTransport):
    """The GAPIC gRPC transport; its channels to Google's service read streams in place."""

    @classmethod
    def create_channel(cls, *args: Any, **kwargs: Any) -> grpc.Channel:
        kwargs["options"] = [*kwargs.get("options", ()), SINGLE_THREADED]
        channel: grpc.Channel = super().create_channel(*args, **kwargs)
        return channel


class _Client(firestore.Client):
    """`firestore.Client` whose channel (to Google's service or an emulator) reads server
    streams on the calling thread."""

    @property
    def _firestore_api(self) -> Any:
        return self._firestore_api_helper(_Transport, gapic_client.FirestoreClient, gapic_client)

    def _emulator_channel(self, transport: Any) -> grpc.Channel:
        return grpc.insecure_channel(
            self._emulator_host, options=[*_EMULATOR_OPTIONS, SINGLE_THREADED]
        )


def client(project: str, database: str) -> firestore.Client:
    """A Firestore client for `project`/`database` (FIRESTORE_EMULATOR_HOST: that emulator)."""
    return _Client(project=project, database=database)
