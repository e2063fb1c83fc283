"""The data to validate as an Oxigraph store: parsed by Oxigraph, never built as an rdflib graph."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from publisher.rdf_files import RdfFile, load_triples, read_quads
from publisher.shacl.terms import to_ox

TRIPLE_FORMATS = frozenset({ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML})


def load_store(paths: Iterable[Path], base: str, store: ox.Store | None = None) -> ox.Store:
    """Parse the files into the default graph of one in-memory store (relative IRIs against `base`)."""
    store = ox.Store() if store is None else store
    for path in paths:
        file = RdfFile(path, path.name)
        if file.format not in TRIPLE_FORMATS:
            store.extend(ox.Quad(q.subject, q.predicate, q.object) for q in read_quads(file, base, None))
            continue
        load_triples(store, file, base, ox.DefaultGraph())
    return store


def store_from_graph(graph: Graph) -> ox.Store:
    """An rdflib graph copied into the default graph of an in-memory store."""
    store = ox.Store()
    store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in graph)  # type: ignore[arg-type]
    return store
