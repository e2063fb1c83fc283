"""The SPARQL Service Description of /sparql, made from the live store (no web imports).

https://www.w3.org/TR/sparql11-service-description/: what the endpoint speaks (SPARQL 1.1 Query), the formats
it answers in, its default dataset (the union default graph and each named graph, with triple counts from
VoID) and, as text, its limits.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from publisher.endpoint import EndpointLimits
from publisher.formats import Format
from publisher.query_execution import serialize_triples
from publisher.store import Store

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCT_DESCRIPTION = ox.NamedNode("http://purl.org/dc/terms/description")
_INT = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
PREFIXES = {
    "sd": SD,
    "void": VOID,
    "dct": "http://purl.org/dc/terms/",
    "formats": "http://www.w3.org/ns/formats/",
}


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def limits_text(limits: EndpointLimits) -> str:
    allowed = ", ".join(sorted(limits.service_allowlist)) or "none"
    rows = f"at most {limits.result_limit} rows or triples" if limits.result_limit else "no row limit"
    return (
        f"Read-only SPARQL 1.1 endpoint. A query runs at most {limits.timeout:g} s (then 503); an answer has "
        f"{rows} (then 500); a request body is at most {limits.max_request_bytes} bytes (then 413). "
        f"SERVICE may call: {allowed}. The default graph is the union of the named graphs."
    )


def service_description(
    endpoint: str, store: Store, limits: EndpointLimits, formats: Sequence[Format]
) -> list[ox.Triple]:
    """The description of the endpoint at `endpoint` serving `store`."""
    service = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("default")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(
            service, _sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")
        ),
        ox.Triple(service, DCT_DESCRIPTION, ox.Literal(limits_text(limits), language="en")),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
        ox.Triple(
            default_graph, ox.NamedNode(VOID + "triples"), ox.Literal(str(store.triples()), datatype=_INT)
        ),
    ]
    if limits.service_allowlist:
        triples.append(ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    for fmt in formats:
        if fmt.iri:
            triples.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(fmt.iri)))
    for index, (name, size) in enumerate(sorted(store.graph_sizes().items())):
        if not name:
            continue  # the store's own default graph is not queried: the union is
        named, graph = ox.BlankNode(f"named{index}"), ox.BlankNode(f"graph{index}")
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(named, _sd("name"), ox.NamedNode(name)),
            ox.Triple(named, _sd("graph"), graph),
            ox.Triple(graph, RDF_TYPE, _sd("Graph")),
            ox.Triple(graph, ox.NamedNode(VOID + "triples"), ox.Literal(str(size), datatype=_INT)),
        ]
    return triples


def write_description(triples: Sequence[ox.Triple], fmt: Format) -> bytes:
    return serialize_triples(triples, fmt, PREFIXES)
