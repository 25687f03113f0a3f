"""The OpenAPI document: a valid 3.1 description that matches the manifest's HTTP routes."""

from __future__ import annotations

import importlib
import json
import re

import functions_framework
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from functions.openapi.service import CACHE_CONTROL, document
from shared.manifest import load
from tests.support.host import ROOT

openapi_main = importlib.import_module("functions.openapi.main")

# Functions whose every route the document describes: every HTTP function of the manifest but
# those of NOT_API.
DESCRIBED = ("users", "orgs", "devices", "sensors", "consumers", "jwks", "openapi", "status",
             "ingest", "query", "control", "rules", "alerts", "bootstrap",
             "detectors", "models", "streams")  # fmt: skip
# HTTP functions that serve no API, only files for browsers: the web console (its page, modules
# and style sheets, public, no JSON): describing them would put HTML among the API's operations
NOT_API = ("console",)
METHODS = {"get", "post", "put", "patch", "delete"}


def _shape(path: str) -> str:
    """A path with its parameters unnamed and no trailing slash: /api/users/{}."""
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") or "/")


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(document())
    assert document()["openapi"] == "3.1.0"


def test_it_describes_exactly_the_routes_of_the_http_functions() -> None:
    manifest = load(ROOT / "serverless.yml")
    http = {name for name, function in manifest.functions.items() if function.routes}
    assert http == set(DESCRIBED) | set(NOT_API)
    routes = {
        (route.method.lower(), _shape(route.path))
        for name in DESCRIBED
        for route in manifest.functions[name].routes
    }
    described = {
        (method, _shape(path))
        for path, item in document()["paths"].items()
        for method in item
        if method in METHODS
    }
    assert described == routes


def test_every_operation_names_its_answers_and_every_error_is_the_error_body() -> None:
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            statuses = set(operation["responses"])
            assert any(code.startswith("2") for code in statuses), (method, path)
            if operation.get("security", None) != []:
                assert {"401", "403"} <= statuses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= statuses, (method, path)
                if "*/*" not in operation["requestBody"]["content"]:  # typed bodies: 415 too
                    assert "415" in statuses, (method, path)


def test_the_entry_points_serve_the_document_as_json() -> None:
    result = openapi_main.main({"__ow_method": "get", "__ow_path": "/openapi.json"})
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == document()
    assert result["headers"]["cache-control"] == CACHE_CONTROL
    source = str(ROOT / "functions/openapi/main.py")
    client = functions_framework.create_app("http", source, "http").test_client()
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document()


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ([{"n": "t", "v": 1.5}], True),
        ([{"bn": "d/", "bt": 1.7e9}, {"n": "t", "vs": "on"}], True),
        ([{"sensor_id": "s1", "timestamp": 1, "value": 2}], True),  # readings
        ([{}], False),  # an empty record: ingest refuses it, so the contract does
        ([{"bn": "d/", "bt": 1.7e9}], False),  # base fields only: no value anywhere
        ([{"n": "t", "v": 1, "x": 2}], False),  # a field SenML does not name
    ],
)
def test_the_telemetry_body_schema_refuses_what_ingest_refuses(body: list, valid: bool) -> None:
    """The schema accepted `[{}]` and base-field-only packs that ingest answers 400."""
    spec = document()
    schema = {**spec, "$ref": "#/components/schemas/TelemetryBody"}
    errors = list(Draft202012Validator(schema).iter_errors(body))
    assert (errors == []) is valid, errors
