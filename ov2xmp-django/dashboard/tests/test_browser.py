"""The dashboard end to end: ``ov2xmp up`` started as a user starts it, the
pages opened in headless Chromium (Debian's, driven by Playwright), and a
charger connected with a real OCPP client. Whatever the charger does must show
on the open page without a reload. Screenshots go to OV2XMP_TEST_ARTIFACTS
(default: test-artifacts/ at the repository's root)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from ocpp.v16 import call

from commands.tests.charger import answering_charger
from ov2xmp.tests.platform import Platform, start_platform, stop_platform

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

REPOSITORY = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(os.environ.get("OV2XMP_TEST_ARTIFACTS", REPOSITORY / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, without a sandbox; nothing of Google's (this machine has no internet).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERNAME, PASSWORD = "root", "a-long-secret-9"
LOCATION = {
    "name": "Baixa",
    "address": "Rua Augusta 1",
    "city": "Lisboa",
    "country": "PRT",
    "latitude": "38.710000",
    "longitude": "-9.137000",
}
# The map's marker colours (map.js).
ONLINE_NONE_FREE, ALL_OFFLINE = "#0d6efd", "#6c757d"
WAIT_MS = 15_000
Result = TypeVar("Result")


class ChargerThread:
    """An event loop on a thread of its own for the simulated charger, so that
    the (synchronous) browser and the charger act at the same time."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = contextlib.AsyncExitStack()

    def run(self, work: Coroutine[Any, Any, Result], timeout: float = 30) -> Result:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def connect(self, ocpp_url: str, charger_id: str) -> Any:
        return self.run(self.stack.enter_async_context(answering_charger(ocpp_url, charger_id)))

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def platform(tmp_path) -> Iterator[Platform]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Debian's chromium at {CHROMIUM} (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    started = start_platform(
        tmp_path,
        OV2XMP_ADMIN_USERNAME=USERNAME,
        OV2XMP_ADMIN_PASSWORD=PASSWORD,
        # No map tiles: this machine has no internet, and the page may fetch nothing else.
        OV2XMP_MAP_TILES_URL="none",
    )
    try:
        yield started
    finally:
        if started.process.poll() is None:
            stop_platform(started)


@pytest.fixture
def page(platform) -> Iterator[Any]:
    """A logged-in page; fails the test if the browser reported any error."""
    errors: list[str] = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "response",
            lambda response: (
                response.status >= 400 and errors.append(f"{response.status} {response.url}")
            ),
        )
        page.goto(platform.api + "/chargers/")
        expect(page).to_have_url(platform.api + "/login/?next=/chargers/")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(platform.api + "/chargers/")
        try:
            yield page
        finally:
            browser.close()
    assert errors == []


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def meter_values(transaction_id: int, at: str, wh: str, watts: str) -> call.MeterValues:
    """One reading of the energy register and the power."""
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[
            {
                "timestamp": at,
                "sampledValue": [
                    {"value": wh, "unit": "Wh"},
                    {"value": watts, "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
        ],
    )


def evaluated_until(page: Any, function: str, expected: Any) -> None:
    """Wait for ``function`` to return ``expected`` in the page (Playwright's
    wait_for_function evaluates a string, which the page's policy forbids)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while (value := page.evaluate(function)) != expected:
        assert time.monotonic() < deadline, f"{function} stayed {value!r}, not {expected!r}"
        time.sleep(0.05)


def test_a_charger_shows_up_online_and_its_meter_values_arrive_without_reload(platform, page):
    feed = page.locator("#feed-state")
    expect(feed).to_have_text("live")
    expect(page.locator("#chargers-table")).to_contain_text("No chargers yet")

    chargers = ChargerThread()
    try:
        charger = chargers.connect(platform.ocpp, "CP-BROWSER")
        chargers.run(
            charger.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
            )
        )
        row = page.locator('tr[data-charger="CP-BROWSER"]')
        expect(row.locator("[data-connection]")).to_have_text("online")
        expect(row).to_contain_text("Available")
        screenshot(page, "chargers")

        row.locator("a").click()
        expect(page).to_have_url(platform.api + "/chargers/CP-BROWSER/")
        expect(feed).to_have_text("live")
        started = chargers.run(
            charger.call(
                call.StartTransaction(
                    connector_id=1,
                    id_tag="TAG-1",
                    meter_start=1000,
                    timestamp="2026-11-24T10:00:00Z",
                )
            )
        )
        chargers.run(
            charger.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
            )
        )
        chargers.run(
            charger.call(
                meter_values(started.transaction_id, "2026-11-24T10:05:00Z", "1750", "7391")
            )
        )
        readings = page.locator("#meter-readings")
        expect(readings).to_contain_text("Power.Active.Import")
        expect(readings.locator(".meter-value")).to_have_text(["1750", "7391"])
        expect(page.locator("#connectors")).to_contain_text("Charging")
        expect(page.locator("#connectors")).to_contain_text("0.75 kWh")
        expect(page.locator("#frames")).to_contain_text("MeterValues")
        screenshot(page, "charger")

        # A command from its form, answered by the charger.
        page.get_by_role("button", name="Reset Reset").click()
        form = page.locator('form[data-action="Reset"]')
        form.locator("select").select_option("Hard")
        form.get_by_role("button", name="Send Reset").click()
        expect(form.locator(".command-result")).to_contain_text("200: Answered")
        expect(form.locator(".command-result")).to_contain_text('"status": "Accepted"')
        assert charger.requests("Reset") == [{"type": "Hard"}]
        expect(page.locator("#recent-commands")).to_contain_text("Reset")

        # The session's chart gains a point from each new meter value.
        page.locator("#connectors a").click()
        expect(page.locator("#session-summary")).to_contain_text("TAG-1")
        expect(feed).to_have_text("live")
        points = "() => Chart.getChart('session-chart').data.datasets.map((d) => d.data.length)"
        assert page.evaluate(points) == [1, 1]
        chargers.run(
            charger.call(
                meter_values(started.transaction_id, "2026-11-24T10:06:00Z", "1900", "7200")
            )
        )
        evaluated_until(page, points, [2, 2])
        screenshot(page, "session")

        # The overview, with the charger's location on the map.
        token = platform.request("/api/token/", body={"username": USERNAME, "password": PASSWORD})[
            "access"
        ]
        site = platform.request("/api/locations/", token=token, body=LOCATION)
        platform.request(
            "/api/chargepoints/CP-BROWSER/",
            token=token,
            body={"location": site["id"]},
            method="PATCH",
        )
        page.goto(platform.api + "/")
        expect(feed).to_have_text("live")
        expect(page.locator("#total-online")).to_have_text("1")
        expect(page.locator("#total-active")).to_have_text("1")
        marker = page.locator("#location-map path.leaflet-interactive")
        expect(marker).to_have_count(1)
        expect(marker).to_have_attribute("stroke", ONLINE_NONE_FREE)
    finally:
        chargers.close()  # the charger disconnects
    expect(page.locator("#total-online")).to_have_text("0")
    expect(page.locator("#total-offline")).to_have_text("1")
    expect(marker).to_have_attribute("stroke", ALL_OFFLINE)
    screenshot(page, "overview")
