"""/sparql refuses what the SPARQL 1.1 Protocol and RFC 9110 say it must, with the status they give and a
message saying what is wrong, and never runs another query than the one sent, nor dies of one. Each test is
the regression test of a finding of the HTTP audit (deep nesting, chunked bodies, graph IRIs with brackets,
HEAD, empty format=, bytes that are not UTF-8, content codings, update= on a direct POST, OpenAPI)."""

from __future__ import annotations

import gzip
import http.client
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate as validate_openapi

from publisher.app import create_app
from publisher.config import load_settings
from publisher.endpoint import MAX_NESTING
from publisher.views.context import STORE_KEY
from tests.conftest import BASE, ROOT
from tests.support import live_server
from tests.test_served_workers import cmpkg_serve

MAX_BYTES = 1_048_576  # the default; the deep queries' longest URL-encoded is 60 kB
TEXT = {"Accept": "text/plain"}
CSV = {"Accept": "text/csv"}
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
PLANS = "PREFIX cmp: <ontology#> SELECT ?plan WHERE { ?plan a cmp:ActionPlan } ORDER BY ?plan"
# Brackets nested far past the bound; each took a query worker down (Oxigraph's parser recursing), and a web
# worker once the query had been answered fast enough to run in the request's own thread.
TOO_DEEP = {
    "parentheses": "ASK { FILTER(" + "(" * 2000 + "1" + ")" * 2000 + ") }",
    "braces": "ASK " + "{" * 10_000 + "}" * 10_000,
    "blank nodes": "ASK { ?s ?p " + "[ <p> " * 3000 + "1" + "]" * 3000 + " }",
    # An IRI to a tokenizer, "<" and ">" around parentheses to the parser: ?a < ((1) > ?b && ?a < (...
    "comparisons": "ASK { FILTER(" + "?a<((1)>?b&&" * 3000 + "true" + ")" * 3000 + ") }",
    # Calls of functions whose IRIs hold a ")" that closes nothing.
    "function calls": "ASK { FILTER(" + "<x:)>(" * 3000 + "1" + ")" * 3000 + ") }",
    "escaped names": "PREFIX ex: <x:> ASK { FILTER(" + r"ex:a\#(" * 3000 + "1" + ")" * 3000 + ") }",
}


def at_the_bound() -> str:
    """A query nesting brackets MAX_NESTING deep, of the kind costing the parser most: aggregates in
    aggregates (which have no value, but parse)."""
    levels = MAX_NESTING - 1  # and the parentheses around the expression
    return "SELECT (" + "SUM(" * levels + "1" + ")" * levels + " AS ?n) {}"


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    settings = load_settings(
        environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE, "max_request_bytes": MAX_BYTES}
    )
    app = create_app(settings)
    yield app
    app.extensions[STORE_KEY].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def server(app: Flask) -> Iterator[tuple[str, int]]:
    """The app over real HTTP (werkzeug's server decodes chunked bodies, as granian does)."""
    with live_server(app) as url:
        host, port = urllib.parse.urlsplit(url).netloc.split(":")
        yield host, int(port)


def get(
    client: FlaskClient, fields: dict[str, str], headers: dict[str, str] | None = None
) -> tuple[int, str]:
    response = client.get("/sparql", query_string=fields, headers=headers or TEXT)
    return response.status_code, response.text


# 1. Nesting ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", TOO_DEEP.values(), ids=TOO_DEEP.keys())
@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_a_query_nesting_brackets_too_deep_is_400_before_it_runs(
    client: FlaskClient, query: str, method: str
) -> None:
    if method == "GET":
        response = client.get("/sparql", query_string={"query": query}, headers=TEXT)
    elif method == "form":
        response = client.post("/sparql", data={"query": query}, headers=TEXT)
    else:
        response = client.post("/sparql", data=query.encode(), content_type=DIRECT, headers=TEXT)
    assert response.status_code == 400, response.text
    assert "the query nests brackets" in response.text
    assert f"at most {MAX_NESTING} are allowed" in response.text


def test_only_brackets_outside_strings_and_comments_count(client: FlaskClient) -> None:
    many = "(" * 3 * MAX_NESTING
    iris = " ".join(["<http://dbpedia.org/resource/Mercury_(planet)>"] * 3 * MAX_NESTING)  # each (...) closed

    def nested(depth: int) -> str:
        filter_ = "FILTER(" + "(" * (depth - 2) + "true" + ")" * (depth - 2) + ")"
        return f'SELECT ?text WHERE {{ # {many}\n BIND("{many}" AS ?text) VALUES ?s {{ {iris} }} {filter_} }}'

    status, text = get(client, {"query": nested(MAX_NESTING)}, CSV)
    assert status == 200, text
    assert text.splitlines()[1] == many
    status, text = get(client, {"query": nested(MAX_NESTING + 1)})
    assert status == 400
    assert text.startswith(
        f"the query nests brackets ((, {{, [) {MAX_NESTING + 1} deep; at most {MAX_NESTING}"
    )


def test_a_service_after_an_escaped_hash_is_refused(client: FlaskClient) -> None:
    """A SERVICE hidden behind an escaped "#" in a prefixed name: the tokenizer read the rest of the line as a
    comment, so the SERVICE allow-list let it through (and Oxigraph called the endpoint)."""
    query = (
        r"PREFIX ex: <x:> SELECT * { BIND(ex:a\#b AS ?x) SERVICE <http://127.0.0.1:9/sparql> { ?a ?b ?c } }"
    )
    status, text = get(client, {"query": query})
    assert status == 400, text
    assert "SERVICE <http://127.0.0.1:9/sparql> is not allowed" in text


def test_deep_queries_sent_again_and_again_leave_the_server_serving(tmp_path: Path) -> None:
    """A real `cmpkg serve`: the third deep query used to run in a web worker's thread (answered fast by a
    query worker before) and kill it; a few more made granian shut the whole server down."""
    # Any query a worker answers within 100 ms (1% of the timeout) then runs in the request's thread.
    env = {"CMPKG_QUERY_WORKERS": "1", "CMPKG_QUERY_INLINE_MS": "100"}
    with cmpkg_serve(tmp_path, ["--workers", "1"], env) as served:
        address = urllib.parse.urlsplit(served.url)
        for query in [TOO_DEEP["parentheses"]] * 5 + [TOO_DEEP["braces"]] * 2:
            status, text = _post(address.hostname or "", address.port or 80, query.encode())
            assert status == 400, text
            assert "the query nests brackets" in text
        for _ in range(3):  # a query worker's answer first, then in the request's thread
            status, text = _post(address.hostname or "", address.port or 80, at_the_bound().encode())
            assert (status, text.splitlines()[0]) == (200, "n"), text
        assert served.label() == "first"
        assert "Unexpected exit" not in served.log.read_text()  # granian's word for a web worker that died


def _post(host: str, port: int, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """A direct POST of a query over a new connection; the status and the text answered."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        sent = {"Content-Type": DIRECT, "Accept": "text/csv", **(headers or {})}
        connection.request("POST", "/sparql", body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


# 3. Chunked bodies -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [DIRECT, FORM])
def test_a_chunked_body_over_max_request_bytes_is_413_not_cut_and_run(
    server: tuple[str, int], content_type: str
) -> None:
    def chunked(query: str) -> tuple[int, str]:
        body = query.encode() if content_type == DIRECT else urllib.parse.urlencode({"query": query}).encode()
        connection = http.client.HTTPConnection(*server, timeout=30)
        try:
            connection.putrequest("POST", "/sparql")
            for name, value in (("Content-Type", content_type), ("Accept", "text/csv")):
                connection.putheader(name, value)
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            for start in range(0, len(body), 65536):
                chunk = body[start : start + 65536]
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    # Cut at max_request_bytes, this was "SELECT ... " without its LIMIT 1: every plan.
    status, text = chunked(PLANS + " " * MAX_BYTES + "LIMIT 1")
    assert status == 413, text
    assert f"larger than {MAX_BYTES} bytes (setting max_request_bytes)" in text
    status, text = chunked(PLANS + " LIMIT 1")
    assert (status, len(text.splitlines())) == (200, 2)


# 7. Graph IRIs with brackets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "iri"),
    [("default-graph-uri", "http://["), ("named-graph-uri", "//[x"), ("default-graph-uri", "http://a]/")],
)
@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_a_graph_parameter_with_a_bracket_is_400_not_an_iri(
    client: FlaskClient, parameter: str, iri: str, method: str
) -> None:
    if method == "GET":
        response = client.get("/sparql", query_string={"query": "ASK {}", parameter: iri}, headers=TEXT)
    elif method == "form":
        response = client.post("/sparql", data={"query": "ASK {}", parameter: iri}, headers=TEXT)
    else:
        url = "/sparql?" + urllib.parse.urlencode({parameter: iri})
        response = client.post(url, data=b"ASK {}", content_type=DIRECT, headers=TEXT)
    assert response.status_code == 400
    assert response.text.startswith(f"{parameter} {iri!r} is not an IRI")


# 10. HEAD --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query_string", [{}, {"query": "ASK {}"}, {"query": "ASK {", "x": "y"}])
def test_head_answers_as_get_without_a_body(client: FlaskClient, query_string: dict[str, str]) -> None:
    headers = {"Accept": "text/turtle, application/sparql-results+json;q=0.9, text/plain;q=0.1"}
    got = client.get("/sparql", query_string=query_string, headers=headers)
    head = client.head("/sparql", query_string=query_string, headers=headers)
    assert head.status_code == got.status_code
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["Content-Length"] == str(len(got.data))
    assert head.data == b""


# 11. format= left empty ------------------------------------------------------------------------------------


@pytest.mark.parametrize("parameter", ["format", "output"])
def test_an_empty_format_counts_as_absent(client: FlaskClient, parameter: str) -> None:
    response = client.get("/sparql", query_string={"query": PLANS, parameter: ""}, headers=CSV)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/csv"
    assert response.text.splitlines()[0] == "plan"
    described = client.get("/sparql", query_string={parameter: ""}, headers={"Accept": "text/turtle"})
    assert (described.status_code, described.mimetype) == (200, "text/turtle")


# 12. Bytes that are not UTF-8, content codings -------------------------------------------------------------

NOT_UTF8 = "percent-encode the UTF-8 bytes of each character"
FF_QUERY = b"query=SELECT%20%3Fx%20WHERE%20%7BBIND(%22%FF%22%20AS%20%3Fx)%7D"  # "\xff", not "%FF" as text


def test_a_query_string_not_in_utf8_is_400(client: FlaskClient) -> None:
    response = client.get("/sparql?" + FF_QUERY.decode(), headers=TEXT)
    assert response.status_code == 400, response.text
    assert response.text.startswith("the query string is not UTF-8")
    assert NOT_UTF8 in response.text
    direct = client.post("/sparql?x=%FF", data=b"ASK {}", content_type=DIRECT, headers=TEXT)
    assert direct.status_code == 400
    assert direct.text.startswith("the query string is not UTF-8")


@pytest.mark.parametrize("body", [FF_QUERY, b"query=ASK%7B%7D&x=\xff"], ids=["escaped", "raw byte"])
def test_a_form_body_not_in_utf8_is_400(client: FlaskClient, body: bytes) -> None:
    response = client.post("/sparql", data=body, content_type=FORM, headers=TEXT)
    assert response.status_code == 400, response.text
    assert response.text.startswith("the form body is not UTF-8")
    assert NOT_UTF8 in response.text


def test_a_malformed_escape_is_kept_as_text_as_browsers_do(client: FlaskClient) -> None:
    query = urllib.parse.quote('SELECT ?x WHERE { BIND("') + "%zz" + urllib.parse.quote('" AS ?x) }')
    response = client.post("/sparql", data=f"query={query}&x=%FF", content_type=FORM, headers=CSV)
    assert response.status_code == 400  # the %FF still makes it so
    response = client.post("/sparql", data=f"query={query}", content_type=FORM, headers=CSV)
    assert response.text.splitlines() == ["x", "%zz"]


@pytest.mark.parametrize(
    ("coding", "body"),
    [("gzip", gzip.compress(b"ASK {}", mtime=0)), ("br", b"ASK {}"), ("identity, deflate", b"ASK {}")],
    ids=["gzip", "br on a plain body", "identity then deflate"],
)
@pytest.mark.parametrize("content_type", [DIRECT, FORM])
def test_a_body_with_a_content_coding_is_415_naming_it(
    client: FlaskClient, coding: str, body: bytes, content_type: str
) -> None:
    headers = {**TEXT, "Content-Encoding": coding}
    response = client.post("/sparql", data=body, content_type=content_type, headers=headers)
    assert response.status_code == 415, response.text
    named = coding.split(", ")[-1]
    assert response.text.startswith(f"the request body is {named}-encoded (Content-Encoding)")
    assert response.headers["Accept-Encoding"] == "identity"
    plain = client.post(
        "/sparql", data=b"ASK {}", content_type=DIRECT, headers={**CSV, "Content-Encoding": "identity"}
    )
    assert plain.status_code == 200


# 13. update= on a direct POST ------------------------------------------------------------------------------


def test_update_in_the_url_of_a_direct_post_is_refused_as_elsewhere(client: FlaskClient) -> None:
    response = client.post("/sparql?update=x", data=PLANS.encode(), content_type=DIRECT, headers=TEXT)
    assert response.status_code == 400
    assert "this endpoint is read-only: it runs queries, never updates (update=)" in response.text


# 23. OpenAPI -----------------------------------------------------------------------------------------------


def test_openapi_lists_format_and_output_of_sparql(client: FlaskClient) -> None:
    document = json.loads(client.get("/openapi.json").data)
    validate_openapi(document)
    sparql = document["paths"]["/sparql"]
    form_fields = sparql["post"]["requestBody"]["content"][FORM]["schema"]["properties"]
    for operation in (sparql["get"], sparql["post"]):
        parameters = {p["name"]: p for p in operation["parameters"]}
        for name in ("format", "output"):
            schema = parameters[name]["schema"]
            accepted = {value for choice in schema["anyOf"] for value in choice["enum"]}
            assert {"csv", "json", "turtle", "html", "text/csv", "application/ld+json", ""} <= accepted
            assert parameters[name]["in"] == "query"
            assert form_fields[name] == schema
