"""SHACL validation of the project's graph (ontology + data + extra files) against shapes/.

An engine is one function from the data graph and the shapes graph to a SHACL validation report graph
(`Engine`); everything after it (labels, file:line, the output formats) reads only that report graph.
pySHACL is the reference engine. The default engine (publisher.shacl, "oxigraph") compiles the shapes to
set-based SPARQL queries run once over all focus nodes on Oxigraph and yields the same report graph; for
files it parses the data straight into an Oxigraph store and never builds an rdflib graph of it. With
engine "auto" (the default) a shapes graph the fast engine cannot compile falls back to pySHACL, with a
one-line notice.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
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
from publisher.rdf_files import read_graph, to_rdflib
from publisher.rdf_inputs import checked_extra_files, own_files
from publisher.shacl import (
    InvalidShapes,
    OxigraphEngine,
    UnsupportedShapes,
    compile_shapes,
    load_store,
)
from publisher.shapes_graph import (
    Shapes,
    ShapesError,
    ValidationSetupError,
    check_shapes,
    read_shapes,
)
from publisher.site import Site
from publisher.source_lines import LazySourceIndex, SourceIndex, display_path

__all__ = [
    "ENGINES",
    "SEVERITIES",
    "Engine",
    "EngineUnsupported",
    "OxigraphEngine",
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
    "select_engine",
    "validate_graph",
    "validate_site",
]

SEVERITIES = {"info": SH.Info, "warning": SH.Warning, "violation": SH.Violation}
SEVERITY_RANK = {SH.Info: 0, SH.Warning: 1, SH.Violation: 2}

Engine = Callable[[Graph, Graph], Graph]
"""(data graph, shapes graph) -> SHACL validation report graph."""

ENGINES = ("auto", "oxigraph", "pyshacl")
"""The engines `cmpkg validate --engine` offers: auto is the fast engine, or pySHACL where it cannot go."""


class EngineUnsupported(ValidationSetupError):
    """The fast engine was asked for by name but cannot compile these shapes."""


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


def _notice_on_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def select_engine(
    engine: Engine | str, shapes: Graph, notice: Callable[[str], None] = _notice_on_stderr
) -> Engine:
    """The engine to run: one of ENGINES by name (auto: the fast one unless the shapes need pySHACL)."""
    if not isinstance(engine, str):
        return engine
    if engine not in ENGINES:
        raise ValidationSetupError(f"unknown validation engine {engine!r} (known: {', '.join(ENGINES)})")
    if engine == "pyshacl":
        return PyshaclEngine()
    try:
        targets = compile_shapes(shapes)
    except InvalidShapes as error:
        if engine == "oxigraph":
            raise ShapesError(f"the shapes cannot be applied: {error}") from None
        return PyshaclEngine()  # which reports what is wrong, with the link to the spec
    except UnsupportedShapes as error:
        if engine == "oxigraph":
            raise EngineUnsupported(
                f"the oxigraph engine cannot validate these shapes: {error}; use --engine pyshacl or auto"
            ) from None
        notice(f"cmpkg validate: the fast engine does not compile these shapes ({error}); using pySHACL")
        return PyshaclEngine()
    return OxigraphEngine((shapes, targets))


def validate_site(
    site: Site,
    iris: Iris,
    extra: Iterable[Path] = (),
    engine: Engine | str = "auto",
    notice: Callable[[str], None] = _notice_on_stderr,
) -> Report:
    """Validate ontology + data (+ extra files or directories) against the shapes in shapes/.

    Raises ValidationSetupError (a ShapesError for the shapes) when validation cannot be trusted to mean
    anything: no shapes, unusable shapes, no data; EngineUnsupported when engine "oxigraph" cannot be used.
    """
    shape_files = site.shape_files()
    if not shape_files:
        raise ShapesError(f"{site.shapes_dir}: no shapes files (*.ttl); nothing would be checked")
    extra_files = [file.path for file in checked_extra_files(own_files(site), extra, iris)]
    data_files = site.data_files() + extra_files
    if not data_files:
        raise ValidationSetupError(f"{site.data_dir}: no data files (*.ttl) to validate")
    with ThreadPoolExecutor(1) as parsing:
        # Oxigraph parses without the GIL: the data is read while the shapes are read and compiled.
        fast = isinstance(engine, str) and engine != "pyshacl"
        parsed = parsing.submit(_parse_on_oxigraph, site, iris, data_files) if fast else None
        shapes = read_shapes(shape_files, iris)
        chosen = select_engine(engine, shapes.graph, notice)
        if isinstance(chosen, OxigraphEngine) and parsed is not None:
            return _validate_files_on_oxigraph(site, iris, shapes, parsed.result(), data_files, chosen)
    index = SourceIndex()
    ontology, _ = load_data(site.ontology_files(), iris, index)
    data, triples = load_data(data_files, iris, index)
    if triples == 0:
        names = ", ".join(display_path(p) for p in data_files)
        raise ValidationSetupError(f"no data: the data files hold no triples ({names})")
    data += ontology
    check_shapes(shapes, data, site.shapes_dir)
    files = [display_path(p) for p in site.ontology_files() + data_files]
    return validate_graph(data, shapes, index, chosen, files)


def _parse_on_oxigraph(site: Site, iris: Iris, data_files: list[Path]) -> ox.Store:
    """The data files, then the ontology, parsed into one Oxigraph store; no triples of data is an error."""
    store = load_store(data_files, iris.base)
    if len(store) == 0:
        names = ", ".join(display_path(p) for p in data_files)
        raise ValidationSetupError(f"no data: the data files hold no triples ({names})")
    return load_store(site.ontology_files(), iris.base, store)


def _validate_files_on_oxigraph(
    site: Site, iris: Iris, shapes: Shapes, store: ox.Store, data_files: list[Path], engine: OxigraphEngine
) -> Report:
    """The fast path: the files parsed into an Oxigraph store, file:line found only for result focus nodes."""
    check_shapes(shapes, store, site.shapes_dir)
    report_graph = engine.validate_store(store, shapes.graph)
    index = LazySourceIndex(site.ontology_files() + data_files, iris.base)
    files = [display_path(p) for p in site.ontology_files() + data_files]
    return read_report(report_graph, lambda focus: _store_label(store, focus), index, files)


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
    return read_report(report_graph, lambda focus: _label(data, focus), index, files)


def read_report(
    report_graph: Graph,
    label: Callable[[Node], str | None],
    index: SourceIndex | LazySourceIndex | None = None,
    files: list[str] | None = None,
) -> Report:
    """The results of a report graph, with the label and the source location of each focus node."""
    report = Report(graph=report_graph, files=list(files or []))
    nodes = _result_nodes(report_graph)
    focus_iris = {str(f) for n in nodes if isinstance(f := report_graph.value(n, SH.focusNode), URIRef)}
    locations = index.locate_many(focus_iris) if index is not None else {}
    for node in nodes:
        focus = report_graph.value(node, SH.focusNode)
        if focus is None:
            continue
        location = locations.get(str(focus)) if isinstance(focus, URIRef) else None
        path = report_graph.value(node, SH.resultPath)
        shape = report_graph.value(node, SH.sourceShape)
        report.results.append(
            Result(
                focus=str(focus),
                label=label(focus),
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
    return _choose_label([label for label in data.objects(focus, RDFS.label) if isinstance(label, Literal)])


def _store_label(store: ox.Store, focus: Node) -> str | None:
    if not isinstance(focus, URIRef):
        return None
    quads = store.quads_for_pattern(ox.NamedNode(str(focus)), ox.NamedNode(str(RDFS.label)), None)
    labels = [to_rdflib(q.object) for q in quads]
    return _choose_label([label for label in labels if isinstance(label, Literal)])


def _choose_label(labels: list[Literal]) -> str | None:
    english = [label for label in labels if label.language == "en"]
    chosen = english or labels
    return str(chosen[0]) if chosen else None
