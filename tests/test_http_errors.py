"""Bad requests and failures answered as cmpkg's own errors: the status RFC 9110 gives, a message saying what
is wrong, the headers a negotiated or cross-origin answer needs, never a stack trace. Each test is the
regression test of a finding of the HTTP audit (malformed paths, q-values, page numbers and Host headers;
Flask's own error pages; Vary, CORS and preflights; hash IRIs; OpenAPI)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph
from werkzeug.test import EnvironBuilder, run_wsgi_app

from publisher.formats import parse_accept
from publisher.views.context import PAGE_CACHE_KEY, STORE_KEY

TEXT = {"Accept": "text/plain"}
HTML = {"Accept": "text/html"}
TURTLE = {"Accept": "text/turtle"}
ELSEWHERE = "https://elsewhere.example"
# Percent-escapes of characters no IRI has (RFC 3987), and a newline, which no route's path matches.
NOT_IRIS = [
    "/a%20b",
    "/a%3Cb",
    "/a%22b",
    "/%7Bx%7D",
    "/a%5Cb",
    "/a%60b",
    "/a%7Cb",
    "/a%5Eb",
    "/a%00b",
    "/%FF%FE",
    "/a%25zz",
    "/plan/2018-2020/1.1.1%00",
    "/dump/a/b%3C",
    "/queries/%22%3E%3Cscript%3E/x",
    "/a%0Ab",
]


def words(header: str | None) -> set[str]:
    """The members of a comma-separated header, lower-cased."""
    return {member.strip().lower() for member in (header or "").split(",") if member.strip()}


# A path that is no IRI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOT_IRIS)
def test_a_path_no_iri_can_have_is_the_sites_404(client: FlaskClient, path: str) -> None:
    page = client.get(path, headers=HTML)
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "Nothing in the graph is named" in page.text
    rdf = client.get(path, headers=TURTLE)
    assert rdf.status_code == 404
    assert rdf.mimetype == "text/turtle"
    assert len(Graph().parse(data=rdf.data, format="turtle")) == 0


# Accept q-values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["nan", "NaN", "inf", "-1", "2", "1e0", ".5", "0.5000", "0x1", ""])
def test_a_member_with_a_malformed_q_is_ignored(client: FlaskClient, q: str) -> None:
    response = client.get("/plan/2018-2020/1.1.1", headers={"Accept": f"text/turtle;q={q}"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"  # its only member ignored: as if there were no Accept
    chosen = client.get(
        "/plan/2018-2020/1.1.1", headers={"Accept": f"text/turtle;q={q}, application/n-triples"}
    )
    assert chosen.mimetype == "application/n-triples"


def test_only_qvalues_in_rfc_9110_grammar_are_read() -> None:
    accept = "a/b;q=nan, c/d;q=1.000, e/f;q=0.001, g/h;q=1.001, i/j;Q=0"
    assert [(r.type, r.q) for r in parse_accept(accept)] == [("c", 1.0), ("e", 0.001), ("i", 0.0)]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/search?q=brazil", 200),
        ("/void", 200),
        ("/.well-known/void", 200),
        ("/ontology", 200),
        ("/sparql", 200),
        ("/sparql?query=ASK%7B%7D", 200),
        ("/sparql?query=nonsense", 400),
        ("/queries/rank_range_states", 200),
        ("/nothing/here", 404),
    ],
)
def test_accept_with_q_nan_is_answered_on_every_negotiated_route(
    client: FlaskClient, path: str, status: int
) -> None:
    assert client.get(path, headers={"Accept": "*/*;q=NaN"}).status_code == status


# Page numbers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["²", "①", "١", "1" * 5000])
def test_a_search_page_not_in_ascii_digits_is_a_400(client: FlaskClient, page: str) -> None:
    response = client.get("/search.json", query_string={"q": "whale", "page": page})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error.startswith("page must be a whole number from 1 to 999999999, not ")
    assert client.get("/search", query_string={"q": "whale", "page": page}).status_code == 400


@pytest.mark.parametrize("page", ["-1", "-5", "0", "abc", "", "1.5", "²", "١"])
def test_an_entity_page_that_is_not_a_whole_number_from_1_is_a_400(client: FlaskClient, page: str) -> None:
    response = client.get("/plan/2018-2020/1.1.1", query_string={"page": page}, headers=TURTLE)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert f"page must be a whole number from 1 to 999999999, not {page!r}" in response.text
    browser = client.get("/plan/2018-2020/1.1.1", query_string={"page": page}, headers=HTML)
    assert browser.status_code == 400
    assert browser.mimetype == "text/html"


def test_a_later_page_names_itself_in_content_location_and_links(client: FlaskClient) -> None:
    second = client.get("/party/swg-cmp?page=2", headers=TURTLE)
    assert second.status_code == 200
    assert second.headers["Content-Location"] == "/party/swg-cmp.ttl?page=2"
    alternates = re.findall(r'<([^>]+)>; rel="alternate"', second.headers["Link"])
    assert len(alternates) == 5
    assert all(href.endswith("?page=2") for href in alternates)
    page = client.get("/party/swg-cmp?page=2", headers=HTML).text
    assert '<link rel="alternate" type="text/turtle" href="/party/swg-cmp.ttl?page=2"' in page
    assert client.get("/party/swg-cmp", headers=TURTLE).headers["Content-Location"] == "/party/swg-cmp.ttl"


# Host header ----------------------------------------------------------------------------------------------


def get_with_host(app: Flask, path: str, host: str) -> tuple[str, str]:
    """The status and body of a GET with this Host, sent to the app as a WSGI server does (the test client
    itself fails on an IDNA-invalid host)."""
    environ = EnvironBuilder(path, headers=list(TEXT.items())).get_environ()
    environ["HTTP_HOST"] = host
    body, status, _ = run_wsgi_app(app, environ, buffered=True)
    return status, b"".join(body).decode()


BAD_HOSTS = [
    "xn--a",
    "xn--",
    "XN--A.example",
    "a b",
    "[::1",
    "[zz::1]:80",
    "",
    "a_b.example",
    "a:0",
    "a:65536",
    "a.example,b.example",  # two Host lines, as granian passes them
]
GOOD_HOSTS = [
    "localhost",
    "127.0.0.1:8123",
    "localhost:8000",
    "[::1]:8000",
    "w3id.org",
    "www.example.org:443",
]


@pytest.mark.parametrize("path", ["/robots.txt", "/sitemap.xml", "/sparql", "/plan/2018-2020/1.1.1"])
def test_a_bad_host_header_is_a_400_and_a_good_one_is_served(app: Flask, path: str) -> None:
    for host in GOOD_HOSTS:
        status, body = get_with_host(app, path, host)
        assert status == "200 OK", host
        if path == "/robots.txt":
            assert f"Sitemap: http://{host}/sitemap.xml" in body
    for host in BAD_HOSTS:  # an entity's answer replayed too: it was given just above
        status, body = get_with_host(app, path, host)
        assert status.startswith("400 "), host
        assert body.startswith(f"Bad Request: bad Host header: {host!r}"), body


def test_an_http_1_0_request_needs_no_host(app: Flask) -> None:
    """A load balancer's health check often speaks HTTP/1.0 without a Host; granian passes it as empty."""
    for host in ("", None):
        environ = EnvironBuilder("/-/health").get_environ()
        environ["SERVER_PROTOCOL"] = "HTTP/1.0"
        if host is None:
            del environ["HTTP_HOST"]
        else:
            environ["HTTP_HOST"] = host
        body, status, _ = run_wsgi_app(app, environ, buffered=True)
        assert status == "200 OK", b"".join(body)


# Vary and CORS on negotiated errors ----------------------------------------------------------------------


def test_a_404_varies_on_accept_and_may_be_read_from_anywhere(client: FlaskClient) -> None:
    for accept in (HTML, TURTLE):
        response = client.get("/plan/2018-2020/9.9.9", headers=accept)
        assert response.status_code == 404
        assert "accept" in words(response.headers.get("Vary"))
        assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "path",
    [
        "/plan/2018-2020/1.1.1",
        "/sparql",
        "/sparql?query=ASK%7B%7D",
        "/queries/rank_range_states",
        "/search?q=a",
    ],
)
def test_a_406_varies_on_accept(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "accept" in words(response.headers.get("Vary"))


# Flask's own errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE", "FOO"])
def test_a_method_sparql_does_not_take_is_a_405_in_text_with_cors(client: FlaskClient, method: str) -> None:
    response = client.open("/sparql", method=method, headers={**TEXT, "Origin": ELSEWHERE})
    assert response.status_code == 405
    assert response.mimetype == "text/plain"
    assert (
        response.text
        == f"Method Not Allowed: /sparql does not take {method}; it takes GET, HEAD, OPTIONS, POST\n"
    )
    assert words(response.headers["Allow"]) == {"get", "head", "options", "post"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    page = client.open("/sparql", method=method, headers=HTML)
    assert page.mimetype == "text/html"
    assert "<h1>Method Not Allowed</h1>" in page.text


def test_a_method_an_entity_does_not_take_is_a_405_in_text(client: FlaskClient) -> None:
    response = client.delete("/plan/2018-2020/1.1.1", headers=TEXT)
    assert response.status_code == 405
    assert response.mimetype == "text/plain"
    assert "does not take DELETE; it takes GET, HEAD, OPTIONS" in response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_unknown_saved_query_is_a_404_in_text(client: FlaskClient) -> None:
    response = client.get("/queries/nope", headers=TEXT)
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.text == "Not Found: There is no saved query 'nope'; /queries lists them.\n"
    assert "accept" in words(response.headers.get("Vary"))


def test_an_unexpected_exception_is_a_500_without_a_stack_trace(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(iri: str) -> bool:
        raise RuntimeError("a bug's own words")

    monkeypatch.setattr(app.extensions[STORE_KEY], "exists", fail)
    app.extensions[PAGE_CACHE_KEY].clear()  # not replayed: the view runs
    response = client.get("/plan/2018-2020/1.1.2", headers=TEXT)
    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    assert response.text.startswith("Internal Server Error: The server encountered an internal error")
    assert "a bug" not in response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    page = client.get("/plan/2018-2020/1.1.2", headers=HTML)
    assert page.status_code == 500
    assert "<h1>Internal Server Error</h1>" in page.text


# Hash IRIs ------------------------------------------------------------------------------------------------


def test_a_hash_iri_asked_with_an_escaped_hash_is_sent_to_its_document(client: FlaskClient) -> None:
    response = client.get("/ontology%23Topic")
    assert response.status_code == 301
    assert response.headers["Location"] == "/ontology#Topic"
    twin = client.get("/ontology%23Topic.ttl")
    assert twin.status_code == 301
    assert twin.headers["Location"] == "/ontology.ttl#Topic"
    assert client.get("/ontology%23NoSuchTerm").status_code == 404


# CORS preflight --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/plan/2018-2020/1.1.1",
        "/void",
        "/.well-known/void",
        "/void.ttl",
        "/dump/cmpkg.ttl",
        "/sitemap.xml",
        "/search.json",
        "/queries/rank_range_states",
        "/openapi.json",
    ],
)
def test_a_cors_preflight_is_answered_on_every_route_others_may_read(client: FlaskClient, path: str) -> None:
    asked = {"Origin": ELSEWHERE, "Access-Control-Request-Method": "GET"}
    response = client.options(path, headers={**asked, "Access-Control-Request-Headers": "If-None-Match"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "get" in words(response.headers.get("Access-Control-Allow-Methods"))
    allowed = words(response.headers.get("Access-Control-Allow-Headers"))
    assert {"if-none-match", "if-modified-since", "if-match", "range", "if-range"} <= allowed
    answer = client.get(path)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    exposed = words(answer.headers.get("Access-Control-Expose-Headers"))
    assert {"etag", "link", "content-location", "content-range"} <= exposed


# OpenAPI --------------------------------------------------------------------------------------------------


def test_openapi_lists_the_500_and_503_of_every_saved_query(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    saved = {path: item for path, item in paths.items() if path.startswith("/queries/")}
    assert saved
    for item in saved.values():
        assert {"500", "503"} <= item["get"]["responses"].keys()
