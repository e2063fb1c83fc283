"""Reading the project's RDF files with Oxigraph's parsers, with errors that say file:line:column."""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

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


class RdfInputError(RdfFileError):
    """RDF files or directories cmpkg cannot use as given (no line to point at): the message names them."""

    def __init__(self, path: Path | str, message: str) -> None:
        ValueError.__init__(self, message)
        self.path, self.line, self.column = str(path), 0, 0


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
    """A file, or every RDF file below a directory, named relative to root (or to the directory). A
    subdirectory that cannot be read is an error, where a glob would skip its files without a word."""
    if path.is_dir():
        paths, anchor = _rdf_paths_below(path), root or path
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


def _rdf_paths_below(directory: Path) -> list[Path]:
    """The paths with an RDF suffix below a directory, sorted; all but subdirectories (a FIFO or a dangling
    link is then refused by name, not skipped)."""

    def unreadable(error: OSError) -> None:
        where, reason = error.filename or directory, (error.strerror or str(error)).lower()
        raise RdfInputError(where, f"{where}: cannot read directory ({reason})")

    found: list[Path] = []
    for folder, dirs, names in os.walk(directory, onerror=unreadable):
        dirs.sort()
        found += [Path(folder, name) for name in names if Path(name).suffix.lower() in FORMATS]
    return sorted(found)


def read_quads(
    file: RdfFile, base: str, graph: ox.NamedNode | None, blank_prefix: str | None = None
) -> Iterator[ox.Quad]:
    """Parse one file; triples go to `graph`, quads keep their own graph. With `blank_prefix`, blank nodes
    are named `{blank_prefix}{n}` in the order they first appear, so that a file gives the same labels on
    every machine (Oxigraph's parsers draw random ones): dumps and pages are then the same bytes on every
    server of the same data, as their ETags promise."""
    stable = _StableBlankNodes(blank_prefix) if blank_prefix is not None else None
    check_before_parsing(file)
    try:
        for quad in ox.parse(path=str(file.path), format=file.format, base_iri=base):
            if graph is not None and isinstance(quad.graph_name, ox.DefaultGraph):
                quad = ox.Quad(quad.subject, quad.predicate, quad.object, graph)
            yield stable.quad(quad) if stable is not None else quad
    except SyntaxError as error:
        raise parse_error(file, error) from None
    except OSError as error:
        raise read_error(file, error) from None


def load_triples(
    store: ox.Store, file: RdfFile, base: str, graph: ox.NamedNode | ox.DefaultGraph, bulk: bool = False
) -> None:
    """A file of triples into `graph`, parsed and inserted by Oxigraph itself (`bulk`: by its bulk loader);
    an error names the file, line and column."""
    check_before_parsing(file)
    load = store.bulk_load if bulk else store.load
    try:
        load(path=str(file.path), format=file.format, base_iri=base, to_graph=graph)
    except SyntaxError as error:
        raise parse_error(file, error) from None
    except OSError as error:
        raise read_error(file, error) from None


def check_before_parsing(file: RdfFile) -> None:
    """What Oxigraph's parsers do not check: that the file is a regular file (a FIFO would block them), and
    that an RDF/XML file is well-formed XML (its parser accepts a file cut short)."""
    regular_file(file)
    if file.format == ox.RdfFormat.RDF_XML:
        check_xml(file)


def regular_file(file: RdfFile) -> os.stat_result:
    """The file's status, or RdfFileError unless it is a regular file (or a link to one) that exists."""
    try:
        status = file.path.stat()
    except FileNotFoundError as error:
        if file.path.is_symlink():
            missing = f"a symbolic link to {file.path.readlink()}, which does not exist"
            raise RdfFileError(file.path, 1, 1, f"cannot read: {missing}") from None
        raise read_error(file, error) from None
    except OSError as error:
        raise read_error(file, error) from None
    if not stat.S_ISREG(status.st_mode):
        kind = _NOT_REGULAR.get(stat.S_IFMT(status.st_mode), "not a regular file")
        raise RdfFileError(file.path, 1, 1, f"cannot read: {kind}, not a file of RDF; give a regular file")
    return status


_NOT_REGULAR = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def read_error(file: RdfFile, error: OSError) -> RdfFileError:
    """An OSError reading the file, as cmpkg reports it."""
    return RdfFileError(file.path, 1, 1, f"cannot read: {error.strerror or error}")


BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark, which Oxigraph's Turtle, TriG and N-Triples parsers refuse


def parse_error(file: RdfFile, error: SyntaxError) -> RdfFileError:
    """A parser's SyntaxError as `file:line:column: what is wrong`, in words that say what to do where the
    parser's own do not: a byte-order mark (invisible in its message), a remote JSON-LD context."""
    line, column, message = error.lineno or 1, error.offset or 1, _message(error)
    if "LoadDocumentCallback" in message:
        message = f"remote JSON-LD contexts are not fetched; put the context inline in {file.path}"
    elif line == 1 and _starts_with_bom(file):
        column, message = 1, "the file starts with a byte-order mark (BOM); save it as UTF-8 without BOM"
    return RdfFileError(file.path, line, column, message)


def _starts_with_bom(file: RdfFile) -> bool:
    try:
        with file.path.open("rb") as opened:
            return opened.read(len(BOM)) == BOM
    except OSError:
        return False


def check_xml(file: RdfFile) -> None:
    """RdfFileError unless the file is well-formed XML (or empty, which Oxigraph reads as no triples): one
    pass of expat with no handler, streaming; only a file with an error is read again, for the message."""
    try:
        with file.path.open("rb") as opened:
            expat.ParserCreate().ParseFile(opened)
    except expat.ExpatError as error:
        if error.code == _XML_UNKNOWN_ENCODING:
            return  # Oxigraph's parser judges an encoding expat does not know
        problem = _xml_problem(file)
        if problem is not None:
            raise RdfFileError(file.path, problem[0], problem[1], problem[2]) from None
    except OSError as error:
        raise read_error(file, error) from None


_XML_ERRORS = expat.errors.codes
_XML_UNKNOWN_ENCODING = _XML_ERRORS[expat.errors.XML_ERROR_UNKNOWN_ENCODING]
_XML_NO_ELEMENTS = _XML_ERRORS[expat.errors.XML_ERROR_NO_ELEMENTS]  # also: the file ends inside an element
_XML_UNCLOSED_TOKEN = _XML_ERRORS[expat.errors.XML_ERROR_UNCLOSED_TOKEN]  # the file ends inside a tag
_XML_MISMATCH = _XML_ERRORS[expat.errors.XML_ERROR_TAG_MISMATCH]


def _xml_problem(file: RdfFile) -> tuple[int, int, str] | None:
    """Where an ill-formed XML file goes wrong (line, column) and what is wrong, naming the elements left
    open there; None for a file without any element, which Oxigraph reads as no triples."""
    parser = expat.ParserCreate()
    opened: list[tuple[str, int]] = []  # element name and line, innermost last
    parser.StartElementHandler = lambda name, _: opened.append((name, parser.CurrentLineNumber))
    parser.EndElementHandler = lambda _: opened.pop()
    try:
        with file.path.open("rb") as content:
            parser.ParseFile(content)
    except expat.ExpatError as error:
        line, column = error.lineno, error.offset + 1
        if error.code == _XML_NO_ELEMENTS and not opened:
            return None
        if error.code in (_XML_NO_ELEMENTS, _XML_UNCLOSED_TOKEN):
            where = "" if error.code == _XML_NO_ELEMENTS else " inside a tag"
            return line, column, f"unexpected end of file{where}{_left_open(opened)}; is the file complete?"
        if error.code == _XML_MISMATCH and opened:
            name, at = opened[-1]
            return line, column, f"ill-formed XML: mismatched tag; expected </{name}> (opened on line {at})"
        return line, column, f"ill-formed XML: {expat.ErrorString(error.code)}"
    return None


def _left_open(opened: list[tuple[str, int]]) -> str:
    """': <a> (line 3) and <b> (line 2) are not closed', innermost first; '' for none."""
    shown = [f"<{name}> (line {at})" for name, at in reversed(opened)]
    if not shown:
        return ""
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return f": {listed} {'is' if len(shown) == 1 else 'are'} not closed"


class _StableBlankNodes:
    """Renames a file's blank nodes `{prefix}0`, `{prefix}1`, ... in the order they first appear."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: dict[str, ox.BlankNode] = {}

    def quad(self, quad: ox.Quad) -> ox.Quad:
        subject, obj, graph = quad.subject, quad.object, quad.graph_name
        if not (_has_blank(subject) or _has_blank(obj) or isinstance(graph, ox.BlankNode)):
            return quad
        renamed_graph = self.term(graph) if isinstance(graph, ox.BlankNode) else graph
        return ox.Quad(self.term(subject), quad.predicate, self.term(obj), renamed_graph)

    def term(self, term: Any) -> Any:
        if isinstance(term, ox.BlankNode):
            name = self.names.get(term.value)
            if name is None:
                name = self.names[term.value] = ox.BlankNode(f"{self.prefix}{len(self.names)}")
            return name
        if isinstance(term, ox.Triple):  # an RDF 1.2 triple term may hold blank nodes too
            return ox.Triple(self.term(term.subject), term.predicate, self.term(term.object))
        return term


def _has_blank(term: Any) -> bool:
    if isinstance(term, ox.BlankNode):
        return True
    return isinstance(term, ox.Triple) and (_has_blank(term.subject) or _has_blank(term.object))


def blank_prefix_for(graph: ox.NamedNode) -> str:
    """A blank-node label prefix of the file loaded into `graph`: the same on every machine, and different
    for each file, so that two files' blank nodes never merge."""
    return "b" + hashlib.sha256(graph.value.encode()).hexdigest()[:10] + "x"


# What may start a blank node in each triple format: a file without any is loaded by Oxigraph directly; one
# with any (or a false alarm: a "(" in a literal) is read here, to name its blank nodes stably. RDF/XML
# makes blank nodes of nested elements, which no byte sequence gives away. (A regular expression: it scans
# 130 MB of N-Triples in 0.06 s, bytes.find in 0.2.)
_BLANK_MARKS: dict[ox.RdfFormat, re.Pattern[bytes] | None] = {
    ox.RdfFormat.N_TRIPLES: re.compile(rb"_:"),
    ox.RdfFormat.TURTLE: re.compile(rb"_:|[\[(]"),
    ox.RdfFormat.RDF_XML: None,
}


def may_hold_blank_nodes(file: RdfFile) -> bool:
    """Whether a file of triples may hold blank nodes (a scan for the bytes that start one)."""
    marks = _BLANK_MARKS.get(file.format)
    if marks is None:
        return True
    try:
        with file.path.open("rb") as opened:
            if os.fstat(opened.fileno()).st_size == 0:
                return False
            with mmap.mmap(opened.fileno(), 0, access=mmap.ACCESS_READ) as content:
                return marks.search(content) is not None
    except OSError:
        return True  # the parser reports the error, with the file's name


LOAD_BATCH = 10_000  # quads per insertion: bounded memory for a large file read here

# Formats that hold only triples; Oxigraph loads them straight into a named graph, streaming from the file.
TRIPLE_FORMATS = frozenset({ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML})


def load_into(store: ox.Store, file: RdfFile, base: str, graph: ox.NamedNode) -> int:
    """Load one file read here (triples into `graph`, quads into theirs), its blank nodes named stably;
    return how many quads. Oxigraph's own loader (store.py) is faster and needs no Python object per triple
    (at a million triples about 0.4 against 1.2 GB), but draws random blank node labels."""
    count = 0
    batch: list[ox.Quad] = []
    for quad in read_quads(file, base, graph, blank_prefix_for(graph)):
        batch.append(quad)
        if len(batch) == LOAD_BATCH:
            store.extend(batch)
            count, batch = count + len(batch), []
    store.extend(batch)
    return count + len(batch)


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
