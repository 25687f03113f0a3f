"""Registration bodies at the edge: every field checked, each problem named (no server)."""

from __future__ import annotations

import orjson
import pytest

from functions.bootstrap.model import (
    CONFIG_MAX_BYTES,
    external_id_or_404,
    generate_key,
    parse_external_id,
    parse_external_key,
    registration_fields,
)
from functions.bootstrap.service import bootstrap_key
from shared.errors import AuthenticationError, NotFound, ValidationError

SENSOR = {"name": "temperature", "mapping": {"type": "double", "unit": "Cel"}}


@pytest.mark.parametrize("value", ["SN-0001", "AA:BB:CC:DD:EE:FF", "x", "a" * 128, "dev_1.2"])
def test_external_ids_that_fit(value: str) -> None:
    assert parse_external_id(value) == value
    assert external_id_or_404(value) == value


@pytest.mark.parametrize(
    "value", ["", ".", "..", "_hidden", "-x", "a/b", "a b", "a" * 129, "é", 12, None]
)
def test_external_ids_that_do_not(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_external_id(value)
    assert caught.value.field == "external_id"
    if isinstance(value, str):
        with pytest.raises(NotFound):
            external_id_or_404(value)


def test_external_keys() -> None:
    assert parse_external_key("k" * 16) == "k" * 16
    generated = generate_key()
    assert parse_external_key(generated) == generated and len(generated) >= 43
    assert generate_key() != generated
    for bad in ["short", "with a space in it!!", "k" * 257, "tab\there-and-long-enough", 5]:
        with pytest.raises(ValidationError, match="external_key"):
            parse_external_key(bad)


def test_create_fields_with_defaults() -> None:
    fields = registration_fields({"external_id": "SN-1"}, create=True)
    assert fields == {"description": "", "config": "{}", "sensors": [], "enabled": True}


def test_create_fields_in_full() -> None:
    body = {
        "external_id": "SN-1",
        "external_key": "k" * 16,
        "name": " pump ",
        "description": "cellar",
        "config": {"interval": 5, "matrix": [[1, 2], [3, 4]]},
        "sensors": [SENSOR, {"name": "temperature", "path": "inner", "mapping": '{"type":"long"}'}],
        "enabled": False,
    }
    fields = registration_fields(body, create=True)
    assert fields["name"] == "pump"
    assert orjson.loads(fields["config"]) == body["config"]  # arrays in arrays kept as JSON text
    assert fields["sensors"] == [
        {
            "name": "temperature",
            "description": "",
            "mapping": {"type": "double", "unit": "Cel"},
            "path": "",
        },
        {
            "name": "temperature",
            "description": "",
            "mapping": {"type": "long", "unit": None},
            "path": "inner",
        },
    ]
    assert fields["enabled"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"config": [1]}, "config"),
        ({"config": {"big": "x" * CONFIG_MAX_BYTES}}, "config"),
        ({"sensors": {}}, "sensors"),
        ({"sensors": [SENSOR] * 101}, "sensors"),
        ({"sensors": [5]}, "sensors[0]"),
        ({"sensors": [{"name": "t"}]}, "sensors[0].mapping"),
        (
            {"sensors": [SENSOR, {"name": "x", "mapping": {"type": "nope"}}]},
            "sensors[1].mapping.type",
        ),
        ({"sensors": [SENSOR, SENSOR]}, "sensors[1].name"),
        ({"enabled": "yes"}, "enabled"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_fields_are_named(body: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        registration_fields(body, create=True)
    assert caught.value.field == field


def test_update_fields() -> None:
    assert registration_fields({"enabled": False}, create=False) == {"enabled": False}
    with pytest.raises(ValidationError, match="nothing to update"):
        registration_fields({}, create=False)
    with pytest.raises(ValidationError) as caught:
        registration_fields({"external_id": "SN-2"}, create=False)
    assert caught.value.field == "external_id"  # an external id never changes


@pytest.mark.parametrize(
    ("header", "key"),
    [("Bootstrap abc", "abc"), ("bootstrap  abc ", "abc"), ("BOOTSTRAP x-y", "x-y")],
)
def test_the_bootstrap_header(header: str, key: str) -> None:
    assert bootstrap_key(header) == key


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Bootstrap", "Bootstrap a b", "abc"])
def test_a_missing_or_malformed_header_is_401(header: str | None) -> None:
    with pytest.raises(AuthenticationError, match="Bootstrap <external key>"):
        bootstrap_key(header)
