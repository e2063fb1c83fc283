"""/sparql through a real HTTP server on 127.0.0.1, with SPARQLWrapper as the client and every RDF answer
parsed by rdflib: the three protocol paths, every format, negotiation, the errors, the bounds, CORS, the
service description, the no-JavaScript form and atomic reloads."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import cast
from xml.dom.minidom import Document, Text

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from publisher import result_table
from publisher.app import create_app
from publisher.cli import main
from publisher.config import load_settings
from publisher.iris import Iris
from publisher.query_execution import QueryFailedError, QueryJob
from publisher.query_workers import WorkerOptions
from publisher.rdf_files import read_graph
from publisher.site import Site
from publisher.store import CURRENT, ServedStore, open_store
from publisher.views.context import STORE_KEY
from tests.backends import BACKENDS, backend_settings
from tests.conftest import BASE, ROOT
from tests.support import free_port, live_server

TIMEOUT = 1.0
RESULT_LIMIT = 200
MAX_BYTES = 4096
TOKEN = "reload-secret"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
PLANS = """PREFIX cmp: <ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?plan ?label WHERE { ?plan a cmp:ActionPlan ; rdfs:label ?label }"""
PLAN_LABELS = """PREFIX cmp: <ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { ?plan rdfs:label ?label } WHERE { ?plan a cmp:ActionPlan ; rdfs:label ?label }"""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


@dataclass(frozen=True)
class Served:
    url: str  # the server's root
    app: Flask

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def http(
    url: str,
    params: dict[str, str | list[str]] | None = None,
    *,
    method: str = "GET",
    accept: str | None = None,
    data: bytes | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One plain HTTP request (urllib), for what SPARQLWrapper cannot send or does not show."""
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if accept is not None:
        request.add_header("Accept", accept)
    if content_type is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(
                response.status,
                response.headers.get("Content-Type", ""),
                response.read(),
                dict(response.headers),
            )
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers.get("Content-Type", ""), error.read(), dict(error.headers))


def form(url: str, fields: dict[str, str | list[str]], accept: str | None = None) -> Reply:
    body = urllib.parse.urlencode(fields, doseq=True).encode()
    return http(
        url, method="POST", data=body, content_type="application/x-www-form-urlencoded", accept=accept
    )


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """cmpkg on each store in turn (the tests using it run on every one), over real HTTP."""
    port = free_port()
    settings = load_settings(
        environ={},
        overrides={
            **backend_settings(request, request.param),
            "site_dir": str(ROOT),
            "base_iri": BASE,
            "query_timeout": TIMEOUT,
            "result_limit": RESULT_LIMIT,
            "max_request_bytes": MAX_BYTES,
            "query_workers": 3,
            # The server itself is the one endpoint SERVICE may call.
            "service_allowlist": f"http://127.0.0.1:{port}/sparql",
        },
    )
    app = create_app(settings)
    with live_server(app, port) as url:
        yield Served(url, app)
    app.extensions[STORE_KEY].close()


@pytest.fixture(scope="module")
def data(site: Site, iris: Iris) -> Graph:
    """The project's graph as rdflib reads its files: where the expected answers come from."""
    graph = Graph()
    for path in site.turtle_files():
        graph += read_graph(path, iris.base)
    return graph


def plans_in(graph: Graph, iris: Iris) -> dict[str, str]:
    return {
        str(plan): str(graph.value(plan, RDFS.label))
        for plan in graph.subjects(RDF.type, iris.cmp.ActionPlan)
    }


def wrapper(served: Served, query: str, fmt: str, method: str = "GET") -> SPARQLWrapper:
    client = SPARQLWrapper(served.sparql)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    if method == "POST":
        client.setMethod(POST)
    elif method == "POSTDIRECTLY":
        client.setMethod(POST)
        client.setRequestMethod(POSTDIRECTLY)
    return client


def rows_of(fmt: str, body: bytes) -> set[tuple[str, str]]:
    """(plan, label) rows of a SELECT answer in a results format, read with the standard library."""
    if fmt == JSON:
        bindings = json.loads(body)["results"]["bindings"]
        return {(b["plan"]["value"], b["label"]["value"]) for b in bindings}
    if fmt == XML:
        from xml.dom.minidom import parseString

        document: Document = parseString(body)
        rows = set()
        for result in document.getElementsByTagName("result"):
            values = {
                binding.getAttribute("name"): binding.firstChild.firstChild.data  # type: ignore[union-attr]
                for binding in result.getElementsByTagName("binding")
            }
            rows.add((values["plan"], values["label"]))
        return rows
    if fmt == CSV:
        table = list(csv.reader(io.StringIO(body.decode())))
        assert table[0] == ["plan", "label"]
        return {(row[0], row[1]) for row in table[1:]}
    table = [line.split("\t") for line in body.decode().splitlines()]
    assert table[0] == ["?plan", "?label"]
    return {(row[0].strip("<>"), row[1].split('"')[1]) for row in table[1:]}


# The three protocol paths, every results format ---------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "POSTDIRECTLY"])
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_select_by_every_path_in_every_results_format(
    served: Served, data: Graph, iris: Iris, method: str, fmt: str
) -> None:
    result = wrapper(served, PLANS, fmt, method).query()
    media = {JSON: "application/sparql-results+json", XML: "application/sparql-results+xml"}
    media |= {CSV: "text/csv", TSV: "text/tab-separated-values"}
    assert result.info()["content-type"].startswith(media[fmt])
    assert rows_of(fmt, result.response.read()) == set(plans_in(data, iris).items())
    assert len(plans_in(data, iris)) >= 2


def test_ask(served: Served, iris: Iris) -> None:
    yes = wrapper(served, f"ASK {{ <{iris.plan('2018-2020')}> a <{iris.cmp.ActionPlan}> }}", JSON).query()
    no = wrapper(served, f"ASK {{ <{iris.plan('1900-1901')}> ?p ?o }}", XML).query().convert()
    yes_answer = yes.convert()  # JSON: a dict
    assert isinstance(yes_answer, dict)
    assert yes_answer["boolean"] is True
    assert isinstance(no, Document)  # XML: a DOM document
    no_answer = no.getElementsByTagName("boolean")[0].firstChild
    assert isinstance(no_answer, Text)
    assert no_answer.data == "false"


# Graph answers in every RDF format ----------------------------------------------------------------------


def expected_labels(data: Graph, iris: Iris) -> Graph:
    graph = Graph()
    for plan in data.subjects(RDF.type, iris.cmp.ActionPlan):
        for label in data.objects(plan, RDFS.label):
            graph.add((plan, RDFS.label, label))
    return graph


@pytest.mark.parametrize(
    ("fmt", "media_type", "rdflib_format"),
    [
        (TURTLE, "text/turtle", "turtle"),
        (N3, "text/turtle", "turtle"),
        (RDFXML, "application/rdf+xml", "xml"),
        (XML, "application/rdf+xml", "xml"),
        (JSONLD, "application/ld+json", "json-ld"),
        (JSON, "application/ld+json", "json-ld"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "POSTDIRECTLY"])
@pytest.mark.filterwarnings("ignore:Sending Accept header:RuntimeWarning")  # SPARQLWrapper on JSON for graphs
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's JSON-LD
def test_construct_in_every_graph_format(
    served: Served, data: Graph, iris: Iris, fmt: str, media_type: str, rdflib_format: str, method: str
) -> None:
    result = wrapper(served, PLAN_LABELS, fmt, method).query()
    assert result.info()["content-type"].startswith(media_type)
    answer = Graph().parse(data=result.response.read(), format=rdflib_format)
    assert isomorphic(answer, expected_labels(data, iris))


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("application/n-triples", "nt"),
        ("application/trig", "trig"),
        ("application/n-quads", "nquads"),
        ("text/plain", "nt"),
    ],
)
@pytest.mark.filterwarnings(
    "ignore:Dataset.default_context is deprecated:DeprecationWarning"
)  # rdflib N-Quads
def test_construct_as_ntriples_and_as_datasets(
    served: Served, data: Graph, iris: Iris, accept: str, rdflib_format: str
) -> None:
    reply = http(served.sparql, {"query": PLAN_LABELS}, accept=accept)
    assert reply.status == 200
    assert reply.content_type.split(";")[0] == accept.replace("text/plain", "application/n-triples")
    answer = Graph().parse(data=reply.body, format=rdflib_format)
    assert isomorphic(answer, expected_labels(data, iris))


def test_describe(served: Served, data: Graph, iris: Iris) -> None:
    plan = iris.plan("2022-2024")
    result = wrapper(served, f"DESCRIBE <{plan}>", TURTLE).query()
    answer = Graph().parse(data=result.response.read(), format="turtle")
    assert set(answer.predicate_objects(plan)) == set(data.predicate_objects(plan))


# Negotiation ------------------------------------------------------------------------------------------


def test_combined_accept_gives_each_query_form_its_own_kind(served: Served) -> None:
    accept = "application/sparql-results+xml, application/rdf+xml"
    select = http(served.sparql, {"query": PLANS}, accept=accept)
    construct = http(served.sparql, {"query": PLAN_LABELS}, accept=accept)
    assert select.content_type.startswith("application/sparql-results+xml")
    assert "<sparql" in select.text
    assert construct.content_type.startswith("application/rdf+xml")
    assert len(Graph().parse(data=construct.body, format="xml")) >= 2
    assert select.headers["Vary"] == "Accept"


def test_q_values_choose(served: Served) -> None:
    reply = http(served.sparql, {"query": PLANS}, accept="text/csv;q=0.4, text/tab-separated-values;q=0.8")
    assert reply.content_type.startswith("text/tab-separated-values")


def test_format_parameter_overrides_accept(served: Served) -> None:
    reply = http(served.sparql, {"query": PLANS, "format": "csv"}, accept="application/sparql-results+json")
    assert reply.content_type == "text/csv; charset=utf-8"
    assert reply.text.splitlines()[0] == "plan,label"


def test_nothing_acceptable_is_406(served: Served) -> None:
    reply = http(served.sparql, {"query": PLANS}, accept="image/png")
    assert reply.status == 406
    assert "application/sparql-results+json" in reply.text
    turtle_for_select = http(served.sparql, {"query": PLANS, "format": "turtle"})
    assert turtle_for_select.status == 406
    assert "results (SELECT/ASK)" in turtle_for_select.text


def test_unknown_format_parameter_is_400(served: Served) -> None:
    reply = http(served.sparql, {"query": PLANS, "format": "yaml"})
    assert reply.status == 400
    assert "unknown format 'yaml'" in reply.text


# Errors the protocol gives ------------------------------------------------------------------------------


def test_syntax_error_is_400_with_the_parsers_message_and_position(served: Served) -> None:
    query = "SELECT ?s WHERE {\n  ?s ?p ?o .\n  OPTIONAL ?s\n}"
    with pytest.raises(QueryBadFormed) as raised:
        wrapper(served, query, JSON).query()
    assert "line 3, column 12" in str(raised.value)
    reply = http(served.sparql, {"query": query})
    assert reply.status == 400
    lines = reply.text.splitlines()
    assert lines[0].startswith('syntax error at line 3, column 12: expected "{"')
    assert lines[-2:] == ["  OPTIONAL ?s", "           ^"]  # the caret under the '?'


@pytest.mark.parametrize(
    "send",
    [
        lambda url: http(url, {"query": "INSERT DATA { <a> <b> <c> }"}),
        lambda url: form(url, {"query": "PREFIX x: <y#> DELETE WHERE { ?s ?p ?o }"}),
        lambda url: form(url, {"update": "INSERT DATA { <a> <b> <c> }"}),
        lambda url: http(url, {"update": "CLEAR ALL"}),
    ],
    ids=["GET query=INSERT", "form query=DELETE", "form update=", "GET update="],
)
def test_updates_are_refused_with_400(served: Served, send: object) -> None:
    reply = send(served.sparql)  # type: ignore[operator]
    assert reply.status == 400
    assert "read-only" in reply.text


def test_update_media_type_is_415(served: Served) -> None:
    reply = http(
        served.sparql,
        method="POST",
        data=b"INSERT DATA { <a> <b> <c> }",
        content_type="application/sparql-update",
    )
    assert reply.status == 415
    assert "read-only" in reply.text
    other = http(served.sparql, method="POST", data=PLANS.encode(), content_type="text/plain")
    assert other.status == 415
    assert "application/sparql-query" in other.text


def test_the_store_is_unchanged_after_refused_updates(served: Served) -> None:
    form(served.sparql, {"update": "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"})
    reply = http(
        served.sparql, {"query": "ASK { <urn:x:a> ?p ?o }"}, accept="application/sparql-results+json"
    )
    assert json.loads(reply.body)["boolean"] is False


def test_two_queries_or_none_are_400(served: Served) -> None:
    two = http(served.sparql, {"query": [PLANS, "ASK {}"]})
    assert two.status == 400
    assert "2 queries" in two.text
    body_and_parameter = http(
        served.sparql + "?" + urllib.parse.urlencode({"query": "ASK {}"}),
        method="POST",
        data=PLANS.encode(),
        content_type="application/sparql-query",
    )
    assert body_and_parameter.status == 400
    none = form(served.sparql, {"default-graph-uri": BASE + "graph/data/cmps"})
    assert none.status == 400
    assert "no query" in none.text
    dataset_only = http(served.sparql, {"named-graph-uri": BASE + "graph/data/cmps"})
    assert dataset_only.status == 400


def test_method_other_than_get_or_post_is_405(served: Served) -> None:
    assert http(served.sparql, {"query": PLANS}, method="PUT", data=b"").status == 405


# SERVICE ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://elsewhere.example/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE SILENT <http://elsewhere.example/sparql> { ?s ?p ?o } }",
        "PREFIX e: <http://elsewhere.example/> SELECT * WHERE { service e:sparql { ?s ?p ?o } }",
        "SELECT * WHERE { BIND(<http://elsewhere.example/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    ],
    ids=["iri", "silent", "prefixed name", "variable", "other port"],
)
def test_service_not_on_the_allowlist_is_refused(served: Served, query: str) -> None:
    reply = http(served.sparql, {"query": query})
    assert reply.status == 400
    assert "is not allowed" in reply.text
    assert "service_allowlist" in reply.text


def test_the_word_service_in_a_string_is_not_a_service_call(served: Served) -> None:
    reply = http(
        served.sparql,
        {"query": 'SELECT ?x WHERE { BIND("SERVICE <http://elsewhere.example/>" AS ?x) }'},
        accept="application/sparql-results+json",
    )
    assert reply.status == 200
    assert json.loads(reply.body)["results"]["bindings"][0]["x"]["value"].startswith("SERVICE")


def test_service_on_the_allowlist_is_called(served: Served, data: Graph, iris: Iris) -> None:
    query = f"""PREFIX cmp: <ontology#>
    SELECT ?plan WHERE {{ SERVICE <{served.sparql}> {{ ?plan a cmp:ActionPlan }} }}"""
    reply = http(served.sparql, {"query": query}, accept="application/sparql-results+json")
    assert reply.status == 200, reply.text
    plans = {b["plan"]["value"] for b in json.loads(reply.body)["results"]["bindings"]}
    assert plans == set(plans_in(data, iris))


# The dataset --------------------------------------------------------------------------------------------


def count(served: Served, query: str, **params: str | list[str]) -> int:
    reply = http(served.sparql, {"query": query, **params}, accept="application/sparql-results+json")
    assert reply.status == 200, reply.text
    return int(json.loads(reply.body)["results"]["bindings"][0]["n"]["value"])


def test_default_graph_is_the_union_of_the_files(served: Served, data: Graph) -> None:
    assert count(served, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == len(data)


def test_default_graph_uri_and_named_graph_uri(served: Served, site: Site, iris: Iris) -> None:
    cmps = str(iris.graph("data/cmps.ttl"))
    in_cmps = len(read_graph(site.data_dir / "cmps.ttl", iris.base))
    assert (
        count(served, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **{"default-graph-uri": cmps}) == in_cmps
    )
    # Relative graph IRIs resolve against the base, as in queries.
    assert count(
        served, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **{"default-graph-uri": "graph/data/cmps"}
    ) == (in_cmps)
    graphs = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert count(served, graphs) == len(site.turtle_files())
    assert count(served, graphs, **{"named-graph-uri": cmps}) == 1
    # With only named graphs given, the default graph is empty (SPARQL 1.1 Protocol §2.1.4).
    assert count(served, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **{"named-graph-uri": cmps}) == 0


def test_from_in_the_query_is_honoured_and_the_protocol_overrides_it(
    served: Served, site: Site, iris: Iris
) -> None:
    cmps, taxa = str(iris.graph("data/cmps.ttl")), str(iris.graph("data/taxa.ttl"))
    query = f"SELECT (COUNT(*) AS ?n) FROM <{cmps}> WHERE {{ ?s ?p ?o }}"
    assert count(served, query) == len(read_graph(site.data_dir / "cmps.ttl", iris.base))
    assert count(served, query, **{"default-graph-uri": taxa}) == len(
        read_graph(site.data_dir / "taxa.ttl", iris.base)
    )


def test_a_graph_parameter_that_is_not_an_iri_is_400(served: Served) -> None:
    reply = http(served.sparql, {"query": PLANS, "default-graph-uri": "http://bad iri/"})
    assert reply.status == 400
    assert "default-graph-uri" in reply.text


# Bounds ---------------------------------------------------------------------------------------------------


def test_runaway_query_is_stopped_while_another_client_is_served(
    served: Served, data: Graph, iris: Iris
) -> None:
    runaway: dict[str, object] = {}

    def run_away() -> None:
        started = time.monotonic()
        runaway["reply"] = form(served.sparql, {"query": RUNAWAY})
        runaway["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_away)
    thread.start()
    time.sleep(
        TIMEOUT / 4
    )  # the runaway is under way, or a store refused it at once (Virtuoso estimates costs)
    assert thread.is_alive() or getattr(runaway.get("reply"), "status", None) == 503
    simple = wrapper(served, PLANS, JSON).query()  # a second client
    assert rows_of(JSON, simple.response.read()) == set(plans_in(data, iris).items())
    thread.join()
    reply = runaway["reply"]
    assert isinstance(reply, Reply)
    assert reply.status == 503
    assert "query_timeout" in reply.text
    assert isinstance(runaway["seconds"], float)
    assert runaway["seconds"] < 2 * TIMEOUT  # what the issue demands: stopped within twice the timeout
    # The killed worker is replaced: the endpoint goes on answering.
    for _ in range(5):
        answer = wrapper(served, "ASK {}", JSON).query().convert()
        assert isinstance(answer, dict)
        assert answer["boolean"] is True


def test_a_query_needing_too_much_memory_fails_alone(site: Site, iris: Iris) -> None:
    store = open_store(site, iris, workers=WorkerOptions(size=1, memory_mb=100))
    try:
        with pytest.raises(QueryFailedError, match="query_memory_mb"):
            store.execute(QueryJob("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f", iris.base), 60)
        answer = store.execute(QueryJob("ASK { ?s ?p ?o }", iris.base), 60)
        assert json.loads(answer.body)["boolean"] is True
    finally:
        store.close()


def test_result_row_limit(served: Served) -> None:
    over = http(served.sparql, {"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert over.status == 500
    assert f"more than {RESULT_LIMIT} rows" in over.text
    assert "result_limit" in over.text
    for fmt in ("json", "xml", "csv", "tsv"):
        at = http(
            served.sparql, {"query": f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {RESULT_LIMIT}", "format": fmt}
        )
        assert at.status == 200, fmt
    rows = json.loads(
        http(
            served.sparql, {"query": f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {RESULT_LIMIT}", "format": "json"}
        ).body
    )["results"]["bindings"]
    assert len(rows) == RESULT_LIMIT
    graph_over = http(served.sparql, {"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, accept="text/turtle")
    assert graph_over.status == 500
    assert "result_limit" in graph_over.text


def test_a_literal_that_looks_like_a_row_separator_is_not_miscounted(served: Served) -> None:
    # JSON separates rows with "},{" and CSV with CRLF; a literal may contain both.
    tricky = "a},{b\\r\\nc"  # SPARQL escapes, so the value has a CR LF
    query = f'SELECT ?v WHERE {{ ?s ?p ?o BIND("{tricky}" AS ?v) }} LIMIT {RESULT_LIMIT}'
    as_json = http(served.sparql, {"query": query, "format": "json"})
    assert as_json.status == 200, as_json.text
    assert [b["v"]["value"] for b in json.loads(as_json.body)["results"]["bindings"]] == [
        "a},{b\r\nc"
    ] * RESULT_LIMIT
    as_csv = http(served.sparql, {"query": query, "format": "csv"})
    assert as_csv.status == 200, as_csv.text
    assert list(csv.reader(io.StringIO(as_csv.text, newline=""))) == [["v"]] + [["a},{b\r\nc"]] * RESULT_LIMIT


def test_request_body_and_query_string_limits(served: Served) -> None:
    padding = "#" + "x" * MAX_BYTES + "\n"
    body = http(
        served.sparql,
        method="POST",
        data=(padding + "ASK {}").encode(),
        content_type="application/sparql-query",
    )
    assert body.status == 413
    assert "max_request_bytes" in body.text
    form_body = form(served.sparql, {"query": padding + "ASK {}"})
    assert form_body.status == 413
    url = http(served.sparql, {"query": padding + "ASK {}"})
    assert url.status == 414
    assert "max_request_bytes" in url.text


# CORS -------------------------------------------------------------------------------------------------------


def test_cors(served: Served) -> None:
    reply = http(served.sparql, {"query": "ASK {}"}, headers={"Origin": "https://notebook.example"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    preflight = http(
        served.sparql,
        method="OPTIONS",
        headers={
            "Origin": "https://notebook.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]


# The service description --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("*/*", "turtle"),
    ],
)
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's JSON-LD
def test_service_description(
    served: Served, site: Site, iris: Iris, data: Graph, accept: str, rdflib_format: str
) -> None:
    reply = http(served.sparql, accept=accept)
    assert reply.status == 200
    description = Graph().parse(data=reply.body, format=rdflib_format)
    service = description.value(predicate=RDF.type, object=SD.Service)
    assert description.value(service, SD.endpoint) == URIRef(served.sparql)
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in description
    assert (
        service,
        SD.resultFormat,
        URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON"),
    ) in description
    dataset = description.value(service, SD.defaultDataset)
    default = description.value(dataset, SD.defaultGraph)
    assert cast(Literal, description.value(default, VOID.triples)).toPython() == len(data)
    sizes = {}
    for named in description.objects(dataset, SD.namedGraph):
        graph = description.value(named, SD.graph)
        triples = cast(Literal, description.value(graph, VOID.triples))
        sizes[str(description.value(named, SD.name))] = triples.toPython()
    expected = {
        str(iris.graph(site.relative(path))): len(read_graph(path, iris.base)) for path in site.turtle_files()
    }
    assert sizes == expected
    limits = str(description.value(service, URIRef("http://purl.org/dc/terms/description")))
    assert f"{TIMEOUT:g} s" in limits
    assert str(RESULT_LIMIT) in limits


# The page for people ------------------------------------------------------------------------------------


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.links.append((self._href, data))
            self._href = None


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_bare_get_from_a_browser_is_a_form(served: Served) -> None:
    reply = http(served.sparql, accept=BROWSER)
    assert reply.status == 200
    assert reply.content_type.startswith("text/html")
    page = Links()
    page.feed(reply.text)
    forms = [attrs for tag, attrs in page.tags if tag == "form"]
    assert forms == [{"class": "sparql", "method": "get", "action": "/sparql"}]
    assert any(tag == "textarea" and attrs.get("name") == "query" for tag, attrs in page.tags)
    scripts = [attrs.get("src") for tag, attrs in page.tags if tag == "script"]
    assert all(src is None or src.startswith("/static/") for src in scripts), "no CDN: cmpkg serves them all"


def test_form_results_are_a_table_with_links(served: Served, data: Graph, iris: Iris) -> None:
    reply = http(served.sparql, {"query": PLANS}, accept=BROWSER)
    assert reply.status == 200
    assert reply.content_type.startswith("text/html")
    page = Links()
    page.feed(reply.text)
    for plan, label in plans_in(data, iris).items():
        assert ("/" + iris.relative(plan), label) in page.links  # type: ignore[operator]
    construct = http(served.sparql, {"query": PLAN_LABELS, "format": "html"})
    assert construct.content_type.startswith("text/html")
    assert ">subject</th>" in construct.text


def test_form_table_shows_the_first_rows_and_links_the_whole_answer(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(result_table, "HTML_ROWS", 2)
    query = "SELECT ?s WHERE { ?s a ?type } LIMIT 5"
    page = client.get("/sparql", query_string={"query": query, "format": "html"}).get_data(as_text=True)
    assert page.count("<tr>") == 2 + 1  # the heading row
    assert "5 rows, of which the first 2 are shown here; all of them in" in page
    csv_link = html.unescape(re.search(r'<a href="([^"]*format=csv[^"]*)">CSV</a>', page).group(1))  # type: ignore[union-attr]
    whole = client.get(csv_link)
    assert whole.mimetype == "text/csv"
    assert len(whole.get_data(as_text=True).strip().splitlines()) == 5 + 1
    graph = client.get(
        "/sparql", query_string={"query": "CONSTRUCT WHERE { ?s a ?t } LIMIT 5", "format": "html"}
    )
    link = re.search(r'<a href="([^"]*format=turtle[^"]*)">Turtle</a>', graph.get_data(as_text=True))
    assert link is not None
    assert len(Graph().parse(data=client.get(html.unescape(link.group(1))).data, format="turtle")) == 5


def test_form_errors_show_on_the_page(served: Served) -> None:
    reply = http(served.sparql, {"query": "SELECT ?s WHERE { ?s ?p "}, accept=BROWSER)
    assert reply.status == 400
    assert reply.content_type.startswith("text/html")
    assert "syntax error at line 1" in reply.text


# Reloading ------------------------------------------------------------------------------------------------

PARTNER = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<partner/thing> a rdfs:Resource ; rdfs:label "{label}" .
"""
LABEL = "SELECT ?label WHERE { <partner/thing> <http://www.w3.org/2000/01/rdf-schema#label> ?label }"


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[tuple[Served, Path]]:
    extra = tmp_path / "partner"
    extra.mkdir()
    (extra / "partner.ttl").write_text(PARTNER.format(label="first"))
    settings = load_settings(
        environ={},
        overrides={"site_dir": str(ROOT), "base_iri": BASE, "reload_token": TOKEN, "query_workers": 2},
    )
    app = create_app(settings, extra=[extra])
    with live_server(app) as url:
        yield Served(url, app), extra / "partner.ttl"
    app.extensions[STORE_KEY].close()


def labels(served: Served) -> list[str]:
    reply = http(served.sparql, {"query": LABEL}, accept="application/sparql-results+json")
    assert reply.status == 200, reply.text
    return [b["label"]["value"] for b in json.loads(reply.body)["results"]["bindings"]]


def reload(served: Served, token: str | None = TOKEN) -> Reply:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http(served.url + "/-/reload", method="POST", data=b"", headers=headers)


def test_extra_files_are_served_in_their_own_graph(partner: tuple[Served, Path]) -> None:
    served, _ = partner
    assert labels(served) == ["first"]
    graph = BASE + "graph/partner"
    assert count(served, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **{"default-graph-uri": graph}) == 2


def test_extra_files_in_every_format_load_beside_the_project(tmp_path: Path, site: Site, iris: Iris) -> None:
    ex = "http://partner.example/"
    (tmp_path / "triples.nt").write_text(f'<{ex}a> <{ex}p> "nt" .\n')
    (tmp_path / "quads.nq").write_text(f'<{ex}b> <{ex}p> "in g1" <{ex}g1> .\n<{ex}b> <{ex}p> "no graph" .\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.trig").write_text(
        f'<{ex}g2> {{ <{ex}c> <{ex}p> "in g2" }}\n<{ex}c> <{ex}p> "trig" .\n'
    )
    (tmp_path / "doc.jsonld").write_text(json.dumps({"@id": ex + "d", ex + "p": "jsonld"}))
    store = open_store(site, iris, [tmp_path])
    try:
        rows = store.query("SELECT ?g ?o WHERE { GRAPH ?g { ?s <http://partner.example/p> ?o } }")
        found = {(row["g"].value, row["o"].value) for row in rows}
    finally:
        store.close()
    assert found == {
        (BASE + "graph/triples", "nt"),
        (ex + "g1", "in g1"),
        (BASE + "graph/quads", "no graph"),
        (ex + "g2", "in g2"),
        (BASE + "graph/sub/data", "trig"),
        (BASE + "graph/doc", "jsonld"),
    }


def test_reload_swaps_in_the_new_files(partner: tuple[Served, Path]) -> None:
    served, file = partner
    file.write_text(PARTNER.format(label="second"))
    assert labels(served) == ["first"]  # nothing changes until the reload
    reply = reload(served)
    assert reply.status == 200, reply.text
    assert "reloaded" in reply.text
    assert labels(served) == ["second"]


def test_a_reload_that_fails_leaves_the_old_graph_serving(partner: tuple[Served, Path]) -> None:
    served, file = partner
    file.write_text('<partner/thing> <http://www.w3.org/2000/01/rdf-schema#label> "broken .\n')
    reply = reload(served)
    assert reply.status == 500
    assert "partner.ttl:1:" in reply.text
    assert "previous graph is still served" in reply.text
    assert labels(served) == ["first"]


def test_a_reload_that_fails_validation_leaves_the_old_graph_serving(partner: tuple[Served, Path]) -> None:
    served, file = partner
    file.write_text("@prefix cmp: <ontology#> .\n<partner/plan> a cmp:ActionPlan .\n")
    reply = reload(served)
    assert reply.status == 500
    assert "violation" in reply.text
    assert labels(served) == ["first"]


def test_queries_during_a_reload_see_the_old_graph_or_the_new_one(partner: tuple[Served, Path]) -> None:
    served, file = partner
    file.write_text(PARTNER.format(label="second"))
    seen: list[list[str]] = []
    done = threading.Event()

    def keep_asking() -> None:
        while not done.is_set():
            seen.append(labels(served))

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        assert reload(served).status == 200
        time.sleep(0.2)
    finally:
        done.set()
        asker.join()
    assert seen[0] == ["first"]
    assert seen[-1] == ["second"]
    assert all(answer in (["first"], ["second"]) for answer in seen)


def test_reload_needs_the_token(partner: tuple[Served, Path]) -> None:
    served, _ = partner
    missing = reload(served, token=None)
    assert missing.status == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert reload(served, token="wrong").status == 403


def test_reload_is_off_without_a_token(served: Served) -> None:
    reply = reload(served)
    assert reply.status == 403
    assert "reload_token" in reply.text


# The store on disk --------------------------------------------------------------------------------------


def test_a_built_store_on_disk_is_reused_by_serve(tmp_path: Path, data: Graph) -> None:
    store_path = tmp_path / "store"
    built = CliRunner().invoke(
        main, ["--site", str(ROOT), "--base-iri", BASE, "build", "--store-path", str(store_path)]
    )
    assert built.exit_code == 0, built.output
    generation = (store_path / CURRENT).read_text().strip()
    settings = load_settings(
        environ={},
        overrides={
            "site_dir": str(ROOT),
            "base_iri": BASE,
            "store_path": str(store_path),
            "query_timeout": TIMEOUT,
        },
    )
    app = create_app(settings)
    served_store = app.extensions[STORE_KEY]
    assert isinstance(served_store, ServedStore)
    try:
        assert served_store.report is None  # opened as built, not loaded again
        assert (store_path / CURRENT).read_text().strip() == generation
        with live_server(app) as url:
            served = Served(url, app)
            assert count(served, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == len(data)
            started = time.monotonic()
            assert form(served.sparql, {"query": RUNAWAY}).status == 503  # workers on disk are killed too
            assert time.monotonic() - started < 2 * TIMEOUT
            assert count(served, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == len(data)
    finally:
        served_store.close()


def test_a_store_on_disk_built_from_other_files_is_rebuilt(tmp_path: Path, data: Graph) -> None:
    store_path = tmp_path / "store"
    extra = tmp_path / "partner.ttl"
    extra.write_text(PARTNER.format(label="first"))
    built = CliRunner().invoke(
        main, ["--site", str(ROOT), "--base-iri", BASE, "build", str(extra), "--store-path", str(store_path)]
    )
    assert built.exit_code == 0, built.output
    settings = load_settings(
        environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE, "store_path": str(store_path)}
    )
    served_store = create_app(settings).extensions[STORE_KEY]  # serving without the extra file
    try:
        assert served_store.report is not None  # so it was built again
        assert served_store.triples() == len(data)
    finally:
        served_store.close()


def test_reload_on_disk_makes_a_new_generation_current(tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    extra = tmp_path / "partner.ttl"
    extra.write_text(PARTNER.format(label="first"))
    settings = load_settings(
        environ={},
        overrides={
            "site_dir": str(ROOT),
            "base_iri": BASE,
            "store_path": str(store_path),
            "reload_token": TOKEN,
        },
    )
    app = create_app(settings, extra=[extra])
    try:
        with live_server(app) as url:
            served = Served(url, app)
            first = (store_path / CURRENT).read_text().strip()
            assert labels(served) == ["first"]
            extra.write_text(PARTNER.format(label="second"))
            assert reload(served).status == 200
            second = (store_path / CURRENT).read_text().strip()
            assert second != first
            assert labels(served) == ["second"]
            extra.write_text(PARTNER.format(label="third"))
            assert reload(served).status == 200
            assert labels(served) == ["third"]
            # The generation the first reload replaced is gone; the one just replaced is kept until the next
            # build, as a request may still be reading it.
            generations = {path.name for path in store_path.glob("gen-*")}
            assert first not in generations
            assert (store_path / CURRENT).read_text().strip() in generations
    finally:
        app.extensions[STORE_KEY].close()
