"""Terms between Oxigraph, rdflib and SPARQL text."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from publisher.rdf_files import to_rdflib

__all__ = ["sparql_term", "to_ox", "to_rdflib"]


def sparql_term(node: Node) -> str:
    """An rdflib IRI or literal as SPARQL text (blank nodes cannot be named in a query)."""
    if isinstance(node, URIRef):
        return f"<{_escape_iri(str(node))}>"
    if isinstance(node, Literal):
        return str(to_ox(node))
    raise TypeError(f"a {type(node).__name__} cannot be written in a SPARQL query")


def to_ox(node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as the Oxigraph term with the same meaning."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise TypeError(f"cmpkg does not handle {type(node).__name__} terms")


def _escape_iri(iri: str) -> str:
    return "".join(f"\\u{ord(c):04X}" if c in '<>"{}|^`\\' or ord(c) <= 0x20 else c for c in iri)
