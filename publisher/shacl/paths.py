"""SHACL property paths as SPARQL property paths."""

from __future__ import annotations

from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.term import Node

from publisher.namespaces import SH
from publisher.shacl.terms import sparql_term


class UnsupportedPath(ValueError):
    """A path form the fast engine does not compile."""


def sparql_path(graph: Graph, path: Node) -> str:
    """The SPARQL text of a SHACL path: a predicate, an inverse, a sequence or alternatives of those."""
    if isinstance(path, URIRef):
        return sparql_term(path)
    if not isinstance(path, BNode):
        raise UnsupportedPath(f"the path {path!r} is neither an IRI nor a blank node")
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return f"^({sparql_path(graph, inverse)})"
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(sparql_path(graph, p) for p in Collection(graph, alternatives)) + ")"
    if graph.value(path, RDF.first) is not None:
        return "(" + "/".join(sparql_path(graph, p) for p in Collection(graph, path)) + ")"
    kinds = sorted(str(p).rsplit("#", 1)[-1] for p in set(graph.predicates(path)))
    raise UnsupportedPath(f"the path form sh:{', sh:'.join(kinds) or '(empty)'}")
