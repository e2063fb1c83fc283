"""What the synthetic data borrows from the real data: parties, countries, taxa, vocabularies, plans.

The generator links to these real resources (by their IRIs under the chosen base) instead of inventing
look-alikes, so that joins from synthetic items to real parties, countries and statuses are the same joins
the real data makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from publisher.site import Site

PREFIXES = """
PREFIX cmp: <ontology#>
PREFIX dwc: <http://rs.tdwg.org/dwc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX p-plan: <http://purl.org/net/p-plan#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


class MissingReferenceData(ValueError):
    """The real data lacks something the generator needs."""


@dataclass(frozen=True)
class Party:
    iri: str
    name: str  # the name a plan's responsible-parties cell uses for it
    weight: int  # parties the real plans name are picked more often


@dataclass(frozen=True)
class PlanItem:
    iri: str
    key: str  # "{period}/{number}", the tail of a carry-over IRI
    leaf: bool


@dataclass(frozen=True)
class Reference:
    programme: str
    parties: tuple[Party, ...]
    bodies: tuple[str, ...]
    advisers: tuple[str, ...]  # bodies that advise every real CMP (the Scientific Committee)
    countries: tuple[Party, ...]
    taxa: tuple[str, ...]
    progress_statuses: dict[str, str]  # concept slug -> IRI
    cmp_statuses: dict[str, str]
    confidences: dict[str, str]
    carry_over_bases: dict[str, str]
    latest_plan: str
    real_items: tuple[PlanItem, ...]


def _store(site: Site, base: str) -> ox.Store:
    store = ox.Store()
    for path in site.ontology_files() + site.data_files():
        store.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base)
    return store


def _rows(store: ox.Store, base: str, query: str) -> list[list[str]]:
    solutions = store.query(PREFIXES + query, base_iri=base)
    assert isinstance(solutions, ox.QuerySolutions)
    return [[term.value if term is not None else "" for term in row] for row in solutions]


def _concepts(store: ox.Store, base: str, cls: str) -> dict[str, str]:
    rows = _rows(store, base, f"SELECT ?c WHERE {{ ?c a {cls} }} ORDER BY ?c")
    concepts = {row[0].rsplit("/", 1)[-1]: row[0] for row in rows}
    if not concepts:
        raise MissingReferenceData(f"data/vocabularies.ttl: no {cls} concepts; the generator needs them")
    return concepts


def load_reference(root: Path, base: str) -> Reference:
    """Read the real project's data under `base` (the same base the synthetic data is written under)."""
    site = Site(root)
    store = _store(site, base)
    named = {row[0] for row in _rows(store, base, "SELECT DISTINCT ?p WHERE { ?i cmp:responsibleParty ?p }")}
    parties = []
    for iri, label, alt in _rows(
        store,
        base,
        """SELECT ?p ?label (MIN(?a) AS ?alt) WHERE {
            { ?p a cmp:Body } UNION { ?p a cmp:RoleGroup }
            ?p rdfs:label ?label . OPTIONAL { ?p skos:altLabel ?a }
        } GROUP BY ?p ?label ORDER BY ?p""",
    ):
        parties.append(Party(iri, alt or label, 4 if iri in named else 1))
    countries = tuple(
        Party(iri, label, 1)
        for iri, label in _rows(
            store, base, "SELECT ?c ?label WHERE { ?c a cmp:Country ; rdfs:label ?label } ORDER BY ?c"
        )
    )
    taxa = tuple(row[0] for row in _rows(store, base, "SELECT ?t WHERE { ?t a dwc:Taxon } ORDER BY ?t"))
    bodies = tuple(row[0] for row in _rows(store, base, "SELECT ?b WHERE { ?b a cmp:Body } ORDER BY ?b"))
    advisers = tuple(
        row[0]
        for row in _rows(
            store,
            base,
            """SELECT ?b WHERE { ?b a cmp:Body . FILTER NOT EXISTS {
                ?c a cmp:ConservationManagementPlan FILTER NOT EXISTS { ?b cmp:advises ?c } } }
            ORDER BY ?b""",
        )
    )
    programmes = _rows(store, base, "SELECT ?p WHERE { ?p a cmp:Programme } ORDER BY ?p")
    latest = _rows(
        store,
        base,
        "SELECT ?p WHERE { ?p a cmp:ActionPlan FILTER NOT EXISTS { ?later cmp:follows ?p } } ORDER BY ?p",
    )
    items = tuple(
        PlanItem(iri, iri.split("/plan/", 1)[-1], leaf == "true")
        for iri, leaf in _rows(
            store,
            base,
            """SELECT ?i (NOT EXISTS { ?c cmp:partOf ?i } AS ?leaf) WHERE {
                ?i p-plan:isStepOfPlan ?plan } ORDER BY ?i""",
        )
        if "/plan/" in iri
    )
    missing = [
        what
        for what, found in (
            ("a cmp:Programme", programmes),
            ("a cmp:ActionPlan", latest),
            ("cmp:Body or cmp:RoleGroup parties", parties),
            ("cmp:Country countries", countries),
            ("dwc:Taxon taxa", taxa),
        )
        if not found
    ]
    if missing:
        raise MissingReferenceData(
            f"{root}: the real data has no {', '.join(missing)}; the generator links to them"
        )
    return Reference(
        programme=programmes[0][0],
        parties=tuple(parties),
        bodies=bodies,
        advisers=advisers,
        countries=countries,
        taxa=taxa,
        progress_statuses=_concepts(store, base, "cmp:ProgressStatus"),
        cmp_statuses=_concepts(store, base, "cmp:CMPStatus"),
        confidences=_concepts(store, base, "cmp:Confidence"),
        carry_over_bases=_concepts(store, base, "cmp:CarryOverBasis"),
        latest_plan=latest[-1][0],
        real_items=items,
    )
