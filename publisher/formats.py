"""One table of the formats cmpkg serves, and HTTP content negotiation over it (no web imports).

Each format has a short name (`format=` values), a suffix, its media types (the one cmpkg answers with first,
then aliases it accepts) and the pyoxigraph format that writes it. `negotiate()` picks, among the formats
an answer can take, the one an Accept header prefers (RFC 9110 §12.5.1: q-values, the most specific range
wins), so `application/sparql-results+xml, application/rdf+xml` means XML results for SELECT and RDF/XML for
CONSTRUCT.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

import pyoxigraph as ox


class Kind(Enum):
    """What a format can hold."""

    RESULTS = "results"  # SPARQL SELECT/ASK results
    GRAPH = "graph"  # triples
    DATASET = "dataset"  # quads (named graphs); any graph is also a dataset
    PAGE = "page"  # a page for people


@dataclass(frozen=True, eq=False)  # each format is one object: compared and hashed by identity
class Format:
    name: str  # the short name, unique: "turtle", "json", ...
    label: str
    kind: Kind
    suffix: str
    media_types: tuple[str, ...]  # the one cmpkg answers with first, then aliases it accepts
    names: tuple[str, ...]  # values of `format=` that mean this format (the name first)
    rdf_format: ox.RdfFormat | None = None
    results_format: ox.QueryResultsFormat | None = None

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    @property
    def content_type(self) -> str:
        """The Content-Type header value: text/* formats say their charset."""
        return f"{self.media_type}; charset=utf-8" if self.media_type.startswith("text/") else self.media_type

    @property
    def iri(self) -> str | None:
        """The format's IRI in http://www.w3.org/ns/formats/, as SPARQL Service Description uses it."""
        if self.rdf_format == ox.RdfFormat.JSON_LD:
            return "http://www.w3.org/ns/formats/JSON-LD"  # pyoxigraph 0.5 says .../formats/data/JSON-LD
        known = self.rdf_format or self.results_format
        return known.iri if known is not None else None


JSON = Format(
    "json",
    "SPARQL JSON results",
    Kind.RESULTS,
    ".srj",
    ("application/sparql-results+json", "application/json"),
    ("json", "srj"),
    results_format=ox.QueryResultsFormat.JSON,
)
XML = Format(
    "xml",
    "SPARQL XML results",
    Kind.RESULTS,
    ".srx",
    ("application/sparql-results+xml", "application/xml", "text/xml"),
    ("xml", "srx"),
    results_format=ox.QueryResultsFormat.XML,
)
CSV = Format(
    "csv", "CSV", Kind.RESULTS, ".csv", ("text/csv",), ("csv",), results_format=ox.QueryResultsFormat.CSV
)
TSV = Format(
    "tsv",
    "TSV",
    Kind.RESULTS,
    ".tsv",
    ("text/tab-separated-values",),
    ("tsv",),
    results_format=ox.QueryResultsFormat.TSV,
)
TURTLE = Format(
    "turtle",
    "Turtle",
    Kind.GRAPH,
    ".ttl",
    ("text/turtle", "application/x-turtle", "application/turtle"),
    ("turtle", "ttl", "n3"),  # SPARQLWrapper asks N3 with format=n3; Turtle is N3
    rdf_format=ox.RdfFormat.TURTLE,
)
N_TRIPLES = Format(
    "ntriples",
    "N-Triples",
    Kind.GRAPH,
    ".nt",
    ("application/n-triples", "text/plain"),  # text/plain: N-Triples' media type before 2014
    ("ntriples", "nt", "n-triples"),
    rdf_format=ox.RdfFormat.N_TRIPLES,
)
JSON_LD = Format(
    "jsonld",
    "JSON-LD",
    Kind.GRAPH,
    ".jsonld",
    ("application/ld+json", "application/x-json+ld", "application/json"),
    ("jsonld", "json-ld", "json"),
    rdf_format=ox.RdfFormat.JSON_LD,
)
RDF_XML = Format(
    "rdfxml",
    "RDF/XML",
    Kind.GRAPH,
    ".rdf",
    ("application/rdf+xml", "application/xml", "text/xml"),
    ("rdfxml", "rdf", "rdf+xml", "xml"),
    rdf_format=ox.RdfFormat.RDF_XML,
)
TRIG = Format(
    "trig",
    "TriG",
    Kind.DATASET,
    ".trig",
    ("application/trig", "application/x-trig"),
    ("trig",),
    rdf_format=ox.RdfFormat.TRIG,
)
N_QUADS = Format(
    "nquads",
    "N-Quads",
    Kind.DATASET,
    ".nq",
    ("application/n-quads", "text/x-nquads"),
    ("nquads", "nq", "n-quads"),
    rdf_format=ox.RdfFormat.N_QUADS,
)
HTML = Format("html", "HTML", Kind.PAGE, ".html", ("text/html", "application/xhtml+xml"), ("html",))
TEXT = Format("text", "Plain text", Kind.PAGE, ".txt", ("text/plain",), ("text",))  # messages, not data

FORMATS: tuple[Format, ...] = (JSON, XML, CSV, TSV, TURTLE, N_TRIPLES, JSON_LD, RDF_XML, TRIG, N_QUADS, HTML)
FORMATS_BY_NAME = {f.name: f for f in FORMATS}

RESULTS_FORMATS: tuple[Format, ...] = (JSON, XML, CSV, TSV)
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML)
DATASET_FORMATS: tuple[Format, ...] = (TRIG, N_QUADS)
# A graph written as a dataset is the dataset's default graph, so a graph answer may take either.
RDF_FORMATS: tuple[Format, ...] = GRAPH_FORMATS + DATASET_FORMATS


# RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


class UnknownFormatError(ValueError):
    """A `format=` value names no format cmpkg knows."""

    def __init__(self, values: Sequence[str]) -> None:
        known = ", ".join(sorted({n for f in FORMATS for n in f.names}))
        super().__init__(f"unknown format {', '.join(map(repr, values))}; use one of {known} or a media type")


def by_suffix(suffix: str) -> Format | None:
    return next((f for f in FORMATS if f.suffix == suffix.lower()), None)


def by_name(values: Iterable[str], candidates: Sequence[Format]) -> Format | None:
    """The candidate a `format=` value names (a short name or a media type), trying each value in turn.

    None when the values name known formats none of which is a candidate (nothing acceptable: 406);
    UnknownFormatError when no value names any format at all (a bad request: 400).
    """
    values = [v.strip().lower() for v in values if v.strip()]
    known = False
    for value in values:
        media_type = value.split(";", 1)[0].strip() if "/" in value else None
        for fmt in candidates:
            if value in fmt.names or media_type in fmt.media_types:
                return fmt
        known = known or any(value in f.names or media_type in f.media_types for f in FORMATS)
    if values and not known:
        raise UnknownFormatError(values)
    return None


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    position: int

    @property
    def specificity(self) -> int:
        return 0 if self.type == "*" else 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        kind, _, sub = media_type.partition("/")
        return self.type == "*" or (self.type == kind and self.subtype in ("*", sub))


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed members (a q that is not a qvalue too) are ignored,
    as RFC 9110 lets us."""
    ranges = []
    for position, member in enumerate((header or "").split(",")):
        media, *params = (part.strip() for part in member.split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q = _qvalue(params)
        if q is not None:
            ranges.append(MediaRange(kind, sub, q, position))
    return ranges


def _qvalue(params: Iterable[str]) -> float | None:
    """A member's q (1 when it has none); None when its q is not a qvalue (NaN, 2, -1, 0.5000, ...)."""
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            if not QVALUE.fullmatch(value.strip()):
                return None
            q = float(value)
    return q


def negotiate(accept_header: str | None, candidates: Sequence[Format]) -> Format | None:
    """The candidate the Accept header prefers (see _negotiate), remembered: clients repeat their headers."""
    if accept_header is not None and len(accept_header) > 500:  # unusual: not worth keeping
        return _negotiate.__wrapped__(accept_header, tuple(candidates))
    return _negotiate(accept_header, tuple(candidates))


@functools.lru_cache(maxsize=512)
def _negotiate(accept_header: str | None, candidates: tuple[Format, ...]) -> Format | None:
    """The candidate the Accept header prefers; the first candidate when there is no Accept header.

    Each of a format's media types takes the q of the most specific range matching it (an alias only when
    named exactly); the format takes its best media type's q. Ties go to the more specific match, then to
    the range listed first, then to the candidate listed first. None means nothing is acceptable (406).
    """
    ranges = parse_accept(accept_header)
    if not ranges:
        return candidates[0] if candidates else None
    best: tuple[float, int, int, int] | None = None
    chosen = None
    for order, fmt in enumerate(candidates):
        for index, media_type in enumerate(fmt.media_types):
            # An alias counts only when named: text/* means CSV, not XML results as text/xml.
            matching = [r for r in ranges if r.matches(media_type) and (index == 0 or r.specificity == 2)]
            if not matching:
                continue
            top = max(r.specificity for r in matching)
            ranked = [r for r in matching if r.specificity == top]
            q = max(r.q for r in ranked)
            position = min(r.position for r in ranked if r.q == q)
            key = (q, top, -position, -order)
            if q > 0 and (best is None or key > best):
                best, chosen = key, fmt
    return chosen
