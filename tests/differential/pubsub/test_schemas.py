"""Avro schemas on both emulators: revisions, topics bound to a schema, validation at publish and
the attributes added to delivered messages. (Google's emulator has no Protocol Buffer schemas:
tests/emulator/pubsub/test_schemas.py checks ours against the service's documents.)"""

from __future__ import annotations

import io
import json

import fastavro
import pytest

from tests.differential.pubsub.conftest import Clients, outcome, status

pytestmark = pytest.mark.process

V1 = {"type": "record", "name": "Reading", "fields": [{"name": "sensor", "type": "string"}]}
V2 = {
    "type": "record",
    "name": "Reading",
    "fields": [
        {"name": "sensor", "type": "string"},
        {"name": "value", "type": "double", "default": 0.0},
    ],
}
RICH = {
    "type": "record",
    "name": "Rich",
    "namespace": "stratus.test",
    "fields": [
        {"name": "a", "type": "string"},
        {"name": "b", "type": "int", "default": 0},
        {"name": "c", "type": ["null", "string"], "default": None},
        {"name": "d", "type": {"type": "array", "items": "long"}, "default": []},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["X", "Y"]}, "default": "X"},
        {"name": "f", "type": "bytes", "default": ""},
        {"name": "g", "type": {"type": "map", "values": "double"}, "default": {}},
        {"name": "h", "type": "boolean", "default": False},
    ],
}
BASE = {
    "a": "x",
    "b": 1,
    "c": None,
    "d": [1, 2],
    "e": "Y",
    "f": "\u00ff",
    "g": {"k": 1.5},
    "h": True,
}


def _json(**changes) -> bytes:
    value = {**BASE, **changes}
    return json.dumps({k: v for k, v in value.items() if v != "DROP"}).encode()


JSON_CASES = {
    "valid": _json(),
    "missing field with a default": _json(b="DROP"),
    "unknown field": _json(zz=1),
    "int as string": _json(b="1"),
    "int as 1.0": _json(b=1.0),
    "int out of range": _json(b=2**31),
    "bare union value": _json(c="q"),
    "tagged union value": _json(c={"string": "q"}),
    "wrong union tag": _json(c={"int": 1}),
    "unknown enum symbol": _json(e="Z"),
    "int in a double map": _json(g={"k": 1}),
    "float in a long array": _json(d=[1.5]),
    "int for a boolean": _json(h=1),
    "null for a string": _json(a=None),
    "trailing text": _json() + b" trailing",
    "an array": b"[]",
    "not JSON": b"{nope",
}


def _binary(schema: dict, value: dict) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), value)
    return out.getvalue()


def test_schema_revisions(compare):
    def scenario(c: Clients):
        s, name = c.schemas, c.schema("reading")
        avro = {"type_": "AVRO", "definition": json.dumps(V1)}
        created = s.create_schema(parent=c.parent, schema=avro, schema_id="reading")
        second = s.commit_schema(
            name=name, schema={"name": name, "type_": "AVRO", "definition": json.dumps(V2)}
        )
        rolled = s.rollback_schema(name=name, revision_id=created.revision_id)
        revisions = list(s.list_schema_revisions(name=name))
        answer = {
            "created": created,
            "again": status(
                lambda: s.create_schema(parent=c.parent, schema=avro, schema_id="reading")
            ),
            "no type": status(
                lambda: s.create_schema(
                    parent=c.parent, schema={"definition": json.dumps(V1)}, schema_id="typeless"
                )
            ),
            "bad definition": status(
                lambda: s.create_schema(
                    parent=c.parent,
                    schema={"type_": "AVRO", "definition": "{"},
                    schema_id="broken",
                )
            ),
            "short id": status(
                lambda: s.create_schema(parent=c.parent, schema=avro, schema_id="ab")
            ),
            "get": s.get_schema(name=name),
            "get basic": s.get_schema(request={"name": name, "view": "BASIC"}),
            "get first revision": s.get_schema(name=f"{name}@{created.revision_id}"),
            "get missing revision": status(lambda: s.get_schema(name=f"{name}@nope")),
            "get missing": status(lambda: s.get_schema(name=c.schema("missing"))),
            "list full": list(s.list_schemas(request={"parent": c.parent, "view": "FULL"})),
            "revisions": revisions,
            "revision ids distinct": len({r.revision_id for r in revisions}),
            "newest is the rollback": revisions[-1].revision_id == rolled.revision_id,
            "basic revisions": list(
                s.list_schema_revisions(request={"name": name, "view": "BASIC"})
            ),
            "rollback missing": status(lambda: s.rollback_schema(name=name, revision_id="nope")),
            "commit missing": status(
                lambda: s.commit_schema(name=c.schema("missing"), schema=avro)
            ),
            "delete revision": s.delete_schema_revision(name=f"{name}@{second.revision_id}"),
            "delete it again": status(
                lambda: s.delete_schema_revision(name=f"{name}@{second.revision_id}")
            ),
            "delete without revision": status(lambda: s.delete_schema_revision(name=name)),
        }
        s.delete_schema_revision(name=f"{name}@{created.revision_id}")
        answer["delete the last one"] = status(
            lambda: s.delete_schema_revision(name=f"{name}@{rolled.revision_id}")
        )
        answer["delete schema"] = status(lambda: s.delete_schema(name=name))
        answer["delete schema again"] = status(lambda: s.delete_schema(name=name))
        return answer

    ours, google = compare(scenario)
    assert ours == google


def test_topics_bound_to_a_schema(compare):
    def scenario(c: Clients):
        s, name = c.schemas, c.schema("reading")
        first = s.create_schema(
            parent=c.parent,
            schema={"type_": "AVRO", "definition": json.dumps(V1)},
            schema_id="reading",
        )
        second = s.commit_schema(
            name=name, schema={"name": name, "type_": "AVRO", "definition": json.dumps(V2)}
        )
        revision = {first.revision_id: "first", second.revision_id: "second"}
        pub, sub = c.publisher, c.subscriber

        def topic(topic_id: str, **settings):
            created = outcome(
                lambda: pub.create_topic(
                    request={"name": c.topic(topic_id), "schema_settings": settings}
                )
            )
            if isinstance(created, str):
                return created
            bound = created.schema_settings
            return [bound.schema, bound.encoding.name] + [
                revision.get(r, r) for r in (bound.first_revision_id, bound.last_revision_id)
            ]

        answer = {
            "json": topic("json", schema=name, encoding="JSON"),
            "binary": topic("binary", schema=name, encoding="BINARY"),
            "pinned": topic(
                "pinned",
                schema=name,
                encoding="JSON",
                first_revision_id=first.revision_id,
                last_revision_id=first.revision_id,
            ),
            "no encoding": topic("no-encoding", schema=name),
            "no schema": topic("no-schema", encoding="JSON"),
            "missing schema": topic("missing", schema=c.schema("missing"), encoding="JSON"),
            "missing revision": topic(
                "missing-rev", schema=name, encoding="JSON", first_revision_id="nope"
            ),
        }
        for topic_id in ("json", "binary", "pinned"):
            sub.create_subscription(name=c.sub(topic_id), topic=c.topic(topic_id))
        v1, v2 = {"sensor": "t1"}, {"sensor": "t1", "value": 21.5}
        sends = {
            "json v1": ("json", json.dumps(v1).encode()),
            "json v2": ("json", json.dumps(v2).encode()),
            "json bad": ("json", b'{"sensor": 1}'),
            "json empty": ("json", b""),
            "binary v2": ("binary", _binary(V2, v2)),
            "binary v1": ("binary", _binary(V1, v1)),
            "binary short": ("binary", _binary(V2, v2)[:-3]),
            "pinned v1": ("pinned", json.dumps(v1).encode()),
            "pinned v2": ("pinned", json.dumps(v2).encode()),
        }
        for label, (topic_id, data) in sends.items():
            answer[label] = status(
                lambda t=topic_id, d=data: pub.publish(c.topic(t), d, k="v").result()
            )
        for topic_id in ("json", "binary", "pinned"):
            got = sub.pull(request={"subscription": c.sub(topic_id), "max_messages": 10})
            answer[f"delivered on {topic_id}"] = [
                {
                    "data": r.message.data,
                    "attributes": {k: revision.get(v, v) for k, v in r.message.attributes.items()},
                }
                for r in got.received_messages
            ]
        s.delete_schema(name=name)
        answer["topic after the schema is deleted"] = pub.get_topic(topic=c.topic("json"))
        answer["publish after"] = status(
            lambda: pub.publish(c.topic("json"), json.dumps(v2).encode()).result()
        )
        return answer

    ours, google = compare(scenario)
    assert ours == google


def test_validate_schema_and_messages(compare):
    definitions = {
        "record without fields": {"type": "record", "name": "A"},
        "primitive": "string",
        "enum": {"type": "enum", "name": "E", "symbols": ["A"]},
        "bad default": {
            "type": "record",
            "name": "A",
            "fields": [{"name": "x", "type": "int", "default": "q"}],
        },
        "name starting with a digit": {"type": "record", "name": "1A", "fields": []},
        "field twice": {
            "type": "record",
            "name": "A",
            "fields": [{"name": "x", "type": "int"}, {"name": "x", "type": "int"}],
        },
        "unknown type": {"type": "record", "name": "A", "fields": [{"name": "x", "type": "E"}]},
        "union": ["null", "int"],
    }

    def scenario(c: Clients):
        s = c.schemas
        answer = {
            f"schema {label}": status(
                lambda d=d: s.validate_schema(
                    parent=c.parent, schema={"type_": "AVRO", "definition": json.dumps(d)}
                )
            )
            for label, d in definitions.items()
        }
        rich = {"type_": "AVRO", "definition": json.dumps(RICH)}
        for label, data in JSON_CASES.items():
            answer[f"json {label}"] = status(
                lambda data=data: s.validate_message(
                    request={
                        "parent": c.parent,
                        "schema": rich,
                        "message": data,
                        "encoding": "JSON",
                    }
                )
            )
        good = _binary(RICH, {**BASE, "f": b"\xff"})
        for label, data in {
            "valid": good,
            "trailing": good + b"\0\1",
            "short": good[:-3],
            "empty": b"",
        }.items():
            answer[f"binary {label}"] = status(
                lambda data=data: s.validate_message(
                    request={
                        "parent": c.parent,
                        "schema": rich,
                        "message": data,
                        "encoding": "BINARY",
                    }
                )
            )
        answer["no encoding"] = status(
            lambda: s.validate_message(
                request={"parent": c.parent, "schema": rich, "message": b"{}"}
            )
        )
        answer["missing schema"] = status(
            lambda: s.validate_message(
                request={
                    "parent": c.parent,
                    "name": c.schema("missing"),
                    "message": b"{}",
                    "encoding": "JSON",
                }
            )
        )
        return answer

    ours, google = compare(scenario)
    assert ours == google
