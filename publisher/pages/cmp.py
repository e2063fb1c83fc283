"""A Conservation Management Plan: species and populations, range states, coordinator, status, endorsement,
claims, sources and IWC page. No web imports."""

from __future__ import annotations

from dataclasses import dataclass, replace

from publisher.namespaces import CMP_PATH
from publisher.pages.reader import Link, Reader
from publisher.pages.records import (
    ClaimView,
    PopulationView,
    TaxonRef,
    claimed,
    claims_about,
    populations,
    taxon_refs,
)


@dataclass(frozen=True)
class MemberRef:
    """A country or party in a role on the CMP, asserted, or claimed (then `claim` says how sure)."""

    link: Link
    since: str | None = None
    claim: ClaimView | None = None


@dataclass(frozen=True)
class CmpView:
    iri: str
    name: str
    other_names: tuple[str, ...]
    status: Link | None
    year_endorsed: str | None
    year_claims: tuple[ClaimView, ...]
    taxa: tuple[TaxonRef, ...]  # asserted first, then claimed
    populations: tuple[PopulationView, ...]
    range_states: tuple[MemberRef, ...]  # asserted first, then claimed
    coordinators: tuple[MemberRef, ...]  # asserted first, then claimed
    advised_by: tuple[Link, ...]
    claims: tuple[ClaimView, ...]
    sources: tuple[Link, ...]
    iwc_page: Link | None


def cmp_view(reader: Reader, iri: str) -> CmpView:
    cmp = reader.base + CMP_PATH
    info = reader.first(
        """SELECT ?status ?year ?url WHERE {
          OPTIONAL { $this cmp:status ?status } OPTIONAL { $this cmp:yearEndorsed ?year }
          OPTIONAL { $this schema:url ?url }
        } LIMIT 1""",
        this=iri,
    )
    taxa = [r["taxon"] for r in reader.rows("SELECT ?taxon { $this cmp:targetTaxon ?taxon }", this=iri)]
    states = [
        r["country"] for r in reader.rows("SELECT ?country { $this cmp:rangeState ?country }", this=iri)
    ]
    coordinators = reader.rows(
        "SELECT ?party ?since { $this cmp:coordinator ?party OPTIONAL { $this cmp:coordinatorSince ?since } }"
        " ORDER BY ?party",
        this=iri,
    )
    advisers = [r["body"] for r in reader.rows("SELECT ?body { ?body cmp:advises $this }", this=iri)]
    sources = reader.values([iri], "dct:source").get(iri, [])
    claims = claims_about(reader, iri)
    claimed_taxa = [(c, taxon) for c in claimed(claims, cmp + "targetTaxon") if (taxon := c.object.iri)]
    # The asserted and the claimed taxa read together (a query per property for all of them); the reader
    # keeps what it read, so listing the asserted ones below asks nothing again.
    by_iri = {ref.link.iri: ref for ref in taxon_refs(reader, [*taxa, *(t for _, t in claimed_taxa)])}
    reader.names([iri, *states, *advisers, *sources, *(r["party"] for r in coordinators)])
    url = info.get("url")
    return CmpView(
        iri=iri,
        name=reader.name(iri),
        other_names=reader.names([iri])[iri].alt,
        status=reader.link(info["status"]) if "status" in info else None,
        year_endorsed=info.get("year"),
        year_claims=tuple(sorted(claimed(claims, cmp + "yearEndorsed"), key=lambda c: c.object.text)),
        taxa=(
            *taxon_refs(reader, taxa),
            *(replace(by_iri[taxon], claim=claim) for claim, taxon in claimed_taxa),
        ),
        populations=tuple(populations(reader, "$this cmp:targetPopulation ?pop", iri)),
        range_states=(
            *(MemberRef(link) for link in reader.links(states)),
            *(MemberRef(c.object, claim=c) for c in claimed(claims, cmp + "rangeState")),
        ),
        coordinators=(
            *(MemberRef(reader.link(r["party"]), r.get("since")) for r in coordinators),
            *(MemberRef(c.object, claim=c) for c in claimed(claims, cmp + "coordinator")),
        ),
        advised_by=reader.links(advisers),
        claims=tuple(claims),
        sources=tuple(sorted((reader.source(s) for s in sources), key=lambda link: link.text)),
        iwc_page=Link(url, reader.href(url), url) if url else None,
    )
