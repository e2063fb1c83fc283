"""Lint RDF data against the cmp ontology: find classes and properties that nobody declares.

A term used in the data is fine if the ontology (``ontology/cmp.ttl``) declares it with the right kind (a
class used as a class, a property used as a predicate) or if it is a term of a known external vocabulary
(see :mod:`publisher.known_terms`). Anything else is a typo (``dct:titel``) or an invention that has not
made it into the ontology (``cmp:NotAClass``).

The lint works on parsed graphs, so it is independent of the public base: parse every file with the same
base and relative IRIs resolve to the same terms.
"""

from __future__ import annotations

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from publisher.known_terms import is_known_external_term

__all__ = ["CLASS_TYPES", "PROPERTY_TYPES", "declared_classes", "declared_properties", "undeclared_terms"]

CLASS_TYPES: frozenset[URIRef] = frozenset({OWL.Class, RDFS.Class, RDFS.Datatype})
"""The types that declare a term as a class."""

PROPERTY_TYPES: frozenset[URIRef] = frozenset(
    {
        OWL.ObjectProperty,
        OWL.DatatypeProperty,
        OWL.AnnotationProperty,
        RDF.Property,
    }
)
"""The types that declare a term as a property."""


def _subjects_typed(graph: Graph, types: frozenset[URIRef]) -> frozenset[URIRef]:
    return frozenset(
        subject
        for rdf_type in types
        for subject in graph.subjects(RDF.type, rdf_type)
        if isinstance(subject, URIRef)
    )


def declared_classes(ontology_graph: Graph) -> frozenset[URIRef]:
    """The IRIs the ontology declares as classes."""
    return _subjects_typed(ontology_graph, CLASS_TYPES)


def declared_properties(ontology_graph: Graph) -> frozenset[URIRef]:
    """The IRIs the ontology declares as properties."""
    return _subjects_typed(ontology_graph, PROPERTY_TYPES)


def undeclared_terms(data_graph: Graph, ontology_graph: Graph) -> set[str]:
    """The classes and predicates used in ``data_graph`` that are neither declared nor known.

    A class is every IRI object of ``rdf:type``; it must be declared as a class in ``ontology_graph`` or be
    a known external term. A predicate must be declared as a property in ``ontology_graph`` or be a known
    external term. Returns the offending IRIs; an empty set means the data is clean.
    """
    classes = declared_classes(ontology_graph)
    properties = declared_properties(ontology_graph)
    offenders: set[str] = set()
    for rdf_class in set(data_graph.objects(None, RDF.type)):
        if (
            isinstance(rdf_class, URIRef)
            and rdf_class not in classes
            and not is_known_external_term(rdf_class)
        ):
            offenders.add(str(rdf_class))
    for predicate in set(data_graph.predicates()):
        if (
            isinstance(predicate, URIRef)
            and predicate not in properties
            and not is_known_external_term(predicate)
        ):
            offenders.add(str(predicate))
    return offenders
