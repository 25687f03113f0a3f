"""Pub/Sub schemas: revisions kept in SQLite, topics' schema settings, validation at publish.

A schema is the list of its revisions, oldest first (the newest is the schema). A message on a
topic bound to a schema is checked against the revisions the topic allows, newest first; the one
that accepts it is named in the attributes Pub/Sub adds (`googclient_schemaname`,
`googclient_schemaencoding`, `googclient_schemarevisionid`). Error codes and messages follow
Google's emulator, which implements Avro; Protocol Buffer schemas follow the service's documents.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from typing import Protocol

from google.protobuf.message import Message
from google.pubsub_v1 import types

from emulator.pubsub.avro import AvroSchema
from emulator.pubsub.errors import already_exists, invalid, not_found
from emulator.pubsub.protoschema import ProtoSchema
from emulator.pubsub.store import Store

__all__ = ["DELETED_SCHEMA", "SchemaPb", "Schemas"]

SchemaPb = types.Schema.pb()
DELETED_SCHEMA = "_deleted-schema_"
MAX_DEFINITION = 300 * 1024  # bytes, as Pub/Sub's quota page says

_PROTO, _AVRO = 1, 2  # Schema.Type
_JSON, _BINARY = 1, 2  # Encoding
_BASIC = 1  # SchemaView
_ENCODINGS = {_JSON: "JSON", _BINARY: "BINARY"}
_NAME = re.compile(r"^projects/([^/]+)/schemas/([A-Za-z][A-Za-z0-9\-_.~+%]{2,254})$")
_PARENT = re.compile(r"^projects/[^/]+$")


class _Checker(Protocol):
    def check_json(self, data: bytes) -> bool: ...
    def check_binary(self, data: bytes) -> bool: ...


def _require_name(name: str) -> str:
    if not _NAME.match(name):
        raise invalid(f"Invalid [schemas] name: (name={name})")
    return name


def _view(schema: Message, view: int) -> Message:
    if view != _BASIC:
        return schema
    basic = SchemaPb()
    basic.CopyFrom(schema)
    basic.ClearField("definition")
    return basic


class Schemas:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.revisions: dict[str, list[Message]] = {}
        for name, body in store.schema_revisions():
            self.revisions.setdefault(name, []).append(SchemaPb.FromString(body))
        self._checkers: dict[tuple[str, str], _Checker] = {}

    # the SchemaService RPCs -------------------------------------------------------------------

    def create(self, parent: str, schema_id: str, schema: Message) -> Message:
        name = _require_name(f"{parent}/schemas/{schema_id}")
        if name in self.revisions:
            raise already_exists("Schema already exists")
        return self._add(name, schema.type_, schema.definition)

    def get(self, name: str, view: int = 0) -> Message:
        return _view(self._revision(name), view)

    def list_schemas(self, parent: str, view: int = _BASIC) -> list[Message]:
        """The newest revision of each schema; only name and type unless FULL is asked."""
        if not _PARENT.match(parent):
            raise invalid(f"invalid parent {parent!r}: expected projects/<project>")
        prefix = parent + "/schemas/"
        return [
            _view(self.revisions[n][-1], view or _BASIC)
            for n in sorted(self.revisions)
            if n.startswith(prefix)
        ]

    def list_revisions(self, name: str, view: int = 0) -> list[Message]:
        return [_view(s, view) for s in self._all(name)]

    def commit(self, name: str, schema: Message) -> Message:
        self._all(name)
        return self._add(name, schema.type_, schema.definition)

    def rollback(self, name: str, revision_id: str) -> Message:
        old = next((s for s in self._all(name) if s.revision_id == revision_id), None)
        if old is None:
            raise not_found("Revision not found")
        return self._add(name, old.type_, old.definition)

    def delete_revision(self, name: str) -> Message:
        base, _, revision_id = name.partition("@")
        revisions = self._all(base)
        old = next((s for s in revisions if revision_id and s.revision_id == revision_id), None)
        if old is None:
            raise not_found("Schema revision not found")
        if len(revisions) == 1:
            raise invalid("Cannot delete last revision. Please use DeleteSchema.")
        with self.store.tx():
            self.store.delete_schema(base, revision_id)
        revisions.remove(old)
        return old

    def delete(self, name: str) -> None:
        """Forget every revision (the broker then marks the topics bound to it)."""
        self._all(name)
        with self.store.tx():
            self.store.delete_schema(name, None)
        del self.revisions[name]

    def check_definition(self, schema: Message) -> _Checker:
        """The checker of a definition; INVALID_ARGUMENT when the type or definition is wrong."""
        if schema.type_ not in (_AVRO, _PROTO):
            raise invalid("Invalid schema type")
        if len(schema.definition.encode()) > MAX_DEFINITION:
            raise invalid(f"Schema definition exceeds {MAX_DEFINITION} bytes")
        try:
            if schema.type_ == _AVRO:
                return AvroSchema(schema.definition)
            return ProtoSchema(schema.definition)
        except ValueError as error:
            raise invalid(f"Could not parse schema definition: {error}") from None

    def validate_message(
        self, name: str, inline: Message | None, data: bytes, encoding: int
    ) -> None:
        """ValidateMessage: by name (`name@revision` allowed) or an inline definition."""
        if encoding not in _ENCODINGS:
            raise invalid("No encoding provided.")
        if name:
            schema = self._revision(name)
            checker = self._checker(name.partition("@")[0], schema)
        else:
            schema = inline if inline is not None else SchemaPb()
            checker = self.check_definition(schema)
        if not _accepts(checker, data, encoding):
            raise invalid(_refusal(schema.type_, encoding))

    # topics ------------------------------------------------------------------------------------

    def check_settings(self, settings: Message) -> None:
        """A topic's schema_settings as Pub/Sub checks them at CreateTopic and UpdateTopic."""
        if not settings.schema:
            raise invalid("No schema name provided")
        if settings.encoding not in _ENCODINGS:
            raise invalid("Invalid schema encoding provided")
        if settings.schema == DELETED_SCHEMA:
            return
        revisions = self.revisions.get(settings.schema)
        if revisions is None:
            raise not_found("Schema could not be found")
        ids = [s.revision_id for s in revisions]
        first = self._position(ids, settings.first_revision_id, "First", 0)
        last = self._position(ids, settings.last_revision_id, "Last", len(ids) - 1)
        if first > last:
            raise invalid("first_revision_id must not be newer than last_revision_id")

    def attributes(self, settings: Message, data: bytes) -> dict[str, str]:
        """The attributes Pub/Sub adds to a message it accepts on a topic bound to a schema;
        INVALID_ARGUMENT when no allowed revision accepts it."""
        name = settings.schema
        revisions = self.revisions.get(name)
        if name == DELETED_SCHEMA or revisions is None:
            raise not_found("Schema associated with topic deleted.")
        ids = [s.revision_id for s in revisions]
        low = ids.index(settings.first_revision_id) if settings.first_revision_id in ids else 0
        high = ids.index(settings.last_revision_id) if settings.last_revision_id in ids else -1
        allowed = revisions[low : (high % len(ids)) + 1]
        for schema in reversed(allowed):
            if _accepts(self._checker(name, schema), data, settings.encoding):
                return {
                    "googclient_schemaname": name,
                    "googclient_schemaencoding": _ENCODINGS[settings.encoding],
                    "googclient_schemarevisionid": schema.revision_id,
                }
        raise invalid("Could not parse message")

    # helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _position(ids: Sequence[str], revision_id: str, which: str, default: int) -> int:
        if not revision_id:
            return default
        if revision_id not in ids:
            raise not_found(f"{which} revision could not be found")
        return ids.index(revision_id)

    def _all(self, name: str) -> list[Message]:
        revisions = self.revisions.get(_require_name(name))
        if revisions is None:
            raise not_found("Schema not found")
        return revisions

    def _revision(self, name: str) -> Message:
        base, at, revision_id = name.partition("@")
        revisions = self._all(base)
        if not at:
            return revisions[-1]
        found = next((s for s in revisions if s.revision_id == revision_id), None)
        if found is None:
            raise not_found("Schema revision not found")
        return found

    def _checker(self, name: str, schema: Message) -> _Checker:
        key = (name, schema.revision_id)
        checker = self._checkers.get(key)
        if checker is None:
            checker = self._checkers[key] = self.check_definition(schema)
        return checker

    def _add(self, name: str, kind: int, definition: str) -> Message:
        schema = SchemaPb(name=name, type_=kind, definition=definition)
        checker = self.check_definition(schema)
        schema.revision_id = uuid.uuid4().hex[:8]
        schema.revision_create_time.FromNanoseconds(time.time_ns())
        with self.store.tx():
            self.store.put_schema(name, schema.revision_id, schema.SerializeToString())
        self.revisions.setdefault(name, []).append(schema)
        self._checkers[(name, schema.revision_id)] = checker
        return schema


def _accepts(checker: _Checker, data: bytes, encoding: int) -> bool:
    return checker.check_json(data) if encoding == _JSON else checker.check_binary(data)


def _refusal(kind: int, encoding: int) -> str:
    what = "Avro" if kind == _AVRO else "Protocol Buffer"
    return f"Could not parse {_ENCODINGS[encoding]} {what} message".replace("BINARY", "binary")
