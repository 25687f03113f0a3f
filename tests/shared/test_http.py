"""Request parsing and response helpers."""

import orjson
import pytest

from shared.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
    ValidationError,
)
from shared.http import (
    Request,
    error_response,
    json_response,
    parse_json,
    parse_query,
    too_deep,
)


def test_json_body_parsed_with_json_content_type() -> None:
    request = Request("POST", "/x", {"content-type": "application/json; charset=utf-8"}, b'{"a":1}')
    assert request.json() == {"a": 1}


@pytest.mark.parametrize("media", ["", "application/senml+json", "APPLICATION/JSON"])
def test_json_body_accepted_without_or_with_json_family_type(media: str) -> None:
    headers = {"content-type": media} if media else {}
    assert Request("POST", "/x", headers, b"[1]").json() == [1]


def test_other_content_type_is_415() -> None:
    request = Request("POST", "/x", {"content-type": "text/plain"}, b"{}")
    with pytest.raises(UnsupportedMediaType, match="text/plain"):
        request.json()


@pytest.mark.parametrize("body", [b"{", b"nope", b'{"a":}'])
def test_malformed_json_is_400_naming_the_problem(body: bytes) -> None:
    with pytest.raises(BadRequest, match="not valid JSON"):
        Request("POST", "/x", {"content-type": "application/json"}, body).json()


def test_empty_body_is_400_unless_optional() -> None:
    with pytest.raises(BadRequest, match="empty"):
        Request("POST", "/x").json()
    assert Request("POST", "/x").json(required=False) is None


@pytest.mark.parametrize("body", [b"[1]", b'"text"', b"3", b"null"])
def test_a_body_that_must_be_an_object_is_400_naming_it(body: bytes) -> None:
    assert Request("POST", "/", body=b'{"a": 1}').json_object() == {"a": 1}
    with pytest.raises(ValidationError, match="must be a JSON object") as caught:
        Request("POST", "/", body=body).json_object()
    assert caught.value.field == "body"


def test_query_keeps_every_value_and_blank_ones() -> None:
    assert parse_query("a=1&a=2&b=&c=%20x") == {"a": ["1", "2"], "b": [""], "c": [" x"]}
    request = Request("GET", "/x", query_string="limit=5&limit=6")
    assert request.arg("limit") == "5"
    assert request.arg("missing", "d") == "d"


def test_header_lookup_is_case_insensitive() -> None:
    assert Request("GET", "/", {"authorization": "Bearer t"}).header("Authorization") == "Bearer t"


def test_json_response_and_error_body_shape() -> None:
    response = json_response({"ok": True}, 201, {"x-extra": "1"})
    assert (response.status, response.json(), response.headers["x-extra"]) == (
        201,
        {"ok": True},
        "1",
    )
    error = error_response(NotFound("device 'd1' not found"), "req-1")
    assert error.status == 404
    assert error.json() == {
        "error": {"status": 404, "code": "not_found", "message": "device 'd1' not found"},
        "request_id": "req-1",
    }


def test_method_not_allowed_carries_allow_header() -> None:
    response = error_response(MethodNotAllowed("no", allow=["GET", "PUT"]))
    assert response.headers["allow"] == "GET, PUT"


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    "body",
    [b"[" * 33 + b"]" * 33, _nested(33), b"[" + b"[" * 600 + b"]" * 600 + b"]"],
)
def test_json_nested_too_deep_is_400_at_the_door(body: bytes) -> None:
    """A value nesting hundreds of levels used to pass ingest and crash a reader downstream."""
    request = Request("PUT", "/x", {"content-type": "application/json"}, body)
    with pytest.raises(BadRequest, match="more than 32 levels deep"):
        request.json()
    with pytest.raises(BadRequest, match="message m1 data nests"):
        parse_json(body, "message m1 data")


def test_json_depth_counts_structure_not_brackets_in_strings() -> None:
    text = b'{"name": "' + b"[[[[{" * 50 + b'", "v": [[1]]}'
    assert parse_json(text) == {"name": "[[[[{" * 50, "v": [[1]]}
    assert parse_json(b"[" * 32 + b"]" * 32) is not None  # the bound itself is accepted
    assert parse_json(_nested(32)) is not None
    assert parse_json(_nested(5), max_depth=5) and too_deep(orjson.loads(_nested(6)), 5)
    with pytest.raises(BadRequest, match="not valid JSON"):
        parse_json(b"[1,")


def test_a_key_named_twice_in_an_api_body_is_400() -> None:
    """Last-wins would let a body say two things at once (a proxy may read the first)."""
    request = Request(
        "POST",
        "/x",
        {"content-type": "application/json"},
        b'{"role": "member", "x": {"a": 1}, "role": "admin"}',
    )
    with pytest.raises(BadRequest, match="names the key 'role' twice"):
        request.json()
    nested = Request("POST", "/x", {}, b'{"config": {"a": 1, "a": 2}}')
    with pytest.raises(BadRequest, match="'a' twice"):
        nested.json()
    assert Request("POST", "/x", {}, b'[{"a": 1}, {"a": 2}]').json() == [{"a": 1}, {"a": 2}]
    assert parse_json(b'{"a": 1, "a": 2}') == {"a": 2}  # telemetry doors: documented last-wins
