"""The web console in a real browser (Debian's Chromium driven by Playwright) against the running
platform, clicked through as an operator would: signing in and out, devices, a device's sensors,
key, configuration, state and commands, a sensor's live chart, users, consumers and grants,
rules, detectors and alerts, and a phone's screen. Every page is scanned with axe-core (no
serious or critical violation) and photographed into test-artifacts/console/; every test fails
on a CSP violation, a script error, anything in web storage or a token in a URL (tests/support/
console.py). Elements are found by role and accessible name."""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ViewportSize, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from emulator.mosquitto import Broker
from tests.e2e.provisioning import Api, signin
from tests.support.broker import MqttClient
from tests.support.console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Tab,
    axe_source,
    missing_reason,
    org_admin,
)
from tests.support.emulator import RunningEmulator
from tests.support.waiting import eventually, until

pytestmark = [pytest.mark.e2e, pytest.mark.process]

expect.set_options(timeout=15_000)  # a loaded CI machine answers slower than Playwright's 5 s
XSS = "<img src=x onerror=alert(1)>"
LIVE = 30_000  # ms: the pipeline's way from ingest to the store and the stream's poll


@pytest.fixture(scope="module")
def axe(request: pytest.FixtureRequest) -> str:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    folder = Path(cache.mkdir("axe-core")) if cache else Path(tempfile.gettempdir()) / "axe-core"
    return axe_source(folder)


@pytest.fixture(scope="module")
def browser(axe: str) -> Iterator[Browser]:
    """One browser for the module's tests (each gets a fresh context: no shared state)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _tab(
    browser: Browser, platform: RunningEmulator, axe: str, request: pytest.FixtureRequest,
    viewport: ViewportSize,
) -> Iterator[Tab]:  # fmt: skip
    context = browser.new_context(
        viewport=viewport, permissions=["clipboard-read", "clipboard-write"], accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    tab = Tab(page, platform.base_url, request.node.name, axe)
    failed = request.session.testsfailed
    try:
        yield tab
    finally:
        tab.shot("failed" if request.session.testsfailed > failed else "last")
        problems = tab.problems()
        context.close()
    assert problems == []


@pytest.fixture
def tab(
    browser: Browser, platform: RunningEmulator, axe: str, request: pytest.FixtureRequest
) -> Iterator[Tab]:
    """A fresh tab at 1280x800."""
    yield from _tab(browser, platform, axe, request, {"width": 1280, "height": 800})


@pytest.fixture
def phone(
    browser: Browser, platform: RunningEmulator, axe: str, request: pytest.FixtureRequest
) -> Iterator[Tab]:
    """A fresh tab on a 390x844 phone screen."""
    yield from _tab(browser, platform, axe, request, {"width": 390, "height": 844})


@pytest.fixture
def operator(platform: RunningEmulator) -> tuple[str, str, Api]:
    """An admin of an organisation of its own: (user name, password, API client)."""
    username, password = org_admin(platform)
    return username, password, signin(platform, username, password)


def _device(api: Api, name: str) -> tuple[str, str, str]:
    """A device with a double sensor `temp` through the API: (device, sensor, key)."""
    device = api.post("/api/devices", json={"name": name}).json()["result"]["id"]
    sensor = api.post(
        f"/api/devices/{device}/sensors", json={"name": "temp", "mapping": {"type": "double"}}
    ).json()["id"]
    return device, sensor, api.get(f"/api/devices/{device}/key").json()["token"]


def _send(platform: RunningEmulator, key: str, sensor: str, *values: float) -> httpx.Response:
    now = time.time()
    body = [
        {"sensor_id": sensor, "timestamp": round(now - len(values) + i, 3), "value": v}
        for i, v in enumerate(values)
    ]
    return httpx.post(
        f"{platform.base_url}/ingest", json=body, headers={"authorization": f"Bearer {key}"}
    )


def _clean(tab: Tab, label: str) -> None:
    """No serious or critical accessibility violation on the page as it is; a screenshot."""
    assert tab.serious() == [], label
    tab.shot(label)


def test_sign_in_and_out_with_the_keyboard_and_the_token_only_in_memory(
    platform: RunningEmulator, tab: Tab
) -> None:
    page = tab.page
    tab.open("users")  # a bookmark: the sign-in page first, then the page asked for
    expect(page.get_by_role("heading", name="Sign in to Stratus")).to_be_focused()
    _clean(tab, "signin")
    page.keyboard.press("Tab")
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text(
        "Not allowed (403): invalid username or password"
    )
    tab.shot("signin-refused")
    page.get_by_label("Password").fill(platform.admin_password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_focused()
    expect(page.get_by_text("Signed in as admin (admin)")).to_be_visible()
    sizes = page.evaluate(
        """() => performance.getEntriesByType("resource").concat(performance.getEntriesByType(
             "navigation")).filter((e) => /[.](m?js|css)$/.test(new URL(e.name).pathname))
             .map((e) => e.encodedBodySize)"""
    )
    assert len(sizes) >= 20 and 0 < sum(sizes) <= 100 * 1024, sizes  # gzipped, as sent
    assert tab.tokens, "the console sends its token in the authorization header"
    page.get_by_role("link", name="Stratus console").focus()
    page.keyboard.press("Shift+Tab")  # the first stop of a signed-in page skips to its content
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.get_by_role("button", name="Sign out").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("You signed out.")
    used = len(tab.tokens)
    authorized = sum(1 for u in tab.urls if "/api/" in u)
    for route in ("devices", "alerts", "users"):
        tab.open(route)
        expect(page.get_by_role("heading", name="Sign in to Stratus")).to_be_visible()
    assert len(tab.tokens) == used  # nothing kept the token: no call with it after sign-out
    assert sum(1 for u in tab.urls if "/api/" in u) == authorized


def test_devices_listed_searched_created_renamed_and_deleted_with_names_as_text(
    platform: RunningEmulator, tab: Tab, operator: tuple[str, str, Api]
) -> None:
    page, (username, password, api) = tab.page, operator
    boiler, sensor, key = _device(api, "boiler-2")
    _device(api, "pump-7")
    assert _send(platform, key, sensor, 61.5).status_code == 200
    tab.sign_in(username, password)
    expect(page.get_by_role("row", name="boiler-2")).to_be_visible()
    page.get_by_label("Device name").focus()  # the keyboard from here: type, Tab, type, Enter
    page.keyboard.type(XSS)
    page.keyboard.press("Tab")
    page.keyboard.type('"><script>alert(2)</script>')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(XSS)
    expect(page.get_by_text('"><script>alert(2)</script>')).to_be_visible()
    assert page.locator("main img, main script").count() == 0  # text, never markup
    page.get_by_role("link", name="Devices").first.click()
    expect(page.get_by_role("status").filter(has_text="devices loaded")).to_have_text(
        "3 devices loaded."
    )
    expect(page.get_by_role("link", name=XSS)).to_be_visible()
    _clean(tab, "devices")
    page.get_by_label("Search devices").fill("BOIL")
    expect(page.get_by_role("status").filter(has_text="match")).to_have_text(
        "1 of 3 loaded devices match."
    )
    rows = page.get_by_role("region", name="Devices").get_by_role("row")
    expect(rows).to_have_count(2)  # the header and boiler-2
    expect(rows.nth(1)).to_contain_text(" ago")  # last seen: its reading
    page.get_by_label("Search devices").fill("")
    expect(rows.filter(has_text="pump-7")).to_contain_text("never")
    page.get_by_role("button", name="Rename boiler-2").click()
    dialog = page.get_by_role("dialog", name="Rename device boiler-2")
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill("")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Invalid input (400)")
    dialog.get_by_label("Name").fill("boiler-3")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="boiler-3")).to_be_visible()
    page.get_by_role("button", name="Delete boiler-3").click()
    dialog = page.get_by_role("dialog", name="Delete device boiler-3?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the safe choice first
    _clean(tab, "delete-confirmation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Delete boiler-3").focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # from Cancel back to the destructive button
    expect(dialog.get_by_role("button", name="Delete device")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="boiler-3")).to_be_hidden()
    assert api.get(f"/api/devices/{boiler}").status_code == 404


def test_a_device_its_sensors_its_key_and_a_live_chart(
    platform: RunningEmulator, tab: Tab, operator: tuple[str, str, Api]
) -> None:
    page, (username, password, api) = tab.page, operator
    tab.sign_in(username, password)
    page.get_by_label("Device name").fill("greenhouse")
    page.get_by_role("button", name="Create device").click()
    expect(page.get_by_role("heading", name="greenhouse", level=1)).to_be_visible()
    # the new device's key is shown once, at once: copy it and download it
    expect(page.get_by_text("New device: copy or download its key now.")).to_be_visible()
    key_box = page.get_by_label("Device key (version 1)")
    key = key_box.input_value()
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("status").filter(has_text="copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    with page.expect_download() as download:
        page.get_by_role("button", name="Download key").click()
    assert Path(download.value.path()).read_text().strip() == key
    # a sensor in a folder, then its unit edited
    page.get_by_label("Sensor name").fill("temp")
    page.get_by_label("Folder (path)").fill("air/inside")
    page.get_by_label("Value type").select_option("double")
    page.get_by_label("Unit (optional)").fill("C")
    page.get_by_role("button", name="Add sensor").click()
    expect(page.get_by_role("status").filter(has_text="created")).to_have_text(
        "Sensor air/inside/temp created."
    )
    expect(page.get_by_text("air/", exact=True)).to_be_visible()
    page.get_by_role("button", name="Edit sensor air/inside/temp").click()
    dialog = page.get_by_role("dialog", name="Edit sensor air/inside/temp")
    dialog.get_by_label("Unit (optional)").fill("Cel")
    dialog.get_by_role("button", name="Save sensor").click()
    expect(page.get_by_text("double, Cel")).to_be_visible()
    _clean(tab, "device")
    # readings sent with the copied key appear on the chart without a reload
    device = page.url.rsplit("/", 1)[1]
    sensor = api.get(f"/api/devices/{device}/sensors").json()["items"][0]["id"]
    assert _send(platform, key, sensor, 20.5, 21.0, 21.5).status_code == 200
    page.get_by_role("link", name="temp").click()
    expect(page.get_by_role("heading", name="air/inside/temp", level=1)).to_be_visible()
    page.evaluate("window.__same_page = true")
    summary = page.locator("figcaption .summary")
    expect(summary).to_contain_text("3 readings", timeout=LIVE)
    expect(summary).to_contain_text("latest 21.5 Cel")
    expect(page.get_by_role("img", name="temp: 3 readings", exact=False)).to_be_visible()
    assert _send(platform, key, sensor, 22.0, 30.5).status_code == 200
    expect(summary).to_contain_text("5 readings", timeout=LIVE)
    expect(summary).to_contain_text("latest 30.5 Cel")
    expect(page.get_by_role("definition").filter(has_text="30.5 Cel at")).to_be_visible()
    assert page.evaluate("window.__same_page === true")  # no reload happened
    _clean(tab, "sensor-live")
    page.get_by_label("Show").select_option("agg")
    expect(summary).to_contain_text("intervals of 1m")
    page.get_by_text("Data as a table").click()
    table = page.get_by_role("region", name="Readings")
    expect(table.get_by_role("columnheader")).to_have_text(["Time", "Mean", "Min", "Max"])
    _clean(tab, "sensor-aggregates")
    page.get_by_label("Time range").select_option("custom")
    page.get_by_role("button", name="Show range").click()
    expect(page.get_by_role("status").filter(has_text="fixed range")).to_be_visible()
    page.get_by_label("Time range").select_option("1h")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download readings (CSV)").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "timestamp,value" and sorted(v.split(",")[1] for v in lines[1:]) == [
        "20.5", "21.0", "21.5", "22.0", "30.5",
    ]  # fmt: skip
    # rotation: a clear warning, a new key, and the old one refused
    page.get_by_role("link", name="greenhouse").click()
    page.get_by_role("button", name="Rotate key…").click()
    dialog = page.get_by_role("dialog", name="Rotate the key of greenhouse?")
    expect(dialog).to_contain_text("The current key stops working.")
    _clean(tab, "rotate-warning")
    dialog.get_by_role("button", name="Rotate key").click()
    expect(page.get_by_role("status").filter(has_text="rotated")).to_have_text(
        "Key rotated: this is version 2. The previous key is refused from now on."
    )
    new_key = page.get_by_label("Device key (version 2)").input_value()
    assert new_key != key
    refused = eventually(lambda: _send(platform, key, sensor, 1.0), lambda r: r.status_code == 403)
    assert refused.status_code == 403 and "revoked" in refused.text
    assert _send(platform, new_key, sensor, 2.0).status_code == 200


@pytest.fixture
def mqtt(platform: RunningEmulator) -> Broker:
    if not platform.endpoints.get("mqtt"):
        pytest.skip("the platform runs without Mosquitto (config and commands answer 503)")
    host, port = str(platform.endpoints["mqtt"]).rsplit(":", 1)
    return Broker([], host, int(port), 0, {})


def test_config_conflict_reported_state_and_commands_delivered_or_not(
    platform: RunningEmulator, tab: Tab, operator: tuple[str, str, Api], mqtt: Broker
) -> None:
    page, (username, password, api) = tab.page, operator
    device, _, key = _device(api, "valve")
    tab.sign_in(username, password)
    tab.go(f"devices/{device}", "valve")
    expect(page.get_by_text("No configuration set yet.")).to_be_visible()
    editor = page.get_by_label("Configuration (JSON), editing version 0")
    editor.fill("{ not json")
    page.get_by_role("button", name="Save configuration").click()
    expect(page.get_by_text("not valid JSON", exact=False).first).to_be_visible()
    editor.fill('{"mode": "eco"}')
    page.get_by_role("button", name="Save configuration").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_contain_text("version 1")
    # someone else saves version 2 meanwhile; this editor still holds version 1
    other = api.call("PUT", f"/api/devices/{device}/config", json={"config": {"mode": "boost"}})
    assert other.status_code == 200 and other.json()["version"] == 2
    page.get_by_label("Configuration (JSON), editing version 1").fill('{"mode": "off"}')
    page.get_by_role("button", name="Save configuration").click()
    conflict = page.get_by_role("alert").filter(has_text="Not saved")
    expect(conflict).to_contain_text("the configuration changed since you loaded it")
    expect(page.get_by_label("Configuration (JSON), editing version 1")).to_have_value(
        '{"mode": "off"}'
    )  # the operator's text is kept
    _clean(tab, "config-conflict")
    conflict.get_by_role("button", name="Load the current configuration").click()
    expect(page.get_by_label("Configuration (JSON), editing version 2")).to_have_value(
        json.dumps({"mode": "boost"}, indent=2)
    )
    # the device connects, applies version 2 and reports its state
    client = MqttClient(mqtt, device, key)
    try:
        assert client.wait_connected(), client.connect_reason
        assert client.subscribe(f"devices/{device}/commands/#") < 128
        state = json.dumps({"config_version": 2, "valve": "open"}).encode()
        assert client.publish(f"devices/{device}/state", state) < 128
        refresh = page.get_by_role("button", name="Refresh state")
        assert until(lambda: _refreshed(page, refresh, "valve"), timeout=LIVE / 1000)
        expect(page.get_by_text("over mqtt", exact=False)).to_be_visible()
        page.get_by_role("button", name="Reload").click()
        expect(page.get_by_text("The device applied this version.", exact=False)).to_be_visible()
        page.get_by_label("Command name").fill("reboot")
        page.get_by_label("Payload (JSON, optional)").fill('{"delay": 5}')
        page.get_by_role("button", name="Send command").click()
        expect(page.get_by_role("status").filter(has_text="reboot")).to_have_text(
            "Command reboot delivered: the device is subscribed (or its session keeps it until"
            " it reconnects)."
        )
        assert until(lambda: any(m.topic.endswith("/reboot") for m in client.messages))
        _clean(tab, "device-control")
    finally:
        client.close()
    page.get_by_label("Command name").fill("reboot now!")
    page.get_by_role("button", name="Send command").click()
    expect(page.get_by_label("Command name")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Command name").fill("flash")
    page.get_by_role("button", name="Send command").click()
    expect(page.get_by_role("status").filter(has_text="flash")).to_contain_text(
        "not delivered: the device is not connected"
    )


def _refreshed(page: Any, refresh: Any, text: str) -> bool:
    """Click Refresh and say whether the state shows `text` (the state arrives through the bus)."""
    refresh.click()
    expect(refresh).to_be_enabled()
    return bool(page.get_by_label("Reported state (JSON)").filter(has_text=text).count() > 0)


def test_users_added_promoted_given_a_password_and_deleted(
    platform: RunningEmulator, tab: Tab, operator: tuple[str, str, Api]
) -> None:
    page, (username, password, api) = tab.page, operator
    tab.sign_in(username, password)
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("row", name=f"{username} (you)")).to_be_visible()
    member = f"member-{username[4:]}"
    page.get_by_label("User name").fill(member)
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Password", exact=True).fill("long enough password")
    page.get_by_role("button", name="Add user").click()
    row = page.get_by_role("row").filter(has_text=member)
    expect(row).to_contain_text("member")
    _clean(tab, "users")
    row.get_by_role("button", name=f"Make admin: {member}").click()
    expect(page.get_by_role("status").filter(has_text="is now")).to_have_text(
        f"{member} is now an admin."
    )
    row.get_by_role("button", name=f"Set password: {member}").click()
    dialog = page.get_by_role("dialog", name=f"New password for {member}")
    dialog.get_by_label("New password").fill("another long password")
    dialog.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status").filter(has_text="Password of")).to_be_visible()
    assert signin(platform, member, "another long password").token
    row.get_by_role("button", name=f"Delete user {member}").click()
    page.get_by_role("dialog", name=f"Delete user {member}?").get_by_role(
        "button", name="Delete user"
    ).click()
    expect(page.get_by_role("row").filter(has_text=member)).to_have_count(0)
    page.get_by_label("Organisation name").fill("Greenhouse Ltd")
    page.get_by_role("button", name="Rename organisation").click()
    expect(page.get_by_text("Name: Greenhouse Ltd", exact=False)).to_be_visible()
    assert api.get("/api/orgs/self").json()["name"] == "Greenhouse Ltd"


def test_consumers_get_keys_and_grants_one_sensor_at_a_time(
    platform: RunningEmulator, tab: Tab, operator: tuple[str, str, Api]
) -> None:
    page, (username, password, api) = tab.page, operator
    device, sensor, _ = _device(api, "meter")
    tab.sign_in(username, password)
    page.get_by_role("link", name="Consumers").click()
    page.get_by_label("Consumer name").fill("dashboard")
    page.get_by_role("button", name="Create consumer").click()
    expect(page.get_by_role("heading", name="dashboard", level=1)).to_be_visible()
    expect(page.get_by_text("No sensors granted", exact=False)).to_be_visible()
    page.get_by_label("Device", exact=True).select_option(label="meter")
    page.get_by_label("Sensor", exact=True).select_option(label="temp")
    page.get_by_role("button", name="Grant sensor").click()
    expect(page.get_by_role("listitem").filter(has_text="meter / temp")).to_be_visible()
    page.get_by_role("button", name="Show key").click()
    token = page.get_by_label("Consumer key (version 1)").input_value()
    _clean(tab, "consumer")
    reader = Api(platform.base_url, token)
    data = f"/api/devices/{device}/sensors/{sensor}/data"
    assert eventually(lambda: reader.get(data), lambda r: r.status_code == 200).status_code == 200
    page.get_by_role("button", name="Withdraw meter / temp").click()
    expect(page.get_by_text("No sensors granted", exact=False)).to_be_visible()
    assert eventually(lambda: reader.get(data), lambda r: r.status_code == 404).status_code == 404
    page.get_by_role("link", name="Consumers").first.click()
    expect(page.get_by_role("row", name="dashboard 0", exact=False)).to_be_visible()


def test_rules_detectors_and_alerts_opened_counted_live_and_acknowledged(
    platform: RunningEmulator, tab: Tab, operator: tuple[str, str, Api]
) -> None:
    page, (username, password, api) = tab.page, operator
    _, sensor, key = _device(api, "kiln")
    tab.sign_in(username, password)
    alerts_link = page.get_by_role("link", name="Alerts")
    expect(alerts_link).to_have_text("Alerts 0 open")
    page.get_by_role("link", name="Rules").click()
    page.get_by_label("Rule name").fill("too hot")
    condition = page.get_by_label("Condition")
    condition.fill("value >> 30")
    page.get_by_label("Applies to").select_option("sensor")
    page.get_by_label("Device", exact=True).select_option(label="kiln")
    page.get_by_label("Sensor", exact=True).select_option(label="temp")
    page.get_by_role("button", name="Create rule").click()
    expect(condition).to_have_attribute("aria-invalid", "true")
    expect(condition).to_be_focused()  # the cursor at the error
    assert page.evaluate("document.activeElement.selectionStart") == 7
    expect(page.get_by_text("Column 8: expected a value, found '>'")).to_be_visible()
    assert page.locator("pre.caret").inner_text() == "value >> 30\n       ^"  # under the '>'"
    _clean(tab, "rule-error")
    condition.fill("value > 30")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_role("status").filter(has_text="created")).to_have_text(
        "Rule too hot created."
    )
    expect(page.get_by_role("row", name="too hot", exact=False)).to_contain_text("1 sensor")
    _clean(tab, "rules")
    # hot readings open an alert: the count in the navigation follows without a reload
    deadline = time.monotonic() + LIVE / 1000
    while alerts_link.inner_text() != "Alerts 1 open" and time.monotonic() < deadline:
        assert _send(platform, key, sensor, 35.0).status_code == 200
        try:
            expect(alerts_link).to_have_text("Alerts 1 open", timeout=2000)
        except AssertionError:
            continue
    expect(alerts_link).to_have_text("Alerts 1 open")
    alerts_link.click()
    row = page.get_by_role("row").filter(has_text="too hot")
    expect(row).to_contain_text("kiln / temp")
    expect(row).to_contain_text("open")
    _clean(tab, "alerts")
    row.get_by_role("button", name="Acknowledge alert of too hot").click()
    expect(page.get_by_role("status").filter(has_text="now")).to_have_text(
        "Alert of too hot is now acknowledged."
    )
    expect(alerts_link).to_have_text("Alerts 0 open")
    page.get_by_label("State").select_option("acknowledged")
    row.get_by_role("button", name="Resolve alert of too hot").click()
    expect(page.get_by_text("No acknowledged alerts.")).to_be_visible()
    (alert,) = api.get("/api/alerts", params={"state": "resolved"}).json()["items"]
    assert [h["state"] for h in alert["history"]] == ["open", "acknowledged", "resolved"]
    # a detector on the same sensor
    page.get_by_role("link", name="Detectors").click()
    page.get_by_label("Detector name").fill("kiln drift")
    page.get_by_label("Device", exact=True).select_option(label="kiln")
    page.get_by_label("Sensor", exact=True).select_option(label="temp")
    page.get_by_label("Parameters (JSON, optional)").fill('{"alpha": 2}')
    page.get_by_role("button", name="Create detector").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid input (400)")
    page.get_by_label("Parameters (JSON, optional)").fill('{"alpha": 0.2}')
    page.get_by_role("button", name="Create detector").click()
    expect(page.get_by_role("row").filter(has_text="kiln drift")).to_contain_text("ewma")
    _clean(tab, "detectors")


PAGES = [
    ("devices", "Devices"), ("alerts", "Alerts"), ("rules", "Rules"), ("detectors", "Detectors"),
    ("consumers", "Consumers"), ("users", "Users"),
]  # fmt: skip


def test_every_page_fits_a_phone_and_passes_axe(
    platform: RunningEmulator, phone: Tab, operator: tuple[str, str, Api]
) -> None:
    page, (username, password, api) = phone.page, operator
    device, sensor, key = _device(api, "field unit")
    assert _send(platform, key, sensor, 18.5, 19.0).status_code == 200
    phone.sign_in(username, password)
    for route, heading in [
        *PAGES, (f"devices/{device}", "field unit"), (f"devices/{device}/sensors/{sensor}", "temp"),
    ]:  # fmt: skip
        phone.go(route, heading)
        expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (route, width)  # nothing wider than the screen
        _clean(phone, route.split("/")[0] if "/" not in route else "device-or-sensor")


def test_a_revoked_session_ends_and_says_why(
    platform: RunningEmulator, tab: Tab, operator: tuple[str, str, Api]
) -> None:
    page, (username, password, api) = tab.page, operator
    tab.sign_in(username, password)
    me = api.get("/api/users/self").json()["id"]
    changed = api.patch(
        f"/api/users/{me}", json={"password": "a brand new password", "current_password": password}
    )
    assert changed.status_code == 200, changed.text  # every older token of the user is revoked
    # revocation reaches every instance within STRATUS_TOKEN_CACHE_SECONDS: refresh until then
    signin_page = page.get_by_role("heading", name="Sign in to Stratus")
    deadline = time.monotonic() + LIVE / 1000
    while not signin_page.count() and time.monotonic() < deadline:
        with contextlib.suppress(PlaywrightError):  # the button goes when the session ends
            page.get_by_role("button", name="Refresh").click(timeout=2000)
        with contextlib.suppress(AssertionError):
            expect(signin_page).to_be_visible(timeout=2000)
    expect(signin_page).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your session ended: token revoked")
    tab.shot("session-ended")
