"""The gRPC surface: google.firestore.v1.Firestore as generic handlers on grpc.aio."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import grpc
from google.cloud.firestore_v1.types import document as _document
from google.cloud.firestore_v1.types import firestore as _fs
from google.protobuf import empty_pb2

from .errors import FirestoreError, invalid
from .service import Firestore
from .watch import ListenStream

__all__ = ["SERVICE", "handlers"]

SERVICE = "google.firestore.v1.Firestore"

_log = logging.getLogger("stratus.firestore")


def _pb(name: str) -> Any:
    return getattr(_fs, name).pb()


def _unary(fn: Callable[[Any], Any], request: Any, response: Any) -> grpc.RpcMethodHandler:
    async def handle(req: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return fn(req)
        except FirestoreError as error:
            await context.abort(error.code, error.message)
        except Exception:
            _log.exception("internal error in %s", fn.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        raise AssertionError("unreachable")

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request.FromString,
        response_serializer=response.SerializeToString,
    )


def _stream(
    fn: Callable[[Any], Iterator[Any]], request: Any, response: Any
) -> grpc.RpcMethodHandler:
    async def handle(req: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            responses = list(fn(req))  # computed at once: a consistent snapshot
        except FirestoreError as error:
            await context.abort(error.code, error.message)
        except Exception:
            _log.exception("internal error in %s", fn.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        for item in responses:
            yield item

    return grpc.unary_stream_rpc_method_handler(
        handle,
        request_deserializer=request.FromString,
        response_serializer=response.SerializeToString,
    )


def _unimplemented(method: str, streaming: bool) -> grpc.RpcMethodHandler:
    message = f"{method} is not supported by the Stratus Firestore emulator"

    async def unary(req: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
        raise AssertionError("unreachable")

    async def stream(requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
        yield b""

    if streaming:
        return grpc.stream_stream_rpc_method_handler(stream)
    return grpc.unary_unary_rpc_method_handler(unary)


def _listen(service: Firestore) -> grpc.RpcMethodHandler:
    """Listen: requests add and remove targets; responses come as commits change them."""

    async def handle(
        requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        first = await anext(aiter(requests), None)
        if first is None:
            return
        try:
            if not first.database:
                raise invalid("a ListenRequest needs its database")
            service._database(first.database)
        except FirestoreError as error:
            await context.abort(error.code, error.message)
        stream = ListenStream(service.watch, first.database)

        async def read() -> None:
            request = first
            try:
                while request is not None:
                    stream.handle(request)
                    request = await anext(requests, None)
            except FirestoreError as error:
                stream.fail(error)
            except Exception:
                _log.exception("internal error in Listen")
                stream.fail(FirestoreError(grpc.StatusCode.INTERNAL, "internal error"))

        reader = asyncio.create_task(read())
        try:
            while True:
                try:
                    batch = await stream.next()
                except FirestoreError as error:
                    await context.abort(error.code, error.message)
                for response in batch:
                    yield response
        finally:
            reader.cancel()
            stream.close()

    return grpc.stream_stream_rpc_method_handler(
        handle,
        request_deserializer=_pb("ListenRequest").FromString,
        response_serializer=_pb("ListenResponse").SerializeToString,
    )


def handlers(service: Firestore) -> list[grpc.GenericRpcHandler]:
    empty = empty_pb2.Empty
    document = _document.Document.pb()
    methods = {
        "GetDocument": _unary(service.get_document, _pb("GetDocumentRequest"), document),
        "ListDocuments": _unary(
            service.list_documents, _pb("ListDocumentsRequest"), _pb("ListDocumentsResponse")
        ),
        "CreateDocument": _unary(service.create_document, _pb("CreateDocumentRequest"), document),
        "UpdateDocument": _unary(service.update_document, _pb("UpdateDocumentRequest"), document),
        "DeleteDocument": _unary(service.delete_document, _pb("DeleteDocumentRequest"), empty),
        "BatchGetDocuments": _stream(
            service.batch_get_documents,
            _pb("BatchGetDocumentsRequest"),
            _pb("BatchGetDocumentsResponse"),
        ),
        "BeginTransaction": _unary(
            service.begin_transaction,
            _pb("BeginTransactionRequest"),
            _pb("BeginTransactionResponse"),
        ),
        "Commit": _unary(service.commit, _pb("CommitRequest"), _pb("CommitResponse")),
        "Rollback": _unary(service.rollback, _pb("RollbackRequest"), empty),
        "RunQuery": _stream(service.run_query, _pb("RunQueryRequest"), _pb("RunQueryResponse")),
        "RunAggregationQuery": _stream(
            service.run_aggregation_query,
            _pb("RunAggregationQueryRequest"),
            _pb("RunAggregationQueryResponse"),
        ),
        "BatchWrite": _unary(
            service.batch_write, _pb("BatchWriteRequest"), _pb("BatchWriteResponse")
        ),
        "ListCollectionIds": _unary(
            service.list_collection_ids,
            _pb("ListCollectionIdsRequest"),
            _pb("ListCollectionIdsResponse"),
        ),
        "PartitionQuery": _unimplemented("PartitionQuery", streaming=False),
        "Listen": _listen(service),
        "Write": _unimplemented("Write (streaming writes)", streaming=True),
    }
    return [grpc.method_handlers_generic_handler(SERVICE, methods)]
