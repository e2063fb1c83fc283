"""The same files give the same bytes on every server: blank nodes are named by the file and the order they
appear in, not by Oxigraph's random labels, so that a dump or a page served by two workers or two hosts of
the same data is byte for byte the same, as its strong ETag promises (a download resumed with Range from
another server must not splice two different files)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from flask.testing import FlaskClient

from publisher.app import create_app
from publisher.config import load_settings
from publisher.iris import Iris
from publisher.rdf_files import RdfFile, may_hold_blank_nodes
from publisher.site import Site
from publisher.store import EmbeddedStore, build_store

PARTNER = "http://partner.example/"


def serialized(store: EmbeddedStore, graph: str) -> list[str]:
    """The graph's quads as N-Quads lines, sorted: equal only if the blank node labels are."""
    return sorted(str(quad) for quad in store.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def blank_labels(store: EmbeddedStore, graph: str) -> set[str]:
    return {
        term.value
        for quad in store.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
        for term in (quad.subject, quad.object)
        if isinstance(term, ox.BlankNode)
    }


def partner_files(directory: Path) -> list[Path]:
    """A partner's Turtle with anonymous nodes and a list, and N-Triples using the same label as another."""
    turtle = directory / "about.ttl"
    turtle.write_text(
        f"<{PARTNER}about> <{PARTNER}part> [ <{PARTNER}n> 1 ], [ <{PARTNER}n> 2 ] ; "
        f'<{PARTNER}list> ( "a" "b" ) .\n'
    )
    first = directory / "first.nt"
    first.write_text(f'_:x <{PARTNER}n> "first" .\n<{PARTNER}a> <{PARTNER}has> _:x .\n')
    second = directory / "second.nt"
    second.write_text(f'_:x <{PARTNER}n> "second" .\n<{PARTNER}b> <{PARTNER}has> _:x .\n')
    return [turtle, first, second]


def test_two_builds_of_the_same_files_name_blank_nodes_alike(site: Site, iris: Iris, tmp_path: Path) -> None:
    extra = partner_files(tmp_path)
    one, _ = build_store(site, iris, extra)
    two, _ = build_store(site, iris, extra)
    shapes = iris.graph("shapes/cmp-shapes.ttl")
    assert blank_labels(one, shapes), "the shapes' RDF lists are blank nodes: the test needs some"
    for graph in (shapes, iris.graph("about.ttl"), iris.graph("first.nt")):
        assert blank_labels(one, graph)
        assert serialized(one, graph) == serialized(two, graph), graph


def test_blank_nodes_of_two_files_stay_apart(site: Site, iris: Iris, tmp_path: Path) -> None:
    """Both N-Triples files say `_:x`: they are two nodes, as RDF's blank node scoping says."""
    store, _ = build_store(site, iris, partner_files(tmp_path))
    rows = store.query(
        f"SELECT ?who ?n WHERE {{ ?who <{PARTNER}has> ?x . ?x <{PARTNER}n> ?n }} ORDER BY ?who ?n"
    )
    assert [(row["who"].value, row["n"].value) for row in rows] == [
        (f"{PARTNER}a", "first"),
        (f"{PARTNER}b", "second"),
    ]


def test_a_file_without_blank_nodes_keeps_oxigraphs_own_loader(tmp_path: Path) -> None:
    """A large N-Triples file with no `_:` is loaded by Oxigraph directly (fast); one with it is read here."""
    plain = tmp_path / "plain.nt"
    plain.write_text(f'<{PARTNER}a> <{PARTNER}n> "no blank node here, only [brackets] (and parentheses)" .\n')
    blank = tmp_path / "blank.nt"
    blank.write_text(f'_:b0 <{PARTNER}n> "x" .\n')
    empty = tmp_path / "empty.ttl"
    empty.write_text("")
    assert not may_hold_blank_nodes(RdfFile(plain, plain.name))
    assert may_hold_blank_nodes(RdfFile(blank, blank.name))
    assert not may_hold_blank_nodes(RdfFile(empty, empty.name))


def client() -> FlaskClient:
    return create_app(
        load_settings(environ={}, overrides={"site_dir": str(Path(__file__).parents[1])})
    ).test_client()


def test_two_servers_of_the_same_data_send_the_same_bytes() -> None:
    """Two apps (each builds its own store and writes its own dumps) agree on every byte and ETag."""
    first, second = client(), client()
    for path in (
        "/shapes.ttl",
        "/dump/cmpkg.nt.gz",
        "/dump/cmpkg.ttl",
        "/dump/cmpkg.trig",
        "/dump/cmpkg.jsonld",
    ):
        one, two = first.get(path), second.get(path)
        assert one.status_code == two.status_code == 200, path
        assert b"_:" in one.data or path.endswith(".gz"), f"{path}: the shapes' lists should be in it"
        assert (one.data, one.headers["ETag"]) == (two.data, two.headers["ETag"]), path
