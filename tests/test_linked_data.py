"""Every IRI under the base dereferences: RDF in every format and an HTML page, negotiated and cacheable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS
from werkzeug.test import TestResponse

from publisher.app import create_app
from publisher.config import load_settings
from publisher.iris import Iris
from publisher.validation import load_graph
from publisher.views.context import PAGE_CACHE_KEY, STORE_KEY
from tests.backends import BACKENDS, backend_settings
from tests.conftest import BASE, ROOT

RDF_ACCEPT = {
    "text/turtle": ("turtle", ".ttl"),
    "application/ld+json": ("json-ld", ".jsonld"),
    "application/n-triples": ("nt", ".nt"),
    "application/rdf+xml": ("xml", ".rdf"),
    "application/trig": ("trig", ".trig"),
}


def project_graph() -> Graph:
    paths = sorted((ROOT / "ontology").glob("*.ttl")) + sorted((ROOT / "data").rglob("*.ttl"))
    paths += sorted((ROOT / "shapes").glob("*.ttl"))
    return load_graph(paths, Iris(BASE))


@pytest.fixture(scope="module", params=BACKENDS)
def app(request: pytest.FixtureRequest) -> Flask:
    """The project served from each store in turn: the tests using `client` run on all of them."""
    overrides = {"site_dir": str(ROOT), "base_iri": BASE, **backend_settings(request, request.param)}
    return create_app(load_settings(environ={}, overrides=overrides))


GRAPH = project_graph()
# Every document under the base: subjects, with hash IRIs folded into the document that holds them.
DOCUMENTS = sorted({str(s).split("#", 1)[0] for s in GRAPH.subjects() if str(s).startswith(BASE)})


def parse(body: bytes, rdflib_format: str) -> Graph:
    if rdflib_format == "trig":
        dataset = Dataset()
        dataset.parse(data=body, format="trig")
        graph = Graph()
        for s, p, o, _ in dataset.quads():
            graph.add((s, p, o))
        return graph
    return Graph().parse(data=body, format=rdflib_format)


def local(iri: str) -> str:
    return "/" + iri[len(BASE) :]


def test_every_document_is_found() -> None:
    assert BASE + "plan/2018-2020/3.1.2" in DOCUMENTS
    assert BASE + "ontology" in DOCUMENTS
    assert BASE + "ontology#SubTask" not in DOCUMENTS  # a hash IRI is served by its document


@pytest.mark.parametrize("iri", DOCUMENTS, ids=lambda iri: iri[len(BASE) :])
def test_every_entity_in_every_format(client: FlaskClient, iri: str) -> None:
    subject = URIRef(iri)
    about = {s for s in GRAPH.subjects() if str(s) == iri or str(s).startswith(iri + "#")}
    for accept, (rdflib_format, suffix) in RDF_ACCEPT.items():
        response = client.get(local(iri), headers={"Accept": accept})
        assert response.status_code == 200, (accept, response.status_code)
        assert response.mimetype == accept
        graph = parse(response.data, rdflib_format)
        assert any((s, None, None) in graph for s in about) or (None, None, subject) in graph, accept
        for s in about:  # everything the data says about it is there (lists: as many as the data has)
            expected = set(GRAPH.predicate_objects(s))
            named = {(p, o) for p, o in expected if not isinstance(o, BNode)}
            assert set(graph.predicate_objects(s)) >= named, (accept, s)
            lists = sorted(cast(URIRef, p) for p, o in expected if isinstance(o, BNode))  # predicates: IRIs
            assert (
                sorted(cast(URIRef, p) for p, o in graph.predicate_objects(s) if isinstance(o, BNode))
                == lists
            )
        twin = client.get(local(iri) + suffix)
        assert twin.status_code == 200
        assert isomorphic(parse(twin.data, rdflib_format), graph), suffix
    page = client.get(local(iri), headers={"Accept": "text/html"})
    assert page.status_code == 200
    label = GRAPH.value(subject, RDFS.label)
    title = re.search(r"<title>(.*?)</title>", page.get_data(as_text=True), re.S)
    assert title is not None
    if label is not None:
        assert str(escape(str(label))) in title.group(1)


def test_hash_iri_terms_are_in_their_document(client: FlaskClient) -> None:
    graph = parse(client.get("/ontology.ttl").data, "turtle")
    term = URIRef(BASE + "ontology#SubTask")
    assert (term, RDFS.label, None) in graph
    assert (term, RDFS.comment, None) in graph


def test_negotiation_headers(client: FlaskClient) -> None:
    response = client.get("/party/swg-cmp", headers={"Accept": "text/turtle;q=0.9, application/ld+json"})
    assert response.mimetype == "application/ld+json"
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Content-Location"] == "/party/swg-cmp.jsonld"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    alternates = dict(re.findall(r'<([^>]+)>; rel="alternate"; type="([^"]+)"', response.headers["Link"]))
    assert alternates == {
        "/party/swg-cmp.html": "text/html",
        "/party/swg-cmp.ttl": "text/turtle",
        "/party/swg-cmp.nt": "application/n-triples",
        "/party/swg-cmp.rdf": "application/rdf+xml",
    } | {"/party/swg-cmp.trig": "application/trig"}
    twin = client.get("/party/swg-cmp.ttl")
    assert "Vary" not in twin.headers  # a twin's answer does not depend on Accept


def test_browsers_get_html_and_unknown_accept_gets_406(client: FlaskClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/party/swg-cmp", headers={"Accept": browser}).mimetype == "text/html"
    refused = client.get("/party/swg-cmp", headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert "text/turtle" in refused.get_data(as_text=True)


def test_unknown_iris_are_404_in_html_and_rdf(client: FlaskClient) -> None:
    page = client.get("/plan/2018-2020/9.9.9", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "plan/2018-2020/9.9.9" in page.get_data(as_text=True)
    rdf = client.get("/plan/2018-2020/9.9.9", headers={"Accept": "text/turtle"})
    assert rdf.status_code == 404
    assert len(Graph().parse(data=rdf.data, format="turtle")) == 0
    assert client.get("/plan/2018-2020/9.9.9.ttl").status_code == 404


def test_conditional_requests(client: FlaskClient) -> None:
    first = client.get("/cmp/franciscana", headers={"Accept": "text/turtle"})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get("/cmp/franciscana", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304
    assert not again.data
    assert again.headers["ETag"] == etag
    weak = client.get("/cmp/franciscana", headers={"Accept": "text/turtle", "If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    other_format = client.get("/cmp/franciscana", headers={"Accept": "text/html", "If-None-Match": etag})
    assert other_format.status_code == 200
    since = client.get("/cmp/franciscana", headers={"Accept": "text/turtle", "If-Modified-Since": modified})
    assert since.status_code == 304
    stale = format_datetime(first.last_modified.replace(year=2000), usegmt=True)  # type: ignore[union-attr]
    assert client.get("/cmp/franciscana", headers={"If-Modified-Since": stale}).status_code == 200
    mismatch = client.get("/cmp/franciscana", headers={"If-None-Match": '"x"', "If-Modified-Since": modified})
    assert mismatch.status_code == 200  # If-None-Match decides when present (RFC 9110 13.2.2)


def test_breadcrumbs_climb_the_plan(client: FlaskClient) -> None:
    page = client.get("/plan/2018-2020/3.1.2").get_data(as_text=True)
    crumbs = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S)
    assert crumbs is not None
    hrefs = re.findall(r'href="([^"]+)"', crumbs.group(0))
    assert hrefs == ["/programme", "/plan/2018-2020", "/plan/2018-2020/3", "/plan/2018-2020/3.1"]


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The project plus a partner file with markup in labels and 450 links to one entity."""
    extra = tmp_path_factory.mktemp("extra") / "partner.ttl"
    lines = [
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        f'<{BASE}partner/x> rdfs:label "<script>alert(1)</script></script> & co"@en ;',
        f'    rdfs:comment "{"</"}script><b>bold</b>" .',
    ]
    lines += [f"<{BASE}partner/ref{i:03d}> rdfs:seeAlso <{BASE}partner/x> ." for i in range(450)]
    extra.write_text("\n".join(lines) + "\n")
    settings = load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE})
    return create_app(settings, extra=[Path(extra)])


def test_values_from_the_data_are_escaped(hostile_app: Flask) -> None:
    page = hostile_app.test_client().get("/partner/x").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page
    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert embedded is not None
    assert "</" not in embedded.group(1)
    data = json.loads(embedded.group(1))
    assert "<script>alert(1)</script></script> & co" in json.dumps(data, ensure_ascii=False)


def test_inbound_links_are_paged(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    first = client.get("/partner/x", headers={"Accept": "application/n-triples"})
    graph = Graph().parse(data=first.data, format="nt")
    target = URIRef(BASE + "partner/x")
    assert len(set(graph.subjects(RDFS.seeAlso, target))) == 200
    assert '</partner/x?page=2>; rel="next"' in first.headers["Link"]
    last = client.get("/partner/x?page=3", headers={"Accept": "application/n-triples"})
    assert len(set(Graph().parse(data=last.data, format="nt").subjects(RDFS.seeAlso, target))) == 50
    assert 'rel="prev"' in last.headers["Link"]
    assert 'rel="next"' not in last.headers["Link"]
    html = client.get("/partner/x?page=2").get_data(as_text=True)
    assert "Page 2 of 3 (450 links)" in html
    # A 304 carries the 200's paging links (a cache replaces the stored headers with the 304's), whether
    # it is answered again from what was sent or, by a worker that has not sent the page, by the view.
    revalidate = {"Accept": "application/n-triples", "If-None-Match": first.headers["ETag"]}
    for cleared in (False, True):
        if cleared:
            hostile_app.extensions[PAGE_CACHE_KEY].clear()
        unchanged = client.get("/partner/x", headers=revalidate)
        assert unchanged.status_code == 304
        assert unchanged.headers["Link"] == first.headers["Link"]


def test_a_party_page_lists_its_items_a_page_at_a_time(tmp_path: Path) -> None:
    """A party named by more items than a page holds: the items page as its inbound links do."""
    extra = tmp_path / "busy.ttl"
    lines = [
        f"@prefix cmp: <{BASE}ontology#> .",
        "@prefix p-plan: <http://purl.org/net/p-plan#> .",
        f'<{BASE}partner/busy> a cmp:Body ; <http://www.w3.org/2000/01/rdf-schema#label> "Busy body"@en .',
    ]
    lines += [
        f"<{BASE}partner/item{i:03d}> a cmp:SubTask ; cmp:responsibleParty <{BASE}partner/busy> ;"
        f' p-plan:isStepOfPlan <{BASE}plan/2022-2024> ; cmp:sequence {1000 - i} ; cmp:number "{i}" .'
        for i in range(450)
    ]
    extra.write_text("\n".join(lines) + "\n")
    settings = load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE})
    client = create_app(settings, extra=[extra]).test_client()
    shown: list[str] = []
    for page in (1, 2, 3):
        answer = client.get(f"/partner/busy?page={page}", headers={"Accept": "text/html"})
        html = answer.get_data(as_text=True)
        view = html.split('<section class="view party-view"')[1].split("</section>")[0]
        items = re.findall(r'href="/partner/(item\d+)"', view)
        assert len(set(items)) == (200 if page < 3 else 50)
        shown += list(dict.fromkeys(items))
        last = min(page * 200, 450)
        assert f"Items {(page - 1) * 200 + 1:,}-{last:,} of 450, page {page} of 3" in html
        assert ('rel="next"' in answer.headers["Link"]) == (page < 3)
    # In printed order (cmp:sequence counts down here), every item once.
    assert shown == [f"item{i:03d}" for i in reversed(range(450))]


def test_ontology_page_documents_every_term_with_its_shapes(client: FlaskClient) -> None:
    ontology = load_graph(
        sorted((ROOT / "ontology").glob("*.ttl")), __import__("publisher.iris").iris.Iris(BASE)
    )
    page = client.get("/ontology", headers={"Accept": "text/html"}).get_data(as_text=True)
    terms = set(ontology.subjects(RDF.type, OWL.Class)) | set(ontology.subjects(RDF.type, OWL.ObjectProperty))
    terms |= set(ontology.subjects(RDF.type, OWL.DatatypeProperty))
    assert terms
    for term in terms:
        name = str(term).rsplit("#", 1)[-1]
        assert f'id="{name}"' in page, name
        assert str(escape(str(ontology.value(term, RDFS.label)))) in page
    # The SubTask class lists the shape that targets it.
    subtask = page[page.index('id="SubTask"') :]
    assert 'href="/shapes#SubTask"' in subtask[: subtask.index("</article>")]
    turtle = Graph().parse(
        data=client.get("/ontology", headers={"Accept": "text/turtle"}).data, format="turtle"
    )
    assert set(ontology) <= set(turtle)


def test_etags_survive_a_restart_on_a_reused_disk_store(tmp_path: Path) -> None:
    from publisher.site import Site
    from publisher.store import open_store

    iris = Iris(BASE)
    built = open_store(Site(ROOT), iris, store_path=tmp_path / "store")
    reused = open_store(Site(ROOT), iris, store_path=tmp_path / "store")
    try:
        assert reused.report is None  # the generation was reused, not rebuilt
        assert built.version
        assert reused.version == built.version
        assert reused.modified == built.modified
        in_memory = open_store(Site(ROOT), iris)
        assert in_memory.version == built.version  # the version is the content's, wherever it is served
        in_memory.close()
    finally:
        built.close()
        reused.close()


# Replayed answers (publisher/views/entity_replay.py): an answer given before is sent again without Flask;
# these check that what is replayed is exactly what the view would answer.

TOKEN = "replay-secret"
PARTNER = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<partner/thing> a rdfs:Resource ; rdfs:label "{label}" .
<partner/other> a rdfs:Resource ; rdfs:label "Other" ; rdfs:seeAlso <partner/thing> .
"""


@pytest.fixture
def partner_app(tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    extra = tmp_path / "partner.ttl"
    extra.write_text(PARTNER.format(label="first label"))
    overrides = {"site_dir": str(ROOT), "base_iri": BASE, "reload_token": TOKEN, "query_workers": 1}
    app = create_app(load_settings(environ={}, overrides=overrides), extra=[extra])
    yield app, extra
    app.extensions[STORE_KEY].close()


def answer(response: TestResponse) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.items()), response.data


def test_a_repeated_request_gets_the_same_answer_in_the_format_it_asks_for(
    partner_app: tuple[Flask, Path],
) -> None:
    client = partner_app[0].test_client()
    accepts = ["text/html", *RDF_ACCEPT, "text/turtle;q=0.5, application/ld+json", None]
    first = {
        accept: client.get("/cmp/franciscana", headers={"Accept": accept} if accept else {})
        for accept in accepts
    }
    for _ in range(2):  # interleaved, so each answer is replayed after answers in other formats
        for accept in accepts:
            again = client.get("/cmp/franciscana", headers={"Accept": accept} if accept else {})
            assert answer(again) == answer(first[accept])
    assert first["application/ld+json"].mimetype == "application/ld+json"
    assert first["text/turtle;q=0.5, application/ld+json"].mimetype == "application/ld+json"
    assert first[None].mimetype == "text/html"
    for accept, (rdflib_format, _) in RDF_ACCEPT.items():
        again = client.get("/cmp/franciscana", headers={"Accept": accept})
        assert again.mimetype == accept
        assert isomorphic(parse(again.data, rdflib_format), parse(first[accept].data, rdflib_format))
        assert again.headers["Vary"] == "Accept"
        assert again.headers["Access-Control-Allow-Origin"] == "*"
        assert 'rel="alternate"' in again.headers["Link"]


def test_a_repeated_request_is_answered_without_the_store(partner_app: tuple[Flask, Path]) -> None:
    app = partner_app[0]
    client = app.test_client()
    first = client.get("/plan/2018-2020/3.1.2.ttl")
    served = app.extensions[STORE_KEY]

    def no_store(*args: object) -> None:
        raise AssertionError("the store was asked again")

    served.current.exists = served.current.describe = no_store
    try:
        again = client.get("/plan/2018-2020/3.1.2.ttl")
        unchanged = client.get("/plan/2018-2020/3.1.2.ttl", headers={"If-None-Match": first.headers["ETag"]})
    finally:
        del served.current.exists, served.current.describe
    assert answer(again) == answer(first)
    assert unchanged.status_code == 304


def test_replayed_conditional_requests_and_head(partner_app: tuple[Flask, Path]) -> None:
    client = partner_app[0].test_client()
    turtle = {"Accept": "text/turtle"}
    head_first = client.head("/cmp/franciscana", headers=turtle)  # recorded from a HEAD
    assert head_first.status_code == 200
    assert not head_first.data
    first = client.get("/cmp/franciscana", headers=turtle)
    assert first.data
    assert int(first.headers["Content-Length"]) == len(first.data)
    assert head_first.headers["Content-Length"] == first.headers["Content-Length"]
    head = client.head("/cmp/franciscana", headers=turtle)
    assert (head.status_code, sorted(head.headers.items()), head.data) == (200, answer(first)[1], b"")
    etag = first.headers["ETag"]
    for _ in range(2):
        unchanged = client.get("/cmp/franciscana", headers={**turtle, "If-None-Match": etag})
        assert unchanged.status_code == 304
        assert not unchanged.data
        assert unchanged.headers["ETag"] == etag
        assert unchanged.headers["Vary"] == "Accept"
        assert unchanged.headers["Access-Control-Allow-Origin"] == "*"
        assert "Content-Type" not in unchanged.headers
        assert client.head("/cmp/franciscana", headers={**turtle, "If-None-Match": etag}).status_code == 304
    changed = client.get("/cmp/franciscana", headers={**turtle, "If-None-Match": '"other"'})
    assert answer(changed) == answer(first)
    html = client.get("/cmp/franciscana", headers={"Accept": "text/html", "If-None-Match": etag})
    assert html.status_code == 200
    assert html.mimetype == "text/html"
    since = client.get(
        "/cmp/franciscana", headers={**turtle, "If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert since.status_code == 304


def test_pages_link_to_the_server_root_they_were_asked_under(partner_app: tuple[Flask, Path]) -> None:
    client = partner_app[0].test_client()
    plain = client.get("/plan/2018-2020/3.1.2").get_data(as_text=True)
    mirrored = client.get("/plan/2018-2020/3.1.2", environ_overrides={"SCRIPT_NAME": "/mirror"})
    assert 'href="/plan/2018-2020"' in plain
    assert 'href="/mirror/plan/2018-2020"' in mirrored.get_data(as_text=True)
    assert mirrored.headers["Content-Location"] == "/mirror/plan/2018-2020/3.1.2.html"
    again = client.get("/plan/2018-2020/3.1.2").get_data(as_text=True)
    assert again == plain


def test_a_reload_drops_replayed_answers(partner_app: tuple[Flask, Path]) -> None:
    app, extra = partner_app
    client = app.test_client()
    turtle = {"Accept": "text/turtle"}
    assert ">first label</a>" in client.get("/partner/other").get_data(as_text=True)
    before = client.get("/partner/thing", headers=turtle)
    assert (URIRef(BASE + "partner/thing"), RDFS.label, Literal("first label")) in parse(
        before.data, "turtle"
    )
    assert client.get("/partner/thing", headers=turtle).data == before.data  # replayed
    extra.write_text(PARTNER.format(label="second label"))
    reply = client.post("/-/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.text
    after = client.get("/partner/thing", headers=turtle)
    graph = parse(after.data, "turtle")
    assert (URIRef(BASE + "partner/thing"), RDFS.label, Literal("second label")) in graph
    assert (URIRef(BASE + "partner/thing"), RDFS.label, Literal("first label")) not in graph
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = client.get("/partner/thing", headers={**turtle, "If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200
    page = client.get("/partner/thing").get_data(as_text=True)
    assert "second label" in page
    assert "first label" not in page
    # Only what was answered since the reload (a body and its record, for Turtle and HTML): the answers
    # rendered from the old data are gone, not merely unreachable.
    assert len(app.extensions[PAGE_CACHE_KEY]) == 4
    # Labels of linked resources are read once per data version: a page linking to the thing names it anew.
    linking = client.get("/partner/other").get_data(as_text=True)
    assert ">second label</a>" in linking
    assert "first label" not in linking


@pytest.mark.parametrize("suffix", [".ttl", ".trig"])
def test_turtle_declares_the_prefixes_it_uses_and_no_others(client: FlaskClient, suffix: str) -> None:
    for path in ("/plan/2018-2020/1.1", "/cmp/franciscana", "/ontology"):
        text = client.get(path + suffix).get_data(as_text=True)
        declared = re.findall(r"^@prefix ([\w-]*): <([^>]*)> \.$", text, re.M)
        body = "\n".join(line for line in text.splitlines() if not line.startswith("@prefix "))
        assert declared, path
        for name, namespace in declared:
            assert f"{name}:" in body, (path, name)
            assert f"<{namespace}" not in body or name == "", (path, name)  # used wherever it can be
        assert ("dct", "http://purl.org/dc/terms/") in declared, path  # every entity has its dct:source
