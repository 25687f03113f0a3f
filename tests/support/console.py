"""Driving the web console in Debian's Chromium with Playwright: the browser's launch, axe-core
fetched once from npm (pinned, integrity checked) and injected into pages, an organisation of
its own for each test, and a tab that records what every test must never see (a CSP violation,
a script error, anything in web storage, a token in a URL) and saves screenshots into
test-artifacts/console/."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import secrets
import shutil
import subprocess
import tarfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.auth import hash_password
from shared.directory import new_id
from tests.e2e.provisioning import store_of
from tests.support.emulator import ROOT, RunningEmulator

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "Tab",
    "axe_source",
    "missing_reason",
    "org_admin",
]

CHROMIUM = "/usr/bin/chromium"  # Debian's package (scripts/bootstrap.sh installs it)
# What this closed network needs (no background connections) and a headless root needs
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
AXE = ("axe-core", "4.14.1")
AXE_INTEGRITY = "sha512-" + (
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
ARTIFACTS = ROOT / "test-artifacts" / "console"

# Recorded in every page before its own scripts run (through the DevTools protocol, so the
# page's CSP does not apply to it): every CSP violation the page causes
_RECORDER = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(
    `${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));
"""


def missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"needs Debian's chromium at {CHROMIUM} (make deps installs it)"
    if shutil.which("npm") is None:
        return "needs npm to fetch axe-core once"
    return None


def axe_source(cache: Path) -> str:
    """axe.min.js of the pinned axe-core: `npm pack`ed into `cache` once, the tarball checked
    against the pinned integrity every time."""
    name, version = AXE
    tarball = cache / f"{name}-{version}.tgz"
    if not tarball.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--pack-destination", str(cache), "--silent"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    data = tarball.read_bytes()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert integrity == AXE_INTEGRITY, f"{tarball} is not the pinned {name}@{version}"
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None
        return member.read().decode("utf-8")


def org_admin(platform: RunningEmulator) -> tuple[str, str]:
    """(user name, password) of the admin of a new organisation, written into the platform's
    store as the first-start seed writes one (the API creates no organisations)."""
    store, org, user = store_of(platform), new_id(), new_id()
    username, password = f"ops-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    now = datetime.now(UTC)
    store.create(f"orgs/{org}", {"name": f"console {username}", "created_at": now})
    store.create(
        f"orgs/{org}/users/{user}",
        {"username": username, "password_hash": hash_password(password), "role": "admin",
         "token_version": 0, "created_at": now, "updated_at": now},
    )  # fmt: skip
    store.create(f"usernames/{username}", {"org": org, "user": user})
    return username, password


@dataclass
class Tab:
    """One page of the console under test and what it recorded."""

    page: Any  # playwright.sync_api.Page
    base_url: str
    name: str
    axe: str
    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    shots: int = 0

    def __post_init__(self) -> None:
        for old in ARTIFACTS.glob(f"{self.name}-*.png"):  # a previous run's
            old.unlink()
        self.page.add_init_script(_RECORDER)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._seen)

    def _dialog(self, dialog: Any) -> None:
        """alert(), confirm() or prompt(): the console never opens one (injected markup would)."""
        self.errors.append(f"the page opened a {dialog.type} dialog: {dialog.message}")
        dialog.dismiss()

    def _seen(self, request: Any) -> None:
        self.urls.append(request.url)
        bearer = re.match(r"Bearer (\S+)", request.headers.get("authorization", ""))
        if bearer:
            self.tokens.add(bearer.group(1))

    def open(self, route: str = "") -> None:
        self.page.goto(f"{self.base_url}/console/{'#/' + route if route else ''}")

    def sign_in(self, username: str, password: str) -> None:
        self.open()
        self.page.get_by_label("User name").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("button", name="Sign out").wait_for()

    def go(self, route: str, heading: str) -> None:
        """Open a page by its address (as a bookmark would) and wait for its heading."""
        self.page.evaluate("(route) => { location.hash = route; }", f"/{route}")
        self.page.get_by_role("heading", name=heading, level=1).wait_for()

    def shot(self, label: str) -> Path:
        """A full-page screenshot into test-artifacts/console/<test>-<n>-<label>.png."""
        self.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def serious(self) -> list[str]:
        """axe-core's serious and critical violations on the page as it is now."""
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(self.axe + "\n;0")  # DevTools evaluation: not subject to the CSP
        found = self.page.evaluate(
            """() => axe.run(document, {resultTypes: ["violations"]}).then((r) => r.violations
                 .filter((v) => v.impact === "serious" || v.impact === "critical")
                 .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" "))
                 .slice(0, 3).join(", ")}`))"""
        )
        return list(found)

    def problems(self) -> list[str]:
        """What no page may ever do: violate its CSP, throw, keep anything in web storage,
        put a token in a URL."""
        found = [f"script error or dialog: {e}" for e in self.errors]
        if not self.page.is_closed():
            found += [f"CSP: {v}" for v in self.page.evaluate("window.__violations || []")]
            stored = self.page.evaluate("localStorage.length + sessionStorage.length")
            found += [f"{stored} items in web storage"] if stored else []
        found += [f"token in URL {u}" for u in self.urls for t in self.tokens if t in u]
        return found
