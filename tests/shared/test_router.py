"""Routing by method and path pattern."""

import pytest

from shared.errors import MethodNotAllowed, NotFound
from shared.http import Request, Response, json_response
from shared.router import Router, normalize_path

router = Router()


@router.route("GET", "/api/devices/{device_id}/sensors/{sensor_id}")
def sensor(request: Request) -> Response:
    return json_response(request.path_params)


@router.route("PUT", "/api/devices/{device_id}/sensors/{sensor_id}")
def update(request: Request) -> Response:
    return json_response({"updated": True})


@router.route("POST", "/api/devices/")
def create(request: Request) -> Response:
    return json_response({"created": True}, 201)


def test_path_parameters_are_extracted() -> None:
    response = router(Request("GET", "/api/devices/d1/sensors/s-2"))
    assert response.json() == {"device_id": "d1", "sensor_id": "s-2"}


@pytest.mark.parametrize("path", ["/api/devices", "/api/devices/", "/api/devices//"])
def test_trailing_slash_is_ignored_both_ways(path: str) -> None:
    assert router(Request("POST", path)).status == 201


def test_unknown_path_is_not_found() -> None:
    with pytest.raises(NotFound, match="/api/nothing"):
        router(Request("GET", "/api/nothing"))


def test_parameters_do_not_span_segments() -> None:
    with pytest.raises(NotFound):
        router(Request("GET", "/api/devices/d1/x/sensors/s1"))


def test_wrong_method_lists_allowed_methods() -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        router(Request("DELETE", "/api/devices/d1/sensors/s1"))
    assert caught.value.allow == ["GET", "PUT"]


def test_head_is_served_by_get() -> None:
    assert router(Request("HEAD", "/api/devices/d1/sensors/s1")).status == 200


def test_normalize_path() -> None:
    assert [normalize_path(p) for p in ["/", "", "/a/", "/a"]] == ["/", "/", "/a", "/a"]


def test_allowed_methods_are_listed_once_when_two_patterns_match() -> None:
    """`/api/users/self` and `/api/users/{user_id}` both match /api/users/self: the Allow header
    read `GET, GET, PATCH, DELETE`."""
    users = Router()
    for method, path in (("GET", "/u/self"), ("GET", "/u/{id}"), ("PATCH", "/u/{id}")):
        users.add(method, path, lambda request: json_response({}))
    with pytest.raises(MethodNotAllowed) as caught:
        users(Request("POST", "/u/self"))
    assert caught.value.allow == ["GET", "PATCH"]
