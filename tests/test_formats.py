"""The format table and content negotiation: what a client's Accept header or format= value gets."""

from __future__ import annotations

import pytest

from publisher.formats import (
    CSV,
    FORMATS,
    GRAPH_FORMATS,
    HTML,
    JSON,
    JSON_LD,
    N_QUADS,
    N_TRIPLES,
    RDF_FORMATS,
    RDF_XML,
    RESULTS_FORMATS,
    TRIG,
    TSV,
    TURTLE,
    XML,
    UnknownFormatError,
    by_name,
    by_suffix,
    negotiate,
    parse_accept,
)
from tests.conftest import ROOT

RESULTS = (*RESULTS_FORMATS, HTML)
GRAPHS = (*RDF_FORMATS, HTML)


def test_the_table_agrees_with_pyoxigraph() -> None:
    for fmt in FORMATS:
        engine = fmt.rdf_format or fmt.results_format
        if engine is None:
            continue
        assert fmt.media_type == engine.media_type.split(";")[0], fmt.name
        assert fmt.suffix == "." + engine.file_extension, fmt.name


def test_names_and_suffixes_are_unique() -> None:
    assert len({f.name for f in FORMATS}) == len(FORMATS)
    assert len({f.suffix for f in FORMATS}) == len(FORMATS)
    assert by_suffix(".TTL") is TURTLE
    assert by_suffix(".jsonld") is JSON_LD
    assert by_suffix(".xyz") is None


def test_format_iris_are_the_w3c_ones() -> None:
    assert TURTLE.iri == "http://www.w3.org/ns/formats/Turtle"
    assert JSON_LD.iri == "http://www.w3.org/ns/formats/JSON-LD"
    assert JSON.iri == "http://www.w3.org/ns/formats/SPARQL_Results_JSON"
    assert HTML.iri is None


def test_text_formats_say_their_charset() -> None:
    assert TURTLE.content_type == "text/turtle; charset=utf-8"
    assert JSON.content_type == "application/sparql-results+json"


@pytest.mark.parametrize(
    ("accept", "results", "graph"),
    [
        # The combined header of the issue: results and graphs kept apart.
        ("application/sparql-results+xml, application/rdf+xml", XML, RDF_XML),
        ("application/sparql-results+json", JSON, None),
        ("text/turtle", None, TURTLE),
        # No header, or anything goes: the first (default) format of each kind.
        (None, JSON, TURTLE),
        ("", JSON, TURTLE),
        ("*/*", JSON, TURTLE),
        # q-values decide.
        ("text/csv;q=0.5, application/sparql-results+json;q=0.9", JSON, None),
        ("text/csv;q=0.9, application/sparql-results+json;q=0.5", CSV, None),
        ("application/n-triples;q=0.3, text/turtle;q=0.2, application/ld+json", None, JSON_LD),
        # The most specific range sets a type's q: text/csv is refused although text/* is welcome.
        ("text/*, text/csv;q=0", TSV, TURTLE),
        ("text/*;q=0.5, */*;q=0.1", CSV, TURTLE),
        # A browser gets a page; its application/xml;q=0.9 does not win over text/html.
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", HTML, HTML),
        # Aliases.
        ("application/json", JSON, JSON_LD),
        ("application/xml", XML, RDF_XML),
        ("text/plain", None, N_TRIPLES),
        ("application/x-turtle", None, TURTLE),
        # Datasets: a graph can be written as TriG or N-Quads when that is all a client takes.
        ("application/trig", None, TRIG),
        ("application/n-quads", None, N_QUADS),
        # Nothing acceptable.
        ("image/png", None, None),
        ("application/sparql-results+json;q=0", None, None),
    ],
)
def test_negotiation(accept: str | None, results: object, graph: object) -> None:
    assert negotiate(accept, RESULTS) is results
    assert negotiate(accept, GRAPHS) is graph


def test_ties_go_to_the_range_listed_first_then_to_the_first_candidate() -> None:
    assert negotiate("text/tab-separated-values, text/csv", RESULTS_FORMATS) is TSV
    assert negotiate("text/csv, text/tab-separated-values", RESULTS_FORMATS) is CSV
    assert negotiate("text/*", RESULTS_FORMATS) is CSV


def test_malformed_accept_members_are_ignored() -> None:
    assert negotiate("garbage, text/csv;q=abc, text/turtle", GRAPH_FORMATS) is TURTLE
    assert negotiate("garbage", GRAPH_FORMATS) is TURTLE  # nothing valid: as if no header
    # A q that is not a qvalue (RFC 9110 §12.4.2) makes its member malformed: q=7 is not read as 1.
    assert [r.q for r in parse_accept("text/csv;q=0.5, text/html;q=7")] == [0.5]


@pytest.mark.parametrize(
    ("values", "results", "graph"),
    [
        (["json"], JSON, JSON_LD),
        (["xml"], XML, RDF_XML),
        (["csv"], CSV, None),
        (["turtle"], None, TURTLE),
        (["n3"], None, TURTLE),
        (["json-ld"], None, JSON_LD),
        (["rdf+xml", "application/rdf+xml"], None, RDF_XML),  # as SPARQLWrapper sends it
        (["tsv", "text/tab-separated-values"], TSV, None),
        (["application/sparql-results+json"], JSON, None),
        (["text/turtle; charset=utf-8"], None, TURTLE),
        (["HTML"], HTML, HTML),
    ],
)
def test_format_parameter(values: list[str], results: object, graph: object) -> None:
    assert by_name(values, RESULTS) is results
    assert by_name(values, GRAPHS) is graph


def test_the_endpoint_docs_list_every_format() -> None:
    docs = (ROOT / "docs" / "sparql.md").read_text()
    for fmt in FORMATS:
        assert f"`{fmt.media_type}`" in docs, fmt.name
        assert f"`{fmt.name}`" in docs, fmt.name


def test_unknown_format_parameter_is_an_error_naming_it() -> None:
    with pytest.raises(UnknownFormatError, match="'yaml'"):
        by_name(["yaml"], RESULTS)
