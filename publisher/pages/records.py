"""Pieces the CMP, country and taxon views share: claims, external identifiers, CMPs, populations, taxa.

A claim (cmp:Claim) is shown with its confidence and sources and is never presented as a fact: views list
claimed values after asserted ones, each marked with the claim it comes from. No web imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from publisher.pages.reader import Link, Reader, is_true, segment


@dataclass(frozen=True)
class ClaimView:
    """A cmp:Claim: a statement published with its confidence, not asserted."""

    link: Link  # the claim's page; its text is the statement
    subject: Link
    predicate: Link
    object: Link  # a literal object has no href and no IRI
    confidence: Link | None
    note: str | None
    sources: tuple[Link, ...]


@dataclass(frozen=True)
class IdentifierView:
    scheme: str
    value: str
    url: Link | None
    confidence: Link | None
    sources: tuple[Link, ...]
    note: str | None
    link: Link  # the identifier record's page


@dataclass(frozen=True)
class CmpRef:
    """A CMP in some relation to the entity, asserted, or claimed (then `claim` says how sure)."""

    link: Link
    status: Link | None
    since: str | None = None
    claim: ClaimView | None = None


@dataclass(frozen=True)
class TaxonRef:
    link: Link
    scientific_name: str | None
    vernacular: tuple[str, ...]
    claim: ClaimView | None = None


@dataclass(frozen=True)
class PopulationView:
    link: Link
    description: str | None
    taxon: TaxonRef | None
    targeted_by: tuple[Link, ...] = ()


def claims_about(reader: Reader, iri: str) -> list[ClaimView]:
    """The claims whose subject or object is the resource, by statement."""
    rows = reader.rows(
        """SELECT ?claim ?subject ?predicate ?object ?objectIsIri ?confidence ?note WHERE {
          { ?claim rdf:subject $this } UNION { ?claim rdf:object $this }
          ?claim a cmp:Claim ; rdf:subject ?subject ; rdf:predicate ?predicate ; rdf:object ?object .
          BIND (isIRI(?object) AS ?objectIsIri)
          OPTIONAL { ?claim cmp:confidence ?confidence }
          OPTIONAL { ?claim skos:note ?note }
        }""",
        this=iri,
    )
    sources = reader.values((r["claim"] for r in rows), "dct:source")
    reader.names(
        [r[k] for r in rows for k in ("claim", "subject", "predicate", "confidence") if k in r]
        + [r["object"] for r in rows if is_true(r.get("objectIsIri"))]
        + [s for found in sources.values() for s in found]
    )
    claims: dict[str, ClaimView] = {}
    for row in rows:
        claim = row["claim"]
        if claim in claims:
            continue
        statement = reader.name(claim).removeprefix("Claim: ")
        value = row["object"]
        claims[claim] = ClaimView(
            link=reader.link(claim, statement[:1].upper() + statement[1:]),
            subject=reader.link(row["subject"]),
            predicate=reader.link(row["predicate"]),
            object=reader.link(value) if is_true(row.get("objectIsIri")) else Link(value, None),
            confidence=reader.link(row["confidence"]) if "confidence" in row else None,
            note=row.get("note"),
            sources=tuple(reader.source(s) for s in sources.get(claim, [])),
        )
    return sorted(claims.values(), key=lambda c: c.link.text.casefold())


def claimed(claims: list[ClaimView], predicate: str, obj: str | None = None) -> list[ClaimView]:
    """The claims of one predicate (and about one object, if given)."""
    return [c for c in claims if c.predicate.iri == predicate and (obj is None or c.object.iri == obj)]


def identifiers_of(reader: Reader, iri: str) -> list[IdentifierView]:
    """The resource's cmp:ExternalIdentifier records, by scheme."""
    rows = reader.rows(
        """SELECT ?id ?scheme ?value ?url ?confidence ?note WHERE {
          $this cmp:identifier ?id .
          OPTIONAL { ?id schema:propertyID ?scheme } OPTIONAL { ?id schema:value ?value }
          OPTIONAL { ?id schema:url ?url } OPTIONAL { ?id cmp:confidence ?confidence }
          OPTIONAL { ?id skos:note ?note }
        }""",
        this=iri,
    )
    sources = reader.values((r["id"] for r in rows), "dct:source")
    reader.names([r["confidence"] for r in rows if "confidence" in r])
    found: dict[str, IdentifierView] = {}
    for row in rows:
        if row["id"] in found:
            continue
        url = row.get("url")
        found[row["id"]] = IdentifierView(
            scheme=row.get("scheme", segment(row["id"])),
            value=row.get("value", ""),
            url=Link(url, reader.href(url), url) if url else None,
            confidence=reader.link(row["confidence"]) if "confidence" in row else None,
            sources=tuple(reader.source(s) for s in sources.get(row["id"], [])),
            note=row.get("note"),
            link=reader.link(row["id"]),
        )
    return sorted(found.values(), key=lambda i: (i.scheme.casefold(), i.value))


def cmp_refs(reader: Reader, pattern: str, iri: str) -> list[CmpRef]:
    """The CMPs (?cmp) a graph pattern about $this finds, with their status (and ?since, if bound)."""
    rows = reader.rows(
        f"SELECT DISTINCT ?cmp ?status ?since WHERE {{ {pattern} OPTIONAL {{ ?cmp cmp:status ?status }} }}",
        this=iri,
    )
    reader.names([r[k] for r in rows for k in ("cmp", "status") if k in r])
    refs: dict[str, CmpRef] = {}
    for row in rows:
        status = reader.link(row["status"]) if "status" in row else None
        refs.setdefault(row["cmp"], CmpRef(reader.link(row["cmp"]), status, row.get("since")))
    return sorted(refs.values(), key=lambda ref: ref.link.text.casefold())


def claimed_cmps(reader: Reader, claims: list[ClaimView]) -> list[CmpRef]:
    """The CMPs the claims are about (their subjects), each with its claim."""
    statuses = reader.values([c.subject.iri for c in claims if c.subject.iri], "cmp:status")
    refs = []
    for claim in claims:
        status = next(iter(statuses.get(claim.subject.iri or "", [])), None)
        refs.append(CmpRef(claim.subject, reader.link(status) if status else None, claim=claim))
    return refs


def taxon_refs(reader: Reader, taxa: list[str]) -> list[TaxonRef]:
    """Taxa with their scientific and vernacular names, by scientific name."""
    scientific = reader.values(taxa, "dwc:scientificName")
    vernacular = reader.values(taxa, "dwc:vernacularName")
    reader.names(taxa)
    refs = [
        TaxonRef(reader.link(t), next(iter(scientific.get(t, [])), None), tuple(vernacular.get(t, ())))
        for t in taxa
    ]
    return sorted(refs, key=lambda ref: (ref.scientific_name or ref.link.text).casefold())


def populations(reader: Reader, pattern: str, iri: str) -> list[PopulationView]:
    """The populations (?pop) a graph pattern about $this finds, with the CMPs that target each."""
    rows = reader.rows(
        f"""SELECT ?pop ?description ?taxon ?cmp WHERE {{
          {pattern}
          OPTIONAL {{ ?pop dct:description ?description }}
          OPTIONAL {{ ?pop cmp:ofTaxon ?taxon }}
          OPTIONAL {{ ?cmp cmp:targetPopulation ?pop }}
        }}""",
        this=iri,
    )
    reader.names([r[k] for r in rows for k in ("pop", "cmp") if k in r])
    taxa = {
        ref.link.iri: ref for ref in taxon_refs(reader, sorted({r["taxon"] for r in rows if "taxon" in r}))
    }
    found: dict[str, PopulationView] = {}
    cmps: dict[str, list[str]] = {}
    for row in rows:
        pop = row["pop"]
        if "cmp" in row:
            cmps.setdefault(pop, []).append(row["cmp"])
        if pop not in found:
            found[pop] = PopulationView(reader.link(pop), row.get("description"), taxa.get(row.get("taxon")))
    views = [
        PopulationView(view.link, view.description, view.taxon, reader.links(cmps.get(pop, [])))
        for pop, view in found.items()
    ]
    return sorted(views, key=lambda view: view.link.text.casefold())
