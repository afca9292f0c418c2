"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): login required, the
figures of the calls played, charts drawn, axe-core finds no serious violation, a screenshot kept."""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path

import pytest
from conftest import AUTH_TOKEN, SECRET
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from bench.server import free_port
from ivr.app import create_app
from ivr.config import ROOT
from ivr.phone import flask_transport
from tests.caller import FunnelCaller

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT = ROOT / "artifacts" / "admin-dashboard.png"
PASSWORD = "dashboard-password-0123456789"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app with a fresh journal, calls played through it, served over HTTP on loopback."""
    folder = tmp_path_factory.mktemp("dashboard")
    app = create_app(
        {
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IVR_SECRET": SECRET,
            "IVR_ADMIN_PASSWORD": PASSWORD,
            "IVR_DATABASE_URL": f"sqlite:///{folder / 'journal.sqlite3'}",
        }
    )
    callers = FunnelCaller.crowd(app, flask_transport(app.test_client()), AUTH_TOKEN, count=30, seed=11)
    assert app.extensions["ivr"].assistant.journal.writer.flush(15)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app, callers
    server.shutdown()
    app.extensions["ivr"].assistant.journal.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed: `apt-get install chromium` (see .ci/run)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(
        http_credentials={"username": "admin", "password": PASSWORD}, locale="fr-FR"
    )
    yield context.new_page()
    context.close()


def numbers(cells: list[str]) -> list[int]:
    return [int(re.sub(r"\D", "", cell)) for cell in cells]


@pytest.mark.parametrize(
    "credentials",
    [None, {"username": "admin", "password": "not-the-password"}, {"username": "root", "password": PASSWORD}],
    ids=["none", "wrong", "user"],
)
def test_the_dashboard_asks_for_a_login(browser, site, credentials):
    url, _, _ = site
    context = browser.new_context(http_credentials=credentials)
    statuses: list[int] = []
    page = context.new_page()
    page.on("response", lambda response: statuses.append(response.status))
    try:
        response = page.goto(f"{url}/admin/")
        assert response is not None and response.status == 401
    except PlaywrightError as error:
        # Headless Chromium cannot ask a person: refused again, it may give up on the page.
        assert "ERR_INVALID_AUTH_CREDENTIALS" in str(error)
    assert statuses and 200 not in statuses
    context.close()


def test_the_funnel_and_outcomes_shown_are_those_of_the_calls_played(page, site):
    url, app, callers = site
    response = page.goto(f"{url}/admin/")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "fr"
    funnel = {}
    for row in page.locator("#table-funnel tbody tr").all():
        funnel[row.get_attribute("data-question")] = numbers(row.locator("td").all_inner_texts())
    asked = {cid for caller in callers for cid in caller.asked}
    assert set(funnel) == asked
    for cid in asked:
        expected = [
            sum(cid in c.asked for c in callers),
            *(sum((action, cid) in c.answers for c in callers) for action in ("yes", "no", "unsure")),
            sum(c.hung_up_at == cid for c in callers),
        ]
        assert funnel[cid] == expected, cid
    # Each question is labelled as the caller hears it.
    catalog, flow = app.extensions["ivr"].assistant.catalog, app.extensions["ivr"].call.flow
    first = page.locator("#table-funnel tbody tr th").first.inner_text()
    assert first in {catalog.texts[c.prompt].strip() for c in flow.criteria}
    shown = {
        row.get_attribute("data-outcome"): numbers(row.locator("td").all_inner_texts())[0]
        for row in page.locator("#table-outcomes tbody tr").all()
    }
    assert {o: n for o, n in shown.items() if n} == Counter(c.outcome() for c in callers)


def test_charts_are_drawn_with_a_text_alternative_and_need_no_javascript(browser, site):
    url, _, callers = site
    context = browser.new_context(
        http_credentials={"username": "admin", "password": PASSWORD}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{url}/admin/")
    charts = page.locator("svg.ivr-chart")
    assert charts.count() == 3
    for n in range(3):
        chart = charts.nth(n)
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 50
        assert chart.get_attribute("role") == "img"
        assert chart.locator("title").text_content()
        assert chart.locator("rect").count() > 0
    for table in ("#table-days", "#table-outcomes", "#table-funnel"):
        assert page.locator(f"{table} caption").text_content()
    # Every resource comes from the server itself: no CDN.
    sources = page.eval_on_selector_all(
        "[src], [href]", "els => els.map(e => e.getAttribute('src') || e.getAttribute('href'))"
    )
    assert all(s.startswith(("/", "#")) for s in sources), sources
    context.close()


def test_a_period_and_a_flow_can_be_chosen(page, site):
    url, app, callers = site
    page.goto(f"{url}/admin/")
    page.fill("#du", "2020-01-01")
    page.fill("#au", "2020-01-31")
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    assert "du=2020-01-01" in page.url
    assert "Du 01/01/2020 au 31/01/2020" in page.inner_text("main")
    assert page.locator("#table-funnel tbody tr").count() == 1  # « aucune question »
    with page.expect_navigation():
        page.get_by_role("link", name="7 derniers jours").click()
    page.select_option("#flow", "")
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    assert "flow=&" in page.url or page.url.endswith("flow=")
    assert "tous les parcours" in page.inner_text("main")
    assert page.locator("#table-funnel tbody tr").count() == len({c for x in callers for c in x.asked})


def test_axe_core_finds_no_serious_violation_and_a_screenshot_is_kept(page, site):
    url, _, _ = site
    page.goto(f"{url}/admin/")
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
