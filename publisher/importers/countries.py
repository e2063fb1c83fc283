"""Countries from pycountry (ISO 3166-1), with the Wikidata IRIs the reference table records."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pycountry
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SDO, SKOS

from publisher.importers.plan_table import TableError
from publisher.iris import Iris

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
COLUMNS = ["alpha2", "wikidata", "source", "confidence"]


@dataclass(frozen=True)
class CountryRow:
    alpha2: str
    wikidata: str
    source: str
    confidence: str
    line: int


def read_country_table(path: Path) -> list[CountryRow]:
    """The table of countries to publish: ISO alpha-2 code, Wikidata Q-id, its source and confidence."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if reader.fieldnames != COLUMNS:
            raise TableError(path, 1, f"the header must be {' / '.join(COLUMNS)}, got {reader.fieldnames}")
        seen: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            code = (row["alpha2"] or "").strip().upper()
            if pycountry.countries.get(alpha_2=code) is None:
                raise TableError(path, line, f"{code!r} is not an ISO 3166-1 alpha-2 code")
            if code in seen:
                raise TableError(path, line, f"{code} is listed twice (first on line {seen[code]})")
            seen[code] = line
            qid = (row["wikidata"] or "").strip()
            if qid and not (qid.startswith("Q") and qid[1:].isdigit()):
                raise TableError(path, line, f"{qid!r} is not a Wikidata Q-id like 'Q414'")
            if qid and not row["source"]:
                raise TableError(path, line, f"the Wikidata id of {code} needs a source")
            rows.append(
                CountryRow(code, qid, (row["source"] or "").strip(), (row["confidence"] or "").strip(), line)
            )
    return rows


def countries_graph(rows: list[CountryRow], iris: Iris) -> Graph:
    """One cmp:Country per row, named and coded by pycountry; Wikidata as a sourced identifier record."""
    cmp = iris.cmp
    graph = Graph()
    for row in rows:
        country = pycountry.countries.get(alpha_2=row.alpha2)
        if country is None:  # read_country_table checked every code
            raise TableError("country table", row.line, f"{row.alpha2!r} is not an ISO 3166-1 alpha-2 code")
        node = iris.country(row.alpha2)
        name = getattr(country, "common_name", None) or country.name
        graph.add((node, RDF.type, cmp.Country))
        graph.add((node, RDFS.label, Literal(name, lang="en")))
        graph.add((node, SKOS.prefLabel, Literal(name, lang="en")))
        if getattr(country, "official_name", None):
            graph.add((node, SKOS.altLabel, Literal(country.official_name, lang="en")))
        if name != country.name:
            graph.add((node, SKOS.altLabel, Literal(country.name, lang="en")))
        graph.add((node, cmp.alpha2, Literal(country.alpha_2)))
        graph.add((node, cmp.alpha3, Literal(country.alpha_3)))
        graph.add((node, cmp.numericCode, Literal(country.numeric)))
        graph.add((node, DCTERMS.source, URIRef("https://www.iso.org/iso-3166-country-codes.html")))
        if row.wikidata:
            entity = URIRef(WIKIDATA_ENTITY + row.wikidata)
            identifier = iris.country_identifier(row.alpha2, "wikidata")
            graph.add((node, cmp.identifier, identifier))
            graph.add((node, SKOS.exactMatch, entity))
            graph.add((identifier, RDF.type, cmp.ExternalIdentifier))
            graph.add((identifier, RDFS.label, Literal(f"Wikidata {row.wikidata} ({name})", lang="en")))
            graph.add((identifier, SDO.propertyID, Literal("Wikidata")))
            graph.add((identifier, SDO.value, Literal(row.wikidata)))
            graph.add((identifier, SDO.url, entity))
            graph.add((identifier, DCTERMS.source, URIRef(row.source)))
            if row.confidence:
                graph.add((identifier, cmp.confidence, iris.vocab("confidence", row.confidence)))
    return graph
