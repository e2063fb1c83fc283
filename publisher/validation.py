"""SHACL validation of the project's graph against shapes/, with pySHACL."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from publisher.iris import Iris
from publisher.namespaces import SH
from publisher.site import Site
from publisher.turtle import parse_turtle

SEVERITY_ORDER = {SH.Info: 0, SH.Warning: 1, SH.Violation: 2}


class ValidationSetupError(ValueError):
    """Validation could not run (no shapes, no data): never a silent pass."""


@dataclass(frozen=True)
class Result:
    focus: str
    label: str | None
    path: str | None
    value: str | None
    message: str
    severity: URIRef
    shape: str | None

    @property
    def severity_name(self) -> str:
        return str(self.severity).rsplit("#", 1)[-1]


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == SH.Violation]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == SH.Warning]


def load_graph(paths: list[Path], iris: Iris) -> Graph:
    graph = Graph()
    for path in paths:
        graph += parse_turtle(path, iris.base)
    return graph


def load_shapes(paths: list[Path], iris: Iris) -> Graph:
    """The shapes graph; relative `sh:namespace` values (like "ontology#") are resolved against the base.

    SHACL prefix declarations are literals, which Turtle does not resolve, and the files never name the base.
    """
    shapes = load_graph(paths, iris)
    for declaration, namespace in list(shapes.subject_objects(SH.namespace)):
        if isinstance(namespace, Literal) and ":" not in str(namespace):
            shapes.set((declaration, SH.namespace, Literal(iris.base + str(namespace), datatype=XSD.anyURI)))
    return shapes


def validate_site(site: Site, iris: Iris, extra: list[Path] | None = None) -> Report:
    """Validate ontology + data (+ extra files) against the shapes in shapes/."""
    shape_files = site.shape_files()
    if not shape_files:
        raise ValidationSetupError(f"{site.shapes_dir}: no shapes (*.ttl); nothing would be checked")
    data_files = site.data_files() + list(extra or [])
    if not data_files:
        raise ValidationSetupError(f"{site.data_dir}: no data (*.ttl) to validate")
    shapes = load_shapes(shape_files, iris)
    if not any(True for _ in shapes.subjects(RDF.type, SH.NodeShape)):
        raise ValidationSetupError(f"{site.shapes_dir}: the shapes files declare no sh:NodeShape")
    data = load_graph(site.ontology_files() + data_files, iris)
    return validate_graph(data, shapes)


def validate_graph(data: Graph, shapes: Graph) -> Report:
    _, report_graph, _ = pyshacl_validate(
        data, shacl_graph=shapes, ont_graph=None, inference="none", advanced=True, allow_warnings=True
    )
    report = Report()
    for node in report_graph.subjects(RDF.type, SH.ValidationResult):
        focus = report_graph.value(node, SH.focusNode)
        label = data.value(focus, RDFS.label) if focus is not None else None
        path = report_graph.value(node, SH.resultPath)
        value = report_graph.value(node, SH.value)
        message = report_graph.value(node, SH.resultMessage)
        shape = report_graph.value(node, SH.sourceShape)
        report.results.append(
            Result(
                focus=str(focus),
                label=str(label) if isinstance(label, Literal) else None,
                path=str(path) if path is not None else None,
                value=str(value) if value is not None else None,
                message=str(message) if message is not None else "",
                severity=URIRef(report_graph.value(node, SH.resultSeverity) or SH.Violation),
                shape=str(shape) if isinstance(shape, URIRef) else None,
            )
        )
    report.results.sort(key=lambda r: (-SEVERITY_ORDER.get(r.severity, 2), r.focus, r.path or ""))
    return report
