"""SHACL validation of the project's graph (ontology + data + extra files) against shapes/.

pySHACL is the reference engine. An engine is one function from the data graph and the shapes graph to a
SHACL validation report graph (`Engine`); everything after it (labels, file:line, the output formats) reads
only that report graph. So a faster engine, for instance one that runs each SPARQL-based constraint once
over all its focus nodes on Oxigraph instead of once per focus node, can replace or complement pySHACL as
long as it yields the same report graph, and tests can compare the two on the same data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyshacl import validate as pyshacl_validate
from pyshacl.errors import ReportableRuntimeError
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Result as SPARQLResult
from rdflib.term import Node

from publisher.iris import Iris
from publisher.namespaces import SH
from publisher.rdf_files import rdf_files_in, read_graph
from publisher.shapes_graph import (
    Shapes,
    ShapesError,
    ValidationSetupError,
    check_shapes,
    read_shapes,
)
from publisher.site import Site
from publisher.source_lines import SourceIndex, display_path

__all__ = [
    "SEVERITIES",
    "Engine",
    "PreparedQueryGraph",
    "PyshaclEngine",
    "Report",
    "Result",
    "ShapesError",
    "ValidationSetupError",
    "load_data",
    "load_graph",
    "load_shapes",
    "pyshacl_engine",
    "validate_graph",
    "validate_site",
]

SEVERITIES = {"info": SH.Info, "warning": SH.Warning, "violation": SH.Violation}
SEVERITY_RANK = {SH.Info: 0, SH.Warning: 1, SH.Violation: 2}

Engine = Callable[[Graph, Graph], Graph]
"""(data graph, shapes graph) -> SHACL validation report graph."""


@dataclass(frozen=True)
class Result:
    """One validation result, with where its focus node is defined."""

    focus: str
    label: str | None
    path: str | None
    value: Node | None
    message: str
    severity: URIRef
    shape: str | None
    file: str | None = None
    line: int | None = None

    @property
    def severity_name(self) -> str:
        return str(self.severity).rsplit("#", 1)[-1]

    @property
    def rank(self) -> int:
        return SEVERITY_RANK.get(self.severity, 2)


@dataclass
class Report:
    """The results of one validation run, and the report graph they were read from."""

    results: list[Result] = field(default_factory=list)
    graph: Graph = field(default_factory=Graph)
    files: list[str] = field(default_factory=list)

    def of_severity(self, severity: URIRef) -> list[Result]:
        return [r for r in self.results if r.severity == severity]

    @property
    def violations(self) -> list[Result]:
        return self.of_severity(SH.Violation)

    @property
    def warnings(self) -> list[Result]:
        return self.of_severity(SH.Warning)

    @property
    def infos(self) -> list[Result]:
        return self.of_severity(SH.Info)

    def failing(self, fail_on: URIRef = SH.Violation) -> list[Result]:
        """The results at least as severe as `fail_on`."""
        threshold = SEVERITY_RANK[fail_on]
        return [r for r in self.results if r.rank >= threshold]


class PreparedQueryGraph(Graph):
    """A view of a graph's store that parses each distinct SPARQL text once.

    pySHACL sends the same query text for every focus node of a SPARQL-based constraint (it pre-binds
    $this), and rdflib would parse it every time: that parsing was nearly all of the validation time.
    """

    def __init__(self, graph: Graph, prepared: dict[str, Query] | None = None) -> None:
        super().__init__(graph.store, graph.identifier, namespace_manager=graph.namespace_manager)
        self._prepared = {} if prepared is None else prepared

    def query(  # type: ignore[override]
        self,
        query_object: str | Query,
        processor: str = "sparql",
        result: str = "sparql",
        initNs: Mapping[str, Any] | None = None,
        initBindings: Mapping[str, Any] | None = None,
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> SPARQLResult:
        if isinstance(query_object, str) and not initNs:
            prepared = self._prepared.get(query_object)
            if prepared is None:
                prepared = self._prepared[query_object] = prepareQuery(query_object)
            query_object = prepared
        return super().query(
            query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs
        )


class PyshaclEngine:
    """Validate with pySHACL (SHACL Core + SHACL-SPARQL + SHACL-AF targets), no inference.

    One engine keeps the SPARQL queries it has parsed, so validating many small graphs against the same
    shapes (the shape tests) parses each query once.
    """

    def __init__(self) -> None:
        self.prepared: dict[str, Query] = {}

    def __call__(self, data: Graph, shapes: Graph) -> Graph:
        return pyshacl_engine(data, shapes, self.prepared)


def pyshacl_engine(data: Graph, shapes: Graph, prepared: dict[str, Query] | None = None) -> Graph:
    """Validate with pySHACL (SHACL Core + SHACL-SPARQL + SHACL-AF targets), no inference."""
    try:
        with _quiet_pyshacl_errors():
            _, report_graph, _ = pyshacl_validate(
                PreparedQueryGraph(data, prepared),
                shacl_graph=shapes,
                ont_graph=None,
                inference="none",
                advanced=True,
                allow_infos=True,
                allow_warnings=True,
                inplace=True,  # the graph is ours, and with no inference pySHACL does not change it
            )
    except ReportableRuntimeError as error:
        raise ShapesError(f"the shapes cannot be applied: {_pyshacl_message(error)}") from None
    if isinstance(report_graph, ReportableRuntimeError):  # pySHACL returns a ValidationFailure
        raise ShapesError(f"the shapes cannot be applied: {_pyshacl_message(report_graph)}")
    if not isinstance(report_graph, Graph):
        raise ShapesError("pySHACL gave no report graph")
    return report_graph


def _pyshacl_message(error: ReportableRuntimeError) -> str:
    link = getattr(error, "link", None)
    return f"{error.message} (see {link})" if link else str(error.message)


class _DropErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR


@contextmanager
def _quiet_pyshacl_errors() -> Iterator[None]:
    """pySHACL logs an error to stderr before raising it; cmpkg reports it once, as its own message."""
    logger = logging.getLogger("pyshacl-validate")
    drop = _DropErrors()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def load_data(paths: Iterable[Path], iris: Iris, index: SourceIndex | None = None) -> tuple[Graph, int]:
    """Parse the files into one graph (indexing where each subject is defined); also the triple count."""
    graph = Graph()
    for path in paths:
        part = read_graph(path, iris.base)
        if index is not None:
            index.add(path, part, iris.base)
        graph += part
    return graph, len(graph)


def load_graph(paths: Iterable[Path], iris: Iris) -> Graph:
    """The files parsed into one graph."""
    return load_data(paths, iris)[0]


def load_shapes(paths: Iterable[Path], iris: Iris) -> Graph:
    """The completed shapes graph of the files (see publisher.shapes_graph)."""
    return read_shapes(paths, iris).graph


def validate_site(
    site: Site, iris: Iris, extra: Iterable[Path] = (), engine: Engine = pyshacl_engine
) -> Report:
    """Validate ontology + data (+ extra files or directories) against the shapes in shapes/.

    Raises ValidationSetupError (a ShapesError for the shapes) when validation cannot be trusted to mean
    anything: no shapes, unusable shapes, no data.
    """
    shape_files = site.shape_files()
    if not shape_files:
        raise ShapesError(f"{site.shapes_dir}: no shapes files (*.ttl); nothing would be checked")
    extra_files = [file.path for path in extra for file in rdf_files_in(path)]
    data_files = site.data_files() + extra_files
    if not data_files:
        raise ValidationSetupError(f"{site.data_dir}: no data files (*.ttl) to validate")
    shapes = read_shapes(shape_files, iris)
    index = SourceIndex()
    ontology, _ = load_data(site.ontology_files(), iris, index)
    data, triples = load_data(data_files, iris, index)
    if triples == 0:
        names = ", ".join(display_path(p) for p in data_files)
        raise ValidationSetupError(f"no data: the data files hold no triples ({names})")
    data += ontology
    check_shapes(shapes, data, site.shapes_dir)
    files = [display_path(p) for p in site.ontology_files() + data_files]
    return validate_graph(data, shapes, index, engine, files)


def validate_graph(
    data: Graph,
    shapes: Shapes | Graph,
    index: SourceIndex | None = None,
    engine: Engine = pyshacl_engine,
    files: list[str] | None = None,
) -> Report:
    """Validate a graph and read the results, with labels and source locations, from the report graph."""
    shapes_graph = shapes.graph if isinstance(shapes, Shapes) else shapes
    report_graph = engine(data, shapes_graph)
    report = Report(graph=report_graph, files=list(files or []))
    for node in _result_nodes(report_graph):
        focus = report_graph.value(node, SH.focusNode)
        if focus is None:
            continue
        location = index.locate(str(focus)) if index is not None and isinstance(focus, URIRef) else None
        path = report_graph.value(node, SH.resultPath)
        shape = report_graph.value(node, SH.sourceShape)
        report.results.append(
            Result(
                focus=str(focus),
                label=_label(data, focus),
                path=str(path) if path is not None else None,
                value=report_graph.value(node, SH.value),
                message=" ".join(str(m) for m in report_graph.objects(node, SH.resultMessage)),
                severity=URIRef(str(report_graph.value(node, SH.resultSeverity) or SH.Violation)),
                shape=str(shape) if shape is not None else None,
                file=display_path(location.path) if location else None,
                line=location.line if location else None,
            )
        )
    report.results.sort(
        key=lambda r: (r.file or "\uffff", r.line or 0, -r.rank, r.focus, r.shape or "", r.path or "")
    )
    return report


def _result_nodes(report_graph: Graph) -> list[Node]:
    """The report's top-level results (not nested details)."""
    reports = list(report_graph.subjects(RDF.type, SH.ValidationReport))
    if reports:
        return [result for report in reports for result in report_graph.objects(report, SH.result)]
    return list(report_graph.subjects(RDF.type, SH.ValidationResult))


def _label(data: Graph, focus: Node) -> str | None:
    labels = [label for label in data.objects(focus, RDFS.label) if isinstance(label, Literal)]
    english = [label for label in labels if label.language == "en"]
    chosen = english or labels
    return str(chosen[0]) if chosen else None
