"""The triple store behind cmpkg: the project's files in named graphs, their union as the default graph."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from publisher.iris import Iris
from publisher.rdf_files import RdfFile, rdf_files_in, read_quads
from publisher.site import Site


class Store(Protocol):
    """What the rest of cmpkg needs from a store; the embedded one now, a remote SPARQL store next."""

    def query(self, sparql: str, base_iri: str | None = None) -> Any: ...

    def graph_sizes(self) -> dict[str, int]: ...


@dataclass
class LoadReport:
    files: list[tuple[RdfFile, str, int]] = field(default_factory=list)  # file, graph IRI, quads

    @property
    def quads(self) -> int:
        return sum(count for _, _, count in self.files)


@dataclass
class EmbeddedStore:
    """A pyoxigraph store, in memory or on disk."""

    store: ox.Store

    @classmethod
    def open(cls, path: Path | None = None) -> EmbeddedStore:
        return cls(ox.Store(str(path)) if path else ox.Store())

    def load_files(self, files: Iterable[RdfFile], iris: Iris) -> LoadReport:
        """Each file into its own named graph (graph/<path>); quads keep the graphs they name."""
        report = LoadReport()
        for file in files:
            graph = ox.NamedNode(iris.graph(file.name))
            quads = list(read_quads(file, iris.base, graph))
            if self.store.contains_named_graph(graph):
                self.store.clear_graph(graph)
            self.store.extend(quads)
            report.files.append((file, graph.value, len(quads)))
        self.store.optimize()
        return report

    def query(self, sparql: str, base_iri: str | None = None) -> Any:
        return self.store.query(sparql, base_iri=base_iri, use_default_graph_as_union=True)

    def graph_sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for quad in self.store:
            key = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
            sizes[key] = sizes.get(key, 0) + 1
        return sizes

    def __len__(self) -> int:
        return len(self.store)


def project_files(site: Site, extra: Iterable[Path] = ()) -> list[RdfFile]:
    """The project's own RDF (ontology, data, shapes) and any extra files or directories."""
    files = [RdfFile(path, site.relative(path)) for path in site.turtle_files()]
    for path in extra:
        files += rdf_files_in(path)
    return files


def build_store(
    site: Site, iris: Iris, extra: Iterable[Path] = (), path: Path | None = None
) -> tuple[EmbeddedStore, LoadReport]:
    store = EmbeddedStore.open(path)
    return store, store.load_files(project_files(site, extra), iris)
