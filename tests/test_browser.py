"""The /sparql query page in headless Chromium: YASGUI typed into and run, a saved query opened as an example
and run, and the plain form with JavaScript off, whose table links to the entity pages.

Every test fails on a request to a host other than 127.0.0.1 and on a JavaScript error. Screenshots go to
test-artifacts/browser/ for people to look at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from rdflib import Literal
from rdflib.namespace import RDF, RDFS

from publisher.app import create_app
from publisher.config import load_settings
from publisher.iris import Iris
from publisher.namespaces import DWC
from publisher.rdf_files import read_graph
from publisher.views.context import STORE_KEY
from tests.browser import Browser, Session, chromium_browser, chromium_missing
from tests.conftest import BASE, ROOT
from tests.support import live_server, require

YASGUI = ROOT / "publisher" / "static" / "vendor" / "yasgui" / "yasgui.min.js"
QUERIES = ROOT / "queries"
EDITOR = ".tabPanel.active .CodeMirror"
RESULT_ROWS = ".tabPanel.active .yasr tbody tr"
TYPED = (
    "SELECT ?cmp ?label WHERE { ?cmp a cmp:ConservationManagementPlan ; rdfs:label ?label } ORDER BY ?label"
)


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    settings = load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE})
    app = create_app(settings)
    yield app
    app.extensions[STORE_KEY].close()


@pytest.fixture(scope="module")
def server(app: Flask) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    missing = chromium_missing()
    require(missing is None, f"the browser tests need Chromium: {missing}")
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def session(browser: Browser) -> Iterator[Session]:
    """A page with JavaScript on; the test fails if it requested another host or had a script error."""
    require(YASGUI.is_file(), f"YASGUI is not installed ({YASGUI}): run `make assets`")
    with browser.session() as session:
        yield session
    assert session.elsewhere == [], "the page requested hosts other than 127.0.0.1"
    assert session.errors == []


@pytest.fixture(scope="module")
def cmps(iris: Iris) -> dict[str, str]:
    """Each CMP's IRI and label, as data/cmps.ttl states them."""
    graph = read_graph(ROOT / "data" / "cmps.ttl", BASE)
    plans = graph.subjects(RDF.type, iris.cmp.ConservationManagementPlan)
    return {str(plan): str(graph.value(plan, RDFS.label)) for plan in plans}


def open_query_page(session: Session, server: str) -> None:
    session.page.goto(server + "/sparql")
    session.page.wait_for_selector(EDITOR)


def editor_text(session: Session) -> str:
    text: str = session.page.evaluate(f"() => document.querySelector({EDITOR!r}).CodeMirror.getValue()")
    return text


def run_query(session: Session) -> list[list[str]]:
    """Press the run button and return the cells of the results table, row by row."""
    page = session.page
    with page.expect_response(
        lambda response: response.url == page.url and response.request.method == "POST"
    ):
        page.click(".tabPanel.active .yasqe_queryButton")
    page.wait_for_selector(RESULT_ROWS)
    rows: list[list[str]] = page.eval_on_selector_all(
        RESULT_ROWS, "rows => rows.map(row => [...row.cells].map(cell => cell.innerText.trim()))"
    )
    return rows


def test_a_query_typed_into_yasgui_runs_here(session: Session, server: str, cmps: dict[str, str]) -> None:
    open_query_page(session, server)
    page = session.page
    assert page.is_hidden("form.sparql"), "YASGUI replaces the plain form when JavaScript runs"
    assert f"PREFIX cmp: <{BASE}ontology#>" in editor_text(session), "a new tab declares our prefixes"
    session.screenshot("browser/query-page")

    page.click(EDITOR)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(TYPED)
    # Typing cmp: and rdfs: declared them, with this graph's namespaces (not the bundled list's cmp:).
    text = editor_text(session)
    assert f"PREFIX cmp: <{BASE}ontology#>" in text
    assert "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in text
    assert page.input_value(".tabPanel.active .autocompleteWrapper input") == server + "/sparql"

    rows = run_query(session)
    session.screenshot("browser/query-results")
    assert len(rows) == len(cmps)
    labels = [row[-1] for row in rows]
    assert '"Franciscana CMP"@en' in labels
    assert labels == [f'"{label}"@en' for label in sorted(cmps.values())]

    # An IRI in the results leads to its page on this server, not to the public base's host.
    franciscana = next(iri for iri, label in cmps.items() if label == "Franciscana CMP")
    link = page.query_selector(f".tabPanel.active .yasr a.iri[href='{franciscana}']")
    assert link is not None
    link.hover()
    assert link.get_attribute("href") == "/" + franciscana.removeprefix(BASE)
    link.click()
    page.wait_for_url(server + "/" + franciscana.removeprefix(BASE))
    assert "Franciscana CMP" in page.inner_text("h1")


def test_a_saved_query_opens_as_an_example_and_runs(session: Session, server: str) -> None:
    open_query_page(session, server)
    page = session.page
    taxa = read_graph(ROOT / "data" / "taxa.ttl", BASE)
    gray_whale = next(taxa.subjects(DWC.scientificName, Literal("Eschrichtius robustus")))
    vernacular = str(taxa.value(gray_whale, DWC.vernacularName))

    page.click("button.open-example[data-example='describe_species']")
    assert page.inner_text(".tabsList .tab.active a > span") == "Everything about one species"
    text = editor_text(session)
    assert text.startswith("# title: Everything about one species")
    assert 'VALUES (?species) { ("Eschrichtius robustus") }' in text, "the parameter at its default"

    rows = run_query(session)
    session.screenshot("browser/example-results")
    assert all(row[1] == f"<{gray_whale}>" for row in rows)
    facts = [row[2:4] for row in rows]  # aspect, value; YASR quotes only literals with a language tag
    assert ["scientific name", "Eschrichtius robustus"] in facts
    assert ["vernacular name", f'"{vernacular}"@en'] in facts

    # Opening it again shows the same tab rather than a second one.
    page.click("button.open-example[data-example='describe_species']")
    assert page.locator(".tabsList .tab").count() == 2


def test_kept_tabs_query_this_server_again(session: Session, server: str) -> None:
    """Tabs kept from an earlier visit (here: pointed at another port) come back pointed at this endpoint."""
    open_query_page(session, server)
    page = session.page
    endpoint = ".tabPanel.active .autocompleteWrapper input"
    page.fill(endpoint, "http://127.0.0.1:9/sparql")
    page.press(endpoint, "Enter")
    page.click(EDITOR)  # the field commits on blur too
    page.reload()
    page.wait_for_selector(EDITOR)
    assert page.input_value(endpoint) == server + "/sparql"


def test_the_editor_asks_no_other_host_for_completions(session: Session, server: str) -> None:
    """YASGUI's class and property completers would ask lov.linkeddata.es; the page turns them off."""
    open_query_page(session, server)
    page = session.page
    page.click(EDITOR)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("SELECT * WHERE { ?thing a foaf:Pe")
    page.keyboard.press("Control+Space")
    page.keyboard.type(" ; foaf:na")
    page.keyboard.press("Control+Space")
    page.wait_for_timeout(500)  # a completion request would have gone out by now
    assert [url for url in session.requests if "/sparql" not in url and "/static/" not in url] == []


def test_a_request_elsewhere_is_caught(browser: Browser, server: str) -> None:
    """The canary: the recorder does see, and stops, a request to another host."""
    with browser.session() as session:
        session.page.goto(server + "/sparql")
        session.page.evaluate("() => fetch('http://example.org/probe').catch(() => null)")
    assert session.elsewhere == ["http://example.org/probe"]


def test_the_form_works_without_javascript(browser: Browser, server: str, cmps: dict[str, str]) -> None:
    with browser.session(javascript=False) as session:
        page = session.page
        page.goto(server + "/sparql")
        assert page.is_visible("form.sparql")
        assert page.is_hidden("#sparql-editor")
        assert page.is_hidden("button.open-example")
        assert page.locator("p.answer, table.results, .error").count() == 0, "no answer before a query"
        session.screenshot("browser/form-page")
        page.fill("textarea#query", f"PREFIX cmp: <ontology#>\nPREFIX rdfs: <{RDFS}>\n{TYPED}")
        with page.expect_navigation():
            page.click("form.sparql button[type=submit]")
        session.screenshot("browser/form-results")
        rows = page.locator("table.results tbody tr")
        assert rows.count() == len(cmps)
        links = dict(
            page.eval_on_selector_all(
                "table.results tbody td:first-child a", "links => links.map(a => [a.innerText, a.href])"
            )
        )
        assert links == {label: server + "/" + iri.removeprefix(BASE) for iri, label in cmps.items()}

        page.click("table.results a:text-is('Franciscana CMP')")
        page.wait_for_url(links["Franciscana CMP"])
        assert "Franciscana CMP" in page.inner_text("h1")
        session.screenshot("browser/form-entity-page")
    assert session.elsewhere == []
    assert session.errors == []


def test_the_editor_names_the_ontology_under_the_configured_base() -> None:
    """cmp: in the editor is the ontology's namespace under whatever base the site is configured with."""
    require(YASGUI.is_file(), f"YASGUI is not installed ({YASGUI}): run `make assets`")
    base = "http://cmp.example.org/kg/"
    app = create_app(load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": base}))
    try:
        page = app.test_client().get("/sparql", headers={"Accept": "text/html"})
    finally:
        app.extensions[STORE_KEY].close()
    embedded = re.search(r'id="sparql-editor-config">(.*?)</script>', page.text, re.DOTALL)
    assert embedded is not None
    config = json.loads(embedded[1])
    assert config["prefixes"]["cmp"] == base + "ontology#"
    assert f"PREFIX cmp: <{base}ontology#>" in config["query"]
    assert config["endpoint"] == "/sparql"
    assert config["base"] == base
    assert {example["name"] for example in config["examples"]} == {path.stem for path in QUERIES.glob("*.rq")}
