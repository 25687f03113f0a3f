"""The emulator's first start seeds one organisation and its admin; restarts keep everything and
never seed again or print a password again."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.api import bearer, signed_in
from tests.support.emulator import start_emulator

pytestmark = pytest.mark.e2e

_SEEDED = re.compile(
    r"created organisation ([0-9a-f]{20}) with admin user 'admin', password (\S+) "
)


def test_a_generated_password_is_printed_once_and_everything_survives_restarts(
    tmp_path: Path,
) -> None:
    emulator = start_emulator(tmp_path / "data", STRATUS_ADMIN_PASSWORD="")
    try:
        seeded = _SEEDED.findall(emulator.log())
        assert len(seeded) == 1, emulator.log()
        org, password = seeded[0]
        base = emulator.base_url
        token = signed_in(base, "admin", password)
        me = httpx.get(f"{base}/api/users/self", headers=bearer(token)).json()
        assert (me["org"], me["role"]) == (org, "admin")
        created = httpx.post(
            f"{base}/api/users",
            json={"username": "kept-user", "password": "kept password"},
            headers=bearer(token),
        )
        assert created.status_code == 201, created.text

        for restart in (emulator.stop, emulator.kill):
            restart()
            emulator.start()
            base = emulator.base_url
            log = emulator.log()
            assert len(re.findall("created organisation", log)) == 1
            assert log.count(password) == 1
            # the signing key is kept: a token from before the restart still works
            again = httpx.get(f"{base}/api/users/self", headers=bearer(token))
            assert again.status_code == 200
            assert again.json() == me
            kept = signed_in(base, "kept-user", "kept password")
            org_seen = httpx.get(f"{base}/api/orgs/self", headers=bearer(kept)).json()
            assert org_seen["id"] == org
            assert signed_in(base, "admin", password)
    finally:
        emulator.kill()


def test_the_password_from_the_environment_is_never_printed(tmp_path: Path) -> None:
    emulator = start_emulator(tmp_path / "data", STRATUS_ADMIN_PASSWORD="operator's choice 7")
    try:
        log = emulator.log()
        assert "operator's choice 7" not in log
        assert "(password from STRATUS_ADMIN_PASSWORD)" in log
        assert signed_in(emulator.base_url, "admin", "operator's choice 7")
    finally:
        emulator.kill()
