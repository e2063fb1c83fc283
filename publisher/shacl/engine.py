"""Run the compiled shapes over an Oxigraph store: a few set-based queries per shape, not one per focus node.

The focus nodes of each targeted shape are computed once, by SPARQL updates, into a scratch named graph
(FOCUS_GRAPH); every constraint query then joins with them there. The data stays in the default graph,
which is all the constraint queries see.

Oxigraph evaluates queries outside the GIL, so the targets are validated on a few threads at once, each
into its own ReportBuilder; their results are joined in the targets' order, so the report does not depend
on which thread finished first.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import cast

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.term import Node

from publisher.namespaces import SH
from publisher.shacl.compile_shapes import STANDARD_PROLOGUE, Shape, Target, compile_shapes
from publisher.shacl.join_order import order_joins
from publisher.shacl.report import ReportBuilder
from publisher.shacl.sparql_rewrite import FOCUS
from publisher.shacl.store import store_from_graph
from publisher.shacl.terms import sparql_term, to_rdflib

FOCUS_GRAPH = "urn:cmpkg:shacl:focus"
FOCUS_OF = "urn:cmpkg:shacl:focus-of"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class OxigraphEngine:
    """The fast engine as an `Engine` (data graph, shapes graph) -> report graph; `validate_store` skips
    the rdflib data graph altogether."""

    def __init__(self, compiled: tuple[Graph, list[Target]] | None = None) -> None:
        self.compiled = compiled  # the shapes graph and its compiled targets, when already known

    def __call__(self, data: Graph, shapes: Graph) -> Graph:
        return self.validate_store(store_from_graph(data), shapes)

    def validate_store(self, store: ox.Store, shapes: Graph) -> Graph:
        if self.compiled is not None and self.compiled[0] is shapes:
            return validate_store(store, shapes, self.compiled[1])
        return validate_store(store, shapes)


def validate_store(
    store: ox.Store, shapes: Graph, targets: list[Target] | None = None, threads: int | None = None
) -> Graph:
    """The SHACL validation report of the store's default graph, as pySHACL would give it."""
    targets = compile_shapes(shapes) if targets is None else targets
    threads = threads or default_threads()
    statistics = PredicateStatistics(store)
    report = ReportBuilder(shapes, store)
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="cmpkg-shacl") as pool:
            # Submitted first, so it runs before any target can wait for it.
            multi_valued = pool.submit(MultiValued, store, _allowed_once(targets))
            parts = [
                pool.submit(_validate_target, store, shapes, target, index, statistics, multi_valued)
                for index, target in enumerate(targets)
            ]
            for part in parts:
                report.extend(part.result())
    finally:
        store.remove_graph(ox.NamedNode(FOCUS_GRAPH))
    return report.graph()


def default_threads() -> int:
    """One thread per core the process may use, at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, 4))


def _validate_target(
    store: ox.Store,
    shapes: Graph,
    target: Target,
    index: int,
    statistics: PredicateStatistics,
    multi_valued: Future[MultiValued],
) -> ReportBuilder:
    """Every constraint of one targeted shape and its property shapes, over its focus nodes."""
    report = ReportBuilder(shapes, store)
    key = f"<{FOCUS_OF}/{index}>"
    _select_focus_nodes(store, target, key)
    focus = f"GRAPH <{FOCUS_GRAPH}> {{ {key} <{FOCUS_OF}> ?this }}"
    shapes_here = [target.shape, *target.shape.properties]
    counted_together = [s for s in shapes_here if isinstance(s.path, URIRef) and _has_counts(s)]
    _counts_by_predicate(store, counted_together, focus, report, multi_valued)
    for shape in shapes_here:
        if shape not in counted_together:
            _counts(store, shape, focus, report)
        _run_shape(store, shape, focus, report, statistics)
    _closed(store, target, focus, report, statistics)
    return report


class PredicateStatistics:
    """(triples, distinct subjects, distinct objects) of a predicate in the data, counted once when asked."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.lock = threading.Lock()  # the targets' threads share the counts; each is counted once
        self.counted: dict[str, tuple[int, int, int]] = {}
        self.triples: dict[str, int] | None = None
        self.types_of: dict[str, set[str]] | None = None
        self.size = len(store)  # before any focus nodes are added

    def focus_count(self, focus: str) -> int:
        row = next(_solutions(self.store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {focus} }}"))
        return int(cast(ox.Literal, row["n"]).value)

    def triples_per_subject(self) -> float:
        """Roughly: triples over typed resources."""
        return self.size / max(self(RDF_TYPE)[1], 1)

    def subject_types(self, predicate: str) -> set[str]:
        """The rdf:types of the subjects of the predicate (all predicates in one pass, when first asked)."""
        with self.lock:
            if self.types_of is None:
                types_of: dict[str, set[str]] = {}
                query = "SELECT DISTINCT ?p ?type WHERE { ?s rdf:type ?type . ?s ?p ?o }"
                for row in _solutions(self.store, query):
                    predicate_iri = cast(ox.NamedNode, row["p"]).value
                    types_of.setdefault(predicate_iri, set()).add(str(row["type"]))
                self.types_of = types_of
        return self.types_of.get(predicate, set())

    def subclasses(self, classes: list[Node]) -> set[str]:
        """The classes and their subclasses, as SPARQL terms (IRIs in <>)."""
        found = set()
        for cls in classes:
            for row in _solutions(
                self.store, f"SELECT ?t WHERE {{ ?t rdfs:subClassOf* {sparql_term(cls)} }}"
            ):
                found.add(str(row["t"]))
        return found

    def count(self, predicate: str) -> int:
        """The number of triples with the predicate."""
        return self.predicates().get(predicate, 0)

    def predicates(self) -> dict[str, int]:
        """Every predicate the data uses, with its number of triples (one pass over the data)."""
        with self.lock:
            if self.triples is None:
                rows = _solutions(self.store, "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p")
                self.triples = {
                    cast(ox.NamedNode, row["p"]).value: int(cast(ox.Literal, row["n"]).value) for row in rows
                }
        return self.triples

    def __call__(self, predicate: str) -> tuple[int, int, int]:
        with self.lock:
            return self._counted(predicate)

    def _counted(self, predicate: str) -> tuple[int, int, int]:
        if predicate not in self.counted:
            query = (
                "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?s_) (COUNT(DISTINCT ?o) AS ?o_) "
                f"WHERE {{ ?s <{predicate}> ?o }}"
            )
            row = next(_solutions(self.store, query))
            n, s, o = (int(cast(ox.Literal, row[v]).value) for v in ("n", "s_", "o_"))
            self.counted[predicate] = (n, s, o)
        return self.counted[predicate]


def _select_focus_nodes(store: ox.Store, target: Target, key: str) -> None:
    for prologue, select in target.queries:
        store.update(
            f"{prologue}INSERT {{ GRAPH <{FOCUS_GRAPH}> {{ {key} <{FOCUS_OF}> ?this }} }} "
            f"WHERE {{ {{ {select} }} }}"
        )


def _solutions(store: ox.Store, query: str) -> Iterator[ox.QuerySolution]:
    return iter(cast(ox.QuerySolutions, store.query(STANDARD_PROLOGUE + query)))


def _run_shape(
    store: ox.Store, shape: Shape, focus: str, report: ReportBuilder, statistics: PredicateStatistics
) -> None:
    values = (
        f"{focus} BIND(?this AS ?v)" if shape.path_text is None else f"{focus} ?this {shape.path_text} ?v ."
    )
    _filters(store, shape, values, report)
    _has_values(store, shape, focus, report)
    _qualified(store, shape, focus, report)
    for constraint in shape.sparql:
        query = order_joins(constraint.query, constraint.prefixes, statistics)
        rows = store.query(query.replace(FOCUS, focus))
        report.add_sparql(shape, constraint, cast(ox.QuerySolutions, rows))


def _allowed_once(targets: list[Target]) -> set[str]:
    """The predicates some shape allows at most once, where only "two or more values" can violate it."""
    shapes = [shape for target in targets for shape in (target.shape, *target.shape.properties)]
    return {
        sparql_term(shape.path) for shape in shapes if isinstance(shape.path, URIRef) and shape.max_count == 1
    }


def _has_counts(shape: Shape) -> bool:
    return shape.min_count is not None or shape.max_count is not None


def _counts_by_predicate(
    store: ox.Store,
    shapes: list[Shape],
    focus: str,
    report: ReportBuilder,
    multi_valued: Future[MultiValued],
) -> None:
    """sh:minCount and sh:maxCount of the shapes whose path is one predicate, in a few queries for them all:
    the focus nodes with two values where at most one is allowed (a self-join, cheaper than counting), with
    a wrong number of values for other limits, and with none."""
    if not shapes:
        return
    by_predicate: dict[str, list[Shape]] = {}
    for shape in shapes:
        by_predicate.setdefault(sparql_term(cast(URIRef, shape.path)), []).append(shape)
    pairs = [p for p, sharing in by_predicate.items() if all(_at_most_one(s) for s in sharing)]
    limited = [p for p in pairs if any(s.max_count is not None for s in by_predicate[p])]
    candidates = [(subject, p) for p in limited for subject in multi_valued.result().of(p)]
    for subject, predicate in _in_focus(store, candidates, focus):
        _report_count(by_predicate[predicate], subject, 2, report)
    tests = []
    for predicate, sharing in by_predicate.items():
        if predicate in pairs:
            continue
        for shape in sharing:
            if shape.min_count is not None and shape.min_count > 1:
                tests.append(f"(?p = {predicate} && COUNT(DISTINCT ?o) < {shape.min_count})")
            if shape.max_count is not None:
                tests.append(f"(?p = {predicate} && COUNT(DISTINCT ?o) > {shape.max_count})")
    predicates = " ".join(p for p in by_predicate if p not in pairs)
    if tests:
        query = (
            f"SELECT ?this ?p (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {focus} ?this ?p ?o . "
            f"VALUES ?p {{ {predicates} }} }} GROUP BY ?this ?p HAVING ({' || '.join(tests)})"
        )
        for row in _solutions(store, query):
            count = int(cast(ox.Literal, row["n"]).value)
            _report_count(by_predicate[str(row["p"])], row["this"], count, report)
    required = " ".join(p for p, sharing in by_predicate.items() if any(s.min_count for s in sharing))
    if required:
        none = "FILTER NOT EXISTS { ?this ?p ?o }"
        query = f"SELECT ?this ?p WHERE {{ {focus} VALUES ?p {{ {required} }} {none} }}"
        for row in _solutions(store, query):
            _report_count(by_predicate[str(row["p"])], row["this"], 0, report)


class MultiValued:
    """The subjects with two or more values of a predicate, found in one query for all the predicates that
    some shape allows once (sh:maxCount 1), whatever their focus nodes: a shape's violations are then
    those of its focus nodes, usually none, instead of a self-join over every focus node of every shape."""

    def __init__(self, store: ox.Store, predicates: set[str]) -> None:
        self.found: dict[str, list[ox.NamedNode | ox.BlankNode]] = {p: [] for p in predicates}
        if predicates:
            query = (
                f"SELECT DISTINCT ?s ?p WHERE {{ VALUES ?p {{ {' '.join(sorted(predicates))} }} "
                "?s ?p ?a . ?s ?p ?b . FILTER(!sameTerm(?a, ?b)) }"
            )
            for row in _solutions(store, query):
                self.found[str(row["p"])].append(cast(ox.NamedNode, row["s"]))

    def of(self, predicate: str) -> list[ox.NamedNode | ox.BlankNode]:
        return self.found[predicate]


def _in_focus(
    store: ox.Store, candidates: list[tuple[ox.NamedNode | ox.BlankNode, str]], focus: str
) -> list[tuple[ox.NamedNode | ox.BlankNode, str]]:
    """The (node, predicate) candidates whose node is one of the focus nodes."""
    if not candidates:
        return []
    named = {str(node) for node, _ in candidates if isinstance(node, ox.NamedNode)}
    selections = [f"VALUES ?this {{ {' '.join(sorted(named))} }}"] if named else []
    if len(named) < len(candidates):
        selections.append("FILTER(isBlank(?this))")
    inside: set[ox.NamedNode | ox.BlankNode] = set()
    for selection in selections:
        for row in _solutions(store, f"SELECT ?this WHERE {{ {selection} {focus} }}"):
            inside.add(cast(ox.NamedNode, row["this"]))
    return [(node, predicate) for node, predicate in candidates if node in inside]


def _at_most_one(shape: Shape) -> bool:
    """Only 0, 1 or "2 or more" values matter: no limits but minCount <= 1 and maxCount 1."""
    return (shape.min_count is None or shape.min_count <= 1) and shape.max_count in (None, 1)


def _report_count(shapes: list[Shape], focus: object, count: int, report: ReportBuilder) -> None:
    this = to_rdflib(cast(ox.NamedNode, focus))
    for shape in shapes:
        if shape.min_count is not None and count < shape.min_count:
            report.add(shape, SH.MinCountConstraintComponent, this)
        if shape.max_count is not None and count > shape.max_count:
            report.add(shape, SH.MaxCountConstraintComponent, this)


def _counts(store: ox.Store, shape: Shape, focus: str, report: ReportBuilder) -> None:
    if not _has_counts(shape):
        return
    tests = []
    if shape.min_count is not None:
        tests.append(f"COUNT(DISTINCT ?v) < {shape.min_count}")
    if shape.max_count is not None:
        tests.append(f"COUNT(DISTINCT ?v) > {shape.max_count}")
    query = (
        f"SELECT ?this (COUNT(DISTINCT ?v) AS ?n) "
        f"WHERE {{ {focus} OPTIONAL {{ ?this {shape.path_text} ?v }} }} "
        f"GROUP BY ?this HAVING ({' || '.join(tests)})"
    )
    for row in _solutions(store, query):
        _report_count([shape], row["this"], int(cast(ox.Literal, row["n"]).value), report)


def _filters(store: ox.Store, shape: Shape, values: str, report: ReportBuilder) -> None:
    """Value-type constraints in two steps: which distinct values violate (SPARQL, then the Python check
    where SPARQL cannot decide), then, only if some do, which focus nodes have them."""
    if not shape.filters:
        return
    filters = shape.filters
    binds = " ".join(f"BIND(COALESCE({f.candidates}, true) AS ?f{i})" for i, f in enumerate(filters))
    flags = " ".join(f"?f{i}" for i in range(len(filters)))
    any_flag = " || ".join(f"?f{i}" for i in range(len(filters)))
    distinct = f"{{ SELECT DISTINCT ?v WHERE {{ {values} }} }}"
    query = f"SELECT ?v {flags} WHERE {{ {distinct} {binds} FILTER({any_flag}) }}"
    violating: dict[ox.NamedNode | ox.BlankNode | ox.Literal, list[int]] = {}
    for row in _solutions(store, query):
        value = cast(ox.NamedNode, row["v"])
        for i, value_filter in enumerate(filters):
            if cast(ox.Literal, row[f"f{i}"]).value != "true":
                continue
            if value_filter.check is None or value_filter.check(to_rdflib(value)):
                violating.setdefault(value, []).append(i)
    _report_values(store, shape, values, violating, report)


def _report_values(
    store: ox.Store,
    shape: Shape,
    values: str,
    violating: dict[ox.NamedNode | ox.BlankNode | ox.Literal, list[int]],
    report: ReportBuilder,
) -> None:
    """The results of the violating values (each with the indexes of the filters it breaks)."""
    if not violating:
        return
    filters = shape.filters
    named = " ".join(str(v) for v in violating if not isinstance(v, ox.BlankNode))
    selections = [f"VALUES ?v {{ {named} }}"] if named else []
    if any(isinstance(v, ox.BlankNode) for v in violating):
        selections.append("FILTER(isBlank(?v))")
    for selection in selections:
        for row in _solutions(store, f"SELECT DISTINCT ?this ?v WHERE {{ {values} {selection} }}"):
            value = cast(ox.NamedNode, row["v"])
            this = to_rdflib(cast(ox.NamedNode, row["this"]))
            for i in violating.get(value, []):
                report.add(shape, filters[i].component, this, to_rdflib(value))


def _has_values(store: ox.Store, shape: Shape, focus: str, report: ReportBuilder) -> None:
    for has_value in shape.has_values:
        term = sparql_term(has_value)
        if shape.path_text is None:
            test = f"FILTER(!sameTerm(?this, {term}))"
        else:
            test = f"FILTER NOT EXISTS {{ ?this {shape.path_text} ?v FILTER(sameTerm(?v, {term})) }}"
        for row in _solutions(store, f"SELECT ?this WHERE {{ {focus} {test} }}"):
            report.add(shape, SH.HasValueConstraintComponent, to_rdflib(cast(ox.NamedNode, row["this"])))


def _qualified(store: ox.Store, shape: Shape, focus: str, report: ReportBuilder) -> None:
    for qualified in shape.qualified:
        if qualified.minimum is not None:
            test = f"COUNT(DISTINCT ?v) < {qualified.minimum}"
        else:
            test = f"COUNT(DISTINCT ?v) > {qualified.maximum}"
        query = (
            f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {shape.path_text} ?v "
            f"FILTER({qualified.conforms}) }} }} GROUP BY ?this HAVING ({test})"
        )
        for row in _solutions(store, query):
            report.add(shape, qualified.component, to_rdflib(cast(ox.NamedNode, row["this"])))


def _closed(
    store: ox.Store, target: Target, focus: str, report: ReportBuilder, statistics: PredicateStatistics
) -> None:
    """sh:closed: only the predicates the data uses and the shape does not allow are looked at, and of
    those, for a class target, only those used by some instance of the class or its subclasses."""
    shape = target.shape
    if shape.closed is None:
        return
    allowed = {str(p) for p in shape.closed}
    others = sorted(p for p in statistics.predicates() if p not in allowed)
    if target.classes is not None:
        types = statistics.subclasses(target.classes)
        others = [p for p in others if statistics.subject_types(p) & types]
    if not others:
        return
    ignore = "FILTER(!(sameTerm(?p, rdf:type) && sameTerm(?o, rdfs:Resource)))"
    predicates = " ".join(f"<{p}>" for p in others)
    # Start from the triples of the other predicates when there are fewer of them than of the focus nodes.
    their_triples = sum(statistics.count(p) for p in others)
    focus_triples = statistics.focus_count(focus) * statistics.triples_per_subject()
    if their_triples < focus_triples:
        query = f"SELECT ?this ?p ?o WHERE {{ VALUES ?p {{ {predicates} }} ?this ?p ?o . {focus} {ignore} }}"
    else:
        query = f"SELECT ?this ?p ?o WHERE {{ {focus} ?this ?p ?o . VALUES ?p {{ {predicates} }} {ignore} }}"
    for row in _solutions(store, query):
        this = to_rdflib(cast(ox.NamedNode, row["this"]))
        path = URIRef(cast(ox.NamedNode, row["p"]).value)
        report.add(shape, SH.ClosedConstraintComponent, this, to_rdflib(cast(ox.NamedNode, row["o"])), path)
