"""What cmpkg knows about each kind of SPARQL store it talks to (its `Server` header names it): the formats it
writes correctly, and how to mend the ones it does not; how it takes a query's dataset and BASE. No web
imports."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from publisher.formats import JSON, XML, Format


@dataclass(frozen=True)
class Dialect:
    """What cmpkg knows about one kind of store."""

    name: str
    passthrough: frozenset[str]  # formats (names) answered exactly as the store writes them
    results: Format  # the results format cmpkg reads (and converts from)
    system_graphs: frozenset[str] = frozenset()  # the store's own graphs, never part of the dataset
    protocol_overrides_from: bool = True  # default-graph-uri/named-graph-uri replace FROM (Protocol §2.1.4)
    several_bases: bool = True  # the prologue may declare BASE more than once (as the grammar allows)

    def fix(self, body: bytes, fmt: Format) -> bytes:
        return body

    def name_blank(self) -> Callable[[ox.BlankNode], str] | None:
        """How a query names a blank node by the label the store gave it (None: it cannot)."""
        return None


_VIRTUOSO_TYPED_LITERAL = re.compile(rb'("type"\s*:\s*")typed-literal"')
_VIRTUOSO_JSON_BOOLEAN = re.compile(
    rb'("datatype"\s*:\s*"http://www\.w3\.org/2001/XMLSchema#boolean"\s*,\s*"value"\s*:\s*")([01])"'
)
_BOOLEANS = {b"1": b'true"', b"0": b'false"'}
_VIRTUOSO_JSON_BNODE = re.compile(rb'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')


class VirtuosoDialect(Dialect):
    """Virtuoso 7: its CSV ends lines with LF only and its TSV is not SPARQL TSV (no <> around IRIs), so only
    JSON and XML results and N-Triples pass through; its SPARQL JSON says "typed-literal" (the obsolete
    name of a literal with a datatype) and writes a boolean as "1" or "0" (its XML: "true", "false"), so
    both are rewritten, and JSON is what cmpkg reads (its XML writer is several times slower on some
    queries: 50 against 10 ms for bench/carried_over at 10k); its blank node labels in results
    ("nodeID://b123") are not valid labels, so they are rewritten ("b123"); it adds the protocol's dataset
    to a query's FROM instead of replacing it, so FROM is taken out of such a query; and it refuses a second
    BASE, so a query with its own is resolved against cmpkg's base instead."""

    def fix(self, body: bytes, fmt: Format) -> bytes:
        if fmt is XML:
            return body.replace(b"<bnode>nodeID://", b"<bnode>")
        if fmt is JSON:  # each pattern is structural: inside a JSON string the quotes would be escaped
            body = _VIRTUOSO_TYPED_LITERAL.sub(rb'\1literal"', body)
            body = _VIRTUOSO_JSON_BOOLEAN.sub(lambda m: m.group(1) + _BOOLEANS[m.group(2)], body)
            return _VIRTUOSO_JSON_BNODE.sub(rb"\1", body)
        return body

    def name_blank(self) -> Callable[[ox.BlankNode], str] | None:
        return lambda blank: f"<nodeID://{blank.value}>"


GENERIC = Dialect("generic", frozenset({"json", "xml"}), XML)
DIALECTS = {
    "oxigraph": Dialect("oxigraph", frozenset({"json", "xml", "csv", "tsv", "ntriples"}), JSON),
    "virtuoso": VirtuosoDialect(
        "virtuoso",
        frozenset({"json", "xml", "ntriples"}),
        JSON,
        system_graphs=frozenset(
            {
                "http://www.openlinksw.com/schemas/virtrdf#",
                "http://www.w3.org/ns/ldp#",
                "http://localuriqaserver/sparql",
                "http://www.w3.org/2002/07/owl#",
                "http://www.openlinksw.com/schemas/RDF_Mapper_Ontology/1.0/",
            }
        ),
        protocol_overrides_from=False,
        several_bases=False,
    ),
}


def dialect_for(server: str) -> Dialect:
    """The dialect of the store whose Server header this is."""
    product = server.split("/", 1)[0].strip().lower()
    return DIALECTS.get(product, GENERIC)
