"""cmpkg's normal form of Turtle: deterministic, diff-friendly, relative to the public base.

Subjects are sorted (numbers in IRIs in numeric order), `a` comes first, then predicates and objects in a
fixed order. IRIs under the base are written relative (`<plan/2018-2020/1.1>`), the ontology's terms with the
`cmp:` prefix bound to `<ontology#>`, so the files never name the base. Blank nodes are refused, except as
RDF lists written `( ... )`: everything else cmpkg publishes has an IRI.

`normalise_file` loses nothing: literals keep their lexical forms, and a file the normal form cannot hold
(a comment below the header, an ill-typed literal, a blank node, RDF 1.2 terms) is refused with its file and
line; a last check compares the triples written with the file's before anything is written.
"""

from __future__ import annotations

import bisect
import logging
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from publisher.namespaces import CMP_PATH, EXTERNAL_PREFIXES
from publisher.rdf_files import XSD_STRING, RdfFile, read_graph, read_quads, to_rdflib

_PN_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_NUMBER_RUN = re.compile(r"(\d+)")
_BARE_FORMS = {XSD.integer: re.compile(r"^[+-]?\d+$"), XSD.boolean: re.compile(r"^(true|false)$")}


class NormalFormError(ValueError):
    """A file fmt cannot write in normal form without losing something: the message says where and why."""


class BlankNodeError(NormalFormError):
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
        self._lists: dict[BNode, list[Node]] = {}

    def write(self, graph: Graph, header: Iterable[str] = ()) -> str:
        used: set[str] = set()
        self._lists = _collections(graph)
        blocks = [self._subject_block(subject, graph, used) for subject in self._subjects(graph)]
        stray = next(
            (s for s in graph.subjects(unique=True) if isinstance(s, BNode) and s not in self._lists), None
        )
        if stray is not None:  # after the named subjects, so that a blank node they hold is the one reported
            raise BlankNodeError(_blank_node_message(graph, stray))
        lines = [f"# {line}".rstrip() for line in header]
        if lines:
            lines.append("")
        if "cmp" in used:
            lines.append("@prefix cmp: <ontology#> .")
        lines += [f"@prefix {p}: <{ns}> ." for p, ns in sorted(self.prefixes.items()) if p in used]
        return "\n".join(lines) + "\n\n" + "\n\n".join(blocks) + "\n"

    def _subjects(self, graph: Graph) -> list[URIRef]:
        subjects = {URIRef(str(s)) for s in graph.subjects(unique=True) if not isinstance(s, BNode)}
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


def _collections(graph: Graph) -> dict[BNode, list[Node]]:
    """Blank nodes that head a well-formed RDF list used once, with their members; their other cells too.
    A list of lists is one when its member lists are (inner lists first, so a cycle never is)."""
    chains: dict[BNode, tuple[list[Node], list[BNode]]] = {}
    for head in {s for s in graph.subjects(RDF.first) if isinstance(s, BNode)}:
        holders = list(graph.subject_predicates(head))
        inner_cell = len(holders) == 1 and isinstance(holders[0][0], BNode) and holders[0][1] == RDF.rest
        chain = _chain(graph, head) if len(holders) == 1 and not inner_cell else None
        if chain is not None:
            chains[head] = chain
    found: dict[BNode, list[Node]] = {}
    for head in _lists_of_lists(chains):
        members, cells = chains[head]
        found[head] = members
        for cell in cells[1:]:
            found.setdefault(cell, [])
    return found


def _chain(graph: Graph, head: BNode) -> tuple[list[Node], list[BNode]] | None:
    """The members and cells of the RDF list that starts at head, or None if it is not a well-formed one
    (a cell with other triples, a cell used elsewhere, a cycle, no rdf:nil at the end)."""
    members: list[Node] = []
    cells: list[BNode] = []
    seen: set[BNode] = set()
    node: Node = head
    while node != RDF.nil:
        pairs = list(graph.predicate_objects(node))
        arcs = dict(pairs)
        if (
            not isinstance(node, BNode)
            or node in seen
            or len(pairs) != 2
            or set(arcs) != {RDF.first, RDF.rest}
        ):
            return None
        if node != head and len(list(graph.subject_predicates(node))) != 1:
            return None
        seen.add(node)
        cells.append(node)
        members.append(arcs[RDF.first])
        node = arcs[RDF.rest]
    return members, cells


def _lists_of_lists(chains: Mapping[BNode, tuple[list[Node], list[BNode]]]) -> set[BNode]:
    """The chains whose blank members are accepted chains themselves, accepted inner lists first."""
    waiting = {head: sum(isinstance(m, BNode) for m in members) for head, (members, _) in chains.items()}
    containers: dict[Node, list[BNode]] = {}
    for head, (members, _) in chains.items():
        for member in members:
            if isinstance(member, BNode):
                containers.setdefault(member, []).append(head)
    ready = [head for head, count in waiting.items() if count == 0]
    accepted: set[BNode] = set()
    while ready:
        head = ready.pop()
        accepted.add(head)
        for container in containers.get(head, []):
            waiting[container] -= 1
            if waiting[container] == 0:
                ready.append(container)
    return accepted


def _quote(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(c, c) for c in text) + '"'


def _escape_iri(iri: str) -> str:
    return "".join(f"\\u{ord(c):04X}" if c in '<>"{}|^`\\' or ord(c) <= 0x20 else c for c in iri)


def _blank_node_message(graph: Graph, node: BNode) -> str:
    holder = next(iter(graph.subject_predicates(node)), None)
    on = "another blank node" if holder and isinstance(holder[0], BNode) else holder and holder[0]
    where = f" (object of {holder[1]} on {on})" if holder else ""
    return f"blank node{where}: cmpkg publishes only named resources; give it an IRI (see docs/iris.md)"


def parse_turtle(path: Path, base: str) -> Graph:
    """Parse one of the project's Turtle files, resolving its relative IRIs against the base."""
    return read_graph(path, base)


def leading_comments(text: str) -> list[str]:
    """The comment lines a file starts with (without '# '), which the normal form keeps."""
    header = []
    for line in _LINE_END.split(text):
        if not line.startswith("#"):
            break
        header.append(line[1:].removeprefix(" "))
    return header


def files_to_format(paths: Iterable[Path]) -> list[Path]:
    """The Turtle files named, and those below the directories named. Anything else is refused (fmt would
    write Turtle into it), and so is a directory without one (it used to mean the whole project)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.ttl"))
            if not found:
                raise NormalFormError(f"{path}: holds no Turtle (.ttl) file")
            files += found
        elif path.suffix.lower() == ".ttl":
            files.append(path)
        else:
            raise NormalFormError(f"{path}: fmt formats Turtle (.ttl) files only")
    return list(dict.fromkeys(files))


def normalise_file(path: Path, base: str) -> tuple[str, str]:
    """The file's current text and its normal form. NormalFormError (RdfFileError for bad Turtle), naming
    the file and line, when the normal form cannot hold everything the file says."""
    data = _read_bytes(path)
    quads = list(read_quads(RdfFile(path, path.name), base, None))
    text = data.decode("utf-8")  # Oxigraph has refused a file that is not UTF-8, with its position
    marks = list(_marks(text))
    header = leading_comments(text)
    _refuse_inner_comments(path, marks, len(header))
    normal = _write(path, base, _exact_graph(path, quads, marks), header, marks)
    _check_faithful(path, base, quads, normal)
    return text, normal


def _refuse_inner_comments(path: Path, marks: Sequence[_Mark], header_lines: int) -> None:
    """The normal form keeps the header comment only: refuse a file with a comment anywhere else."""
    inner = next((m for m in marks if m.kind == "comment" and m.line > header_lines), None)
    if inner is not None:
        raise NormalFormError(
            f"{path}:{inner.line}: a comment inside the file would be lost by fmt; "
            "move it to the header comment"
        )


def _write(path: Path, base: str, graph: Graph, header: list[str], marks: Sequence[_Mark]) -> str:
    """The normal form; a blank node refused at the line of the file's first one."""
    try:
        return TurtleWriter(base).write(graph, header=header)
    except BlankNodeError as error:
        line = next((m.line for m in marks if m.kind == "blank"), None)
        line = line or next((m.line for m in marks if m.kind == "list"), None)
        raise BlankNodeError(f"{_where(path, line)}{error}") from None
    except RecursionError:
        raise NormalFormError(f"{path}: its lists are nested too deeply for fmt") from None


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, or NormalFormError saying in words why it cannot be read."""
    try:
        if path.is_symlink() and not path.exists():
            raise NormalFormError(
                f"{path}: cannot read: a symbolic link to {path.readlink()}, which does not exist"
            )
        if path.exists() and not path.is_file():
            what = "a directory" if path.is_dir() else "not a regular file"
            raise NormalFormError(f"{path}: cannot read: {what}")
        return path.read_bytes()
    except OSError as error:
        raise NormalFormError(f"{path}: cannot read: {(error.strerror or str(error)).lower()}") from None


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}: " if line else f"{path}: "


@dataclass(frozen=True)
class _Mark:
    """Something in a Turtle file fmt may have to point at: a comment, a string (`typed` when `^^`
    follows it), a blank node (`[` or `_:`) or a list."""

    kind: str
    line: int
    text: str = ""


_LINE_END = re.compile(r"\r\n?|\n")
_DATATYPE_AFTER = re.compile(r"\s*\^\^")
_TOKENS = re.compile(
    r'(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*')"
    r'|(?P<iri><(?:[^\x00-\x20<>"{}|^`\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)'
    r"|(?P<comment>#[^\r\n]*)"
    r"|(?P<blank>\[|(?<![\w.:%-])_:)"
    r"|(?P<list>\()"
    r"|\\.",  # an escaped character in a name, like ex:a\#b
    re.DOTALL,
)
_STRING_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}


def _marks(text: str) -> Iterator[_Mark]:
    """The comments, strings and blank nodes of a (well-formed) Turtle file, in order, with their lines."""
    starts = [0] + [m.end() for m in _LINE_END.finditer(text)]
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup
        if kind is None or kind == "iri":
            continue
        line = bisect.bisect_right(starts, match.start())
        if kind == "string":
            typed = _DATATYPE_AFTER.match(text, match.end()) is not None
            yield _Mark("typed" if typed else "string", line, _unquote(match.group()))
        else:
            yield _Mark(kind, line, match.group())


def _unquote(token: str) -> str:
    """A Turtle string's value: without its quotes, escapes resolved."""
    inner = token[3:-3] if token[:3] in ('"""', "'''") else token[1:-1]
    return _STRING_ESCAPE.sub(lambda m: _unescape(m.group(1)), inner)


def _unescape(escape: str) -> str:
    return chr(int(escape[1:], 16)) if len(escape) > 1 else _ECHARS.get(escape, escape)


_XSD = str(XSD)
# Datatypes whose lexical forms rdflib does not check (XSD 1.1 part 2, 3.3.11 and 3.3.12).
_ZONE = r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?"
_LEXICAL_FORMS = {
    XSD.gYear: re.compile(r"-?([1-9]\d{3,}|0\d{3})" + _ZONE),
    XSD.gYearMonth: re.compile(r"-?([1-9]\d{3,}|0\d{3})-(0[1-9]|1[0-2])" + _ZONE),
}


def _exact_graph(path: Path, quads: Sequence[ox.Quad], marks: Sequence[_Mark]) -> Graph:
    """The file's triples as an rdflib Graph whose literals keep their lexical forms (rdflib's own would
    write "01"^^xsd:integer as 1); NormalFormError for an ill-typed literal or an RDF 1.2 term."""
    graph = Graph()
    with _quiet_rdflib():
        for quad in quads:
            subject, predicate, obj = to_rdflib(quad.subject), to_rdflib(quad.predicate), quad.object
            if isinstance(obj, ox.Triple) or isinstance(quad.subject, ox.Triple):
                raise NormalFormError(f"{path}: fmt does not write RDF 1.2 triple terms (<<( ... )>>)")
            exact = _exact_literal(path, obj, marks) if isinstance(obj, ox.Literal) else to_rdflib(obj)
            graph.add((subject, predicate, exact))
    return graph


def _exact_literal(path: Path, literal: ox.Literal, marks: Sequence[_Mark]) -> Literal:
    """An Oxigraph literal as rdflib's, as written; NormalFormError where the file cannot keep it."""
    lexical, datatype = literal.value, literal.datatype.value
    line = next((m.line for m in marks if m.kind in ("string", "typed") and m.text == lexical), None)
    if literal.direction:
        raise NormalFormError(
            f"{_where(path, line)}fmt does not write RDF 1.2 base directions (--ltr, --rtl)"
        )
    if literal.language:
        return Literal(lexical, lang=literal.language)
    if datatype == XSD_STRING:
        return Literal(lexical)
    converted = Literal(lexical, datatype=URIRef(datatype), normalize=False)
    form = _LEXICAL_FORMS.get(URIRef(datatype))
    valid = form.fullmatch(lexical) if form else not converted.ill_typed and str(converted) == lexical
    if not valid:
        line = next((m.line for m in marks if m.kind == "typed" and m.text == lexical), line)
        name = "xsd:" + datatype[len(_XSD) :] if datatype.startswith(_XSD) else f"<{datatype}>"
        raise NormalFormError(
            f"{_where(path, line)}{_quote(lexical)} is not a valid {name}; correct the value or its datatype"
        )
    return converted


@contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """rdflib logs a stack trace (and warns) on an ill-typed literal; fmt reports it in one line itself."""
    logger = logging.getLogger("rdflib.term")
    disabled, logger.disabled = logger.disabled, True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.disabled = disabled


def _check_faithful(path: Path, base: str, quads: Sequence[ox.Quad], normal: str) -> None:
    """Refuse a normal form whose triples are not the file's: fmt must never lose or change anything."""
    source = ox.Dataset(quads)
    try:
        written = ox.Dataset(ox.parse(normal, ox.RdfFormat.TURTLE, base_iri=base))
    except SyntaxError:
        written = ox.Dataset()
    for dataset in (source, written):
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    if source != written:
        raise NormalFormError(
            f"{path}: fmt cannot write this file without changing its triples, so it leaves it as it is; "
            "please report this as a cmpkg bug"
        )
