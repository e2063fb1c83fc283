"""The SHACL validation report graph, triple for triple as pySHACL writes it.

For each result: rdf:type sh:ValidationResult, sh:sourceConstraintComponent, sh:sourceShape,
sh:resultSeverity, sh:focusNode, sh:value (when there is one), sh:resultPath (a property shape's path, or
the closed shape's offending predicate), sh:sourceConstraint (SPARQL-based constraints) and one
sh:resultMessage per sh:message. SPARQL-based results get {?var}/{$this}/{$path}/{$value} filled in, and
then (as in pySHACL) a plain literal. Blank-node shapes, paths and values are copied in with their ids.
"""

from __future__ import annotations

import re
from typing import cast

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from publisher.namespaces import SH
from publisher.shacl.compile_shapes import Shape, SparqlConstraint
from publisher.shacl.terms import to_rdflib

ALLOWED_SEVERITIES = (SH.Warning, SH.Info)
CLONE_DEPTH = 10


class ReportBuilder:
    def __init__(self, shapes: Graph, store: ox.Store) -> None:
        self.shapes = shapes
        self.store = store
        self.results: list[list[tuple[Node, Node]]] = []
        self.conforms = True

    def add(
        self,
        shape: Shape,
        component: URIRef,
        focus: Node,
        value: Node | None = None,
        path: Node | None = None,
        messages: list[Node] | None = None,
        source_constraint: Node | None = None,
    ) -> None:
        triples: list[tuple[Node, Node]] = [
            (RDF.type, SH.ValidationResult),
            (SH.sourceConstraintComponent, component),
            (SH.sourceShape, shape.node),
            (SH.resultSeverity, shape.severity),
            (SH.focusNode, focus),
        ]
        if value is not None:
            triples.append((SH.value, value))
        path = path if path is not None else shape.path
        if path is not None:
            triples.append((SH.resultPath, path))
        if source_constraint is not None:
            triples.append((SH.sourceConstraint, source_constraint))
        for message in shape.messages if messages is None else messages:
            triples.append((SH.resultMessage, message))
        self.results.append(triples)
        if shape.severity not in ALLOWED_SEVERITIES:
            self.conforms = False

    def extend(self, other: ReportBuilder) -> None:
        """Add the results another builder (of the same shapes and store) collected."""
        self.results.extend(other.results)
        self.conforms = self.conforms and other.conforms

    def add_sparql(self, shape: Shape, constraint: SparqlConstraint, rows: ox.QuerySolutions) -> None:
        names = [v.value for v in rows.variables]
        seen: set[tuple[Node | None, ...]] = set()
        for row in rows:
            bound = {
                name: to_rdflib(cast(ox.NamedNode, row[name])) for name in names if row[name] is not None
            }
            key = tuple(bound.get(name) for name in names)
            if key in seen:
                continue
            seen.add(key)
            this = bound.pop("this")
            path = bound.pop("path", None)
            value = bound.pop("value", None)
            if value is None and shape.path is None:
                value = this
            variables: dict[str, Node] = dict(bound)
            variables["this"] = this
            if path is not None:
                variables["path"] = path
            if value is not None:
                variables["value"] = value
            messages: list[Node] = [
                _fill(m, variables) for m in constraint.messages if m not in shape.messages
            ] + [_fill(m, variables) for m in shape.messages]
            self.add(
                shape,
                SH.SPARQLConstraintComponent,
                this,
                value,
                path,
                messages,
                source_constraint=constraint.node,
            )

    def graph(self) -> Graph:
        graph = Graph(bind_namespaces="core")
        for prefix, namespace in self.shapes.namespace_manager.namespaces():
            graph.namespace_manager.bind(prefix, namespace)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        for triples in self.results:
            result = BNode()
            graph.add((report, SH.result, result))
            for predicate, node in triples:
                if isinstance(node, BNode):
                    from_data = predicate in (SH.focusNode, SH.value)
                    self._clone(node, graph, from_data, 0)
                graph.add((result, predicate, node))
        return graph

    def _clone(self, node: BNode, graph: Graph, from_data: bool, depth: int) -> None:
        if depth >= CLONE_DEPTH:
            return
        if from_data:
            pairs = [
                (to_rdflib(q.predicate), to_rdflib(q.object))
                for q in self.store.quads_for_pattern(ox.BlankNode(str(node)), None, None, ox.DefaultGraph())
            ]
        else:
            pairs = list(self.shapes.predicate_objects(node))
        for predicate, value in pairs:
            if isinstance(value, BNode) and (node, predicate, value) not in graph:
                self._clone(value, graph, from_data, depth + 1)
            graph.add((node, predicate, value))


def _fill(message: Node, variables: dict[str, Node]) -> Node:
    if not isinstance(message, Literal):
        return message
    text = str(message.value)
    for name, value in variables.items():
        text = re.sub(f"{{[?$]{name}}}", str(value), text)
    return Literal(text)
