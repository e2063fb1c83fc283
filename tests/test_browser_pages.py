"""People reading the graph in a real browser (headless Chromium): the home page, a plan with its timeline,
a CMP, a party, search, and moving between a plan and its items. Screenshots go to test-artifacts/pages/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from publisher.app import create_app
from publisher.config import load_settings
from publisher.views.context import STORE_KEY
from tests.browser import Browser, Session, chromium_browser, chromium_missing
from tests.conftest import BASE, ROOT
from tests.support import live_server, require

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    settings = load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE})
    app: Flask = create_app(settings)
    with live_server(app) as url:
        yield url
    app.extensions[STORE_KEY].close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    missing = chromium_missing()
    require(missing is None, f"the browser tests need Chromium: {missing}")
    with chromium_browser() as browser:
        yield browser


@pytest.fixture(params=["desktop", "phone"])
def session(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Session]:
    size = PHONE if request.param == "phone" else {"width": 1280, "height": 900}
    with browser.session(javascript=False, **size) as session:
        session.page.set_default_timeout(15_000)
        yield session
    assert session.elsewhere == [], "a page requested another host"


def fits_the_screen(session: Session) -> bool:
    """No sideways scrolling of the page itself (wide tables scroll inside their own box)."""
    width = session.page.evaluate("document.documentElement.scrollWidth")
    viewport = session.page.evaluate("window.innerWidth")
    return bool(width <= viewport + 1)


def accessible_basics(session: Session) -> list[str]:
    """WCAG basics a page must meet: one h1, labelled form fields, alt text, named SVGs."""
    return list(
        session.page.evaluate(
            """() => {
          const problems = [];
          if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
          for (const input of document.querySelectorAll('input:not([type=hidden]), textarea, select')) {
            const labelled = input.labels && input.labels.length || input.getAttribute('aria-label');
            if (!labelled) problems.push('unlabelled field ' + (input.name || input.id));
          }
          for (const img of document.querySelectorAll('img')) {
            if (!img.hasAttribute('alt')) problems.push('img without alt');
          }
          for (const svg of document.querySelectorAll('main svg')) {
            const named = svg.querySelector('title');
            if (svg.getAttribute('role') === 'img' && !named) problems.push('svg without title');
          }
          if (!document.documentElement.lang) problems.push('no lang');
          return problems;
        }"""
        )
    )


def test_home_page(session: Session, server: str, request: pytest.FixtureRequest) -> None:
    session.page.goto(server + "/")
    assert session.page.title()
    assert session.page.locator("h1").inner_text().strip()
    assert session.page.get_by_role("link", name="CMP action plan 2018-2020").count() >= 1
    assert session.page.get_by_role("searchbox").count() == 1
    assert accessible_basics(session) == []
    assert fits_the_screen(session)
    session.screenshot(f"pages/home-{request.node.callspec.id}")


def test_plan_table_and_timeline(session: Session, server: str, request: pytest.FixtureRequest) -> None:
    session.page.goto(server + "/plan/2018-2020")
    table = session.page.locator("table").first
    assert "3.1.2." in table.inner_text()
    assert "Conservation Committee on whether the initiative should continue" in table.inner_text()
    timeline = session.page.locator("svg.timeline")
    assert timeline.count() == 1
    assert timeline.get_attribute("role") == "img"
    assert timeline.locator(".row").count() >= 9  # every sub-task of 2018-2020 has a timeframe
    assert accessible_basics(session) == []
    assert fits_the_screen(session)
    session.screenshot(f"pages/plan-{request.node.callspec.id}")


def test_from_plan_to_sub_task_and_back(session: Session, server: str) -> None:
    session.page.goto(server + "/plan/2018-2020")
    session.page.locator("table a[href='/plan/2018-2020/3.1.2']").first.click()
    session.page.wait_for_url("**/plan/2018-2020/3.1.2")
    assert "3.1.2. Submit recommendations" in session.page.locator("h1").inner_text()
    breadcrumbs = session.page.get_by_role("navigation", name="Breadcrumb")
    breadcrumbs.get_by_role("link", name="CMP action plan 2018-2020").click()
    session.page.wait_for_url("**/plan/2018-2020")
    assert session.page.locator("h1").inner_text().strip() == "CMP action plan 2018-2020"


def test_cmp_page(session: Session, server: str, request: pytest.FixtureRequest) -> None:
    session.page.goto(server + "/cmp/franciscana")
    text = session.page.locator("main").inner_text()
    assert "Pontoporia blainvillei" in text
    for country in ("Argentina", "Brazil", "Uruguay"):
        assert session.page.get_by_role("link", name=country).count() >= 1
    assert accessible_basics(session) == []
    assert fits_the_screen(session)
    session.screenshot(f"pages/cmp-{request.node.callspec.id}")


def test_party_page(session: Session, server: str, request: pytest.FixtureRequest) -> None:
    session.page.goto(server + "/party/swg-cmp")
    text = session.page.locator("main").inner_text()
    assert "2018-2020" in text
    assert "2022-2024" in text
    assert session.page.locator("a[href='/plan/2022-2024/3.1.2']").count() >= 1
    assert accessible_basics(session) == []
    assert fits_the_screen(session)
    session.screenshot(f"pages/party-{request.node.callspec.id}")


def test_search_from_the_home_page(session: Session, server: str, request: pytest.FixtureRequest) -> None:
    session.page.goto(server + "/")
    session.page.get_by_role("searchbox").fill("franciscana")
    session.page.get_by_role("searchbox").press("Enter")
    session.page.wait_for_url("**/search?q=franciscana*")
    first = session.page.locator("main a[href^='/cmp/'], main a[href^='/taxon/']").first
    assert "ranciscana" in first.inner_text()
    assert accessible_basics(session) == []
    session.screenshot(f"pages/search-{request.node.callspec.id}")
