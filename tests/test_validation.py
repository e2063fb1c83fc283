"""`cmpkg validate`: the real data's findings, exit codes, formats and refusals, through click's runner.

The command runs on a temporary project made of the real ontology/ and shapes/ and fixture data from
tests/examples/ (the example context, plus XFAIL examples where a test needs results).
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from publisher.cli import main
from publisher.iris import Iris
from publisher.namespaces import SH
from publisher.site import Site
from publisher.validation import validate_site
from tests.conftest import BASE, ROOT

EXAMPLES = ROOT / "tests" / "examples"


def run(site: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--site", str(site), "--base-iri", BASE, "validate", *args])


def line_of(path: Path, subject: str) -> int:
    """The line a subject block starts on, as a reader finds it: the line that begins with the subject."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.split(" ")[0] == subject)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with the real ontology and shapes and the example context as its data; the working dir."""
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    shutil.copytree(ROOT / "shapes", tmp_path / "shapes")
    (tmp_path / "data").mkdir()
    shutil.copy(EXAMPLES / "context.ttl", tmp_path / "data" / "context.ttl")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def add_data(project: Path, example: str) -> Path:
    target = project / "data" / f"{example.lower()}.ttl"
    shutil.copy(EXAMPLES / f"{example}.ttl", target)
    return target


# The real data


def test_the_real_data_has_exactly_the_two_defects_of_the_source_as_warnings(site: Site, iris: Iris) -> None:
    report = validate_site(site, iris)
    graph = report.graph
    found = {
        (
            str(graph.value(result, SH.focusNode)),
            str(graph.value(result, SH.sourceShape)),
            graph.value(result, SH.resultSeverity),
        )
        for result in graph.subjects(None, SH.ValidationResult)
    }
    assert found == {
        # 2018-2020 prints sub-task 2.1.2 under action 2.2.
        (BASE + "plan/2018-2020/2.1.2", BASE + "shapes#PlanItem-number-prefix", SH.Warning),
        # 2022-2024 prints sub-task 4.1.3 with no timeframe and no responsible party.
        (BASE + "plan/2022-2024/4.1.3", BASE + "shapes#LeafItem", SH.Warning),
    }
    leaf = next(r for r in report.results if r.shape == BASE + "shapes#LeafItem")
    assert "no timeframe and no responsible party" in leaf.message
    assert (leaf.file, leaf.line) == (
        "data/plans/2022-2024.ttl",
        line_of(ROOT / "data" / "plans" / "2022-2024.ttl", "<plan/2022-2024/4.1.3>"),
    )


def test_the_real_data_passes_but_fails_on_warnings_when_asked() -> None:
    assert run(ROOT).exit_code == 0
    assert run(ROOT, "--fail-on", "warning").exit_code == 1


# Exit codes


def test_conforming_data_exits_0(project: Path) -> None:
    result = run(project)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("0 violations, 0 warnings in 2 files: conforms")


def test_violations_exit_1(project: Path) -> None:
    add_data(project, "Country_XFAIL")
    result = run(project)
    assert result.exit_code == 1
    assert "8 violations, 0 warnings" in result.stdout
    assert "does not conform" in result.stdout


def test_warnings_exit_0_unless_they_fail_on_warning(project: Path) -> None:
    add_data(project, "LeafItem_XFAIL")
    assert run(project).exit_code == 0
    assert run(project, "--fail-on", "warning").exit_code == 1
    assert run(project, "--fail-on", "info").exit_code == 1


def test_extra_files_are_validated_too(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    extra = tmp_path_factory.mktemp("extra") / "more.ttl"
    shutil.copy(EXAMPLES / "Claim_XFAIL.ttl", extra)
    result = run(project, str(extra), "--format", "json")
    assert result.exit_code == 1
    assert {r["focus"] for r in json.loads(result.stdout)["results"]} == {BASE + "claim/a", BASE + "claim/b"}


def test_malformed_data_exits_2_with_file_line_and_column(project: Path) -> None:
    (project / "data" / "broken.ttl").write_text('<a> <b> "unterminated .\n<c> <d> <e> .\n', encoding="utf-8")
    result = run(project)
    assert result.exit_code == 2
    assert re.search(r"cmpkg: error: \S*data/broken\.ttl:1:\d+: ", result.stderr), result.stderr
    assert "Traceback" not in result.output


def test_a_broken_shapes_file_exits_2(project: Path) -> None:
    (project / "shapes" / "broken.ttl").write_text("<shapes#X> a sh:NodeShape .\n", encoding="utf-8")
    result = run(project)
    assert result.exit_code == 2
    assert re.search(r"shapes/broken\.ttl:1:\d+: .*sh", result.stderr), result.stderr


def test_a_shapes_query_that_does_not_parse_exits_2_naming_the_constraint(project: Path) -> None:
    shapes = project / "shapes" / "cmp-shapes.ttl"
    text = shapes.read_text(encoding="utf-8")
    broken = text.replace("FILTER (?other != $this)", "FILTER (?other != $this", 1)
    shapes.write_text(broken, encoding="utf-8")
    result = run(project)
    assert result.exit_code == 2
    constraint = BASE + "shapes#PlanItem-number-unique-query"
    assert f"the SPARQL query of <{constraint}> does not parse" in result.stderr


def test_shapes_that_break_shacl_itself_exit_2_with_the_spec_link(project: Path) -> None:
    shapes = project / "shapes" / "cmp-shapes.ttl"
    text = shapes.read_text(encoding="utf-8")
    shapes.write_text(text.replace("sh:minCount 1 ;", 'sh:minCount "one" ;', 1), encoding="utf-8")
    result = run(project)
    assert result.exit_code == 2
    assert result.stderr == (
        "cmpkg: error: the shapes cannot be applied: MinCountConstraintComponent sh:minCount must be a "
        "literal with datatype xsd:integer. (see https://www.w3.org/TR/shacl/#MinCountConstraintComponent)\n"
    )


def test_a_sparql_constraint_shacl_forbids_exits_2(project: Path) -> None:
    shapes = project / "shapes" / "cmp-shapes.ttl"
    text = shapes.read_text(encoding="utf-8")
    forbidden = text.replace("FILTER (?other != $this)", "MINUS { ?other a ?nothing }", 1)
    shapes.write_text(forbidden, encoding="utf-8")
    result = run(project)
    assert result.exit_code == 2
    assert "cannot be applied: A SPARQL Constraint must not contain a MINUS clause." in result.stderr


def test_an_empty_shapes_directory_exits_2(project: Path) -> None:
    for path in (project / "shapes").iterdir():
        path.unlink()
    result = run(project)
    assert result.exit_code == 2
    assert "shapes: no shapes files (*.ttl); nothing would be checked" in result.stderr


def test_shapes_without_a_node_shape_exit_2(project: Path) -> None:
    for path in (project / "shapes").iterdir():
        path.unlink()
    (project / "shapes" / "empty.ttl").write_text("# nothing yet\n", encoding="utf-8")
    result = run(project)
    assert result.exit_code == 2
    assert "the shapes files declare no sh:NodeShape; nothing would be checked" in result.stderr


def test_a_shape_targeting_a_class_nobody_knows_exits_2(project: Path) -> None:
    shapes = project / "shapes" / "cmp-shapes.ttl"
    text = shapes.read_text(encoding="utf-8")
    misspelt = text.replace("sh:targetClass cmp:Topic .", "sh:targetClass cmp:Topci .", 1)
    shapes.write_text(misspelt, encoding="utf-8")
    result = run(project)
    assert result.exit_code == 2
    assert f"targets the class <{BASE}ontology#Topci>, which neither the ontology nor the data knows" in (
        result.stderr
    )


def test_a_shape_without_target_exits_2(project: Path) -> None:
    (project / "shapes" / "lost.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n<shapes#Lost> a sh:NodeShape ; sh:closed true .\n",
        encoding="utf-8",
    )
    result = run(project)
    assert result.exit_code == 2
    assert f"shape <{BASE}shapes#Lost> has no target" in result.stderr


def test_a_data_directory_without_data_exits_2(project: Path) -> None:
    (project / "data" / "context.ttl").unlink()
    result = run(project)
    assert result.exit_code == 2
    assert "data: no data files (*.ttl) to validate" in result.stderr


def test_data_files_without_triples_exit_2(project: Path) -> None:
    (project / "data" / "context.ttl").write_text("# all commented out\n", encoding="utf-8")
    result = run(project)
    assert result.exit_code == 2
    assert "no data: the data files hold no triples (data/context.ttl)" in result.stderr


# Output formats


def test_text_groups_results_by_file_with_the_line_of_each_focus_node(project: Path) -> None:
    countries = add_data(project, "Country_XFAIL")
    claims = add_data(project, "Claim_XFAIL")
    result = run(project)
    out = result.stdout
    assert out.index("data/claim_xfail.ttl (7 results)") < out.index("data/country_xfail.ttl (8 results)")
    block = out[out.index("data/country_xfail.ttl") :]
    assert f"  {line_of(countries, '<country/XK>')}: Violation <country/XK> (Kosovo)" in block
    assert 'path cmp:alpha2; value "XK"; shape <shapes#Country-iso3166>' in block
    assert "The codes XK / XKX / 983 are not those of one ISO 3166-1 country." in block
    assert f"  {line_of(claims, '<claim/a>')}: Warning <claim/a>" in out


def test_json_names_everything_about_each_result(project: Path) -> None:
    countries = add_data(project, "Country_XFAIL")
    result = run(project, "--format", "json")
    document = json.loads(result.stdout)
    assert document["conforms"] is False
    assert document["counts"] == {"Violation": 8, "Warning": 0, "Info": 0}
    assert document["files"] == ["ontology/cmp.ttl", "data/context.ttl", "data/country_xfail.ttl"]
    kosovo = next(
        r for r in document["results"] if r["shape"].endswith("#Country-iso3166") and "XK" in r["focus"]
    )
    assert kosovo == {
        "severity": "Violation",
        "fails": True,
        "focus": BASE + "country/XK",
        "label": "Kosovo",
        "path": BASE + "ontology#alpha2",
        "value": "XK",
        "value_term": '"XK"',
        "message": kosovo["message"],
        "shape": BASE + "shapes#Country-iso3166",
        "file": "data/country_xfail.ttl",
        "line": line_of(countries, "<country/XK>"),
    }
    assert kosovo["message"].startswith("The codes XK / XKX / 983 are not those of one ISO 3166-1 country.")


def test_junit_parses_with_a_suite_per_file_and_a_case_per_result(project: Path) -> None:
    add_data(project, "Country_XFAIL")
    add_data(project, "LeafItem_XFAIL")
    result = run(project, "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == [
        "ontology/cmp.ttl",
        "data/context.ttl",
        "data/country_xfail.ttl",
        "data/leafitem_xfail.ttl",
    ]
    # Files without results pass as one case; each violation fails; warnings pass, with their message.
    assert [(s.get("tests"), s.get("failures")) for s in suites.values()] == [
        ("1", "0"),
        ("1", "0"),
        ("8", "8"),
        ("3", "0"),
    ]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("13", "8", "0")
    cases = root.findall(".//testcase")
    assert sum(1 for case in cases if case.find("failure") is not None) == 8
    leaf = suites["data/leafitem_xfail.ttl"].findall("testcase")
    assert all((case.findtext("system-out") or "").startswith("Warning: ") for case in leaf)
    failure = suites["data/country_xfail.ttl"].find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "Violation"
    assert failure.get("message")


def test_junit_fails_warnings_when_they_fail_the_run(project: Path) -> None:
    add_data(project, "LeafItem_XFAIL")
    root = ET.fromstring(run(project, "--format", "junit", "--fail-on", "warning").stdout)
    assert (root.get("tests"), root.get("failures")) == ("5", "3")


def test_github_annotations_point_at_file_and_line(project: Path) -> None:
    leaves = add_data(project, "LeafItem_XFAIL")
    countries = add_data(project, "Country_XFAIL")
    result = run(project, "--format", "github")
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 11
    line = line_of(leaves, "<plan/2022-2024/1.2>")
    assert any(
        a.startswith(f"::warning file=data/leafitem_xfail.ttl,line={line},title=cmpkg validate%3A Warning ")
        and "no timeframe and no responsible party" in a
        for a in annotations
    )
    line = line_of(countries, "<country/UY>")
    assert (
        sum(1 for a in annotations if a.startswith(f"::error file=data/country_xfail.ttl,line={line},")) == 2
    )
    assert result.stdout.splitlines()[-1] == "8 violations, 3 warnings in 4 files: does not conform"


def test_output_writes_the_report_to_a_file_and_prints_the_summary(project: Path) -> None:
    add_data(project, "LeafItem_XFAIL")
    result = run(project, "--format", "junit", "--output", "report.xml")
    assert result.exit_code == 0
    assert result.stdout == (
        "wrote report.xml: 0 violations, 3 warnings in 3 files: conforms; "
        "these results do not fail it (--fail-on violation)\n"
    )
    assert ET.parse(project / "report.xml").getroot().get("tests") == "5"


def test_every_format_reports_the_same_results(project: Path) -> None:
    add_data(project, "PlanItem_XFAIL")
    counts = Counter(r["severity"] for r in json.loads(run(project, "--format", "json").stdout)["results"])
    github = run(project, "--format", "github").stdout.splitlines()
    text = run(project).stdout
    junit = ET.fromstring(run(project, "--format", "junit").stdout)
    assert counts == {"Violation": 10, "Warning": 4}
    assert sum(1 for a in github if a.startswith("::error ")) == counts["Violation"]
    assert sum(1 for a in github if a.startswith("::warning ")) == counts["Warning"]
    assert text.count(": Violation <") == counts["Violation"]
    assert text.count(": Warning <") == counts["Warning"]
    assert junit.get("failures") == str(counts["Violation"])


# Shipped configuration and documentation


def hook_settings() -> dict[str, str]:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    pairs = re.findall(r"^(?:- |  )(\w+): (.+)$", text, re.MULTILINE)
    return {key: value.strip().strip("'\"") for key, value in pairs}


def test_the_pre_commit_hook_runs_validate_when_turtle_changes() -> None:
    hook = hook_settings()
    assert hook["id"] == "cmpkg-validate"
    assert (hook["entry"], hook["language"], hook["pass_filenames"]) == ("cmpkg validate", "python", "false")
    assert "validate" in main.commands
    pattern = re.compile(hook["files"])
    assert pattern.search("data/cmps.ttl")
    assert pattern.search("shapes/cmp-shapes.ttl")
    assert not pattern.search("README.md")
    assert not pattern.search("data/source/country-wikidata.tsv")


def test_the_sample_workflow_validates_on_every_push_with_annotations() -> None:
    workflow = (ROOT / "docs" / "examples" / "validate-workflow.yml").read_text(encoding="utf-8")
    assert re.search(r"^on:\n  push:\n  pull_request:\n", workflow, re.MULTILINE)
    assert "run: cmpkg validate --format github\n" in workflow
    assert "cmpkg validate --format junit --output validation-report.xml" in workflow


def test_docs_describe_every_shape() -> None:
    docs = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    names = {path.name.removesuffix("_PASS.ttl") for path in EXAMPLES.glob("*_PASS.ttl")}
    assert {name for name in names if f"`shapes#{name}`" not in docs} == set()
