"""Typed errors from error answers, what counts as transient, and the backoff's bounds."""

from __future__ import annotations

import random

import httpx
import pytest
from stratus_sdk import errors
from stratus_sdk.retry import Backoff


def answer(status: int, body=None, headers=None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})


@pytest.mark.parametrize(
    ("status", "cls", "transient"),
    [(400, errors.BadRequest, False), (401, errors.Unauthenticated, False),
     (403, errors.PermissionDenied, False), (404, errors.NotFound, False),
     (409, errors.Conflict, False), (413, errors.PayloadTooLarge, False),
     (429, errors.TooManyRequests, True), (500, errors.ServerError, True),
     (501, errors.NotImplementedHere, True), (502, errors.ServerError, True),
     (503, errors.Unavailable, True)],
)  # fmt: skip
def test_status_to_error(status: int, cls: type, transient: bool) -> None:
    body = {"error": {"status": status, "code": "c", "message": "m", "field": "f"},
            "request_id": "r1"}  # fmt: skip
    error = errors.from_response(answer(status, body, {"retry-after": "7"}))
    assert type(error) is cls and isinstance(error, errors.StratusError)
    assert (error.status, error.code, error.message, error.field) == (status, "c", "m", "f")
    assert error.request_id == "r1" and error.retry_after == 7.0
    assert errors.is_transient(error) is transient
    assert str(error) == f"{status} c: m (f)"


def test_an_answer_without_the_error_body() -> None:
    error = errors.from_response(httpx.Response(502, text="bad gateway"))
    assert isinstance(error, errors.ServerError) and error.message == "bad gateway"
    assert errors.is_transient(errors.ConnectionFailed("refused"))


def test_backoff_grows_is_capped_jittered_and_honours_retry_after() -> None:
    backoff = Backoff(initial=0.1, maximum=2.0, rng=random.Random(7))
    delays = [backoff.delay(n) for n in range(10)]
    for n, delay in enumerate(delays):
        ceiling = min(2.0, 0.1 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered
    assert backoff.delay(0, retry_after=5.0) == 5.0
    assert backoff.delay(1000) <= 2.0
