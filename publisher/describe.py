"""What cmpkg says about one entity: its concise bounded description, the labels and types of what it
links to, and the links that point at it (paged). No web imports."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF_FIRST = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#first")
RDF_REST = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#rest")
LABEL_PREDICATES = tuple(
    ox.NamedNode(iri)
    for iri in (
        "http://www.w3.org/2000/01/rdf-schema#label",
        "http://www.w3.org/2004/02/skos/core#prefLabel",
        "http://purl.org/dc/terms/title",
        "http://xmlns.com/foaf/0.1/name",
        "https://schema.org/name",
    )
)
INBOUND_PAGE_SIZE = 200
CONTEXT_KEPT = 10_000  # neighbours whose labels and types are kept (under 1 KB each)
PARENTS_KEPT = 10_000  # entities whose breadcrumb parent is kept
# Links followed upwards for breadcrumbs: item -> parent item -> plan -> programme (relative to the base).
PARENT_PREDICATES = ("ontology#partOf", "http://purl.org/net/p-plan#isStepOfPlan", "ontology#partOfProgramme")

Subject = ox.NamedNode | ox.BlankNode
Object = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class Link:
    """One statement pointing at the entity: `subject predicate entity`."""

    subject: ox.NamedNode | ox.BlankNode
    predicate: ox.NamedNode


@dataclass
class Description:
    """The triples published about one entity, and where its inbound links page."""

    iri: str
    statements: list[ox.Triple]  # about the entity itself (its CBD), in a stable order
    context: list[ox.Triple]  # labels and types of the resources it links to and that link to it
    inbound: list[Link]  # this page of inbound links
    inbound_total: int
    page: int
    page_size: int = INBOUND_PAGE_SIZE
    graphs: list[str] = field(default_factory=list)  # the named graphs (source files) the CBD comes from

    @property
    def pages(self) -> int:
        return max(1, -(-self.inbound_total // self.page_size))

    @property
    def triples(self) -> list[ox.Triple]:
        """Everything, for the RDF answer: statements, inbound links on this page, and context."""
        node = ox.NamedNode(self.iri)
        inbound = [ox.Triple(link.subject, link.predicate, node) for link in self.inbound]
        return list(dict.fromkeys(self.statements + inbound + self.context))  # the entity first


class DescriptionSource:
    """Describes entities from a pyoxigraph store whose default graph is the union of its named graphs.

    A document IRI (`{base}ontology`) also describes the hash IRIs it holds (`{base}ontology#Topic`): a
    client dereferencing a hash IRI asks for the document, and must find the term there.
    """

    def __init__(self, store: ox.Store, hash_iris: dict[str, list[ox.NamedNode]] | None = None) -> None:
        self.store = store
        self._hash_iris = hash_iris
        # The same neighbours (a plan, its parties, the ontology's terms) appear on many pages: their labels
        # and types are read once per store, that is once per data version.
        self._context_of = _labels_and_types_reader(store)

    def hash_iris(self) -> dict[str, list[ox.NamedNode]]:
        """Document IRI -> the hash IRIs under it that are subjects (found once, on first use)."""
        if self._hash_iris is None:
            rows = self.store.query(HASH_IRIS_QUERY, use_default_graph_as_union=True)
            self._hash_iris = hash_iris_by_document(rows)  # type: ignore[arg-type]
        return self._hash_iris

    def describe(self, iri: str, page: int = 1, page_size: int = INBOUND_PAGE_SIZE) -> Description | None:
        iri = str(iri)  # an rdflib URIRef hashes unlike its text: keep plain strings as keys
        node = ox.NamedNode(iri)
        statements, graphs = self._bounded_description(node)
        inbound = (
            (q.subject, q.predicate)
            for q in self.store.quads_for_pattern(None, None, node, None)
            if not isinstance(q.subject, ox.Triple)
        )
        return assemble(iri, statements, graphs, inbound, page, page_size, self._labels_and_types)

    def exists(self, iri: str) -> bool:
        if iri in self.hash_iris():
            return True
        node = ox.NamedNode(iri)
        return any(True for _ in self.store.quads_for_pattern(node, None, None, None)) or any(
            True for _ in self.store.quads_for_pattern(None, None, node, None)
        )

    def _bounded_description(self, node: ox.NamedNode) -> tuple[list[ox.Triple], set[str]]:
        """The entity's own triples, following blank nodes (RDF lists) to their end."""
        triples: list[ox.Triple] = []
        graphs: set[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = set()
        pending: list[Subject] = [node, *self.hash_iris().get(node.value, [])]
        seen: set[Subject] = set()
        while pending:
            subject = pending.pop()
            if subject in seen:
                continue
            seen.add(subject)
            for quad in self.store.quads_for_pattern(subject, None, None, None):
                triple = quad.triple  # one object from Rust, not three terms and a new Triple
                triples.append(triple)
                graphs.add(quad.graph_name)
                if isinstance(triple.object, ox.BlankNode):
                    pending.append(triple.object)
        return unique_triples(triples), {g.value for g in graphs if isinstance(g, ox.NamedNode)}

    def _labels_and_types(self, nodes: Iterable[ox.NamedNode]) -> Iterator[ox.Triple]:
        for neighbour in nodes:
            yield from self._context_of(neighbour)


def _labels_and_types_reader(store: ox.Store) -> Callable[[ox.NamedNode], tuple[ox.Triple, ...]]:
    """A node's types and labels, each node read once (a closure over the store alone: no reference cycle
    keeps a replaced store's memory until the garbage collector runs)."""

    @functools.lru_cache(maxsize=CONTEXT_KEPT)
    def read(node: ox.NamedNode) -> tuple[ox.Triple, ...]:
        return tuple(
            ox.Triple(quad.subject, quad.predicate, quad.object)
            for predicate in (RDF_TYPE, *LABEL_PREDICATES)
            for quad in store.quads_for_pattern(node, predicate, None, None)
        )

    return read


def assemble(
    iri: str,
    statements: list[ox.Triple],
    graphs: Iterable[str],
    inbound_links: Iterable[tuple[Subject, ox.NamedNode]],
    page: int,
    page_size: int,
    labels_and_types: Callable[[list[ox.NamedNode]], Iterable[ox.Triple]],
) -> Description | None:
    """A Description from what a store gave about an entity: pages the inbound links (subject, predicate)
    and adds the labels and types of its neighbours. The same for every store, so every store describes
    alike."""
    node = ox.NamedNode(iri)
    # Keyed by their text and sorted as plain strings; a Link is made only for the page's (an entity may
    # have tens of thousands of links to it, and one page shows 200).
    by_key = {(str(predicate), str(subject)): (subject, predicate) for subject, predicate in inbound_links}
    if not statements and not by_key:
        return None
    start = (max(page, 1) - 1) * page_size
    inbound = [Link(*by_key[key]) for key in sorted(by_key)[start : start + page_size]]
    neighbours = {t.object for t in statements if isinstance(t.object, ox.NamedNode)}
    neighbours |= {link.subject for link in inbound if isinstance(link.subject, ox.NamedNode)}
    neighbours |= {t.predicate for t in statements} | {link.predicate for link in inbound}
    neighbours.discard(node)
    return Description(
        iri=iri,
        statements=statements,
        context=list(labels_and_types(sorted(neighbours, key=str))),
        inbound=inbound,
        inbound_total=len(by_key),
        page=max(page, 1),
        page_size=page_size,
        graphs=sorted(graphs),
    )


HASH_IRIS_QUERY = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER (isIRI(?s) && CONTAINS(STR(?s), '#')) }"


def hash_iris_by_document(rows: Iterable[Any]) -> dict[str, list[ox.NamedNode]]:
    """HASH_IRIS_QUERY's answer grouped by document: `{base}ontology` -> [`{base}ontology#Topic`, ...]."""
    found: dict[str, set[str]] = {}
    for row in rows:
        iri = row["s"].value
        found.setdefault(iri.split("#", 1)[0], set()).add(iri)
    return {doc: [ox.NamedNode(i) for i in sorted(iris)] for doc, iris in found.items()}


def unique_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Drop duplicates (a triple may sit in several named graphs), keep a stable order."""
    # A triple's N-Triples text sorts as (subject, predicate, object) would: "<" and ">" end every IRI.
    return sorted(set(triples), key=str)


def parent_finder(store: ox.Store, base: str) -> Callable[[str], tuple[str, str] | None]:
    """Breadcrumb parents from a pyoxigraph store: the first of PARENT_PREDICATES that links upwards."""
    predicates = [ox.NamedNode(p if p.startswith("http") else base + p) for p in PARENT_PREDICATES]

    # Items of a plan share their parents; a served store does not change (a reload builds a new one).
    @functools.lru_cache(maxsize=PARENTS_KEPT)
    def parent(iri: str) -> tuple[str, str] | None:
        node = ox.NamedNode(iri)
        for predicate in predicates:
            for quad in store.quads_for_pattern(node, predicate, None, None):
                if isinstance(quad.object, ox.NamedNode):
                    for label_predicate in LABEL_PREDICATES:
                        for label in store.quads_for_pattern(quad.object, label_predicate, None, None):
                            if isinstance(label.object, ox.Literal):
                                return quad.object.value, label.object.value
                    return quad.object.value, quad.object.value
        return None

    return parent
