"""cmpkg's own SHACL engine (publisher.shacl, `--engine oxigraph`) against pySHACL, the reference.

The two must give the same SHACL report graph (compared with rdflib.compare.isomorphic): on every example
under tests/examples/, on the synthetic benchmark data and on the real data. Shapes that use something the
fast engine does not compile are never validated by it in part: `auto` falls back to pySHACL with a notice,
`--engine oxigraph` refuses with exit 2.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from bench.gen import generate
from publisher.cli import main
from publisher.iris import Iris
from publisher.namespaces import SH
from publisher.shacl import UnsupportedShapes, compile_shapes, validate_store
from publisher.shacl.store import store_from_graph
from publisher.site import Site
from publisher.source_lines import LazySourceIndex, SourceIndex
from publisher.validation import ENGINES, OxigraphEngine, Report, load_data, pyshacl_engine, validate_site
from tests.conftest import BASE, ROOT
from tests.test_shapes import CONTEXT, EXAMPLES, report_graph, shapes

EXAMPLE_FILES = sorted(path.name for path in EXAMPLES.glob("*_*.ttl"))
PREFIXES = f"""
@prefix cmp: <{BASE}ontology#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def results(graph: Graph) -> int:
    return len(set(graph.subjects(RDF.type, SH.ValidationResult)))


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_both_engines_give_the_same_report_graph_on_every_example(example: str) -> None:
    fast = report_graph("oxigraph", CONTEXT, EXAMPLES / example)
    reference = report_graph("pyshacl", CONTEXT, EXAMPLES / example)
    assert isomorphic(fast, reference)
    if example.endswith("_XFAIL.ttl"):
        assert results(fast) > 0


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "10k.nt"
    with path.open("w", encoding="utf-8") as handle:
        generate(handle, 10_000, BASE)
    return path


def test_both_engines_give_the_same_report_graph_on_10k_synthetic_triples(synthetic: Path) -> None:
    site, iris = Site(ROOT), Iris(BASE)
    data, _ = load_data(site.ontology_files() + site.data_files() + [synthetic], iris)
    reference = pyshacl_engine(data, shapes().graph)
    assert isomorphic(OxigraphEngine()(data, shapes().graph), reference)
    # What `cmpkg validate` runs: the files parsed straight into Oxigraph, no rdflib graph of the data.
    from_files = validate_site(site, iris, [synthetic], engine="oxigraph")
    assert isomorphic(from_files.graph, reference)
    assert results(reference) == len(from_files.results) > 0


def test_validating_on_several_threads_reports_what_one_thread_does(synthetic: Path) -> None:
    # Each target is validated on a thread of its own, into a scratch graph the threads share.
    site, iris = Site(ROOT), Iris(BASE)
    data, _ = load_data(site.ontology_files() + site.data_files() + [synthetic], iris)
    one = validate_store(store_from_graph(data), shapes().graph, threads=1)
    store = store_from_graph(data)
    several = validate_store(store, shapes().graph, threads=4)
    assert results(one) > 0
    assert isomorphic(one, several)
    assert len(store) == len(data)  # the scratch graph is gone


def comparable(report: Report) -> list[tuple[object, ...]]:
    return [
        (r.focus, r.label, r.path, r.value, r.message, r.severity, r.shape, r.file, r.line)
        for r in report.results
    ]


def test_both_engines_report_the_real_data_alike_with_labels_files_and_lines() -> None:
    fast = validate_site(Site(ROOT), Iris(BASE), engine="oxigraph")
    reference = validate_site(Site(ROOT), Iris(BASE), engine="pyshacl")
    assert isomorphic(fast.graph, reference.graph)
    assert comparable(fast) == comparable(reference)
    assert (len(fast.violations), len(fast.warnings)) == (0, 2)
    assert all(r.file and r.file.startswith("data/") and r.line for r in fast.results)


def test_the_lazy_source_index_finds_what_the_full_index_finds(synthetic: Path) -> None:
    site, iris = Site(ROOT), Iris(BASE)
    files = site.ontology_files() + site.data_files() + [synthetic]
    full = SourceIndex()
    data, _ = load_data(files, iris, full)
    subjects = {str(s) for s in data.subjects() if isinstance(s, URIRef)}
    assert LazySourceIndex(files, iris.base).locate_many(subjects) == full.locate_many(subjects)


# Unsupported shapes: never half-validated


def shape_using(constraint: str) -> str:
    return PREFIXES + (
        '<shapes#Odd> a sh:NodeShape ; sh:targetClass cmp:Country ; sh:message "odd"@en ;\n'
        f"    {constraint} .\n"
    )


UNSUPPORTED = {
    "sh:xone": "sh:xone ( [ sh:datatype xsd:string ] [ sh:datatype xsd:integer ] )",
    "sh:node": "sh:node <shapes#Country>",
    "sh:zeroOrMorePath": "sh:property [ sh:path [ sh:zeroOrMorePath cmp:partOf ] ; sh:maxCount 9 ; "
    'sh:message "p"@en ]',
    "LIMIT": 'sh:sparql [ sh:select "SELECT $this WHERE { $this a ?type } LIMIT 1" ]',
    "sh:message": "sh:property [ sh:path cmp:alpha2 ; sh:maxCount 1 ]",
}


@pytest.mark.parametrize("feature", sorted(UNSUPPORTED))
def test_an_unsupported_feature_is_named_not_skipped(feature: str) -> None:
    graph = Graph().parse(data=shape_using(UNSUPPORTED[feature]), format="turtle", publicID=BASE)
    with pytest.raises(UnsupportedShapes, match=re.escape(feature)):
        compile_shapes(graph)


@pytest.fixture
def odd_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real ontology and shapes plus one shape with a qualified path, and the example data."""
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    shutil.copytree(ROOT / "shapes", tmp_path / "shapes")
    (tmp_path / "shapes" / "odd.ttl").write_text(
        shape_using(UNSUPPORTED["sh:zeroOrMorePath"]), encoding="utf-8"
    )
    (tmp_path / "data").mkdir()
    shutil.copy(CONTEXT, tmp_path / "data" / "context.ttl")
    shutil.copy(EXAMPLES / "Country_XFAIL.ttl", tmp_path / "data" / "country.ttl")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(site: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--site", str(site), "--base-iri", BASE, "validate", *args])


def test_auto_falls_back_to_pyshacl_with_a_one_line_notice(odd_project: Path) -> None:
    auto = run(odd_project, "--format", "json")
    reference = run(odd_project, "--format", "json", "--engine", "pyshacl")
    assert auto.exit_code == reference.exit_code == 1
    assert json.loads(auto.stdout) == json.loads(reference.stdout)
    notice = auto.stderr.strip().splitlines()
    assert len(notice) == 1
    assert "sh:zeroOrMorePath" in notice[0]
    assert "using pySHACL" in notice[0]
    assert reference.stderr == ""


def test_engine_oxigraph_refuses_unsupported_shapes_with_exit_2(odd_project: Path) -> None:
    result = run(odd_project, "--engine", "oxigraph")
    assert result.exit_code == 2
    assert result.stderr.startswith("cmpkg: error: the oxigraph engine cannot validate these shapes: ")
    assert "sh:zeroOrMorePath" in result.stderr
    assert "--engine pyshacl" in result.stderr
    assert "Traceback" not in result.output


def test_every_engine_gives_the_same_output_on_the_real_data() -> None:
    outputs = {engine: run(ROOT, "--format", "json", "--engine", engine) for engine in ENGINES}
    assert {result.exit_code for result in outputs.values()} == {0}
    assert all(result.stderr == "" for result in outputs.values())
    documents = [json.loads(result.stdout) for result in outputs.values()]
    assert documents[0] == documents[1] == documents[2]
    assert documents[0]["counts"] == {"Violation": 0, "Warning": 2, "Info": 0}
