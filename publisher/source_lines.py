"""Where a resource is defined: the file, and the line its subject block starts on.

cmpkg's normal form starts every subject block at column 0 with the subject's term (`<plan/2018-2020/2.1.2>`,
`cmp:Topic`); N-Triples starts every line with its subject. The index reads the terms that begin lines,
resolves them with the file's own prefixes and base to full IRIs, and remembers the first line of each. It
does not depend on the normal form's exact rendering: a hand-written file with other prefixes, or with
indented subjects, is indexed as well as it can be, and a format without lines (JSON-LD, RDF/XML) still
gives the file.

A resource described in several files (a plan item in its plan and in data/carry-over.ttl) is located in
the file that gives its rdf:type, where it is defined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

LINE_FORMATS = {".ttl", ".trig", ".nt", ".nq"}
_PREFIX = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_BASE = re.compile(r"^\s*(?:@base|BASE)\s+<([^>]*)>", re.IGNORECASE)
_TERM = re.compile(r"(<[^>\s]*>|(?:[A-Za-z][\w.-]*)?:(?:[^\s;,()\[\]\\]|\\.)*)")
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")


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
