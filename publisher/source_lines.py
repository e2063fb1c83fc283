"""Where a resource is defined: the file, and the line its subject block starts on.

cmpkg's normal form starts every subject block at column 0 with the subject's term (`<plan/2018-2020/2.1.2>`,
`cmp:Topic`); N-Triples starts every line with its subject. The index reads the terms that begin lines,
resolves them with the file's own prefixes and base to full IRIs, and remembers the first line of each. It
does not depend on the normal form's exact rendering: a hand-written file with other prefixes, or with
indented subjects, is indexed as well as it can be, and a format without lines (JSON-LD, RDF/XML) still
gives the file.

A resource described in several files (a plan item in its plan and in data/carry-over.ttl) is located in
the file that gives its rdf:type, where it is defined.

SourceIndex indexes every subject of the graphs as they are loaded; LazySourceIndex, for data that is never
loaded as an rdflib graph, reads the files again only for the resources a report names (N-Triples line by
line, other formats parsed by Oxigraph), and gives the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from publisher.rdf_files import RdfFile, read_quads

LINE_FORMATS = {".ttl", ".trig", ".nt", ".nq"}
_PREFIX = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_BASE = re.compile(r"^\s*(?:@base|BASE)\s+<([^>]*)>", re.IGNORECASE)
_TERM = re.compile(r"(<[^>\s]*>|(?:[A-Za-z][\w.-]*)?:(?:[^\s;,()\[\]\\]|\\.)*)")
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_NT_TYPE = f"<{RDF.type}>"


@dataclass(frozen=True)
class Location:
    path: Path
    line: int | None


def display_path(path: Path) -> str:
    """A path as a user (or a CI annotation) names it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def subject_lines(text: str, base: str) -> dict[str, int]:
    """The first line (1-based) on which each subject IRI begins a line: at column 0 first, then indented."""
    prefixes: dict[str, str] = {}
    at_column_0: dict[str, int] = {}
    indented: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if prefix := _PREFIX.match(line):
            prefixes[prefix.group(1) or ""] = _join(base, _unescape_iri(prefix.group(2)))
            continue
        if declared_base := _BASE.match(line):
            base = _join(base, _unescape_iri(declared_base.group(1)))
            continue
        stripped = line.lstrip()
        term = _TERM.match(stripped)
        if term is None:
            continue
        iri = _resolve(term.group(1), prefixes, base)
        if iri is not None:
            (indented if line[:1].isspace() else at_column_0).setdefault(iri, number)
    return {**indented, **at_column_0}


def _resolve(term: str, prefixes: dict[str, str], base: str) -> str | None:
    if term.startswith("<"):
        return _join(base, _unescape_iri(term[1:-1]))
    prefix, _, local = term.partition(":")
    namespace = prefixes.get(prefix)
    if namespace is None:
        return None
    return namespace + _LOCAL_ESCAPE.sub(r"\1", local.rstrip("."))


def _join(base: str, reference: str) -> str:
    """Resolve a relative IRI; unlike plain urljoin, keep an empty fragment ("ontology#")."""
    joined = urljoin(base, reference)
    return joined + "#" if reference.endswith("#") and not joined.endswith("#") else joined


def _unescape_iri(iri: str) -> str:
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


class SourceIndex:
    """Finds the file and line where each subject of the loaded files is defined."""

    def __init__(self) -> None:
        self._locations: dict[str, list[Location]] = {}
        self._typed_in: dict[str, list[Path]] = {}

    def add(self, path: Path, graph: Graph, base: str) -> None:
        """Index one loaded file, given the graph parsed from it."""
        lines: dict[str, int] = {}
        if path.suffix.lower() in LINE_FORMATS:
            try:
                lines = subject_lines(path.read_text(encoding="utf-8"), base)
            except (OSError, UnicodeDecodeError):
                lines = {}
        for subject in set(graph.subjects()):
            if isinstance(subject, URIRef):
                self._locations.setdefault(str(subject), []).append(Location(path, lines.get(str(subject))))
        for subject in set(graph.subjects(RDF.type)):
            if isinstance(subject, URIRef):
                self._typed_in.setdefault(str(subject), []).append(path)

    def locate(self, iri: str) -> Location | None:
        """Where the resource is defined: the first file that types it, else the first that describes it."""
        locations = self._locations.get(iri)
        if not locations:
            return None
        typed_in = self._typed_in.get(iri, [])
        return next((loc for loc in locations if loc.path in typed_in), locations[0])

    def locate_many(self, iris: Iterable[str]) -> dict[str, Location]:
        """Where each of the resources is defined (those found in no file are left out)."""
        return {iri: location for iri in iris if (location := self.locate(iri)) is not None}


class LazySourceIndex:
    """SourceIndex's answers for files that were loaded elsewhere (into Oxigraph): found when asked."""

    def __init__(self, paths: Iterable[Path], base: str) -> None:
        self.paths = list(paths)
        self.base = base

    def locate(self, iri: str) -> Location | None:
        return self.locate_many([iri]).get(iri)

    def locate_many(self, iris: Iterable[str]) -> dict[str, Location]:
        wanted = set(iris)
        if not wanted:
            return {}
        described: dict[str, list[Location]] = {}
        typed: dict[str, set[Path]] = {}
        for path in self.paths:
            if path.suffix.lower() == ".nt":
                lines, typed_here = _scan_ntriples(path, wanted)
                subjects = set(lines)
            else:
                subjects, typed_here = _subjects_of(path, self.base, wanted)
                lines = {}
                if subjects and path.suffix.lower() in LINE_FORMATS:
                    try:
                        lines = subject_lines(path.read_text(encoding="utf-8"), self.base)
                    except (OSError, UnicodeDecodeError):
                        lines = {}
            for iri in sorted(subjects):
                described.setdefault(iri, []).append(Location(path, lines.get(iri)))
            for iri in typed_here:
                typed.setdefault(iri, set()).add(path)
        located = {}
        for iri, locations in described.items():
            typed_in = typed.get(iri, set())
            located[iri] = next((loc for loc in locations if loc.path in typed_in), locations[0])
        return located


def _scan_ntriples(path: Path, wanted: set[str]) -> tuple[dict[str, int], set[str]]:
    """The first line of each wanted subject in an N-Triples file, and which of them it types."""
    lines: dict[str, int] = {}
    typed: set[str] = set()
    wanted_bytes = {iri.encode("utf-8") for iri in wanted}
    rdf_type = _NT_TYPE.encode()
    try:
        with path.open("rb") as text:
            for number, line in enumerate(text, start=1):
                if line[:1] != b"<":
                    continue
                end = line.find(b">")
                subject = line[1:end]
                if subject not in wanted_bytes:
                    if b"\\" not in subject:
                        continue
                    subject = _unescape_iri(subject.decode("utf-8")).encode("utf-8")
                    if subject not in wanted_bytes:
                        continue
                iri = subject.decode("utf-8")
                lines.setdefault(iri, number)
                if line[end + 1 :].lstrip().startswith(rdf_type):
                    typed.add(iri)
    except (OSError, UnicodeDecodeError):
        return {}, set()
    return lines, typed


def _subjects_of(path: Path, base: str, wanted: set[str]) -> tuple[set[str], set[str]]:
    """The wanted IRIs that are subjects in the file, and those it gives an rdf:type."""
    subjects: set[str] = set()
    typed: set[str] = set()
    for quad in read_quads(RdfFile(path, path.name), base, None):
        subject = quad.subject
        if isinstance(subject, ox.NamedNode) and subject.value in wanted:
            subjects.add(subject.value)
            if quad.predicate.value == str(RDF.type):
                typed.add(subject.value)
    return subjects, typed
