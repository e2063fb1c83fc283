"""The shapes graph: loaded from shapes/, completed at load time, and checked before anything is validated.

Three things happen between the Turtle files and the validator:

- SHACL prefix declarations are literals, which Turtle does not resolve, and shapes never name the public
  base; a relative `sh:namespace` like "ontology#" is resolved against the base here.
- Lists that must not be typed by hand are generated: a SPARQL query may hold the string literal
  "cmpkg:generate NAME", and the loader replaces it with the values of NAME as one string, each value
  between bars ("|AD AND 020|AE ARE 784|...|"), for a test like CONTAINS(list, CONCAT("|", ?x, "|")). One
  string, not a list of literals: rdflib's parser takes a second for 249 literals, and SHACL-SPARQL forbids
  VALUES. Today the only list is the ISO 3166-1 countries, from pycountry (GENERATED_LISTS). Left
  unfilled, the placeholder matches nothing and the constraint fails loudly rather than passing.
- Shapes that could never check anything are refused (ShapesError): no node shape at all, a top-level shape
  without a target, a target class or predicate that neither the ontology nor the data knows, a SPARQL
  query that does not parse. Validation must never pass silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pycountry
import pyoxigraph as ox
from pyparsing import ParseException
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node

from publisher.iris import Iris
from publisher.known_terms import is_known_external_term
from publisher.namespaces import SH
from publisher.rdf_files import read_graph

CLASS_TYPES = (OWL.Class, RDFS.Class)
PROPERTY_TYPES = (RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
# Predicates whose values (or list members) are shapes used by another shape, not shapes of their own.
SHAPE_REFERENCES = (SH.node, SH.property, SH["not"], SH.qualifiedValueShape)
SHAPE_LISTS = (SH["and"], SH["or"], SH.xone)
_GENERATE = re.compile(r'"cmpkg:generate ([A-Za-z0-9_-]+)"')


class ValidationSetupError(ValueError):
    """Validation could not run (no shapes, no data, unusable shapes): never a silent pass."""


class ShapesError(ValidationSetupError):
    """The shapes cannot be used as they are."""


def iso3166_countries() -> list[str]:
    """Every ISO 3166-1 country as "alpha-2 alpha-3 numeric", e.g. "AR ARG 032", from pycountry."""
    return sorted(f"{c.alpha_2} {c.alpha_3} {c.numeric}" for c in pycountry.countries)


GENERATED_LISTS: dict[str, Callable[[], list[str]]] = {"iso3166-1": iso3166_countries}
"""The lists a shape's SPARQL query can ask for with `# cmpkg:generate NAME`."""


@dataclass
class Shapes:
    """The completed shapes graph, with the file each shape came from and its SPARQL prefixes."""

    graph: Graph
    files: list[Path] = field(default_factory=list)
    origin: dict[Node, Path] = field(default_factory=dict)

    def where(self, node: Node) -> str:
        path = self.origin.get(node)
        return f"{path}: " if path else ""

    def node_shapes(self) -> list[Node]:
        return sorted(set(self.graph.subjects(RDF.type, SH.NodeShape)), key=str)

    def prefixes(self) -> dict[str, str]:
        """The prefixes declared with sh:declare, as SPARQL queries see them."""
        return declared_prefixes(self.graph, self.graph.objects(None, SH.declare))


def declared_prefixes(graph: Graph, declarations: Iterable[Node]) -> dict[str, str]:
    """Prefix -> namespace of sh:declare nodes (sh:prefix and sh:namespace); incomplete ones are left out."""
    declared = {}
    for declaration in declarations:
        prefix = graph.value(declaration, SH.prefix)
        namespace = graph.value(declaration, SH.namespace)
        if prefix is not None and namespace is not None:
            declared[str(prefix)] = str(namespace)
    return declared


def read_shapes(paths: Iterable[Path], iris: Iris) -> Shapes:
    """Parse the shapes files, resolve relative prefix namespaces and fill in the generated lists."""
    shapes = Shapes(Graph())
    for path in paths:
        graph = read_graph(path, iris.base)
        for subject in set(graph.subjects()):
            shapes.origin.setdefault(subject, path)
        shapes.graph += graph
        shapes.files.append(path)
    _resolve_namespaces(shapes.graph, iris)
    _fill_generated_lists(shapes)
    return shapes


def _resolve_namespaces(graph: Graph, iris: Iris) -> None:
    for declaration, namespace in list(graph.subject_objects(SH.namespace)):
        if isinstance(namespace, Literal) and ":" not in str(namespace):
            graph.set((declaration, SH.namespace, Literal(iris.base + str(namespace), datatype=XSD.anyURI)))


def _fill_generated_lists(shapes: Shapes) -> None:
    for constraint, select in list(shapes.graph.subject_objects(SH.select)):
        text = str(select)

        def generated(match: re.Match[str], constraint: Node = constraint) -> str:
            name = match.group(1)
            if name not in GENERATED_LISTS:
                known = ", ".join(sorted(GENERATED_LISTS))
                raise ShapesError(
                    f"{shapes.where(constraint)}<{constraint}> asks for the generated list {name!r}, which "
                    f"cmpkg does not know (known: {known})"
                )
            return _sparql_string("".join(f"|{value}" for value in GENERATED_LISTS[name]()) + "|")

        filled = _GENERATE.sub(generated, text)
        if filled != text:
            shapes.graph.set((constraint, SH.select, Literal(filled)))


def _sparql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_shapes(shapes: Shapes, data: Graph | ox.Store, shapes_dir: Path | str) -> None:
    """Refuse shapes that would check nothing or cannot run; `data` is the graph (or store) to validate."""
    node_shapes = shapes.node_shapes()
    if not node_shapes:
        raise ShapesError(f"{shapes_dir}: the shapes files declare no sh:NodeShape; nothing would be checked")
    used = _shapes_used_by_other_shapes(shapes.graph)
    if isinstance(data, ox.Store):
        _check_targets_against(shapes, node_shapes, used, _StoreTerms(data))
    else:
        _check_targets_against(shapes, node_shapes, used, _GraphTerms(data))
    _check_queries(shapes, oxigraph_first=isinstance(data, ox.Store))


class _GraphTerms:
    """What the data knows, asked of an rdflib graph."""

    def __init__(self, data: Graph) -> None:
        self.data = data
        self.classes = _known_classes(data)

    def is_class(self, target: Node) -> bool:
        return _is_known_class(target, self.classes)

    def is_property(self, target: Node) -> bool:
        return _is_known_property(target, self.data)


class _StoreTerms:
    """What the data knows, asked of an Oxigraph store (one ASK per target, no full scan)."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def ask(self, query: str) -> bool:
        return bool(self.store.query(query))

    def is_class(self, target: Node) -> bool:
        if isinstance(target, URIRef) and is_known_external_term(str(target)):
            return True
        if not isinstance(target, URIRef):
            return False
        iri = f"<{target}>"
        return self.ask(
            f"ASK {{ {{ {iri} a <{OWL.Class}> }} UNION {{ {iri} a <{RDFS.Class}> }} "
            f"UNION {{ [] a {iri} }} UNION {{ [] <{RDFS.subClassOf}> {iri} }} }}"
        )

    def is_property(self, target: Node) -> bool:
        if isinstance(target, URIRef) and is_known_external_term(str(target)):
            return True
        if not isinstance(target, URIRef):
            return False
        iri = f"<{target}>"
        types = " ".join(f"<{t}>" for t in PROPERTY_TYPES)
        return self.ask(f"ASK {{ {{ {iri} a ?type VALUES ?type {{ {types} }} }} UNION {{ [] {iri} [] }} }}")


def _check_targets_against(
    shapes: Shapes, node_shapes: list[Node], used: set[Node], terms: _GraphTerms | _StoreTerms
) -> None:
    for shape in node_shapes:
        targets = [(p, o) for p in TARGETS for o in shapes.graph.objects(shape, p)]
        is_class = any((shape, RDF.type, t) in shapes.graph for t in CLASS_TYPES)
        if not targets and not is_class and shape not in used:
            raise ShapesError(
                f"{shapes.where(shape)}shape <{shape}> has no target (sh:targetClass, sh:targetNode, "
                "sh:targetSubjectsOf, sh:targetObjectsOf or sh:target) and no other shape uses it, so it "
                "would never check anything"
            )
        for predicate, target in targets:
            if predicate == SH.targetClass and not terms.is_class(target):
                raise ShapesError(
                    f"{shapes.where(shape)}shape <{shape}> targets the class <{target}>, which neither the "
                    "ontology nor the data knows, so it would check nothing (a misspelt class?)"
                )
            if predicate in (SH.targetSubjectsOf, SH.targetObjectsOf) and not terms.is_property(target):
                raise ShapesError(
                    f"{shapes.where(shape)}shape <{shape}> targets the users of the property <{target}>, "
                    "which neither the ontology nor the data knows, so it would check nothing (misspelt?)"
                )


def _shapes_used_by_other_shapes(graph: Graph) -> set[Node]:
    used: set[Node] = set()
    for predicate in SHAPE_REFERENCES:
        used.update(graph.objects(None, predicate))
    for predicate in SHAPE_LISTS:
        for head in graph.objects(None, predicate):
            used.update(Collection(graph, head))
    return used


def _known_classes(data: Graph) -> set[Node]:
    declared = {s for t in CLASS_TYPES for s in data.subjects(RDF.type, t)}
    return declared | set(data.objects(None, RDF.type)) | set(data.objects(None, RDFS.subClassOf))


def _is_known_class(target: Node, classes: set[Node]) -> bool:
    return target in classes or (isinstance(target, URIRef) and is_known_external_term(str(target)))


def _is_known_property(target: Node, data: Graph) -> bool:
    if isinstance(target, URIRef) and is_known_external_term(str(target)):
        return True
    if any((target, RDF.type, t) in data for t in PROPERTY_TYPES):
        return True
    return any(True for _ in data.triples((None, target, None)))


def _check_queries(shapes: Shapes, oxigraph_first: bool = False) -> None:
    """Parse every SPARQL query of the shapes once, so a syntax error names its constraint, not a trace.

    With `oxigraph_first` (the data is validated on Oxigraph) a query Oxigraph parses is accepted at once;
    rdflib, ten times slower, parses only those it refuses, for the error message.
    """
    prefixes = shapes.prefixes()
    empty = ox.Store()
    for node, select in shapes.graph.subject_objects(SH.select):
        if oxigraph_first:
            try:
                empty.query(str(select), prefixes=prefixes)
                continue
            except SyntaxError as error:
                oxigraph_error: SyntaxError | None = error
        else:
            oxigraph_error = None
        try:
            prepareQuery(str(select), initNs=prefixes)
        except ParseException as error:
            raise ShapesError(
                f"{shapes.where(node)}the SPARQL query of <{node}> does not parse: {error.msg} "
                f"(line {error.lineno}, column {error.col} of the query)"
            ) from None
        except Exception as error:  # rdflib reports unknown prefixes and similar as plain exceptions
            raise ShapesError(
                f"{shapes.where(node)}the SPARQL query of <{node}> is not usable: {error}"
            ) from None
        if oxigraph_error is not None:
            raise ShapesError(
                f"{shapes.where(node)}the SPARQL query of <{node}> does not parse: {oxigraph_error.msg}"
            )
