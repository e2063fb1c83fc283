"""A taxon: its names, the CMPs that target it (asserted, then claimed), its populations, and its external
identifiers with their confidence and source. No web imports."""

from __future__ import annotations

from dataclasses import dataclass

from publisher.namespaces import CMP_PATH
from publisher.pages.reader import Reader
from publisher.pages.records import (
    ClaimView,
    CmpRef,
    IdentifierView,
    PopulationView,
    claimed,
    claimed_cmps,
    claims_about,
    cmp_refs,
    identifiers_of,
    populations,
)


@dataclass(frozen=True)
class TaxonView:
    iri: str
    name: str
    scientific_name: str | None
    vernacular: tuple[str, ...]
    rank: str | None
    targeted_by: tuple[CmpRef, ...]  # asserted first, then claimed
    populations: tuple[PopulationView, ...]
    identifiers: tuple[IdentifierView, ...]
    claims: tuple[ClaimView, ...]


def taxon_view(reader: Reader, iri: str) -> TaxonView:
    cmp = reader.base + CMP_PATH
    info = reader.first(
        """SELECT ?scientific ?rank WHERE {
          OPTIONAL { $this dwc:scientificName ?scientific } OPTIONAL { $this dwc:taxonRank ?rank }
        } LIMIT 1""",
        this=iri,
    )
    claims = claims_about(reader, iri)
    return TaxonView(
        iri=iri,
        name=reader.name(iri),
        scientific_name=info.get("scientific"),
        vernacular=tuple(reader.values([iri], "dwc:vernacularName").get(iri, [])),
        rank=info.get("rank"),
        targeted_by=(
            *cmp_refs(reader, "?cmp cmp:targetTaxon $this", iri),
            *claimed_cmps(reader, claimed(claims, cmp + "targetTaxon", iri)),
        ),
        populations=tuple(populations(reader, "?pop cmp:ofTaxon $this", iri)),
        identifiers=tuple(identifiers_of(reader, iri)),
        claims=tuple(claims),
    )
