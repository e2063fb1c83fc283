"""What the dataset holds, in numbers and lists, read from the store (no web imports)."""

from __future__ import annotations

from dataclasses import dataclass

from publisher.store import Store

PREFIXES = """
PREFIX cmp: <ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dct: <http://purl.org/dc/terms/>
"""


@dataclass(frozen=True)
class Summary:
    triples: int
    plans: list[tuple[str, str, int]]  # IRI, label, number of items
    cmps: list[tuple[str, str]]  # IRI, label
    counts: dict[str, int]  # class local name -> instances
    programme: str  # its IRI: its page lists every plan


def summarise(store: Store, base: str) -> Summary:
    plans = [
        (row["plan"].value, row["label"].value, int(row["items"].value))
        for row in store.query(
            PREFIXES
            + """
            SELECT ?plan ?label (COUNT(?item) AS ?items) WHERE {
              ?plan a cmp:ActionPlan ; rdfs:label ?label .
              OPTIONAL { ?item <http://purl.org/net/p-plan#isStepOfPlan> ?plan }
            } GROUP BY ?plan ?label ORDER BY ?plan""",
            base_iri=base,
        )
    ]
    cmps = [
        (row["cmp"].value, row["label"].value)
        for row in store.query(
            PREFIXES
            + """
            SELECT ?cmp ?label WHERE { ?cmp a cmp:ConservationManagementPlan ; rdfs:label ?label }
            ORDER BY ?label""",
            base_iri=base,
        )
    ]
    counts = {}
    for cls in ("Topic", "Action", "SubTask", "ConservationManagementPlan", "Country", "Body"):
        result = store.query(
            PREFIXES + f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a cmp:{cls} }}", base_iri=base
        )
        counts[cls] = int(next(iter(result))["n"].value)
    triples = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value)
    return Summary(triples=triples, plans=plans, cmps=cmps, counts=counts, programme=base + "programme")
