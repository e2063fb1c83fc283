"""cmpkg's normal form of Turtle: deterministic, diff-friendly, relative to the public base.

Subjects are sorted (numbers in IRIs in numeric order), `a` comes first, then predicates and objects in a
fixed order. IRIs under the base are written relative (`<plan/2018-2020/1.1>`), the ontology's terms with the
`cmp:` prefix bound to `<ontology#>`, so the files never name the base. Blank nodes are refused, except as
RDF lists written `( ... )`: everything else cmpkg publishes has an IRI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from publisher.namespaces import CMP_PATH, EXTERNAL_PREFIXES
from publisher.rdf_files import read_graph

_PN_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_NUMBER_RUN = re.compile(r"(\d+)")
_BARE_FORMS = {XSD.integer: re.compile(r"^[+-]?\d+$"), XSD.boolean: re.compile(r"^(true|false)$")}


class BlankNodeError(ValueError):
    """The graph has a blank node, which the normal form does not allow."""


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts "1.2" before "1.10" and "plan/9" before "plan/10"."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _NUMBER_RUN.split(text) if part)


class TurtleWriter:
    """Writes a graph in the normal form for one public base."""

    def __init__(self, base: str, prefixes: Mapping[str, str] | None = None) -> None:
        self.base = base
        self.cmp_namespace = base + CMP_PATH
        self.prefixes = dict(EXTERNAL_PREFIXES if prefixes is None else prefixes)
        self._lists: dict[BNode, list[object]] = {}

    def write(self, graph: Graph, header: Iterable[str] = ()) -> str:
        used: set[str] = set()
        self._lists = _collections(graph)
        blocks = [self._subject_block(subject, graph, used) for subject in self._subjects(graph)]
        lines = [f"# {line}".rstrip() for line in header]
        if lines:
            lines.append("")
        if "cmp" in used:
            lines.append("@prefix cmp: <ontology#> .")
        lines += [f"@prefix {p}: <{ns}> ." for p, ns in sorted(self.prefixes.items()) if p in used]
        return "\n".join(lines) + "\n\n" + "\n\n".join(blocks) + "\n"

    def _subjects(self, graph: Graph) -> list[URIRef]:
        subjects = set()
        for subject in graph.subjects(unique=True):
            if isinstance(subject, BNode) and subject in self._lists:
                continue
            if isinstance(subject, BNode):
                raise BlankNodeError(_blank_node_message(graph, subject))
            subjects.add(URIRef(str(subject)))
        return sorted(subjects, key=lambda s: natural_key(str(s)))

    def _subject_block(self, subject: URIRef, graph: Graph, used: set[str]) -> str:
        by_predicate: dict[URIRef, list[str]] = {}
        for predicate, obj in graph.predicate_objects(subject):
            if isinstance(obj, BNode) and obj not in self._lists:
                raise BlankNodeError(_blank_node_message(graph, obj))
            by_predicate.setdefault(URIRef(str(predicate)), []).append(self.term(obj, used))
        entries = []
        for predicate in sorted(by_predicate, key=lambda p: (p != RDF.type, self.term(p, set()))):
            verb = "a" if predicate == RDF.type else self.term(predicate, used)
            objects = sorted(by_predicate[predicate], key=natural_key)
            if len(objects) == 1 or sum(len(o) for o in objects) < 70:
                entries.append(f"    {verb} {', '.join(objects)}")
            else:
                entries.append(f"    {verb}\n        " + ",\n        ".join(objects))
        return self.term(subject, used) + "\n" + " ;\n".join(entries) + " ."

    def term(self, node: object, used: set[str]) -> str:
        if isinstance(node, BNode):
            return "( " + " ".join(self.term(member, used) for member in self._lists[node]) + " )"
        if node == RDF.nil:
            return "( )"
        if isinstance(node, Literal):
            return self._literal(node, used)
        iri = str(node)
        if iri.startswith(self.cmp_namespace) and _PN_LOCAL.match(iri[len(self.cmp_namespace) :]):
            used.add("cmp")
            return "cmp:" + iri[len(self.cmp_namespace) :]
        for prefix, namespace in self.prefixes.items():
            local = iri[len(namespace) :]
            if iri.startswith(namespace) and _PN_LOCAL.match(local):
                used.add(prefix)
                return f"{prefix}:{local}"
        if iri.startswith(self.base):
            iri = iri[len(self.base) :]
        return f"<{_escape_iri(iri)}>"

    def _literal(self, literal: Literal, used: set[str]) -> str:
        lexical = str(literal)
        bare_form = _BARE_FORMS.get(literal.datatype) if literal.datatype else None
        if bare_form is not None and bare_form.match(lexical):
            return lexical
        quoted = _quote(lexical)
        if literal.language:
            return f"{quoted}@{literal.language}"
        if literal.datatype is None or literal.datatype == XSD.string:
            return quoted
        return f"{quoted}^^{self.term(literal.datatype, used)}"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _collections(graph: Graph) -> dict[BNode, list[object]]:
    """Blank nodes that head a well-formed RDF list used once, with their members; their cells too."""
    found: dict[BNode, list[object]] = {}
    for head in {s for s in graph.subjects(RDF.first) if isinstance(s, BNode)}:
        if (None, None, head) in graph and len(list(graph.subject_predicates(head))) == 1:
            members: list[object] = []
            cells: list[BNode] = []
            node: object = head
            while isinstance(node, BNode) and set(graph.predicates(node)) == {RDF.first, RDF.rest}:
                if (
                    len(list(graph.objects(node, RDF.first))) != 1
                    or len(list(graph.objects(node, RDF.rest))) != 1
                ):
                    break
                cells.append(node)
                members.append(graph.value(node, RDF.first))
                node = graph.value(node, RDF.rest)
            if node == RDF.nil and not any(isinstance(m, BNode) and m not in found for m in members):
                found[head] = members
                for cell in cells[1:]:
                    found.setdefault(cell, [])
    return found


def _quote(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(c, c) for c in text) + '"'


def _escape_iri(iri: str) -> str:
    return "".join(f"\\u{ord(c):04X}" if c in '<>"{}|^`\\' or ord(c) <= 0x20 else c for c in iri)


def _blank_node_message(graph: Graph, node: BNode) -> str:
    holder = next(iter(graph.subject_predicates(node)), None)
    where = f" (object of {holder[1]} on {holder[0]})" if holder else ""
    return f"blank node{where}: cmpkg publishes only named resources; give it an IRI (see docs/iris.md)"


def parse_turtle(path: Path, base: str) -> Graph:
    """Parse one of the project's Turtle files, resolving its relative IRIs against the base."""
    return read_graph(path, base)


def leading_comments(text: str) -> list[str]:
    """The comment lines a file starts with (without '# '), which the normal form keeps."""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line[1:].removeprefix(" "))
    return header


def normalise_file(path: Path, base: str) -> tuple[str, str]:
    """The file's current text and its normal form."""
    text = path.read_text(encoding="utf-8")
    graph = parse_turtle(path, base)
    return text, TurtleWriter(base).write(graph, header=leading_comments(text))
