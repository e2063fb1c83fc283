"""The SPARQL endpoint's core: its limits, and answering one protocol request (no web imports).

The view (views/sparql.py) reads the HTTP request and picks the formats; `answer_query()` refuses what a
read-only, bounded endpoint must refuse, then runs the query on the store with the timeout and row limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from publisher.config import Settings
from publisher.formats import RDF_FORMATS, RESULTS_FORMATS, Format
from publisher.query_execution import Answer, Dataset, NotAcceptableError, QueryJob, QueryRefusedError
from publisher.sparql_text import QueryText, parse_allowlist, read_query_text, refused_services
from publisher.store import Store

NO_DATASET = Dataset()
QUERY_TEXTS_KEPT = 256  # queries are often sent again (saved queries, pages, a client polling)
QUERY_TEXT_KEPT_CHARS = 16384  # longer texts are read every time (the cache stays under 5 MB)
# Oxigraph's parser recurses once per bracket level on the stack of the thread running it, 2 MB in a granian
# request thread (a fast query runs there) and in a query worker forked from one; past it the process dies.
# The costliest levels (aggregates in aggregates, FILTER EXISTS in FILTER EXISTS) take about 10 kB each, so
# 128 levels leave room, while real queries nest a few (the saved queries 6 at most).
MAX_NESTING = 128


@dataclass(frozen=True)
class EndpointLimits:
    timeout: float  # seconds
    result_limit: int  # rows or triples; 0: none
    max_request_bytes: int
    service_allowlist: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> EndpointLimits:
        return cls(
            timeout=float(settings["query_timeout"]),
            result_limit=int(settings["result_limit"]),
            max_request_bytes=int(settings["max_request_bytes"]),
            service_allowlist=parse_allowlist(settings["service_allowlist"]),
        )


def answer_query(
    store: Store,
    sparql: str,
    base_iri: str,
    limits: EndpointLimits,
    dataset: Dataset = NO_DATASET,
    results_format: Format | None = RESULTS_FORMATS[0],
    graph_format: Format | None = RDF_FORMATS[0],
) -> Answer:
    """The answer to a query in the format chosen for its kind (None: that kind is not acceptable)."""
    text = (
        _query_text(sparql, base_iri)
        if len(sparql) <= QUERY_TEXT_KEPT_CHARS
        else read_query_text(sparql, base_iri)
    )
    if text.nesting > MAX_NESTING:
        raise QueryRefusedError(
            f"the query nests brackets ((, {{, [) {text.nesting} deep; at most {MAX_NESTING} are allowed: "
            "write it with fewer groups, parentheses or subqueries one inside another"
        )
    if text.update_keyword:
        raise QueryRefusedError(
            f"this endpoint is read-only: the request is a SPARQL Update ({text.update_keyword}), "
            "which it does not run; send a query (SELECT, ASK, CONSTRUCT or DESCRIBE)"
        )
    refused = refused_services(text, limits.service_allowlist)
    if refused:
        allowed = ", ".join(f"<{iri}>" for iri in sorted(limits.service_allowlist)) or "none"
        named = ", ".join(s.text or "(nothing)" for s in refused)
        raise QueryRefusedError(
            f"SERVICE {named} is not allowed: cmpkg calls only the endpoints of the setting "
            f"service_allowlist (now: {allowed}), and never a variable endpoint"
        )
    for parameter, iris in (
        ("default-graph-uri", dataset.default_graphs),
        ("named-graph-uri", dataset.named_graphs),
    ):
        for iri in iris:
            try:
                ox.NamedNode(iri)
            except ValueError as error:
                raise QueryRefusedError(f"{parameter} {iri!r} is not an IRI: {error}") from None
    if results_format is None and graph_format is None:
        raise NotAcceptableError(None, RESULTS_FORMATS + RDF_FORMATS)
    job = QueryJob(
        sparql,
        base_iri,
        dataset,
        text.has_from,
        results_format.name if results_format else None,
        graph_format.name if graph_format else None,
        limits.result_limit,
        bool(text.services),
    )
    return store.execute(job, limits.timeout)


@lru_cache(maxsize=QUERY_TEXTS_KEPT)
def _query_text(sparql: str, base_iri: str) -> QueryText:
    """read_query_text, remembered: reading a long query's tokens takes a tenth of a millisecond or more."""
    return read_query_text(sparql, base_iri)
