"""Terms of the external vocabularies cmpkg knows.

cmpkg's own terms are declared in ``ontology/cmp.ttl``; everything else it writes comes from standard
vocabularies. This module answers "is this IRI a term of a known external vocabulary?" so that linters can
tell a reused term (``dct:title``) from a typo (``dct:titel``) or an undeclared invention.

The term lists of the vocabularies rdflib ships as closed ``DefinedNamespace`` classes (RDF, RDFS, OWL, XSD,
SKOS, Dublin Core terms, PROV, ORG, OWL-Time, FOAF, schema.org, VANN, DCAT, VoID, SHACL) are read from
rdflib; Darwin Core and P-Plan, which rdflib does not ship, are listed here. An IRI in any other namespace is
not known.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import MappingProxyType

from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SH,
    SKOS,
    TIME,
    VANN,
    VOID,
    XSD,
    DefinedNamespace,
)

__all__ = [
    "DWC_NAMESPACE",
    "KNOWN_VOCABULARIES",
    "P_PLAN_NAMESPACE",
    "is_known_external_term",
    "known_namespace",
]

DWC_NAMESPACE = "http://rs.tdwg.org/dwc/terms/"
P_PLAN_NAMESPACE = "http://purl.org/net/p-plan#"

_DWC_TERMS = frozenset(
    {
        # classes
        "Event",
        "Occurrence",
        "Organism",
        "Taxon",
        # taxon properties
        "acceptedNameUsage",
        "acceptedNameUsageID",
        "class",
        "family",
        "genus",
        "higherClassification",
        "infraspecificEpithet",
        "kingdom",
        "nameAccordingTo",
        "namePublishedIn",
        "order",
        "parentNameUsage",
        "parentNameUsageID",
        "phylum",
        "scientificName",
        "scientificNameAuthorship",
        "scientificNameID",
        "specificEpithet",
        "subfamily",
        "subgenus",
        "taxonID",
        "taxonRank",
        "taxonRemarks",
        "taxonomicStatus",
        "vernacularName",
    }
)

_P_PLAN_TERMS = frozenset(
    {
        # classes
        "Activity",
        "Bundle",
        "Entity",
        "MultiStep",
        "Plan",
        "Step",
        "Variable",
        # properties
        "correspondsToStep",
        "correspondsToVariable",
        "hasInputVar",
        "hasOutputVar",
        "isDecomposedAsPlan",
        "isInputVarOf",
        "isOutputVarOf",
        "isPrecededBy",
        "isStepOfPlan",
        "isSubPlanOfPlan",
        "isVariableOfPlan",
    }
)

_RDFLIB_NAMESPACES: tuple[type[DefinedNamespace], ...] = (
    RDF,
    RDFS,
    OWL,
    XSD,
    SKOS,
    DCTERMS,
    PROV,
    ORG,
    TIME,
    FOAF,
    SDO,
    VANN,
    DCAT,
    VOID,
    SH,
)


def _defined_names(ns: type[DefinedNamespace]) -> frozenset[str]:
    """The local names a rdflib ``DefinedNamespace`` declares, including its non-identifier extras."""
    names: set[str] = set()
    for cls in ns.mro():
        if isinstance(cls, type) and issubclass(cls, DefinedNamespace) and cls is not DefinedNamespace:
            names.update(name for name in inspect.get_annotations(cls) if not name.startswith("_"))
            extras: list[str] = getattr(cls, "_extras", [])
            names.update(extras)
    return frozenset(names)


def _build_vocabularies() -> Mapping[str, frozenset[str]]:
    vocabularies: dict[str, frozenset[str]] = {str(ns): _defined_names(ns) for ns in _RDFLIB_NAMESPACES}
    vocabularies[DWC_NAMESPACE] = _DWC_TERMS
    vocabularies[P_PLAN_NAMESPACE] = _P_PLAN_TERMS
    return MappingProxyType(vocabularies)


KNOWN_VOCABULARIES: Mapping[str, frozenset[str]] = _build_vocabularies()
"""Namespace IRI -> the local names of the terms it defines."""

# Longest namespace first, so that a namespace that is a prefix of another cannot shadow it.
_NAMESPACES_LONGEST_FIRST = tuple(sorted(KNOWN_VOCABULARIES, key=len, reverse=True))


def known_namespace(iri: str) -> str | None:
    """The known vocabulary namespace ``iri`` is in, or None if it is in none of them."""
    for namespace in _NAMESPACES_LONGEST_FIRST:
        if iri.startswith(namespace):
            return namespace
    return None


def _is_container_membership_property(local_name: str) -> bool:
    """``rdf:_1``, ``rdf:_2``, ...: RDF's open-ended container membership properties."""
    digits = local_name[1:]
    return local_name.startswith("_") and digits.isascii() and digits.isdigit() and not digits.startswith("0")


def is_known_external_term(iri: str) -> bool:
    """True if ``iri`` is a term defined by one of the known external vocabularies.

    The namespace must be known and the local name must be one of its terms, so misspellings such as
    ``http://purl.org/dc/terms/titel`` are not known. IRIs in other namespaces (including cmpkg's own
    ``ontology#``) are never known external terms.
    """
    namespace = known_namespace(iri)
    if namespace is None:
        return False
    local_name = iri[len(namespace) :]
    if local_name in KNOWN_VOCABULARIES[namespace]:
        return True
    return namespace == str(RDF) and _is_container_membership_property(local_name)
