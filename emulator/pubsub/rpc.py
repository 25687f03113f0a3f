"""What every gRPC method of the emulator shares: unary handlers that turn PubSubError into a
status (with its error details), offset page tokens, Empty answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import empty_pb2
from google.protobuf.message import Message

from emulator.pubsub.errors import PubSubError, invalid

__all__ = ["Empty", "Handler", "empty", "page", "unary"]

_log = logging.getLogger("stratus.pubsub")

Handler = Callable[[Any], Message | Awaitable[Message]]


def page(items: list[Any], size: int, token: str) -> tuple[list[Any], str]:
    try:
        start = int(token) if token else 0
    except ValueError:
        raise invalid(f"invalid page_token {token!r}") from None
    end = start + size if size > 0 else len(items)
    return items[start:end], str(end) if end < len(items) else ""


def unary(fn: Handler, request: type[Any], response: type[Any]) -> grpc.RpcMethodHandler:
    async def handle(req: Message, context: grpc.aio.ServicerContext) -> Message:
        try:
            result = fn(req)
            if asyncio.iscoroutine(result):
                result = await result
            return result
        except PubSubError as error:
            await context.abort(error.code, error.message, error.trailer())
        except Exception:
            _log.exception("internal error")
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        raise AssertionError("unreachable")

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request.pb().FromString,
        response_serializer=response.pb().SerializeToString,
    )


def empty(fn: Callable[[Any], object]) -> Handler:
    def call(req: Any) -> Message:
        fn(req)
        return empty_pb2.Empty()

    return call


class Empty:
    """Stands where a proto-plus type is expected, for google.protobuf.Empty."""

    @staticmethod
    def pb() -> type[Message]:
        return empty_pb2.Empty  # type: ignore[no-any-return]
