"""RDF files that cannot be loaded as given are refused before anything is loaded, with one line that names
the file and says what to do (found by a bad-input audit): files whose graphs would collide and replace each
other's triples, a file given twice, truncated RDF/XML, a byte-order mark, a remote JSON-LD context, an
extra directory without RDF, a FIFO; and a file name that is no IRI is percent-encoded in its graph IRI."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from publisher.cli import main
from publisher.iris import Iris
from publisher.rdf_files import RdfFileError, rdf_files_in
from publisher.site import Site
from publisher.store import build_store, open_store
from tests.conftest import BASE, ROOT

EX = "http://ex.org/"


def triple(path: Path, value: str) -> Path:
    """A file of one triple whose object is `value` (N-Triples, which is Turtle too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<{EX}a> <{EX}p> {json.dumps(value, ensure_ascii=False)} .\n")
    return path


def build(tmp_path: Path, *extra: Path | str) -> Result:
    """`cmpkg build --store-path` of the project and the extra paths."""
    args = ["--site", str(ROOT), "build", "--store-path", str(tmp_path / "store"), *map(str, extra)]
    return CliRunner().invoke(main, args)


def assert_refused(result: Result, tmp_path: Path, message: str) -> None:
    """Exit 2, the one line, no stack trace, and nothing loaded or written."""
    assert result.exit_code == 2, result.output
    assert result.stderr == f"cmpkg: error: {message}\n"
    assert "Traceback" not in result.output
    assert "quads from" not in result.stdout
    store = tmp_path / "store"
    assert not (store / "current").exists()
    assert not list(store.glob("gen-*"))


# Graph names that collide ----------------------------------------------------------------------------------


def test_two_extra_files_of_one_name_in_distinct_directories_are_refused(tmp_path: Path) -> None:
    first, second = triple(tmp_path / "a" / "x.ttl", "a"), triple(tmp_path / "b" / "x.ttl", "b")
    result = build(tmp_path, first, second)
    graph = f"{BASE}graph/x"
    expected = f"{second} and {first} would both be graph <{graph}>; rename one, or pass them under distinct"
    assert_refused(result, tmp_path, f"{expected} directories")


def test_two_files_of_one_stem_in_a_directory_are_refused(tmp_path: Path) -> None:
    turtle, triples = triple(tmp_path / "col" / "x.ttl", "ttl"), triple(tmp_path / "col" / "x.nt", "nt")
    result = build(tmp_path, tmp_path / "col")
    graph = f"{BASE}graph/x"
    expected = (
        f"{turtle} and {triples} would both be graph <{graph}>; rename one, or pass them under distinct"
    )
    assert_refused(result, tmp_path, f"{expected} directories")


def test_an_extra_file_named_like_a_project_file_is_refused(tmp_path: Path) -> None:
    taxa = triple(tmp_path / "col" / "data" / "taxa.ttl", "not the taxa")
    result = build(tmp_path, tmp_path / "col")
    graph = f"{BASE}graph/data/taxa"
    project_taxa = ROOT / "data" / "taxa.ttl"
    expected = f"{taxa} and {project_taxa} would both be graph <{graph}>; rename one, or pass them under"
    assert_refused(result, tmp_path, f"{expected} distinct directories")


def test_quads_naming_a_project_files_graph_are_refused(tmp_path: Path) -> None:
    quads = tmp_path / "a.nq"
    quads.write_text(f'<{EX}a> <{EX}p> "own" <{BASE}graph/a> .\n<{EX}a> <{EX}p> "elsewhere" <{EX}g> .\n')
    store, report = build_store(Site(ROOT), Iris(BASE), [quads])  # their own graph, or no file's: loaded
    assert report.files[-1][1:] == (f"{BASE}graph/a", 2)
    assert len(store.store) == report.quads
    quads.write_text(f'<{EX}a> <{EX}p> "q" <{BASE}graph/data/taxa> .\n')
    result = build(tmp_path, quads)
    expected = (
        f"{quads} names graph <{BASE}graph/data/taxa>, which is the graph of {ROOT / 'data' / 'taxa.ttl'}"
    )
    assert_refused(result, tmp_path, f"{expected}; give its quads another graph")


def test_trig_naming_another_extra_files_graph_by_a_relative_iri_is_refused(tmp_path: Path) -> None:
    trig = tmp_path / "col" / "a.trig"
    trig.parent.mkdir()
    trig.write_text(f'<graph/b> {{ <{EX}a> <{EX}p> "from a" }}\n')
    other = triple(tmp_path / "col" / "b.nt", "from b")
    result = build(tmp_path, tmp_path / "col")
    expected = (
        f"{trig} names graph <{BASE}graph/b>, which is the graph of {other}; give its quads another graph"
    )
    assert_refused(result, tmp_path, expected)


# A file given twice ----------------------------------------------------------------------------------------


def test_a_project_file_given_again_as_an_extra_file_is_refused(tmp_path: Path) -> None:
    taxa = ROOT / "data" / "taxa.ttl"
    result = build(tmp_path, taxa)
    expected = (
        f"{taxa} is the project file data/taxa.ttl, which cmpkg loads anyway; leave it out of the extra"
    )
    assert_refused(result, tmp_path, f"{expected} files")


def test_an_extra_file_given_twice_is_refused(tmp_path: Path) -> None:
    one = triple(tmp_path / "col" / "one.nt", "one")
    result = build(tmp_path, tmp_path / "col", one)
    assert_refused(result, tmp_path, f"{one} is {one} given again; give each file once")


# Files Oxigraph's parsers accept or describe badly ---------------------------------------------------------

RDF_XML_HEAD = (  # an RDF/XML document up to its first description's opening tag, on line 3
    '<?xml version="1.0"?>\n'
    f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="{EX}">\n'
    f'<rdf:Description rdf:about="{EX}a">\n'
)


def test_truncated_rdf_xml_is_refused_with_the_elements_left_open(tmp_path: Path) -> None:
    truncated = tmp_path / "trunc.rdf"
    truncated.write_text(RDF_XML_HEAD + "<ex:b>x</ex:b>\n")
    result = build(tmp_path, truncated)
    expected = "unexpected end of file: <rdf:Description> (line 3) and <rdf:RDF> (line 2) are not closed"
    assert_refused(result, tmp_path, f"{truncated}:5:1: {expected}; is the file complete?")


def test_rdf_xml_with_a_mismatched_tag_names_its_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "bad.rdf"
    broken.write_text(RDF_XML_HEAD + "<ex:b>x</ex:c>\n</rdf:Description></rdf:RDF>\n")
    result = build(tmp_path, broken)
    message = "ill-formed XML: mismatched tag; expected </ex:b> (opened on line 4)"
    assert_refused(result, tmp_path, f"{broken}:4:10: {message}")


def test_a_file_starting_with_a_byte_order_mark_says_so(tmp_path: Path) -> None:
    bom = tmp_path / "bom.ttl"
    bom.write_bytes(b"\xef\xbb\xbf" + f'<{EX}a> <{EX}p> "x" .\n'.encode())
    result = build(tmp_path, bom)
    message = "the file starts with a byte-order mark (BOM); save it as UTF-8 without BOM"
    assert_refused(result, tmp_path, f"{bom}:1:1: {message}")


def test_validate_says_so_too_for_a_byte_order_mark(tmp_path: Path) -> None:
    bom = tmp_path / "bom.nt"
    bom.write_bytes(b"\xef\xbb\xbf" + f'<{EX}a> <{EX}p> "x" .\n'.encode())
    result = CliRunner().invoke(main, ["--site", str(ROOT), "validate", str(bom)])
    assert result.exit_code == 2
    message = "the file starts with a byte-order mark (BOM); save it as UTF-8 without BOM"
    assert result.stderr == f"cmpkg: error: {bom}:1:1: {message}\n"


def test_a_remote_json_ld_context_says_it_is_not_fetched(tmp_path: Path) -> None:
    remote = tmp_path / "remote.jsonld"
    remote.write_text(json.dumps({"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "a", "b": "c"}))
    result = build(tmp_path, remote)
    message = f"remote JSON-LD contexts are not fetched; put the context inline in {remote}"
    assert_refused(result, tmp_path, f"{remote}:1:1: {message}")


# Extra paths that are not what they seem -------------------------------------------------------------------


@pytest.mark.parametrize("content", [[], ["readme.txt"]], ids=["empty", "no RDF"])
def test_an_extra_directory_without_rdf_files_is_refused(tmp_path: Path, content: list[str]) -> None:
    directory = tmp_path / "dir"
    directory.mkdir()
    for name in content:
        (directory / name).write_text("not RDF\n")
    result = build(tmp_path, directory)
    known = ".jsonld, .nq, .nt, .owl, .rdf, .trig, .ttl"
    assert_refused(
        result, tmp_path, f"{directory} holds no RDF file ({known}); give a directory or file of RDF"
    )


@pytest.fixture
def blocked_readers(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    """A FIFO, and the number of times a reader blocked on it (each is let go at once, with end of file)."""
    fifo = tmp_path / "fifo.ttl"
    os.mkfifo(fifo)
    blocked: list[int] = []
    done = threading.Event()

    def release_readers() -> None:
        while not done.wait(0.05):
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only while a reader waits
            except OSError:
                continue
            blocked.append(1)
            os.close(writer)

    thread = threading.Thread(target=release_readers, daemon=True)
    thread.start()
    yield fifo, blocked
    done.set()
    thread.join()


@pytest.mark.parametrize("as_directory", [False, True], ids=["file", "in a directory"])
def test_a_fifo_given_as_an_extra_file_is_refused_without_reading_it(
    tmp_path: Path, blocked_readers: tuple[Path, list[int]], as_directory: bool
) -> None:
    fifo, blocked = blocked_readers
    result = build(tmp_path, tmp_path if as_directory else fifo)
    message = "cannot read: a FIFO (named pipe), not a file of RDF; give a regular file"
    assert_refused(result, tmp_path, f"{fifo}:1:1: {message}")
    assert not blocked


def test_an_unreadable_directory_below_an_extra_directory_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "col" / "locked"
    triple(tmp_path / "col" / "a.nt", "a")
    triple(locked / "b.nt", "b")
    scandir = os.scandir

    def denied(path: str | Path) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    with pytest.raises(RdfFileError) as raised:
        rdf_files_in(tmp_path / "col")
    assert str(raised.value) == f"{locked}: cannot read directory (permission denied)"


# Every command that loads files refuses them alike ---------------------------------------------------------


def test_validate_refuses_files_whose_graphs_collide(tmp_path: Path) -> None:
    first, second = triple(tmp_path / "a" / "x.ttl", "a"), triple(tmp_path / "b" / "x.nt", "b")
    result = CliRunner().invoke(main, ["--site", str(ROOT), "validate", str(first), str(second)])
    assert result.exit_code == 2
    graph = f"{BASE}graph/x"
    expected = f"{second} and {first} would both be graph <{graph}>; rename one, or pass them under distinct"
    assert result.stderr == f"cmpkg: error: {expected} directories\n"
    assert result.stdout == ""


def test_push_refuses_files_whose_graphs_collide_before_contacting_the_store(tmp_path: Path) -> None:
    first, second = triple(tmp_path / "a" / "x.ttl", "a"), triple(tmp_path / "b" / "x.ttl", "b")
    args = ["--site", str(ROOT), "push", "--endpoint", "http://127.0.0.1:9/sparql", str(first), str(second)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    graph = f"{BASE}graph/x"
    expected = f"{second} and {first} would both be graph <{graph}>; rename one, or pass them under distinct"
    assert result.stderr == f"cmpkg: error: {expected} directories\n"


def test_a_reload_that_would_collide_is_refused_and_the_old_graph_kept(tmp_path: Path) -> None:
    col = tmp_path / "col"
    triple(col / "x.ttl", "before")
    served = open_store(Site(ROOT), Iris(BASE), [col])
    try:
        before = len(served.current.store)
        triple(col / "x.nt", "after")
        with pytest.raises(RdfFileError, match=r"would both be graph <https://w3id.org/iwc-cmp/graph/x>"):
            served.reload()
        assert len(served.current.store) == before
        found = served.query(f'ASK {{ GRAPH <{BASE}graph/x> {{ <{EX}a> <{EX}p> "before" }} }}')
        assert bool(found)
    finally:
        served.close()


# File names that are no IRI ------------------------------------------------------------------------------

ODD_NAMES = {
    "my file": "my%20file",
    "a%zz": "a%25zz",
    "a<b>": "a%3Cb%3E",
    'a"b': "a%22b",
    "a{b}": "a%7Bb%7D",
    "a%20b%2F": "a%20b%2F",  # a valid escape is kept
    "été": "été",  # as is any character an IRI may hold
}


def test_file_names_that_are_no_iri_are_percent_encoded_in_their_graph(tmp_path: Path) -> None:
    site = Site(tmp_path / "site")
    for name in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / name, site.root / name)
    triple(site.data_dir / "my file.ttl", "in data")
    for name in ODD_NAMES:
        triple(tmp_path / "odd" / f"{name}.nt", name)
    store, report = build_store(site, Iris(BASE), [tmp_path / "odd"])
    graphs = {file.name: graph for file, graph, _ in report.files}
    assert graphs["data/my file.ttl"] == f"{BASE}graph/data/my%20file"
    for name, encoded in ODD_NAMES.items():
        assert graphs[f"{name}.nt"] == f"{BASE}graph/{encoded}"
        found = store.query(
            f"ASK {{ GRAPH <{BASE}graph/{encoded}> {{ <{EX}a> <{EX}p> {json.dumps(name)} }} }}"
        )
        assert bool(found), name


def test_graph_iris_valid_before_are_unchanged_and_every_one_is_valid(site: Site, iris: Iris) -> None:
    for path in site.turtle_files():
        name = site.relative(path)
        assert str(iris.graph(name)) == f"{BASE}graph/{name.removesuffix('.ttl')}"
    samples = [
        *range(0x3000),
        *(c + d for c in (0xD7FF, 0xE000, 0xF8FF, 0xFDD0, 0xFFEF, 0x1FFFD) for d in (-1, 0, 1)),
    ]
    for context in ("a", "a?", "a#", "a?b#"):
        for code in samples:
            if 0xD800 <= code <= 0xDFFF:
                continue
            name = f"{context}{chr(code)}b"
            try:
                ox.NamedNode(f"{BASE}graph/{name}")
                valid = True
            except ValueError:
                valid = False
            graph = str(iris.graph(f"{name}.ttl"))
            ox.NamedNode(graph)  # every graph IRI is valid
            assert (graph == f"{BASE}graph/{name}") == valid, (context, hex(code))


def test_file_names_that_encode_alike_are_refused(tmp_path: Path) -> None:
    spaced, escaped = (
        triple(tmp_path / "col" / "a b.nt", "spaced"),
        triple(tmp_path / "col" / "a%20b.nt", "escaped"),
    )
    result = build(tmp_path, tmp_path / "col")
    graph = f"{BASE}graph/a%20b"
    expected = (
        f"{escaped} and {spaced} would both be graph <{graph}>; rename one, or pass them under distinct"
    )
    assert_refused(result, tmp_path, f"{expected} directories")
