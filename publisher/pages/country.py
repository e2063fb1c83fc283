"""A country: the CMPs it is a range state or coordinator of (asserted, then claimed), the claims about it,
its ISO 3166-1 codes, identifiers and Wikidata link. No web imports."""

from __future__ import annotations

from dataclasses import dataclass

from publisher.namespaces import CMP_PATH
from publisher.pages.reader import Link, Reader
from publisher.pages.records import (
    ClaimView,
    CmpRef,
    IdentifierView,
    claimed,
    claimed_cmps,
    claims_about,
    cmp_refs,
    identifiers_of,
)

WIKIDATA = "http://www.wikidata.org/entity/"
CODES = (
    ("ISO 3166-1 alpha-2", "alpha2"),
    ("ISO 3166-1 alpha-3", "alpha3"),
    ("ISO 3166-1 numeric", "numeric"),
)


@dataclass(frozen=True)
class CountryView:
    iri: str
    name: str
    codes: tuple[tuple[str, str], ...]  # (what, code)
    range_state_of: tuple[CmpRef, ...]  # asserted first, then claimed
    coordinator_of: tuple[CmpRef, ...]  # asserted first, then claimed
    claims: tuple[ClaimView, ...]
    identifiers: tuple[IdentifierView, ...]
    wikidata: Link | None


def country_view(reader: Reader, iri: str) -> CountryView:
    cmp = reader.base + CMP_PATH
    code = reader.first(
        """SELECT ?alpha2 ?alpha3 ?numeric WHERE {
          OPTIONAL { $this cmp:alpha2 ?alpha2 } OPTIONAL { $this cmp:alpha3 ?alpha3 }
          OPTIONAL { $this cmp:numericCode ?numeric }
        } LIMIT 1""",
        this=iri,
    )
    claims = claims_about(reader, iri)
    identifiers = identifiers_of(reader, iri)
    wikidata = next((i.url for i in identifiers if i.scheme.casefold() == "wikidata" and i.url), None)
    if wikidata is None:
        matches = reader.values([iri], "skos:exactMatch").get(iri, [])
        wikidata = next((Link(m, m, m) for m in matches if m.startswith(WIKIDATA)), None)
    coordinated = "?cmp cmp:coordinator $this OPTIONAL { ?cmp cmp:coordinatorSince ?since }"
    return CountryView(
        iri=iri,
        name=reader.name(iri),
        codes=tuple((what, code[key]) for what, key in CODES if key in code),
        range_state_of=(
            *cmp_refs(reader, "?cmp cmp:rangeState $this", iri),
            *claimed_cmps(reader, claimed(claims, cmp + "rangeState", iri)),
        ),
        coordinator_of=(
            *cmp_refs(reader, coordinated, iri),
            *claimed_cmps(reader, claimed(claims, cmp + "coordinator", iri)),
        ),
        claims=tuple(claims),
        identifiers=tuple(identifiers),
        wikidata=wikidata,
    )
