"""`cmpkg fmt` refuses, with file:line, exit 2 and nothing written, what its normal form cannot hold."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from publisher import turtle
from publisher.cli import main
from tests.conftest import BASE

PREFIXES = "@prefix ex: <http://ex.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
RDF_XML = (
    '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    ' xmlns:ex="http://ex.org/">\n  <rdf:Description rdf:about="http://ex.org/a"><ex:b>x</ex:b>'
    "</rdf:Description>\n</rdf:RDF>\n"
)
NOT_TURTLE = {
    "x.rdf": RDF_XML,
    "x.owl": RDF_XML,
    "x.jsonld": '{"@id": "http://ex.org/a", "http://ex.org/b": "x"}\n',
}


def fmt(site: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--site", str(site), "fmt", *args])


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr == f"cmpkg: error: {message}\n"
    assert "Traceback" not in result.output


def write(path: Path, text: str) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.read_bytes()


@pytest.mark.parametrize("check", [[], ["--check"]], ids=["write", "check"])
@pytest.mark.parametrize("name", sorted(NOT_TURTLE))
def test_fmt_refuses_a_file_that_is_not_turtle(tmp_path: Path, name: str, check: list[str]) -> None:
    path = tmp_path / name
    before = write(path, NOT_TURTLE[name])
    assert_refused(fmt(tmp_path, *check, str(path)), f"{path}: fmt formats Turtle (.ttl) files only")
    assert path.read_bytes() == before


@pytest.mark.parametrize("check", [[], ["--check"]], ids=["write", "check"])
def test_fmt_refuses_a_comment_it_would_drop(tmp_path: Path, check: list[str]) -> None:
    path = tmp_path / "comments.ttl"
    before = write(
        path,
        '# header\n@prefix ex: <http://ex.org/#> .\nex:x ex:label "issue #3", """a\n# not a comment""" .\n'
        '# comment about a\nex:a ex:b ex:c ; # trailing\n    ex:d "x" .\n# at end\n',
    )
    message = f"{path}:5: a comment inside the file would be lost by fmt; move it to the header comment"
    assert_refused(fmt(tmp_path, *check, str(path)), message)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ('"x"^^xsd:integer', '"x" is not a valid xsd:integer'),
        ('"2024-13"^^xsd:gYearMonth', '"2024-13" is not a valid xsd:gYearMonth'),
        ('"maybe"^^xsd:boolean', '"maybe" is not a valid xsd:boolean'),
    ],
)
def test_fmt_refuses_an_ill_typed_literal(tmp_path: Path, literal: str, message: str) -> None:
    path = tmp_path / "lits.ttl"
    before = write(path, f'{PREFIXES}ex:a ex:b 1, "1.50"^^xsd:decimal,\n    {literal} .\n')
    result = fmt(tmp_path, str(path))
    assert_refused(result, f"{path}:4: {message}; correct the value or its datatype")
    assert path.read_bytes() == before


def test_fmt_blank_node_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "data" / "zz-bnode.ttl"
    before = write(path, "@prefix ex: <http://ex.org/> .\n\nex:a ex:p [ ex:q 1 ] .\n")
    result = fmt(tmp_path, "--check")
    assert_refused(
        result,
        f"{path}:3: blank node (object of http://ex.org/p on http://ex.org/a): cmpkg publishes only named "
        "resources; give it an IRI (see docs/iris.md)",
    )
    assert path.read_bytes() == before


def test_fmt_names_an_unreadable_file_without_errno(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data" / "taxa.ttl"
    before = write(path, "<http://ex.org/a> <http://ex.org/b> <http://ex.org/c> .\n")
    opened = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    assert_refused(fmt(tmp_path, str(path)), f"{path}: cannot read: permission denied")
    monkeypatch.undo()
    assert path.read_bytes() == before


def test_fmt_names_a_dangling_symlink_without_errno(tmp_path: Path) -> None:
    other = tmp_path / "data" / "a.ttl"
    before = write(other, "<http://ex.org/a> <http://ex.org/b> <http://ex.org/c> .\n")
    dangling = tmp_path / "data" / "dang.ttl"
    dangling.symlink_to(tmp_path / "gone.ttl")
    message = f"{dangling}: cannot read: a symbolic link to {tmp_path / 'gone.ttl'}, which does not exist"
    assert_refused(fmt(tmp_path), message)
    assert other.read_bytes() == before


def test_fmt_of_a_directory_without_turtle_formats_nothing(tmp_path: Path) -> None:
    project_file = tmp_path / "data" / "a.ttl"
    before = write(project_file, "<http://ex.org/a> <http://ex.org/b> <http://ex.org/c> .\n")
    empty = tmp_path / "emptydir"
    write(empty / "readme.txt", "not RDF\n")
    assert_refused(fmt(tmp_path, str(empty)), f"{empty}: holds no Turtle (.ttl) file")
    assert project_file.read_bytes() == before


def test_fmt_of_a_file_not_in_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.ttl"
    path.write_bytes('<http://ex.org/a> <http://ex.org/b> "café" .\n'.encode("latin-1"))
    result = fmt(tmp_path, str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"cmpkg: error: {path}:1:")
    assert path.read_bytes() == '<http://ex.org/a> <http://ex.org/b> "café" .\n'.encode("latin-1")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'ex:a ex:b "hi"@en--ltr .\n',
            "fmt.ttl:3: fmt does not write RDF 1.2 base directions (--ltr, --rtl)",
        ),
        (
            "ex:a ex:b <<( ex:s ex:p ex:o )>> .\n",
            "fmt.ttl: fmt does not write RDF 1.2 triple terms (<<( ... )>>)",
        ),
    ],
    ids=["direction", "triple-term"],
)
def test_fmt_refuses_rdf_1_2_terms_it_would_drop(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "fmt.ttl"
    before = write(path, PREFIXES + body)
    assert_refused(fmt(tmp_path, str(path)), f"{tmp_path}/{message}")
    assert path.read_bytes() == before


LIST_CELL_USED_TWICE = (
    "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
    "<http://ex.org/a> <http://ex.org/p> _:c1 .\n_:c1 rdf:first 1 ; rdf:rest _:c2 .\n"
    "_:c2 rdf:first 2 ; rdf:rest rdf:nil .\n<http://ex.org/b> <http://ex.org/q> _:c2 .\n"
)
CYCLIC_LIST = (
    "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
    "<http://ex.org/a> <http://ex.org/p> _:a .\n"
    "_:a rdf:first 1 ; rdf:rest _:b .\n_:b rdf:first 2 ; rdf:rest _:b .\n"
)


@pytest.mark.parametrize("text", [LIST_CELL_USED_TWICE, CYCLIC_LIST], ids=["cell-used-twice", "cycle"])
def test_fmt_refuses_a_list_it_cannot_write_as_a_collection(tmp_path: Path, text: str) -> None:
    path = tmp_path / "list.ttl"
    before = write(path, text)
    result = fmt(tmp_path, str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"cmpkg: error: {path}:2: blank node (object of http://ex.org/p")
    assert path.read_bytes() == before


def dataset(text: str) -> ox.Dataset:
    return ox.Dataset(ox.parse(text, ox.RdfFormat.TURTLE, base_iri=BASE))


def test_fmt_keeps_lexical_forms_and_lists_of_lists(tmp_path: Path) -> None:
    path = tmp_path / "exact.ttl"
    inner = " ".join(f"( {n} )" for n in range(30))
    text = f'{PREFIXES}ex:a ex:b "01"^^xsd:integer, 1.0e0, "2024"^^xsd:gYear ;\n    ex:c ( {inner} ) .\n'
    write(path, text)
    result = fmt(tmp_path, str(path))
    assert result.exit_code == 0, result.output
    written = path.read_text()
    assert '"1.0e0"^^xsd:double' in written  # the terms as written, not rdflib's canonical 1 and 1.0
    source, normal = dataset(text), dataset(written)
    for graph in (source, normal):
        graph.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    assert source == normal


def test_fmt_writes_nothing_when_the_normal_form_would_change_the_triples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.ttl"
    before = write(path, "<http://ex.org/a> <http://ex.org/b> <http://ex.org/c>, <http://ex.org/d> .\n")
    write_normal_form = turtle.TurtleWriter.write
    monkeypatch.setattr(
        turtle.TurtleWriter,
        "write",
        lambda *args, **kwargs: write_normal_form(*args, **kwargs).replace(
            ", ", " ;\n    <http://ex.org/e> "
        ),
    )
    message = (
        f"{path}: fmt cannot write this file without changing its triples, so it leaves it as it is; "
        "please report this as a cmpkg bug"
    )
    assert_refused(fmt(tmp_path, str(path)), message)
    assert path.read_bytes() == before
