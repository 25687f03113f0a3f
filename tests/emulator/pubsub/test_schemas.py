"""Schemas on our emulator where Google's emulator cannot be the reference: Protocol Buffer
schemas (Google's answers UNIMPLEMENTED; this follows the service's documents) and schemas kept
across a restart. Avro behaviour is compared with Google's in tests/differential/pubsub."""

from __future__ import annotations

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.pubsub_v1 import SchemaServiceClient
from google.pubsub_v1.services.schema_service.transports import SchemaServiceGrpcTransport

from emulator.pubsub.protoschema import ProtoSchema
from tests.emulator.pubsub.conftest import PROJECT
from tests.support.services import running_service

pytestmark = pytest.mark.process

PARENT = f"projects/{PROJECT}"
PROTO = """syntax = "proto3";
package stratus.test;
message Reading {
  string sensor = 1;
  double value = 2;
  message Tag { string key = 1; }
  repeated Tag tags = 3;
}
"""
AVRO = '{"type": "record", "name": "R", "fields": [{"name": "sensor", "type": "string"}]}'


@pytest.fixture
def schemas(emulator):
    channel = grpc.insecure_channel(emulator.address)
    yield SchemaServiceClient(transport=SchemaServiceGrpcTransport(channel=channel))
    channel.close()


def _binary(**fields) -> bytes:
    """A Reading in the wire format, built from the same definition (no generated code)."""
    return ProtoSchema(PROTO).message(**fields).SerializeToString()


def test_protocol_buffer_schema_created(schemas, names):
    created = schemas.create_schema(
        parent=PARENT,
        schema={"type_": "PROTOCOL_BUFFER", "definition": PROTO},
        schema_id=names("p"),
    )
    assert created.type_.name == "PROTOCOL_BUFFER" and len(created.revision_id) == 8
    assert schemas.get_schema(name=created.name).definition == PROTO


@pytest.mark.parametrize(
    "definition",
    [
        'syntax = "proto3"; message A {} message B {}',  # one top-level type only
        'syntax = "proto3"; import "google/protobuf/timestamp.proto"; message A {}',  # no imports
        'syntax = "proto3"; enum E { X = 0; }',  # the one type is a message
        "message {",
        'syntax = "proto3"; message A { Missing m = 1; }',
    ],
)
def test_protocol_buffer_definitions_refused(schemas, definition):
    with pytest.raises(gexc.InvalidArgument, match="Could not parse schema definition"):
        schemas.validate_schema(
            parent=PARENT, schema={"type_": "PROTOCOL_BUFFER", "definition": definition}
        )


def test_protocol_buffer_messages_json_and_binary(schemas, names):
    inline = {"type_": "PROTOCOL_BUFFER", "definition": PROTO}

    def check(data: bytes, encoding: str) -> bool:
        try:
            schemas.validate_message(
                request={"parent": PARENT, "schema": inline, "message": data, "encoding": encoding}
            )
        except gexc.InvalidArgument:
            return False
        return True

    assert check(b'{"sensor": "t1", "value": 2.5, "tags": [{"key": "k"}]}', "JSON")
    assert check(b'{"sensor": "t1"}', "JSON")  # proto3: every field optional
    assert not check(b'{"sensor": 1}', "JSON")
    assert not check(b'{"unknown": 1}', "JSON")
    assert not check(b"[]", "JSON")
    assert check(_binary(sensor="t1", value=2.5), "BINARY")
    assert not check(b"\xff\xff\xff", "BINARY")


def test_topic_bound_to_a_protocol_buffer_schema(publisher, subscriber, schemas, names):
    schema = schemas.create_schema(
        parent=PARENT,
        schema={"type_": "PROTOCOL_BUFFER", "definition": PROTO},
        schema_id=names("p"),
    )
    topic = publisher.topic_path(PROJECT, names("t"))
    publisher.create_topic(
        request={"name": topic, "schema_settings": {"schema": schema.name, "encoding": "BINARY"}}
    )
    sub = subscriber.subscription_path(PROJECT, names("s"))
    subscriber.create_subscription(name=sub, topic=topic)
    good = _binary(sensor="t1", value=21.5)
    publisher.publish(topic, good, origin="test").result()
    with pytest.raises(gexc.InvalidArgument):
        publisher.publish(topic, b"\xff\xff\xff").result()
    got = subscriber.pull(subscription=sub, max_messages=10).received_messages
    assert [m.message.data for m in got] == [good]
    assert dict(got[0].message.attributes) == {
        "origin": "test",
        "googclient_schemaname": schema.name,
        "googclient_schemaencoding": "BINARY",
        "googclient_schemarevisionid": schema.revision_id,
    }


def test_schemas_and_bindings_survive_a_restart(tmp_path, monkeypatch):
    with running_service("pubsub", tmp_path) as service:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        channel = grpc.insecure_channel(service.address)
        schemas = SchemaServiceClient(transport=SchemaServiceGrpcTransport(channel=channel))
        first = schemas.create_schema(
            parent=PARENT, schema={"type_": "AVRO", "definition": AVRO}, schema_id="kept"
        )
        second = schemas.commit_schema(
            name=first.name, schema={"name": first.name, "type_": "AVRO", "definition": AVRO}
        )
        publisher = pubsub_v1.PublisherClient()
        topic = publisher.topic_path(PROJECT, "bound")
        publisher.create_topic(
            request={"name": topic, "schema_settings": {"schema": first.name, "encoding": "JSON"}}
        )
        publisher.transport.close()
        channel.close()

        service.kill()
        service.port = 0
        service.start()

        channel = grpc.insecure_channel(service.address)
        schemas = SchemaServiceClient(transport=SchemaServiceGrpcTransport(channel=channel))
        revisions = list(schemas.list_schema_revisions(name=first.name))
        assert [r.revision_id for r in revisions] == [first.revision_id, second.revision_id]
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", service.address)
        publisher = pubsub_v1.PublisherClient()
        assert publisher.get_topic(topic=topic).schema_settings.schema == first.name
        publisher.publish(topic, b'{"sensor": "t1"}').result()
        with pytest.raises(gexc.InvalidArgument):
            publisher.publish(topic, b'{"sensor": 1}').result()
        publisher.transport.close()
        channel.close()
