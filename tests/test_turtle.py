"""cmpkg's normal form of Turtle: lossless, deterministic, relative to the base, no blank nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, XSD

from publisher.turtle import BlankNodeError, TurtleWriter, leading_comments, natural_key, normalise_file
from tests.conftest import BASE, ROOT

OTHER_BASE = "http://example.org/elsewhere/"
TRICKY_LITERALS = [
    Literal('quote " and backslash \\ and tab \t', lang="en"),
    Literal("line one\nline two"),
    Literal("<script>alert(1)</script>"),
    Literal("2018-12", datatype=XSD.gYearMonth),
    Literal(7),
    Literal("007", datatype=XSD.integer),
    Literal(True),
    Literal("ünïcödé – dash"),
]


def sample_graph(base: str) -> Graph:
    graph = Graph()
    item = URIRef(base + "plan/2018-2020/1.10")
    graph.add((item, RDF.type, URIRef(base + "ontology#SubTask")))
    graph.add((item, RDFS.seeAlso, URIRef("https://iwc.int/x?a=1&b=2")))
    graph.add((item, RDFS.seeAlso, URIRef(base + "odd%20path/café")))
    for index, literal in enumerate(TRICKY_LITERALS):
        graph.add((URIRef(base + f"literal/{index}"), RDFS.label, literal))
    graph.add((URIRef(base + "plan/2018-2020/1.9"), RDF.type, URIRef(base + "ontology#SubTask")))
    return graph


def reparse(text: str, base: str) -> Graph:
    return Graph().parse(data=text, format="turtle", publicID=base)


def test_round_trip_is_lossless() -> None:
    graph = sample_graph(BASE)
    text = TurtleWriter(BASE).write(graph)
    assert isomorphic(reparse(text, BASE), graph)


def test_output_never_names_the_base_and_moves_with_it() -> None:
    text = TurtleWriter(BASE).write(sample_graph(BASE))
    assert BASE not in text
    assert isomorphic(reparse(text, OTHER_BASE), sample_graph(OTHER_BASE))


def test_output_does_not_depend_on_insertion_order() -> None:
    triples = list(sample_graph(BASE))
    forward, backward = Graph(), Graph()
    for triple in triples:
        forward.add(triple)
    for triple in reversed(triples):
        backward.add(triple)
    assert TurtleWriter(BASE).write(forward) == TurtleWriter(BASE).write(backward)


def test_numbers_in_iris_sort_numerically() -> None:
    text = TurtleWriter(BASE).write(sample_graph(BASE))
    assert text.index("<plan/2018-2020/1.9>") < text.index("<plan/2018-2020/1.10>")
    assert natural_key("1.2") < natural_key("1.10")


def test_blank_nodes_are_refused_with_a_fix() -> None:
    graph = Graph()
    graph.add((URIRef(BASE + "a"), RDFS.seeAlso, BNode()))
    with pytest.raises(BlankNodeError, match="give it an IRI"):
        TurtleWriter(BASE).write(graph)


def test_header_comments_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "x.ttl"
    path.write_text('# Title line\n# second\n\n<a> <http://www.w3.org/2000/01/rdf-schema#label> "x" .\n')
    text, normal = normalise_file(path, BASE)
    assert leading_comments(normal) == ["Title line", "second"]
    assert normal != text
    path.write_text(normal)
    assert normalise_file(path, BASE) == (normal, normal)


def project_turtle_files() -> list[Path]:
    return (
        sorted((ROOT / "ontology").glob("*.ttl"))
        + sorted((ROOT / "data").rglob("*.ttl"))
        + sorted((ROOT / "shapes").glob("*.ttl"))
    )


@pytest.mark.parametrize("path", project_turtle_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_project_file_is_in_normal_form(path: Path) -> None:
    text, normal = normalise_file(path, BASE)
    assert text == normal, f"{path.relative_to(ROOT)} is not in normal form: run `make format`"


def test_rdf_lists_are_written_as_collections() -> None:
    text = (
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        '<shapes/x> sh:in ( "a" "b" <c> ) ; sh:ignoredProperties ( ) .\n'
    )
    graph = reparse(text, BASE)
    written = TurtleWriter(BASE).write(graph)
    assert '( "a" "b" <c> )' in written
    assert isomorphic(reparse(written, BASE), graph)
