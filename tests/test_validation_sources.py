"""Where results point: the file and line of the focus node's subject block, in any RDF file a project has;
and the shapes loader (prefixes under any base, the generated ISO 3166-1 list, what it refuses)."""

from __future__ import annotations

from pathlib import Path

import pycountry
import pytest
from rdflib import URIRef

from publisher.iris import Iris
from publisher.namespaces import SH
from publisher.shapes_graph import ShapesError, read_shapes
from publisher.site import Site
from publisher.source_lines import Location, SourceIndex, subject_lines
from publisher.validation import load_data, validate_site
from tests.conftest import BASE, ROOT

OTHER_BASE = "https://example.org/cmp-mirror/"


def index_of(*files: Path, base: str = BASE) -> SourceIndex:
    index = SourceIndex()
    load_data(files, Iris(base), index)
    return index


def test_normal_form_subjects_are_found_on_the_line_their_block_starts(tmp_path: Path) -> None:
    file = tmp_path / "items.ttl"
    file.write_text(
        "# header\n"
        "@prefix cmp: <ontology#> .\n"
        "\n"
        "<plan/2018-2020/1>\n"
        "    a cmp:Topic ;\n"
        "    cmp:partOf\n"
        "        <plan/2018-2020/1.1> .\n"
        "\n"
        "<plan/2018-2020/1.1>\n"
        "    a cmp:Action .\n"
        "\n"
        "cmp:Topic\n"
        "    a cmp:Thing .\n",
        encoding="utf-8",
    )
    index = index_of(file)
    assert index.locate(BASE + "plan/2018-2020/1") == Location(file, 4)
    assert index.locate(BASE + "plan/2018-2020/1.1") == Location(file, 9)  # not line 7, where it is an object
    assert index.locate(BASE + "ontology#Topic") == Location(file, 12)
    assert index.locate(BASE + "plan/2018-2020/9") is None


def test_hand_written_turtle_with_its_own_prefixes_base_and_indentation(tmp_path: Path) -> None:
    file = tmp_path / "hand.ttl"
    file.write_text(
        "PREFIX ex: <plan/2018-2020/>\n"
        "@prefix c: <ontology#> .\n"
        "ex:1 a c:Topic .\n"
        "@base <https://example.org/other/> .\n"
        "<x> a c:Action .\n"
        "<https://w3id.org/iwc-cmp/plan/2018-2020/2> a c:Topic ;\n"
        "    c:partOf ex:1 .\n"
        "  <y> a c:Action .\n"
        "<plan\\u002F9> a c:Topic .\n",
        encoding="utf-8",
    )
    index = index_of(file)
    assert index.locate(BASE + "plan/2018-2020/1") == Location(file, 3)
    assert index.locate("https://example.org/other/x") == Location(file, 5)
    assert index.locate(BASE + "plan/2018-2020/2") == Location(file, 6)
    assert index.locate("https://example.org/other/y") == Location(file, 8)  # indented: found all the same
    assert index.locate("https://example.org/other/plan/9") == Location(file, 9)


def test_n_triples_lines_and_json_ld_without_lines(tmp_path: Path) -> None:
    triples = tmp_path / "extra.nt"
    triples.write_text(
        f"<{BASE}a> <{BASE}p> <{BASE}b> .\n<{BASE}b> <{BASE}p> <{BASE}a> .\n", encoding="utf-8"
    )
    json_ld = tmp_path / "extra.jsonld"
    json_ld.write_text(f'{{"@id": "{BASE}c", "{BASE}p": {{"@id": "{BASE}a"}}}}', encoding="utf-8")
    index = index_of(triples, json_ld)
    assert index.locate(BASE + "b") == Location(triples, 2)
    assert index.locate(BASE + "c") == Location(json_ld, None)


def test_a_resource_described_in_several_files_is_located_where_it_is_typed(tmp_path: Path) -> None:
    links = tmp_path / "carry-over.ttl"
    links.write_text("@prefix cmp: <ontology#> .\n<plan/x/1> cmp:continues <plan/w/1> .\n", encoding="utf-8")
    plan = tmp_path / "plan.ttl"
    plan.write_text("@prefix cmp: <ontology#> .\n\n<plan/x/1>\n    a cmp:Topic .\n", encoding="utf-8")
    assert index_of(links, plan).locate(BASE + "plan/x/1") == Location(plan, 3)


def test_the_real_plan_items_are_located_in_their_plan_not_in_carry_over(site: Site, iris: Iris) -> None:
    index = SourceIndex()
    load_data(site.data_files(), iris, index)
    location = index.locate(BASE + "plan/2022-2024/2.1")
    assert location is not None
    assert location.path == ROOT / "data" / "plans" / "2022-2024.ttl"
    lines = location.path.read_text(encoding="utf-8").splitlines()
    assert lines[(location.line or 0) - 1] == "<plan/2022-2024/2.1>"


def test_subject_lines_ignores_comments_and_undeclared_prefixes() -> None:
    text = "# <not/a/subject>\nundeclared:x a <T> .\n<s> a <T> .\n"
    assert subject_lines(text, BASE) == {BASE + "s": 3}


# The shapes loader


def test_the_shapes_never_name_the_base_and_validate_the_same_under_another_base() -> None:
    for path in (ROOT / "shapes").glob("*.ttl"):
        assert BASE not in path.read_text(encoding="utf-8")
    report = validate_site(Site(ROOT), Iris(OTHER_BASE))
    assert sorted((r.focus, r.shape) for r in report.results) == [
        (OTHER_BASE + "plan/2018-2020/2.1.2", OTHER_BASE + "shapes#PlanItem-number-prefix"),
        (OTHER_BASE + "plan/2022-2024/4.1.3", OTHER_BASE + "shapes#LeafItem"),
    ]


def test_the_iso_3166_list_is_generated_from_pycountry() -> None:
    shapes = read_shapes(sorted((ROOT / "shapes").glob("*.ttl")), Iris(BASE))
    query = str(shapes.graph.value(URIRef(BASE + "shapes#Country-iso3166-query"), SH.select))
    assert "cmpkg:generate" not in query
    for country in pycountry.countries:
        assert f"|{country.alpha_2} {country.alpha_3} {country.numeric}|" in query
    assert "|XK " not in query  # Kosovo's code is user-assigned, not ISO 3166-1


def test_an_unknown_generated_list_is_refused(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        '<shapes#q> a sh:SPARQLConstraint ; sh:select "SELECT $this WHERE { FILTER (CONTAINS('
        '\\"cmpkg:generate planets\\", \\"x\\")) }" .\n',
        encoding="utf-8",
    )
    with pytest.raises(ShapesError, match="asks for the generated list 'planets', which cmpkg does not know"):
        read_shapes([shapes], Iris(BASE))


def test_relative_prefix_namespaces_are_resolved_against_the_base() -> None:
    shapes = read_shapes(sorted((ROOT / "shapes").glob("*.ttl")), Iris(OTHER_BASE))
    assert shapes.prefixes()["cmp"] == OTHER_BASE + "ontology#"
