"""Sign-in throttling through the running emulator: a user name's budget of failed attempts
(10 per 5 minutes by default) is spent, then 429 with Retry-After, whoever asks."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.emulator import RunningEmulator

pytestmark = [pytest.mark.e2e, pytest.mark.process]


def test_guessing_a_password_is_stopped_with_429_and_retry_after(
    platform: RunningEmulator,
) -> None:
    url = f"{platform.base_url}/api/users/signin"
    body = {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "not the one"}
    with httpx.Client(timeout=30) as http:
        answers = [http.post(url, json=body) for _ in range(11)]
    assert [a.status_code for a in answers[:10]] == [403] * 10
    refused = answers[10]
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "resource_exhausted"
    assert 0 < int(refused.headers["retry-after"]) <= 301  # the window's end, 1 s past
