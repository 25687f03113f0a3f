"""The official Firestore client with its server-streaming reads run on the calling thread, and
query results read straight from the protobuf it receives.

google-cloud-firestore reads documents through server-streaming RPCs (BatchGetDocuments for a
get, RunQuery for a query). gRPC's default for such a call starts a "channel spin" thread that
polls the call's events whenever no other call is in flight, and hands every message over to the
caller through a condition variable: a thread start and several context switches per read,
about a third of a millisecond of CPU on this machine. gRPC's channel option
`SingleThreadedUnaryStream` (grpc.experimental.ChannelOptions) reads the stream on the thread
that iterates it instead; the client, its retries and its error mapping are unchanged. The store
adapter iterates every stream on the thread that opened it, which is what the option requires.

`run_query` runs a query the client built through the client's own RunQuery call (the request
`Query.stream` sends, its retry, timeout and error mapping) and decodes each document's protobuf
with the client's `decode_dict`, without `Query.stream`'s snapshots: proto-plus wrappers, a
document reference and two deep copies of the data per document were half the CPU of a query.
"""

from __future__ import annotations

from typing import Any, cast

import grpc
from google.api_core import exceptions as gexc
from google.api_core import gapic_v1
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.services.firestore import client as gapic_client
from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport
from proto.datetime_helpers import DatetimeWithNanoseconds

from shared.store import Document

__all__ = ["SINGLE_THREADED", "client", "run_query"]

SINGLE_THREADED = (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)
# what google-cloud-firestore gives its emulator channel (base_client._emulator_channel)
_ATTEMPTS = 3  # reads of a query whose stream breaks after its first answer
# what RunQuery's default retry retries (transports/base.py); Query.stream asks the same of
# `transport.run_query._retry`, which a gRPC stub does not have (an AttributeError in 2.34.1)
_TRANSIENT = (gexc.DeadlineExceeded, gexc.InternalServerError, gexc.ServiceUnavailable)
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
    """A Firestore client for `project`/`database` (FIRESTORE_EMULATOR_HOST: that emulator),
    its channel and GAPIC client built now: the client builds them on its first call without a
    lock, so first calls on several threads each built one, and the channels that lost the race
    were freed under their calls ("Cancelled: Stream removed (Channel deallocated!)", a 500)."""
    built = _Client(project=project, database=database)
    built._firestore_api  # noqa: B018 - builds and keeps the channel
    return built


def run_query(client: firestore.Client, query: Any) -> list[Document]:
    """The documents `query` (a `firestore` query of `client`) matches, in its order.

    A stream that fails after its first answer (the call itself is retried by the client's
    RunQuery method) with an error that method retries is read again from the start (where
    `Query.stream` means to resume after the last document), at most three reads in all.
    """
    request, _, kwargs = query._prep_stream(None, gapic_v1.method.DEFAULT, None)
    prefix = len(client._database_string) + len("/documents/")
    for attempt in range(1, _ATTEMPTS + 1):
        responses = client._firestore_api.run_query(  # the call and first answer: its retry
            request=request, metadata=client._rpc_metadata, **kwargs
        )
        try:
            return [_document(client, r._pb.document, prefix) for r in responses if _found(r)]
        except _TRANSIENT:
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _found(response: Any) -> bool:
    return bool(response._pb.HasField("document"))


def _document(client: firestore.Client, pb: Any, prefix: int) -> Document:
    return Document(
        path=pb.name[prefix:],
        data=cast(dict[str, Any], _helpers.decode_dict(pb.fields, client)),
        # the type the client's snapshots carry (proto-plus's), nanoseconds included
        update_time=DatetimeWithNanoseconds.from_timestamp_pb(pb.update_time),
        create_time=DatetimeWithNanoseconds.from_timestamp_pb(pb.create_time),
    )
