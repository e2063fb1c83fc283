"""Reading the project's RDF files with Oxigraph's parsers, with errors that say file:line:column."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from publisher.formats import RDF_FORMATS

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# Suffix -> parser, from cmpkg's one format table (publisher/formats.py); .owl files are RDF/XML too.
FORMATS: dict[str, ox.RdfFormat] = {f.suffix: f.rdf_format for f in RDF_FORMATS if f.rdf_format is not None}
FORMATS[".owl"] = ox.RdfFormat.RDF_XML


class RdfFileError(ValueError):
    """An RDF file cmpkg cannot read: the message is `file:line:column: what is wrong`."""

    def __init__(self, path: Path | str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path, self.line, self.column = str(path), line, column


@dataclass(frozen=True)
class RdfFile:
    path: Path
    name: str  # as the project names it, relative to its root

    @property
    def format(self) -> ox.RdfFormat:
        try:
            return FORMATS[self.path.suffix.lower()]
        except KeyError:
            known = ", ".join(sorted(FORMATS))
            raise RdfFileError(self.path, 1, 1, f"unknown RDF file type; use one of {known}") from None


def rdf_files_in(path: Path, root: Path | None = None) -> list[RdfFile]:
    """A file, or every RDF file below a directory, named relative to root (or to the directory)."""
    if path.is_dir():
        paths = sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS and p.is_file())
        anchor = root or path
    else:
        paths, anchor = [path], root or path.parent
    files = []
    for file in paths:
        try:
            name = file.resolve().relative_to(anchor.resolve()).as_posix()
        except ValueError:
            name = file.name
        files.append(RdfFile(file, name))
    return files


def read_quads(file: RdfFile, base: str, graph: ox.NamedNode | None) -> Iterator[ox.Quad]:
    """Parse one file; triples go to `graph`, quads keep their own graph."""
    try:
        for quad in ox.parse(path=str(file.path), format=file.format, base_iri=base):
            if graph is not None and isinstance(quad.graph_name, ox.DefaultGraph):
                yield ox.Quad(quad.subject, quad.predicate, quad.object, graph)
            else:
                yield quad
    except SyntaxError as error:
        raise RdfFileError(file.path, error.lineno or 1, error.offset or 1, _message(error)) from None
    except OSError as error:
        raise RdfFileError(file.path, 1, 1, f"cannot read: {error.strerror or error}") from None


# Formats that hold only triples; Oxigraph loads them straight into a named graph, streaming from the file.
TRIPLE_FORMATS = frozenset({ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML})


def load_into(store: ox.Store, file: RdfFile, base: str, graph: ox.NamedNode) -> int:
    """Load one file into the store (triples into `graph`, quads into theirs) and return how many quads.

    Triple formats are parsed and inserted by Oxigraph itself, without a Python object per triple: at a
    million triples that is the difference between about 0.4 and 1.2 GB of memory.
    """
    if file.format not in TRIPLE_FORMATS:
        quads = list(read_quads(file, base, graph))
        store.extend(quads)
        return len(quads)
    try:
        store.load(path=str(file.path), format=file.format, base_iri=base, to_graph=graph)
    except SyntaxError as error:
        raise RdfFileError(file.path, error.lineno or 1, error.offset or 1, _message(error)) from None
    except OSError as error:
        raise RdfFileError(file.path, 1, 1, f"cannot read: {error.strerror or error}") from None
    counted = store.query(f"SELECT (COUNT(*) AS ?n) {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
    return int(next(iter(counted))["n"].value)  # type: ignore[arg-type]


def _message(error: SyntaxError) -> str:
    text = str(error.msg)
    return text.split(": ", 1)[1] if text.startswith("Parser error") and ": " in text else text


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph) -> Node:
    """An Oxigraph term as the rdflib term with the same meaning."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"cmpkg does not handle {type(term).__name__} terms")


def read_graph(path: Path, base: str, name: str | None = None) -> Graph:
    """One RDF file as an rdflib Graph, parsed by Oxigraph (fast, with exact error positions)."""
    graph = Graph()
    file = RdfFile(path, name or path.name)
    for quad in read_quads(file, base, None):
        graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return graph
