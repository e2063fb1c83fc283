"""What cmpkg publishes about one entity, read with SPARQL SELECTs from a store it reaches over HTTP: the same
`Description` the embedded store gives from quad patterns (publisher/describe.py). No web imports.

The entity's own triples come first; when they point at blank nodes (RDF lists, SHACL property shapes), the
blank nodes' triples are read, following them to their end, in one of two ways. A blank node label is valid
only within one answer, so in general one query reads every level at once (the blank nodes one, two, ... hops
away; `rdf:rest*` walks a list in one hop), sent again twice as deep when the deepest level still points at
blank nodes. A store whose labels are stable and can be named in a query (Virtuoso's `nodeID://`; and its
SPARQL compiler fails on that one query) is read level by level instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pyoxigraph as ox

from publisher.describe import (
    HASH_IRIS_QUERY,
    INBOUND_PAGE_SIZE,
    LABEL_PREDICATES,
    PARENT_PREDICATES,
    RDF_REST,
    RDF_TYPE,
    Description,
    Subject,
    assemble,
    hash_iris_by_document,
    unique_triples,
)
from publisher.kept import Kept

FIRST_DEPTH = 4  # blank-node hops read at first (a shape's property's sh:or list's members' sh:in list)
MAX_DEPTH = 64
BATCH = 400  # IRIs per VALUES block
LABEL_ORDER = {p.value: order for order, p in enumerate(LABEL_PREDICATES)}  # the first label shown
LABELLED_KEPT = 20_000  # nodes whose labels and types are kept (for one version of the data: about 10 MB)

Select = Callable[[str], Any]  # a SELECT query -> pyoxigraph solutions over the project's dataset
T = TypeVar("T")
Row = tuple[Any, Any, Any, Any]  # subject, predicate, object, graph


class SparqlDescriptions:
    """Describes entities with SPARQL; `select` runs a query over the union of the project's graphs, with
    `GRAPH ?g` seeing each of them. One is made per version of the data, so what it keeps never goes stale."""

    def __init__(
        self, select: Select, base: str, name_blank: Callable[[ox.BlankNode], str] | None = None
    ) -> None:
        self.select = select
        self.base = base
        self.name_blank = name_blank  # how a query names a blank node the store labelled, if it can
        self._hash_iris: dict[str, list[ox.NamedNode]] | None = None
        self._labels: Kept[ox.NamedNode, list[ox.Triple]] = Kept(LABELLED_KEPT)
        predicates = [p if p.startswith("http") else base + p for p in PARENT_PREDICATES]
        self._parent_rank = {p: rank for rank, p in enumerate(predicates)}
        path, listed = "|".join(f"<{p}>" for p in predicates), ", ".join(f"<{p}>" for p in predicates)
        labelling = ", ".join(f"<{p.value}>" for p in LABEL_PREDICATES)
        # FILTER IN, not VALUES, for the labels: both stores join a VALUES block with every label they hold.
        self._parents_query = (  # after the entity's IRI
            f"> ({path})* ?node . ?node ?link ?parent FILTER (?link IN ({listed}) && isIRI(?parent)) "
            f"OPTIONAL {{ ?parent ?labelling ?label "
            f"FILTER (?labelling IN ({labelling}) && isLiteral(?label)) }} }}"
        )

    def hash_iris(self) -> dict[str, list[ox.NamedNode]]:
        """Document IRI -> the hash IRIs under it that are subjects (found once, on first use)."""
        if self._hash_iris is None:
            self._hash_iris = hash_iris_by_document(self.select(HASH_IRIS_QUERY))
        return self._hash_iris

    def describe(self, iri: str, page: int = 1, page_size: int = INBOUND_PAGE_SIZE) -> Description | None:
        iri = str(iri)
        node = ox.NamedNode(iri)
        # The links to the entity are read meanwhile, on another connection: one round trip less per page.
        links_to = background().submit(
            lambda: list(self.select(f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p <{iri}> }}"))
        )
        statements, graphs = self._bounded_description(node)
        inbound = (
            (row["s"], row["p"])
            for row in links_to.result()
            if isinstance(row["s"], ox.NamedNode | ox.BlankNode)
        )
        return assemble(iri, statements, graphs, inbound, page, page_size, self._labels_and_types)

    def exists(self, iri: str) -> bool:
        if iri in self.hash_iris():
            return True
        return bool(self.select(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"))

    def parents(self, iri: str) -> dict[str, tuple[str, str] | None]:
        """The breadcrumb parent of the entity and of each of its ancestors, read in one query: the first
        of PARENT_PREDICATES that links upwards, with the parent's first label (the parent IRI if none)."""
        rows = self.select(
            "SELECT ?node ?link ?parent ?labelling ?label WHERE { <" + iri + self._parents_query
        )
        rank = self._parent_rank
        unlabelled = len(LABEL_PREDICATES)  # after every label's order
        # node -> parent -> (the best rank of a link to it, its best label's order, that label)
        found: dict[str, dict[str, tuple[int, int, str]]] = {}
        for row in rows:
            node, parent = row["node"].value, row["parent"].value
            if row["label"] is None:
                order, label = unlabelled, parent
            else:
                order, label = LABEL_ORDER[row["labelling"].value], row["label"].value
            candidates = found.setdefault(node, {})
            known = candidates.get(parent)
            ranked = (rank[row["link"].value], order, label)
            if known is None or known[:2] > ranked[:2]:
                candidates[parent] = ranked
        chosen: dict[str, tuple[str, str] | None] = {iri: None}
        for node, candidates in found.items():
            # the best-ranked link; among its parents the one with the first label; else the first found
            parent, (_, _, label) = min(candidates.items(), key=lambda item: item[1][:2])
            chosen[node] = (parent, label)
        for candidates in found.values():
            for parent in candidates:
                chosen.setdefault(parent, None)  # reached by the path, with no parent of its own
        return chosen

    def _bounded_description(self, node: ox.NamedNode) -> tuple[list[ox.Triple], set[str]]:
        roots = [node, *self.hash_iris().get(node.value, [])]
        values = " ".join(f"<{root.value}>" for root in roots)
        rows = [
            (row["s"], row["p"], row["o"], row["g"])
            for row in self.select(
                f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
            )
        ]
        if any(isinstance(o, ox.BlankNode) for _, _, o, _ in rows):
            rows += self._blank_levels(roots) if self.name_blank is None else self._blank_nodes(rows)
        about: dict[Subject, list[tuple[ox.NamedNode, Any, ox.NamedNode]]] = {}
        for subject, predicate, obj, graph in rows:
            about.setdefault(subject, []).append((predicate, obj, graph))
        triples: set[ox.Triple] = set()
        graphs: set[str] = set()
        pending: list[Subject] = list(roots)
        seen: set[Subject] = set()
        while pending:
            subject = pending.pop()
            if subject in seen:
                continue
            seen.add(subject)
            for predicate, obj, graph in about.get(subject, []):
                triples.add(ox.Triple(subject, predicate, obj))
                graphs.add(graph.value)
                if isinstance(obj, ox.BlankNode):
                    pending.append(obj)
        return unique_triples(triples), graphs

    def _blank_levels(self, roots: list[ox.NamedNode]) -> list[Row]:
        """The triples of the blank nodes below the roots, in one answer (labels are only valid within it)."""
        depth = FIRST_DEPTH
        while True:
            found = list(self.select(_levels_query(roots, depth)))
            deeper = any(
                int(row["d"].value) == depth and isinstance(row["o"], ox.BlankNode) and row["p"] != RDF_REST
                for row in found
            )
            if not deeper or depth >= MAX_DEPTH:
                return [(row["s"], row["p"], row["o"], row["g"]) for row in found]
            depth *= 2

    def _blank_nodes(self, rows: list[Row]) -> list[Row]:
        """The triples of the blank nodes below, level by level, naming each (a store whose blank node labels
        are stable and nameable, as Virtuoso's `nodeID://` ones)."""
        assert self.name_blank is not None
        found: list[Row] = []
        seen: set[ox.BlankNode] = set()
        level = {o for _, _, o, _ in rows if isinstance(o, ox.BlankNode)}
        while level:
            seen |= level
            nodes = sorted(level, key=str)
            level = set()
            for batch in _batches(nodes, BATCH // 4):
                branches = " UNION ".join(
                    f"{{ GRAPH ?g {{ {self.name_blank(blank)} ?p ?o }} BIND ({index} AS ?k) }}"
                    for index, blank in enumerate(batch)
                )
                for row in self.select(f"SELECT ?k ?p ?o ?g WHERE {{ {branches} }}"):
                    subject = batch[int(row["k"].value)]
                    found.append((subject, row["p"], row["o"], row["g"]))
                    if isinstance(row["o"], ox.BlankNode) and row["o"] not in seen:
                        level.add(row["o"])
        return found

    def _labels_and_types(self, nodes: list[ox.NamedNode]) -> list[ox.Triple]:
        """The labels and types of the nodes a description shows (predicates, neighbours), in a stable
        order. Those of a node seen before are kept: ontology terms, plans and parties recur on every page."""
        predicates = [RDF_TYPE, *LABEL_PREDICATES]
        rank = {p: i for i, p in enumerate(predicates)}
        found: list[ox.Triple] = []
        unknown: list[ox.NamedNode] = []
        for node in nodes:
            known, triples = self._labels.get(node)
            if known:
                found += triples or ()
            else:
                unknown.append(node)
        for batch in _batches(unknown, BATCH):
            # FILTER IN, not a second VALUES: both stores join two VALUES blocks as every pair of them,
            # 2-3 times slower than reading the few triples of each node and keeping the wanted ones.
            query = (
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {' '.join(f'<{n.value}>' for n in batch)} }} "
                f"?s ?p ?o FILTER (?p IN ({', '.join(f'<{p.value}>' for p in predicates)})) }}"
            )
            read: dict[ox.NamedNode, list[ox.Triple]] = {node: [] for node in batch}
            for row in self.select(query):
                read.setdefault(row["s"], []).append(ox.Triple(row["s"], row["p"], row["o"]))
            for node, triples in read.items():
                self._labels.put(node, triples)
                found += triples
        order: dict[object, int] = {n: i for i, n in enumerate(nodes)}
        found.sort(key=lambda t: (order.get(t.subject, 0), rank.get(t.predicate, 0), str(t.object)))
        return found


_BACKGROUND: dict[int, ThreadPoolExecutor] = {}  # per process: a forked worker does not have its parent's
BACKGROUND_THREADS = 4


def background() -> ThreadPoolExecutor:
    """This process's threads for queries sent alongside a request's own (each keeps its own connection)."""
    pid = os.getpid()
    executor = _BACKGROUND.get(pid)
    if executor is None:
        executor = _BACKGROUND.setdefault(
            pid, ThreadPoolExecutor(BACKGROUND_THREADS, thread_name_prefix="cmpkg-describe")
        )
    return executor


def _levels_query(roots: list[ox.NamedNode], depth: int) -> str:
    """The triples of blank nodes 1 to `depth` hops below the roots, each row with its depth ?d."""
    values = "VALUES ?root { " + " ".join(f"<{root.value}>" for root in roots) + " }"
    rest = f"<{RDF_REST.value}>"
    branches = []
    for hops in range(1, depth + 1):
        steps = []
        for hop in range(1, hops + 1):
            before = "?root" if hop == 1 else f"?h{hop - 1}"
            after = "?s" if hop == hops else f"?h{hop}"
            # rdf:rest* walks a whole list in one hop, so later hops do not follow rdf:rest again
            not_rest = "" if hop == 1 else f" && ?q{hop} != {rest}"
            steps.append(
                f"{before} ?q{hop} ?y{hop} . FILTER (isBlank(?y{hop}){not_rest}) "
                f"?y{hop} {rest}* {after} . FILTER (isBlank({after}))"
            )
        branches.append(f"{{ {values} {' '.join(steps)} GRAPH ?g {{ ?s ?p ?o }} BIND ({hops} AS ?d) }}")
    return "SELECT DISTINCT ?s ?p ?o ?g ?d WHERE { " + " UNION ".join(branches) + " }"


def _batches(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
