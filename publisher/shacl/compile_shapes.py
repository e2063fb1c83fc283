"""The shapes graph compiled into what the engine runs: focus-node targets, SPARQL filters and checks.

Only what shapes/ uses is compiled (see docs/validation.md); any other SHACL parameter, path form or
SPARQL feature raises UnsupportedShapes naming it, so that the caller can fall back to pySHACL.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from publisher.namespaces import SH
from publisher.shacl.checks import (
    ValueCheck,
    datatype_check,
    language_check,
    length_check,
    pattern_check,
    range_check,
)
from publisher.shacl.paths import UnsupportedPath, sparql_path
from publisher.shacl.sparql_rewrite import UnsupportedQuery, prologue, rewrite_constraint, target_query
from publisher.shacl.terms import sparql_term
from publisher.shapes_graph import declared_prefixes


class UnsupportedShapes(ValueError):
    """The shapes use a SHACL feature the fast engine does not compile (the message names it)."""


class InvalidShapes(UnsupportedShapes):
    """A parameter has a value SHACL does not allow: pySHACL, the reference, reports it best."""


# Parameters that only describe a shape, or that the compiler reads below.
DESCRIPTIVE = {SH.name, SH.description, SH.order, SH.group, SH.defaultValue, SH.message, SH.severity}
TARGETS = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target}
COMPILED = DESCRIPTIVE | TARGETS | {
    SH.path, SH.property, SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.nodeKind, SH.pattern,
    SH.flags, SH["in"], SH.hasValue, SH.languageIn, SH.minInclusive, SH.maxInclusive, SH.minExclusive,
    SH.maxExclusive, SH.minLength, SH.maxLength, SH.closed, SH.ignoredProperties, SH.sparql,
    SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.deactivated, SH.declare,
    SH.prefixes,
}  # fmt: skip
NODE_KINDS = {
    SH.IRI: "isIRI(?v)",
    SH.BlankNode: "isBlank(?v)",
    SH.Literal: "isLiteral(?v)",
    SH.BlankNodeOrIRI: "!isLiteral(?v)",
    SH.BlankNodeOrLiteral: "!isIRI(?v)",
    SH.IRIOrLiteral: "!isBlank(?v)",
}
RANGES: dict[URIRef, tuple[URIRef, Callable[[int, int], bool]]] = {
    SH.minInclusive: (SH.MinInclusiveConstraintComponent, operator.ge),
    SH.maxInclusive: (SH.MaxInclusiveConstraintComponent, operator.le),
    SH.minExclusive: (SH.MinExclusiveConstraintComponent, operator.gt),
    SH.maxExclusive: (SH.MaxExclusiveConstraintComponent, operator.lt),
}
CLASS_TYPES = (RDFS.Class, OWL.Class)
STANDARD_PROLOGUE = prologue({"rdf": str(RDF), "rdfs": str(RDFS)})


@dataclass
class ValueFilter:
    """One value-type constraint: a SPARQL expression true for every violating value ?v (maybe more),
    and, when SPARQL cannot decide exactly, the Python check that does."""

    component: URIRef
    candidates: str
    check: ValueCheck | None = None


@dataclass
class Qualified:
    component: URIRef
    conforms: str  # SPARQL expression: ?v conforms to the qualified value shape
    minimum: int | None
    maximum: int | None


@dataclass
class SparqlConstraint:
    node: Node
    query: str  # FOCUS (sparql_rewrite) stands where ?this is joined with the focus nodes
    messages: list[Node]
    prefixes: dict[str, str]


@dataclass
class Shape:
    node: Node
    path: Node | None  # None for a node shape
    path_text: str | None
    severity: URIRef
    messages: list[Node]
    min_count: int | None = None
    max_count: int | None = None
    filters: list[ValueFilter] = field(default_factory=list)
    has_values: list[Node] = field(default_factory=list)
    qualified: list[Qualified] = field(default_factory=list)
    closed: list[URIRef] | None = None
    sparql: list[SparqlConstraint] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)


@dataclass
class Target:
    """A shape that selects focus nodes itself, and the queries (prologue, SELECT ?this) that find them."""

    shape: Shape
    queries: list[tuple[str, str]]
    classes: list[Node] | None = None  # when the focus nodes are just the instances of these classes


def compile_shapes(graph: Graph) -> list[Target]:
    """Every shape with a target (explicit or an implicit class target), compiled."""
    compiler = _Compiler(graph)
    candidates = {s for t in TARGETS for s in graph.subjects(t, None)}
    candidates |= {s for s in graph.subjects(RDF.type, SH.NodeShape) if _is_class(graph, s)}
    candidates |= {s for s in graph.subjects(RDF.type, SH.PropertyShape) if _is_class(graph, s)}
    targets = []
    for node in sorted(candidates, key=str):
        shape = compiler.shape(node)
        if shape is None:
            continue
        targets.append(Target(shape, compiler.targets(node), compiler.target_classes(node)))
    return targets


def _is_class(graph: Graph, node: Node) -> bool:
    return any((node, RDF.type, t) in graph for t in CLASS_TYPES)


class _Compiler:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.compiled: dict[Node, Shape | None] = {}

    def unsupported(self, node: Node, what: str) -> UnsupportedShapes:
        return UnsupportedShapes(f"shape {_name(node)}: {what}")

    def invalid(self, node: Node, what: str) -> InvalidShapes:
        return InvalidShapes(f"shape {_name(node)}: {what}")

    def values(self, node: Node, parameter: URIRef) -> list[Node]:
        return list(self.graph.objects(node, parameter))

    def one(self, node: Node, parameter: URIRef) -> Node | None:
        values = self.values(node, parameter)
        if len(values) > 1:
            raise self.unsupported(node, f"several values of {_name(parameter)}")
        return values[0] if values else None

    def integer(self, node: Node, parameter: URIRef) -> int | None:
        value = self.one(node, parameter)
        if value is None:
            return None
        if not isinstance(value, Literal) or not isinstance(value.value, int):
            raise self.invalid(node, f"{_name(parameter)} is not an integer")
        return int(value.value)

    def shape(self, node: Node) -> Shape | None:
        """The compiled shape, or None when it is deactivated."""
        if node in self.compiled:
            return self.compiled[node]
        self.compiled[node] = None  # a shape that refers back to itself is not compiled twice
        graph = self.graph
        for predicate in set(graph.predicates(node)):
            if str(predicate).startswith(str(SH)) and predicate not in COMPILED:
                raise self.unsupported(node, f"the parameter {_name(predicate)}")
        deactivated = self.one(node, SH.deactivated)
        if deactivated is not None and bool(getattr(deactivated, "value", False)):
            return None
        path = self.one(node, SH.path)
        try:
            path_text = sparql_path(graph, path) if path is not None else None
        except UnsupportedPath as error:
            raise self.unsupported(node, str(error)) from None
        messages = self.values(node, SH.message)
        if not messages:
            raise self.unsupported(node, "no sh:message (pySHACL's default messages are not reproduced)")
        severity = self.one(node, SH.severity) or SH.Violation
        shape = Shape(node, path, path_text, URIRef(str(severity)), messages)
        if path is not None:
            shape.min_count = self.integer(node, SH.minCount)
            shape.max_count = self.integer(node, SH.maxCount)
        elif self.values(node, SH.minCount) or self.values(node, SH.maxCount):
            raise self.unsupported(node, "sh:minCount or sh:maxCount on a node shape")
        shape.filters = self.filters(node)
        shape.has_values = self.values(node, SH.hasValue)
        shape.qualified = self.qualified(node)
        shape.closed = self.closed(node)
        shape.sparql = self.sparql(node, path_text)
        for property_node in self.values(node, SH.property):
            if path is not None:
                raise self.unsupported(node, "sh:property on a property shape")
            property_shape = self.shape(property_node)
            if property_shape is not None:
                if property_shape.path is None:
                    raise self.unsupported(property_node, "a property shape without sh:path")
                shape.properties.append(property_shape)
        self.compiled[node] = shape
        return shape

    def filters(self, node: Node) -> list[ValueFilter]:
        filters = []
        for cls in self.values(node, SH["class"]):
            filters.append(
                ValueFilter(
                    SH.ClassConstraintComponent,
                    f"NOT EXISTS {{ ?v rdf:type/rdfs:subClassOf* {self.term(node, cls)} }}",
                )
            )
        datatype = self.one(node, SH.datatype)
        if datatype is not None:
            if not isinstance(datatype, URIRef):
                raise self.invalid(node, "a sh:datatype that is not an IRI")
            # Strings are never ill-typed, so SPARQL finds exactly the candidates; other literals of the
            # datatype may be ill-typed in rdflib's eyes, which only the Python check can tell.
            candidates = "true"
            if datatype in (XSD.string, RDF.langString):
                candidates = f"!isLiteral(?v) || datatype(?v) != {sparql_term(datatype)}"
            filters.append(ValueFilter(SH.DatatypeConstraintComponent, candidates, datatype_check(datatype)))
        kind = self.one(node, SH.nodeKind)
        if kind is not None:
            if kind not in NODE_KINDS:
                raise self.unsupported(node, f"the node kind {_name(kind)}")
            filters.append(ValueFilter(SH.NodeKindConstraintComponent, f"!({NODE_KINDS[URIRef(str(kind))]})"))
        patterns = self.values(node, SH.pattern)
        flags = self.one(node, SH.flags)
        for pattern in patterns:
            check = pattern_check(str(pattern), str(flags) if flags is not None else None)
            filters.append(ValueFilter(SH.PatternConstraintComponent, "true", check))
        for members in self.values(node, SH["in"]):
            terms = [self.term(node, m) for m in Collection(self.graph, members)]
            same = " || ".join(f"sameTerm(?v, {t})" for t in terms) or "false"
            filters.append(ValueFilter(SH.InConstraintComponent, f"!({same})"))
        for languages in self.values(node, SH.languageIn):
            tags = [str(tag).lower() for tag in Collection(self.graph, languages)]
            accepted = "true" if "*" in tags else _language_in(tags)
            candidates = f'!isLiteral(?v) || lang(?v) = "" || !({accepted})'
            filters.append(ValueFilter(SH.LanguageInConstraintComponent, candidates, language_check(tags)))
        for parameter, (component, accepts) in RANGES.items():
            for bound in self.values(node, parameter):
                if not isinstance(bound, Literal):
                    raise self.invalid(node, f"a {_name(parameter)} that is not a literal")
                check = range_check(bound, lambda c, a=accepts: bool(a(c, 0)))  # type: ignore[misc]
                filters.append(ValueFilter(component, "true", check))
        for parameter, component, minimum in (
            (SH.minLength, SH.MinLengthConstraintComponent, True),
            (SH.maxLength, SH.MaxLengthConstraintComponent, False),
        ):
            limit = self.integer(node, parameter)
            if limit is not None:
                filters.append(ValueFilter(component, "true", length_check(limit, minimum)))
        return filters

    def term(self, node: Node, value: Node) -> str:
        try:
            return sparql_term(value)
        except TypeError:
            raise self.unsupported(node, "a blank node as a constraint value") from None

    def qualified(self, node: Node) -> list[Qualified]:
        shapes = self.values(node, SH.qualifiedValueShape)
        if not shapes:
            return []
        if len(shapes) > 1:
            raise self.unsupported(node, "several sh:qualifiedValueShape")
        minimum = self.integer(node, SH.qualifiedMinCount)
        maximum = self.integer(node, SH.qualifiedMaxCount)
        nested = shapes[0]
        allowed = {SH["class"], SH.nodeKind, SH["in"], SH.hasValue}
        for predicate in set(self.graph.predicates(nested)):
            if str(predicate).startswith(str(SH)) and predicate not in allowed | DESCRIPTIVE:
                raise self.unsupported(nested, f"{_name(predicate)} in a qualified value shape")
        if self.values(node, SH.qualifiedValueShapesDisjoint):
            raise self.unsupported(node, "sh:qualifiedValueShapesDisjoint")
        conditions = [f"!({f.candidates})" for f in self.filters(nested)]
        conditions += [f"sameTerm(?v, {self.term(nested, h)})" for h in self.values(nested, SH.hasValue)]
        conforms = " && ".join(conditions) or "true"
        result = []
        if maximum is not None:
            result.append(Qualified(SH.QualifiedMaxCountConstraintComponent, conforms, None, maximum))
        if minimum is not None:
            result.append(Qualified(SH.QualifiedMinCountConstraintComponent, conforms, minimum, None))
        return result

    def closed(self, node: Node) -> list[URIRef] | None:
        closed = self.one(node, SH.closed)
        if closed is None or not bool(getattr(closed, "value", False)):
            return None
        if self.values(node, SH.path):
            raise self.unsupported(node, "sh:closed on a property shape")
        allowed = []
        for ignored in self.values(node, SH.ignoredProperties):
            allowed += [URIRef(str(p)) for p in Collection(self.graph, ignored)]
        for property_node in self.values(node, SH.property):
            path = self.graph.value(property_node, SH.path)
            if isinstance(path, URIRef):
                allowed.append(path)
        return allowed

    def sparql(self, node: Node, path_text: str | None) -> list[SparqlConstraint]:
        constraints = []
        for constraint in self.values(node, SH.sparql):
            for predicate in set(self.graph.predicates(constraint)):
                if predicate not in (
                    RDF.type,
                    SH.select,
                    SH.prefixes,
                    SH.message,
                    SH.deactivated,
                    RDFS.comment,
                ):
                    raise self.unsupported(node, f"{_name(predicate)} on a SPARQL constraint")
            deactivated = self.graph.value(constraint, SH.deactivated)
            if deactivated is not None and bool(getattr(deactivated, "value", False)):
                continue
            select = self.graph.value(constraint, SH.select)
            if select is None:
                raise self.invalid(node, "a SPARQL constraint without sh:select")
            prefixes = self.prefixes(constraint)
            try:
                query = rewrite_constraint(str(select), prefixes, path_text)
            except UnsupportedQuery as error:
                raise self.unsupported(node, f"its SPARQL query: {error}") from None
            messages = self.values(constraint, SH.message)
            constraints.append(SparqlConstraint(constraint, query, messages, prefixes))
        return constraints

    def prefixes(self, node: Node) -> dict[str, str]:
        declared: dict[str, str] = {}
        for holder in self.graph.objects(node, SH.prefixes):
            declared.update(declared_prefixes(self.graph, self.graph.objects(holder, SH.declare)))
        return declared

    def target_classes(self, node: Node) -> list[Node] | None:
        if any(self.values(node, t) for t in TARGETS - {SH.targetClass}):
            return None
        classes = ([node] if _is_class(self.graph, node) else []) + self.values(node, SH.targetClass)
        return classes if all(isinstance(c, URIRef) for c in classes) else None

    def targets(self, node: Node) -> list[tuple[str, str]]:
        patterns: list[str] = []
        queries: list[tuple[str, str]] = []
        if _is_class(self.graph, node):
            patterns.append(f"?this rdf:type/rdfs:subClassOf* {self.term(node, node)} .")
        for cls in self.values(node, SH.targetClass):
            patterns.append(f"?this rdf:type/rdfs:subClassOf* {self.term(node, cls)} .")
        for focus in self.values(node, SH.targetNode):
            patterns.append(f"VALUES ?this {{ {self.term(node, focus)} }}")
        for predicate in self.values(node, SH.targetSubjectsOf):
            patterns.append(f"?this {self.term(node, predicate)} [] .")
        for predicate in self.values(node, SH.targetObjectsOf):
            patterns.append(f"[] {self.term(node, predicate)} ?this .")
        for target in self.values(node, SH.target):
            if (target, RDF.type, SH.SPARQLTarget) not in self.graph:
                raise self.unsupported(node, "an sh:target that is not an sh:SPARQLTarget")
            for predicate in set(self.graph.predicates(target)):
                if predicate not in (RDF.type, SH.select, SH.prefixes, RDFS.comment, RDFS.label):
                    raise self.unsupported(node, f"{_name(predicate)} on its SPARQL target")
            select = self.graph.value(target, SH.select)
            try:
                queries.append(target_query(str(select), self.prefixes(target)))
            except UnsupportedQuery as error:
                raise self.unsupported(node, f"its SPARQL target: {error}") from None
        return [(STANDARD_PROLOGUE, f"SELECT ?this WHERE {{ {p} }}") for p in patterns] + queries


def _language_in(tags: list[str]) -> str:
    """SPARQL for pySHACL's test: the tag, or its part before the first "-", is one of `tags` (any case)."""
    listed = ", ".join(sparql_term(Literal(tag)) for tag in tags) or '""'
    return f'LCASE(lang(?v)) IN ({listed}) || LCASE(STRBEFORE(CONCAT(lang(?v), "-"), "-")) IN ({listed})'


def _name(node: Node) -> str:
    text = str(node)
    if text.startswith(str(SH)):
        return "sh:" + text[len(str(SH)) :]
    return f"<{text}>" if not isinstance(node, BNode) else f"_:{text}"
