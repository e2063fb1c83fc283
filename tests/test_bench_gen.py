"""The benchmark's synthetic data: deterministic, the size asked for, and shaped like the real data."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest

from bench.gen import generate, main
from publisher.config import SETTINGS_BY_NAME
from publisher.ontology_lint import undeclared_terms
from publisher.rdf_files import read_graph
from publisher.site import Site
from tests.conftest import BASE, ROOT

SIZE = 10_000
PREFIXES = f"""
PREFIX cmp: <{BASE}ontology#>
PREFIX dwc: <http://rs.tdwg.org/dwc/terms/>
PREFIX p-plan: <http://purl.org/net/p-plan#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX time: <http://www.w3.org/2006/time#>
"""


def generated(size: int = SIZE, base: str = BASE, seed: int = 1) -> str:
    out = io.StringIO()
    generate(out, size, base, seed)
    return out.getvalue()


@pytest.fixture(scope="module")
def text() -> str:
    return generated()


@pytest.fixture(scope="module")
def path(text: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("bench") / "10k.nt"
    file.write_text(text, encoding="utf-8")
    return file


@pytest.fixture(scope="module")
def synthetic(path: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    return store


@pytest.fixture(scope="module")
def combined(path: Path) -> ox.Store:
    """The synthetic data with the project's own ontology and data, as the benchmark loads them."""
    store = ox.Store()
    for file in Site(ROOT).ontology_files() + Site(ROOT).data_files():
        store.load(path=str(file), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    return store


def rows(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    solutions = store.query(PREFIXES + query)
    assert isinstance(solutions, ox.QuerySolutions)
    return [tuple(term.value if term is not None else "" for term in row) for row in solutions]


def count(store: ox.Store, query: str) -> int:
    return int(rows(store, query)[0][0])


def test_same_seed_gives_the_same_bytes_and_another_seed_other_data(text: str) -> None:
    assert generated() == text
    assert generated(seed=2) != text


def test_the_size_asked_for_is_met_within_a_few_percent(text: str, synthetic: ox.Store) -> None:
    lines = text.count("\n")
    assert SIZE <= lines <= SIZE * 1.03
    assert len(synthetic) == lines  # every line a distinct triple


def test_the_command_writes_the_same_data(text: str, tmp_path: Path) -> None:
    out = tmp_path / "data" / "10k.nt"
    assert main(["--triples", "10k", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == text


def test_iris_are_under_the_base_setting_by_default_and_follow_another_base(text: str) -> None:
    assert f"<{SETTINGS_BY_NAME['base_iri'].default}plan/" in text
    other = generated(base="http://example.org/kg/")
    subjects = {line.split(" ", 1)[0] for line in other.splitlines()}
    assert all(s.startswith("<http://example.org/kg/") for s in subjects)
    assert BASE not in other


def test_only_terms_the_ontology_declares_or_known_vocabularies(path: Path) -> None:
    ontology = read_graph(ROOT / "ontology" / "cmp.ttl", BASE)
    assert undeclared_terms(read_graph(path, BASE), ontology) == set()


def test_every_plan_item_has_one_plan_one_number_and_its_place(synthetic: ox.Store) -> None:
    items = count(
        synthetic, "SELECT (COUNT(*) AS ?n) WHERE { VALUES ?c { cmp:Topic cmp:Action cmp:SubTask } ?i a ?c }"
    )
    assert items > 100
    assert not rows(
        synthetic,
        """SELECT ?i WHERE {
            VALUES ?c { cmp:Topic cmp:Action cmp:SubTask } ?i a ?c .
            OPTIONAL { ?i p-plan:isStepOfPlan ?plan } OPTIONAL { ?i cmp:number ?number }
            OPTIONAL { ?i p-plan:isStepOfPlan ?plan2 FILTER (?plan2 != ?plan) }
            FILTER (!BOUND(?plan) || !BOUND(?number) || BOUND(?plan2)
                    || !REGEX(?number, "^[0-9]+([.][0-9]+)*$"))
        }""",
    )
    # A sub-task is part of an action and an action of a topic, in the same plan.
    assert not rows(
        synthetic,
        """SELECT ?i WHERE {
            { ?i a cmp:SubTask BIND (cmp:Action AS ?parentClass) }
            UNION { ?i a cmp:Action BIND (cmp:Topic AS ?parentClass) }
            ?i p-plan:isStepOfPlan ?plan .
            FILTER NOT EXISTS { ?i cmp:partOf ?parent . ?parent a ?parentClass ; p-plan:isStepOfPlan ?plan }
        }""",
    )


def test_links_point_at_resources_the_real_or_synthetic_data_describes(combined: ox.Store) -> None:
    dangling = rows(
        combined,
        """SELECT DISTINCT ?p ?o WHERE {
            VALUES ?p { cmp:responsibleParty cmp:rangeState cmp:coordinator cmp:targetTaxon cmp:ofTaxon
                        cmp:status cmp:basisKind cmp:confidence cmp:continues prov:entity cmp:follows
                        cmp:timeframe cmp:progressReport cmp:deliverable cmp:partOfProgramme cmp:period }
            ?s ?p ?o FILTER NOT EXISTS { ?o a ?type }
        }""",
    )
    assert dangling == []


def test_range_states_are_real_countries_and_parties_include_the_real_bodies(
    synthetic: ox.Store, combined: ox.Store
) -> None:
    countries = {r[0] for r in rows(synthetic, "SELECT DISTINCT ?c WHERE { ?cmp cmp:rangeState ?c }")}
    assert countries
    assert all(c.startswith(f"{BASE}country/") for c in countries)
    assert f"{BASE}party/secretariat" in {
        r[0] for r in rows(synthetic, "SELECT DISTINCT ?p WHERE { ?i cmp:responsibleParty ?p }")
    }
    # Every CMP has a taxon, a range state, a source and a status, as the real ones do.
    assert not rows(
        synthetic,
        """SELECT ?cmp WHERE { ?cmp a cmp:ConservationManagementPlan
            FILTER (NOT EXISTS { ?cmp cmp:targetTaxon ?t } || NOT EXISTS { ?cmp cmp:rangeState ?r }
                    || NOT EXISTS { ?cmp <http://purl.org/dc/terms/source> ?s }
                    || NOT EXISTS { ?cmp cmp:status ?x }) }""",
    )
    statuses = {
        r[0] for r in rows(synthetic, "SELECT DISTINCT ?s WHERE { ?r a cmp:ProgressReport ; cmp:status ?s }")
    }
    assert statuses <= {r[0] for r in rows(combined, "SELECT ?s WHERE { ?s a cmp:ProgressStatus }")}


def test_timeframes_are_normalised_as_the_importer_does(synthetic: ox.Store) -> None:
    assert not rows(
        synthetic,
        """SELECT ?t WHERE { ?t a cmp:Timeframe
            FILTER (NOT EXISTS { ?t cmp:rawText ?raw }
                    || NOT EXISTS { { ?t cmp:dueDate ?due } UNION { ?t cmp:openEnded true } }) }""",
    )
    ongoing = rows(synthetic, 'SELECT ?t WHERE { ?t cmp:rawText "Ongoing" ; cmp:openEnded true }')
    assert ongoing
    # "Mar 2027" is due on the last day of March, with an end instant of that month.
    for frame, due, month in rows(
        synthetic,
        """SELECT ?t ?due ?month WHERE { ?t cmp:rawText ?raw ; cmp:dueDate ?due ; time:hasEnd ?end .
            ?end time:inXSDgYearMonth ?month FILTER (REGEX(?raw, "^Mar [0-9]{4}$")) }""",
    ):
        assert due == f"{month}-31", frame


def test_carry_overs_link_consecutive_plans_with_a_basis(synthetic: ox.Store) -> None:
    links = rows(
        synthetic,
        """SELECT ?later ?earlier ?kind ?laterPlan ?earlierPlan WHERE {
            ?later cmp:continues ?earlier ; prov:qualifiedDerivation ?link ; p-plan:isStepOfPlan ?laterPlan .
            ?link a cmp:CarryOver ; prov:entity ?earlier ; cmp:basisKind ?kind ; cmp:confidence ?c .
            OPTIONAL { ?earlier p-plan:isStepOfPlan ?earlierPlan }
        }""",
    )
    assert links
    follows = set(rows(synthetic, "SELECT ?a ?b WHERE { ?a cmp:follows ?b }"))
    for later, earlier, _, later_plan, earlier_plan in links:
        if earlier_plan:  # a synthetic earlier item: the later plan follows its plan
            assert (later_plan, earlier_plan) in follows, (later, earlier)
        else:  # the first plan of a series continues items of the real plans
            assert "/plan/20" in earlier, earlier


def test_the_deliberate_defects_are_the_two_the_real_data_has(synthetic: ox.Store) -> None:
    misnumbered = rows(
        synthetic,
        """SELECT ?i ?n ?pn WHERE { ?i cmp:partOf ?p ; cmp:number ?n . ?p cmp:number ?pn
            FILTER (!STRSTARTS(?n, CONCAT(?pn, "."))) }""",
    )
    bare = rows(
        synthetic,
        """SELECT ?i WHERE { ?i a cmp:SubTask
            FILTER NOT EXISTS { ?i cmp:timeframe ?t } FILTER NOT EXISTS { ?i cmp:responsibleParty ?p } }""",
    )
    # Like 2018-2020 sub-task 2.1.2 printed under action 2.2: a sub-task 1.1.x under action 1.2.
    assert len(misnumbered) == 1
    item, number, parent = misnumbered[0]
    assert number.startswith("1.1.")
    assert parent == "1.2"
    assert "/plan/synthetic-0-" in item
    # Like 2022-2024 sub-task 4.1.3: no timeframe and no responsible party.
    assert len(bare) == 1
    assert "/plan/synthetic-0-" in bare[0][0]
