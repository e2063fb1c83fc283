"""The cmp ontology (ontology/cmp.ttl) and the lint that keeps data/ within it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, VANN

from publisher.known_terms import is_known_external_term
from publisher.ontology_lint import undeclared_terms

BASE = "https://w3id.org/iwc-cmp/"
ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_FILE = ROOT / "ontology" / "cmp.ttl"
DATA_DIR = ROOT / "data"
MODEL_DOC = ROOT / "docs" / "model.md"

CMP = BASE + "ontology#"
ONTOLOGY_IRI = URIRef(BASE + "ontology")
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)

# The prefixes of docs/model.md, for reading its tables.
MODEL_PREFIXES = {
    "cmp": CMP,
    "dct": "http://purl.org/dc/terms/",
    "dwc": "http://rs.tdwg.org/dwc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "p-plan": "http://purl.org/net/p-plan#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "time": "http://www.w3.org/2006/time#",
    "vann": "http://purl.org/vocab/vann/",
}


@cache
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle", publicID=BASE)


@cache
def cmp_terms() -> tuple[URIRef, ...]:
    """The terms the ontology declares in its own namespace, sorted."""
    graph = ontology()
    terms = {
        subject
        for term_type in TERM_TYPES
        for subject in graph.subjects(RDF.type, term_type)
        if isinstance(subject, URIRef) and str(subject).startswith(CMP)
    }
    return tuple(sorted(terms))


def local_name(term: URIRef) -> str:
    return str(term)[len(CMP) :]


def curie(name: str) -> URIRef:
    prefix, _, local = name.partition(":")
    return URIRef(MODEL_PREFIXES[prefix] + local)


def model_table(heading: str) -> list[list[str]]:
    """The body rows of the table under ``## {heading}`` in docs/model.md, as lists of cells."""
    text = MODEL_DOC.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]


def curies(cell: str) -> list[URIRef]:
    """The back-quoted prefixed names in a table cell, ignoring parenthesised remarks."""
    return [curie(name) for name in re.findall(r"`([\w-]+:\w+)`", re.sub(r"\(.*?\)", "", cell))]


def model_supers(heading: str) -> dict[URIRef, set[URIRef]]:
    """cmp: term -> the super-classes or super-properties docs/model.md gives it."""
    supers: dict[URIRef, set[URIRef]] = {}
    for row in model_table(heading):
        for term in curies(row[0]):
            if str(term).startswith(CMP):
                supers[term] = set(curies(row[1]))
    return supers


# --- the ontology file ------------------------------------------------------------------------------------


def test_ontology_parses_alike_with_rdflib_and_pyoxigraph() -> None:
    oxigraph_triples = list(
        pyoxigraph.parse(path=str(ONTOLOGY_FILE), format=pyoxigraph.RdfFormat.TURTLE, base_iri=BASE)
    )
    assert len(ontology()) > 0
    assert len(oxigraph_triples) == len(ontology())


def test_ontology_uses_relative_iris_only() -> None:
    text = ONTOLOGY_FILE.read_text(encoding="utf-8")
    assert "@base" not in text.lower()
    assert BASE not in text
    relocated = Graph().parse(ONTOLOGY_FILE, format="turtle", publicID="https://example.org/cmp/")
    assert (URIRef("https://example.org/cmp/ontology"), RDF.type, OWL.Ontology) in relocated


def test_exactly_one_ontology_with_version_and_prefix() -> None:
    graph = ontology()
    assert list(graph.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]
    assert list(graph.objects(ONTOLOGY_IRI, OWL.versionIRI)) == [URIRef(BASE + "ontology/1.0.0")]
    assert list(graph.objects(ONTOLOGY_IRI, OWL.versionInfo)) == [Literal("1.0.0")]
    assert list(graph.objects(ONTOLOGY_IRI, VANN.preferredNamespacePrefix)) == [Literal("cmp")]
    assert graph.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    assert not list(graph.objects(ONTOLOGY_IRI, OWL.imports))


def test_ontology_has_no_blank_nodes() -> None:
    blank = [triple for triple in ontology() if not all(isinstance(t, URIRef | Literal) for t in triple)]
    assert blank == []


@pytest.mark.parametrize("term", cmp_terms(), ids=local_name)
def test_term_has_one_english_label_and_comment(term: URIRef) -> None:
    graph = ontology()
    for annotation in (RDFS.label, RDFS.comment):
        values = list(graph.objects(term, annotation))
        english = [v for v in values if isinstance(v, Literal) and v.language == "en" and str(v).strip()]
        assert len(values) == 1, f"{local_name(term)} has {len(values)} {annotation}"
        assert len(english) == 1, f"{local_name(term)}'s {annotation} is not a non-empty @en literal"
    assert list(graph.objects(term, RDFS.isDefinedBy)) == [ONTOLOGY_IRI]


@pytest.mark.parametrize("term", cmp_terms(), ids=local_name)
def test_term_is_declared_exactly_once(term: URIRef) -> None:
    types = set(ontology().objects(term, RDF.type)) & set(TERM_TYPES)
    assert len(types) == 1, f"{local_name(term)} is typed {sorted(map(str, types))}"


def test_super_terms_domains_and_ranges_are_known() -> None:
    graph = ontology()
    declared = set(cmp_terms())
    unknown = {
        (local_name(term), str(predicate), str(other))
        for term in declared
        for predicate in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range)
        for other in graph.objects(term, predicate)
        if other not in declared and not is_known_external_term(str(other))
    }
    assert unknown == set()


def test_ontology_itself_uses_only_declared_or_known_terms() -> None:
    assert undeclared_terms(ontology(), ontology()) == set()


# --- the ontology against the contract in docs/model.md ----------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "term_types", "super_predicate"),
    [
        ("Classes", {OWL.Class}, RDFS.subClassOf),
        ("Properties", {OWL.ObjectProperty, OWL.DatatypeProperty}, RDFS.subPropertyOf),
    ],
)
def test_ontology_declares_exactly_the_terms_of_the_model(
    heading: str, term_types: set[URIRef], super_predicate: URIRef
) -> None:
    graph = ontology()
    expected = model_supers(heading)
    assert expected, f"no cmp: terms found in the {heading} table of {MODEL_DOC}"
    declared = {term for term in cmp_terms() if set(graph.objects(term, RDF.type)) & term_types}
    assert {local_name(t) for t in declared} == {local_name(t) for t in expected}
    actual = {term: set(graph.objects(term, super_predicate)) for term in declared}
    assert actual == expected


# --- the lint for undeclared terms ------------------------------------------------------------------------

CANARY_PREFIXES = """
@prefix cmp: <ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""


@pytest.mark.parametrize(
    ("turtle", "expected"),
    [
        pytest.param(
            '<plan/x/1> a cmp:NotAClass ; dct:titel "Oops"@en .',
            {CMP + "NotAClass", "http://purl.org/dc/terms/titel"},
            id="unknown-class-and-misspelt-predicate",
        ),
        pytest.param(
            '<plan/x/1> a cmp:Topic ; cmp:Topic <plan/x/2> ; cmp:nubmer "1" .',
            {CMP + "Topic", CMP + "nubmer"},
            id="class-as-predicate-and-misspelt-cmp-property",
        ),
        pytest.param("<plan/x/1> a cmp:number .", {CMP + "number"}, id="property-as-class"),
        pytest.param(
            '<plan/x/1> a cmp:Topic, skos:Concept ; cmp:number "1" ; dct:title "Fine"@en .',
            set(),
            id="clean",
        ),
    ],
)
def test_lint_reports_undeclared_terms(turtle: str, expected: set[str]) -> None:
    data = Graph().parse(data=CANARY_PREFIXES + turtle, format="turtle", publicID=BASE)
    assert undeclared_terms(data, ontology()) == expected


def data_files() -> list[Path]:
    return sorted(DATA_DIR.glob("**/*.ttl"))


def test_data_uses_only_declared_or_known_terms() -> None:
    files = data_files()
    if not files:
        pytest.fail(f"no Turtle files under {DATA_DIR}: the lint has nothing to check")
    offenders: dict[str, list[str]] = {}
    for path in files:
        name = str(path.relative_to(ROOT))
        try:
            data = Graph().parse(path, format="turtle", publicID=BASE)
        except Exception as error:  # report every file, not only the first that fails
            offenders[name] = [f"does not parse: {error}"]
            continue
        undeclared = undeclared_terms(data, ontology())
        if undeclared:
            offenders[name] = sorted(undeclared)
    assert offenders == {}


@pytest.mark.parametrize(
    ("iri", "known"),
    [
        ("http://purl.org/dc/terms/title", True),
        ("http://purl.org/dc/terms/titel", False),
        ("http://www.w3.org/2001/XMLSchema#gYearMonth", True),
        ("http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", True),
        ("http://www.w3.org/1999/02/22-rdf-syntax-ns#_3", True),
        ("http://www.w3.org/2006/time#inXSDgYearMonth", True),
        ("https://schema.org/PropertyValue", True),
        ("http://schema.org/PropertyValue", False),
        ("http://rs.tdwg.org/dwc/terms/scientificName", True),
        ("http://rs.tdwg.org/dwc/terms/scientificname", False),
        ("http://purl.org/net/p-plan#isStepOfPlan", True),
        ("http://www.w3.org/ns/shacl#class", True),
        (CMP + "Topic", False),
        ("http://example.org/vocab#title", False),
    ],
)
def test_known_external_terms(iri: str, known: bool) -> None:
    assert is_known_external_term(iri) is known
