"""An entity's HTML page as data: title, types, grouped properties with labels, inbound links, breadcrumbs.

Built from a Description; everything the template needs is decided here, so templates only lay it out (and
Jinja's autoescaping makes every value from the data text, never markup). No web imports.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import pyoxigraph as ox

from publisher.describe import LABEL_PREDICATES, RDF_TYPE, Description
from publisher.links import href_for
from publisher.namespaces import CMP_PATH, compact_iri

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LIST_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
RDF_LIST_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"

# Which section a predicate's values are shown in; anything else goes to "Details".
SECTION_OF_PREDICATE = {
    "http://purl.org/dc/terms/source": "Provenance",
    CMP_PATH + "confidence": "Provenance",
    "http://www.w3.org/2004/02/skos/core#note": "Notes",
    "http://www.w3.org/2004/02/skos/core#editorialNote": "Notes",
    "http://www.w3.org/2000/01/rdf-schema#comment": "Notes",
    CMP_PATH + "statusBasis": "Notes",
}
SECTIONS = ("Details", "Notes", "Provenance")
# Shown first within "Details", in this order (relative to the base for our own terms).
LEADING_PREDICATES = (
    CMP_PATH + "number",
    CMP_PATH + "printedNumber",
    CMP_PATH + "text",
    "http://purl.org/dc/terms/title",
    "http://purl.org/dc/terms/description",
    CMP_PATH + "timeframe",
    CMP_PATH + "responsibleParty",
    CMP_PATH + "progressReport",
    CMP_PATH + "status",
)
BREADCRUMB_DEPTH = 6
LABEL_RANKS = {predicate.value: rank for rank, predicate in enumerate(LABEL_PREDICATES)}
NAME_CACHE_ENTRIES = 16384  # IRIs whose compact name and link are kept (predicates, types, ... recur)


class Value(NamedTuple):
    """One value as shown: text, where it links, and a discreet note (language, datatype, full IRI).

    A named tuple rather than a dataclass: a page makes dozens and hashes them (value_html memoises their
    HTML), and a tuple is built and hashed in C."""

    text: str
    href: str | None = None
    note: str | None = None
    iri: str | None = None
    members: tuple[Value, ...] = ()  # an RDF list's members


class PropertyRow(NamedTuple):
    predicate: Value
    values: tuple[Value, ...]


@dataclass
class EntityPage:
    iri: str
    title: str
    types: list[Value]
    sections: list[tuple[str, list[PropertyRow]]]
    inbound: list[PropertyRow]  # grouped by predicate: "<predicate> of" the subjects
    inbound_total: int
    page: int
    pages: int
    breadcrumbs: list[Value] = field(default_factory=list)
    graphs: list[Value] = field(default_factory=list)


class Labeller:
    """Labels for IRIs: from the description's triples first, then our prefixes, then the IRI itself."""

    def __init__(self, triples: Iterable[ox.Triple], base: str, link_root: str) -> None:
        self.base, self.link_root = base, link_root
        self.labels: dict[str, tuple[int, str]] = {}
        for triple in triples:
            rank = LABEL_RANKS.get(triple.predicate.value)  # by string: faster than hashing the term
            if rank is None:
                continue
            label, subject = triple.object, triple.subject
            if not isinstance(label, ox.Literal) or not isinstance(subject, ox.NamedNode):
                continue
            language_rank = 0 if label.language in (None, "en") else 1
            key = (rank * 2 + language_rank, label.value)
            current = self.labels.get(subject.value)
            if current is None or key < current:
                self.labels[subject.value] = key

    def label(self, iri: str) -> str | None:
        found = self.labels.get(iri)
        return found[1] if found else None

    def name(self, iri: str) -> str:
        """A label, else a compact name (cmp:Topic, dct:source, plan/2018-2020), else the IRI."""
        return self.label(iri) or self.compact(iri)

    def compact(self, iri: str) -> str:
        return _compact(iri, self.base)

    def iri_value(self, iri: str) -> Value:
        found = self.labels.get(iri)
        return _iri_value(iri, found[1] if found else None, self.base, self.link_root)


_compact = functools.lru_cache(maxsize=NAME_CACHE_ENTRIES)(compact_iri)


@functools.lru_cache(maxsize=NAME_CACHE_ENTRIES)
def _iri_value(iri: str, label: str | None, base: str, link_root: str) -> Value:
    return Value(label or _compact(iri, base), href_for(iri, base, link_root), note=None, iri=iri)


@functools.lru_cache(maxsize=8)
def _leading_predicates(base: str) -> dict[str, int]:
    """LEADING_PREDICATES under this base -> their rank."""
    iris = (base + p if p.startswith(CMP_PATH) else p for p in LEADING_PREDICATES)
    return {iri: rank for rank, iri in enumerate(iris)}


def entity_page(
    description: Description,
    base: str,
    link_root: str = "/",
    parent: Callable[[str], tuple[str, str] | None] | None = None,
) -> EntityPage:
    """The page for one entity; `parent(iri)` gives (parent IRI, label) for breadcrumbs."""
    labeller = Labeller(description.statements + description.context, base, link_root)
    node = ox.NamedNode(description.iri)
    own = [t for t in description.statements if t.subject == node]
    lists = _lists(description.statements)
    types = [
        labeller.iri_value(t.object.value)
        for t in own
        if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode)
    ]
    by_predicate: dict[str, list[Value]] = {}
    for triple in own:
        if triple.predicate == RDF_TYPE:
            continue
        by_predicate.setdefault(triple.predicate.value, []).append(_value(triple.object, labeller, lists))
    sections: dict[str, list[PropertyRow]] = {name: [] for name in SECTIONS}
    leading = _leading_predicates(base)

    def order(predicate: str) -> tuple[int, str]:
        return (leading.get(predicate, len(leading)), labeller.name(predicate))

    for predicate in sorted(by_predicate, key=order):
        relative = predicate[len(base) :] if predicate.startswith(base) else predicate
        section = SECTION_OF_PREDICATE.get(relative, "Details")
        values = tuple(sorted(by_predicate[predicate], key=lambda v: v.text))
        sections[section].append(PropertyRow(labeller.iri_value(predicate), values))
    inbound: dict[str, list[Value]] = {}
    for link in description.inbound:
        subject = link.subject
        value = (
            labeller.iri_value(subject.value) if isinstance(subject, ox.NamedNode) else Value("(anonymous)")
        )
        inbound.setdefault(link.predicate.value, []).append(value)
    title = labeller.label(description.iri) or labeller.compact(description.iri)
    return EntityPage(
        iri=description.iri,
        title=title,
        types=types,
        sections=[(name, rows) for name, rows in sections.items() if rows],
        inbound=[
            PropertyRow(labeller.iri_value(p), tuple(values))
            for p, values in sorted(inbound.items(), key=lambda kv: labeller.name(kv[0]))
        ],
        inbound_total=description.inbound_total,
        page=description.page,
        pages=description.pages,
        breadcrumbs=_breadcrumbs(description.iri, parent, labeller),
        graphs=[labeller.iri_value(g) for g in description.graphs],
    )


def _value(term: object, labeller: Labeller, lists: dict[str, list[object]]) -> Value:
    if isinstance(term, ox.NamedNode):
        return labeller.iri_value(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Value(term.value, note=term.language)
        datatype = term.datatype.value
        if datatype.startswith(XSD) and datatype != XSD + "string":
            return Value(term.value, note="xsd:" + datatype[len(XSD) :])
        return Value(term.value)
    if isinstance(term, ox.BlankNode) and term.value in lists:
        members = tuple(_value(m, labeller, lists) for m in lists[term.value])
        return Value(", ".join(m.text for m in members), members=members)
    return Value("(anonymous node)")


def _lists(triples: list[ox.Triple]) -> dict[str, list[object]]:
    """RDF lists among the description's blank nodes: head id -> members."""
    first = {
        t.subject.value: t.object
        for t in triples
        if isinstance(t.subject, ox.BlankNode) and t.predicate.value == RDF_LIST_FIRST
    }
    rest = {
        t.subject.value: t.object
        for t in triples
        if isinstance(t.subject, ox.BlankNode) and t.predicate.value == RDF_LIST_REST
    }
    found: dict[str, list[object]] = {}
    for head in first:
        members: list[object] = []
        cell: object = ox.BlankNode(head)
        while isinstance(cell, ox.BlankNode) and cell.value in first and len(members) < 10_000:
            members.append(first[cell.value])
            cell = rest.get(cell.value)
        found[head] = members
    return found


def _breadcrumbs(
    iri: str, parent: Callable[[str], tuple[str, str] | None] | None, labeller: Labeller
) -> list[Value]:
    crumbs: list[Value] = []
    current = iri
    seen = {iri}
    while parent is not None and len(crumbs) < BREADCRUMB_DEPTH:
        found = parent(current)
        if found is None or found[0] in seen:
            break
        current, label = found
        seen.add(current)
        crumbs.append(Value(label, href_for(current, labeller.base, labeller.link_root), iri=current))
    return list(reversed(crumbs))
