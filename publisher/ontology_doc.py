"""The ontology's documentation page as data: its classes and properties, with the shapes that check them.

Read from the store with SPARQL, so it documents the ontology and shapes actually served. No web imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from publisher.links import href_for
from publisher.namespaces import compact_iri
from publisher.store import Store

PREFIXES = """
PREFIX cmp: <ontology#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX vann: <http://purl.org/vocab/vann/>
"""


@dataclass(frozen=True)
class Link:
    text: str
    href: str | None


@dataclass
class Term:
    iri: str
    name: str  # the local name after '#'
    label: str
    comment: str
    kind: str  # class, object property, datatype property
    parents: list[Link] = field(default_factory=list)
    domain: list[Link] = field(default_factory=list)
    range: list[Link] = field(default_factory=list)
    shapes: list[Link] = field(default_factory=list)  # shapes targeting the class / constraining the property
    rules: list[str] = field(default_factory=list)  # the messages of those shapes


@dataclass
class OntologyDoc:
    iri: str
    title: str
    description: str
    version: str
    prefix: str
    classes: list[Term]
    properties: list[Term]


def ontology_doc(store: Store, base: str, link_root: str = "/") -> OntologyDoc:
    ontology = base + "ontology"
    literals = "SELECT ?p ?o { <ontology> ?p ?o FILTER isLiteral(?o) }"
    header = {row["p"].value: row["o"].value for row in store.query(PREFIXES + literals, base_iri=base)}
    terms: dict[str, Term] = {}
    kinds = {"Class": "class", "ObjectProperty": "object property", "DatatypeProperty": "datatype property"}
    for row in store.query(
        PREFIXES
        + """
        SELECT ?term ?kind ?label ?comment {
          ?term rdfs:isDefinedBy <ontology> ; a ?kind ; rdfs:label ?label .
          OPTIONAL { ?term rdfs:comment ?comment }
          FILTER (?kind IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty))
        } ORDER BY ?term""",
        base_iri=base,
    ):
        iri = row["term"].value
        terms[iri] = Term(
            iri=iri,
            name=iri.rsplit("#", 1)[-1],
            label=row["label"].value,
            comment=row["comment"].value if row["comment"] is not None else "",
            kind=kinds[row["kind"].value.rsplit("#", 1)[-1]],
        )
    labels = _labels(store, base)

    def link(iri: str) -> Link:
        return Link(labels.get(iri, compact_iri(iri, base)), href_for(iri, base, link_root))

    relations = {
        "parents": "rdfs:subClassOf|rdfs:subPropertyOf",
        "domain": "rdfs:domain",
        "range": "rdfs:range",
    }
    for attribute, path in relations.items():
        for row in store.query(
            PREFIXES + f"SELECT ?term ?other {{ ?term {path} ?other FILTER isIRI(?other) }} ORDER BY ?other",
            base_iri=base,
        ):
            term = terms.get(row["term"].value)
            if term is not None:
                getattr(term, attribute).append(link(row["other"].value))
    shape_query = """
        SELECT ?term ?shape ?message {
          { ?shape sh:targetClass ?term } UNION { ?shape sh:path ?term }
          OPTIONAL { ?shape sh:message ?message }
        } ORDER BY ?shape"""
    for row in store.query(PREFIXES + shape_query, base_iri=base):
        term = terms.get(row["term"].value)
        if term is None:
            continue
        shape = link(row["shape"].value)
        if shape not in term.shapes:
            term.shapes.append(shape)
        if row["message"] is not None and row["message"].value not in term.rules:
            term.rules.append(row["message"].value)
    ordered = sorted(terms.values(), key=lambda t: t.name.lower())
    return OntologyDoc(
        iri=ontology,
        title=header.get("http://purl.org/dc/terms/title") or header.get(RDFS_LABEL, "Ontology"),
        description=header.get("http://purl.org/dc/terms/description", ""),
        version=header.get("http://www.w3.org/2002/07/owl#versionInfo", ""),
        prefix=header.get("http://purl.org/vocab/vann/preferredNamespacePrefix", ""),
        classes=[t for t in ordered if t.kind == "class"],
        properties=[t for t in ordered if t.kind != "class"],
    )


RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def _labels(store: Store, base: str) -> dict[str, str]:
    """English labels of the ontology's terms and of the shapes (the names shown for links)."""
    found: dict[str, str] = {}
    query = """SELECT ?s ?label { ?s rdfs:label ?label
                 FILTER (STRSTARTS(STR(?s), STR(<ontology#>)) || STRSTARTS(STR(?s), STR(<shapes>)))
                 FILTER (LANG(?label) IN ("en", "")) }"""
    for row in store.query(PREFIXES + query, base_iri=base):
        found.setdefault(row["s"].value, row["label"].value)
    return found
