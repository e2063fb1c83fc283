"""The shapes in shapes/, each proved by a PASS and an XFAIL example under tests/examples/.

Every example is validated together with tests/examples/context.ttl (a small valid graph) and the
ontology. A PASS example gives no result; an XFAIL example gives exactly the results its header lists
(`# expect: Severity <focus> <shape> path`), which say what the example is constructed to break. The
results are read from the SHACL report graph, never from the text output, of each engine: pySHACL (the
reference) and cmpkg's own (oxigraph).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from publisher.iris import Iris
from publisher.namespaces import SH
from publisher.shapes_graph import Shapes, read_shapes
from publisher.turtle import TurtleWriter
from publisher.validation import Engine, OxigraphEngine, PyshaclEngine, load_data
from tests.conftest import BASE, ROOT

EXAMPLES = ROOT / "tests" / "examples"
CONTEXT = EXAMPLES / "context.ttl"
SHAPES_FILES = sorted((ROOT / "shapes").glob("*.ttl"))
_EXPECT = re.compile(r"^# expect: (\S+) (\S+) (\S+)(?: (\S+))?$", re.MULTILINE)

Key = tuple[str, str, str, str | None]
ENGINES = ("pyshacl", "oxigraph")


@cache
def shapes() -> Shapes:
    return read_shapes(SHAPES_FILES, Iris(BASE))


@cache
def engine(name: str) -> Engine:
    return PyshaclEngine() if name == "pyshacl" else OxigraphEngine()


@cache
def report_graph(engine_name: str, *files: Path) -> Graph:
    """The SHACL report graph of the ontology and the files, from one engine (computed once)."""
    data, _ = load_data([ROOT / "ontology" / "cmp.ttl", *files], Iris(BASE))
    return engine(engine_name)(data, shapes().graph)


def results_of(*files: Path, engine_name: str = "pyshacl") -> Counter[Key]:
    """(severity, focus, shape, path) of every result, read from the report graph, in Turtle terms."""
    writer = TurtleWriter(BASE)
    graph = report_graph(engine_name, *files)
    keys: Counter[Key] = Counter()
    for result in graph.subjects(RDF.type, SH.ValidationResult):
        severity = graph.value(result, SH.resultSeverity)
        path = graph.value(result, SH.resultPath)
        keys[
            (
                str(severity).rsplit("#", 1)[-1],
                writer.term(graph.value(result, SH.focusNode), set()),
                writer.term(graph.value(result, SH.sourceShape), set()),
                writer.term(path, set()) if path is not None else None,
            )
        ] += 1
    return keys


def expected_results(example: Path) -> Counter[Key]:
    text = example.read_text(encoding="utf-8")
    return Counter(
        (severity, focus, shape, path or None) for severity, focus, shape, path in _EXPECT.findall(text)
    )


def example_names(kind: str) -> list[str]:
    return sorted(path.name.removesuffix(f"_{kind}.ttl") for path in EXAMPLES.glob(f"*_{kind}.ttl"))


def top_level_shapes() -> list[str]:
    """The node shapes that select focus nodes themselves (not helpers used inside other shapes)."""
    graph = shapes().graph
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
    names = []
    for shape in graph.subjects(RDF.type, SH.NodeShape):
        if any(graph.value(shape, target) is not None for target in targets):
            names.append(str(shape).removeprefix(BASE + "shapes#"))
    return sorted(names)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_the_example_context_conforms(engine_name: str) -> None:
    assert results_of(CONTEXT, engine_name=engine_name) == Counter()


def test_every_shape_has_a_pass_and_an_xfail_example() -> None:
    assert example_names("PASS") == top_level_shapes()
    assert example_names("XFAIL") == top_level_shapes()


def test_every_class_of_the_ontology_has_a_node_shape() -> None:
    ontology = Graph().parse(ROOT / "ontology" / "cmp.ttl", format="turtle", publicID=BASE)
    classes = set(ontology.subjects(RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")))
    targeted = set(shapes().graph.objects(None, SH.targetClass))
    assert classes - targeted == set()


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("name", example_names("PASS"))
def test_pass_example_conforms(name: str, engine_name: str) -> None:
    assert results_of(CONTEXT, EXAMPLES / f"{name}_PASS.ttl", engine_name=engine_name) == Counter()


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("name", example_names("XFAIL"))
def test_xfail_example_gives_exactly_the_expected_results(name: str, engine_name: str) -> None:
    example = EXAMPLES / f"{name}_XFAIL.ttl"
    expected = expected_results(example)
    assert any(shape.startswith(f"<shapes#{name}") for _, _, shape, _ in expected), (
        f"{example.name} must break its own shape"
    )
    assert results_of(CONTEXT, example, engine_name=engine_name) == expected
