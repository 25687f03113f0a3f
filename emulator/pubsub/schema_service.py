"""google.pubsub.v1.SchemaService: the schema RPCs over the broker's schema registry."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.message import Message
from google.pubsub_v1 import types

from emulator.pubsub.broker import Broker
from emulator.pubsub.rpc import Empty, empty, page, unary

__all__ = ["schema_methods"]


def schema_methods(broker: Broker) -> dict[str, grpc.RpcMethodHandler]:
    schemas, t = broker.schemas, types

    def list_schemas(req: Any) -> Message:
        found, token = page(
            schemas.list_schemas(req.parent, req.view), req.page_size, req.page_token
        )
        return t.ListSchemasResponse.pb()(schemas=found, next_page_token=token)

    def list_revisions(req: Any) -> Message:
        found = schemas.list_revisions(req.name, req.view)
        found, token = page(found, req.page_size, req.page_token)
        return t.ListSchemaRevisionsResponse.pb()(schemas=found, next_page_token=token)

    def validate_schema(req: Any) -> Message:
        schemas.check_definition(req.schema)
        return t.ValidateSchemaResponse.pb()()

    def validate_message(req: Any) -> Message:
        inline = req.schema if req.HasField("schema") else None
        schemas.validate_message(req.name, inline, req.message, req.encoding)
        return t.ValidateMessageResponse.pb()()

    return {
        "CreateSchema": unary(
            lambda r: schemas.create(r.parent, r.schema_id, r.schema),
            t.CreateSchemaRequest,
            t.Schema,
        ),
        "GetSchema": unary(lambda r: schemas.get(r.name, r.view), t.GetSchemaRequest, t.Schema),
        "ListSchemas": unary(list_schemas, t.ListSchemasRequest, t.ListSchemasResponse),
        "ListSchemaRevisions": unary(
            list_revisions, t.ListSchemaRevisionsRequest, t.ListSchemaRevisionsResponse
        ),
        "CommitSchema": unary(
            lambda r: schemas.commit(r.name, r.schema), t.CommitSchemaRequest, t.Schema
        ),
        "RollbackSchema": unary(
            lambda r: schemas.rollback(r.name, r.revision_id), t.RollbackSchemaRequest, t.Schema
        ),
        "DeleteSchemaRevision": unary(
            lambda r: schemas.delete_revision(_revision_name(r)),
            t.DeleteSchemaRevisionRequest,
            t.Schema,
        ),
        "DeleteSchema": unary(
            empty(lambda r: broker.delete_schema(r.name)), t.DeleteSchemaRequest, Empty
        ),
        "ValidateSchema": unary(validate_schema, t.ValidateSchemaRequest, t.ValidateSchemaResponse),
        "ValidateMessage": unary(
            validate_message, t.ValidateMessageRequest, t.ValidateMessageResponse
        ),
    }


def _revision_name(req: Any) -> str:
    """`name@revision`, from the name alone or from the deprecated revision_id field."""
    if "@" in req.name or not req.revision_id:
        return str(req.name)
    return f"{req.name}@{req.revision_id}"
