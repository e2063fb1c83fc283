"""The vocabularies cmpkg writes, with the prefixes its Turtle uses."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SDO, SKOS, TIME, VANN, XSD

DWC = Namespace("http://rs.tdwg.org/dwc/terms/")
PPLAN = Namespace("http://purl.org/net/p-plan#")
SH = Namespace("http://www.w3.org/ns/shacl#")

# The ontology's own namespace, relative to the public base IRI.
ONTOLOGY_PATH = "ontology"
CMP_PATH = ONTOLOGY_PATH + "#"

# Prefixes of external vocabularies, in the order Turtle files declare them.
EXTERNAL_PREFIXES: dict[str, str] = {
    "dct": str(DCTERMS),
    "dwc": str(DWC),
    "foaf": str(FOAF),
    "org": str(ORG),
    "owl": str(OWL),
    "p-plan": str(PPLAN),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "schema": str(SDO),
    "sh": str(SH),
    "skos": str(SKOS),
    "time": str(TIME),
    "vann": str(VANN),
    "xsd": str(XSD),
}

__all__ = [
    "CMP_PATH",
    "DCTERMS",
    "DWC",
    "EXTERNAL_PREFIXES",
    "FOAF",
    "ONTOLOGY_PATH",
    "ORG",
    "OWL",
    "PPLAN",
    "PROV",
    "RDF",
    "RDFS",
    "SDO",
    "SH",
    "SKOS",
    "TIME",
    "VANN",
    "XSD",
]


def compact_iri(iri: str, base: str) -> str:
    """A short name for people: cmp:Topic, dct:source, plan/2018-2020 (under the base), else the IRI."""
    if iri.startswith(base + CMP_PATH) and len(iri) > len(base + CMP_PATH):
        return "cmp:" + iri[len(base + CMP_PATH) :]
    for prefix, namespace in EXTERNAL_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri[len(base) :] if iri.startswith(base) else iri
