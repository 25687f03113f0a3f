"""Protocol Buffer schemas for Pub/Sub: compile a .proto definition with protoc (grpcio-tools) and
check messages in the binary wire format or the proto3 JSON mapping.

Google's emulator does not implement these (UNIMPLEMENTED); this follows the service's documented
rules: proto2 or proto3, exactly one top-level type and it is a message, no imports.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError, Message

__all__ = ["ProtoSchema"]

_FILE = "schema.proto"


class ProtoSchema:
    """A compiled definition; ValueError (with protoc's reason) when it is not a valid one."""

    def __init__(self, definition: str) -> None:
        descriptor = _compile(definition)
        if descriptor.dependency:
            raise ValueError("imports are not supported: " + ", ".join(descriptor.dependency))
        if len(descriptor.message_type) != 1 or descriptor.enum_type or descriptor.service:
            raise ValueError("the definition must have exactly one top-level type, a message")
        pool = descriptor_pool.DescriptorPool()
        pool.Add(descriptor)
        name = ".".join(p for p in (descriptor.package, descriptor.message_type[0].name) if p)
        self.message: type[Message] = message_factory.GetMessageClass(
            pool.FindMessageTypeByName(name)
        )

    def check_json(self, data: bytes) -> bool:
        try:
            value = json.loads(data)
            if not isinstance(value, dict):
                return False
            json_format.ParseDict(value, self.message())
        except (json_format.ParseError, ValueError, TypeError):  # JSON and Unicode errors too
            return False
        return True

    def check_binary(self, data: bytes) -> bool:
        message = self.message()
        try:
            message.ParseFromString(data)
        except (DecodeError, ValueError):
            return False
        return bool(message.IsInitialized())  # proto2 required fields


def _compile(definition: str) -> descriptor_pb2.FileDescriptorProto:
    """protoc, in process: errors come back as ProtocErrors from get_protos (run_main would print
    them on our stderr), then run_main writes the descriptor set."""
    from grpc_tools import _protoc_compiler  # imported on first use: a 10 MB extension

    with tempfile.TemporaryDirectory(prefix="pubsub-schema-") as tmp:
        folder = Path(tmp)
        (folder / _FILE).write_text(definition, encoding="utf-8")
        try:
            _protoc_compiler.get_protos(_FILE.encode(), [str(folder).encode()])
        except _protoc_compiler.ProtocErrors as errors:
            raise ValueError(str(errors).strip()) from None
        out = folder / "schema.pb"
        args = [b"protoc", b"-I" + str(folder).encode(), b"--descriptor_set_out=" + bytes(out)]
        if _protoc_compiler.run_main([*args, str(folder / _FILE).encode()]) != 0:
            raise ValueError("protoc could not compile the definition")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return files.file[-1]
