"""The dataset as a whole: dumps, the VoID/DCAT description, the sitemap, robots.txt, search, the home page.

Expected graphs and counts are computed here from the project's files with rdflib, never read from cmpkg.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD
from rdflib.term import Node
from werkzeug.wsgi import FileWrapper

import publisher.search as search_module
from publisher.app import create_app
from publisher.config import load_settings
from publisher.dumps import DUMPS_BY_NAME, TEMPORARY_PREFIX, Dumps
from publisher.site import Site
from publisher.store import EmbeddedStore
from publisher.views import dataset as dataset_views
from publisher.views.context import STORE_KEY
from tests.conftest import BASE, ROOT
from tests.support import require

VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DUMPS = {  # file -> Content-Type, rdflib format
    "cmpkg.ttl": ("text/turtle; charset=utf-8", "turtle"),
    "cmpkg.nt.gz": ("application/gzip", "nt"),
    "cmpkg.jsonld": ("application/ld+json", "json-ld"),
    "cmpkg.trig": ("application/trig", "trig"),
}
WIKIDATA = "http://www.wikidata.org/entity/"
WORMS = "https://www.marinespecies.org/aphia.php?p=taxdetails&id="
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
TOKEN = "dataset-test-token"


# What the files say, read with rdflib --------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(site: Site) -> dict[str, Graph]:
    """Each project file as a graph, keyed by the named graph cmpkg loads it into (docs/sparql.md)."""
    graphs = {}
    for path in site.turtle_files():
        name = site.relative(path).rsplit(".", 1)[0]
        graphs[BASE + "graph/" + name] = Graph().parse(path, format="turtle", publicID=BASE)
    return graphs


@pytest.fixture(scope="module")
def union(files: dict[str, Graph]) -> Graph:
    merged = Graph()
    for graph in files.values():
        for triple in graph:
            merged.add(triple)
    return merged


def entity_documents(graph: Graph) -> set[str]:
    """The local path of the page of every subject IRI under the base (a hash IRI's page is its document)."""
    return {str(s)[len(BASE) :].split("#")[0] for s in graph.subjects() if str(s).startswith(BASE)}


# Dumps ---------------------------------------------------------------------------------------------------


def dump_graph(name: str, body: bytes) -> Graph:
    if name.endswith(".gz"):
        body = gzip.decompress(body)
    return Graph().parse(data=body, format=DUMPS[name][1])


@pytest.mark.parametrize("name", [n for n in DUMPS if n != "cmpkg.trig"])
def test_each_dump_is_the_whole_graph(client: FlaskClient, union: Graph, name: str) -> None:
    response = client.get(f"/dump/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == DUMPS[name][0]
    graph = dump_graph(name, response.data)
    assert len(graph) == len(union)
    assert isomorphic(graph, union)


def test_the_trig_dump_keeps_one_graph_per_source_file(client: FlaskClient, files: dict[str, Graph]) -> None:
    response = client.get("/dump/cmpkg.trig")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == DUMPS["cmpkg.trig"][0]
    dataset = Dataset()
    dataset.parse(data=response.data, format="trig")
    named = {str(g.identifier): g for g in dataset.graphs() if len(g)}
    assert set(named) == set(files)
    for name, expected in files.items():
        assert isomorphic(named[name], expected), name


def test_a_dump_uses_the_public_iris(client: FlaskClient) -> None:
    graph = dump_graph("cmpkg.nt.gz", client.get("/dump/cmpkg.nt.gz").data)
    assert (
        URIRef(BASE + "cmp/franciscana"),
        RDF.type,
        URIRef(BASE + "ontology#ConservationManagementPlan"),
    ) in graph


@pytest.mark.parametrize("name", DUMPS)
def test_a_dump_has_a_content_hash_etag_and_answers_conditional_requests(
    client: FlaskClient, name: str
) -> None:
    response = client.get(f"/dump/{name}")
    etag = response.headers["ETag"]
    assert etag == '"' + hashlib.sha256(response.data).hexdigest() + '"'  # strong: no W/
    assert response.headers["Last-Modified"]
    assert "max-age" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(f"/dump/{name}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    since = client.get(f"/dump/{name}", headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert since.status_code == 304
    other = client.get(f"/dump/{name}", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_a_dump_download_can_resume(client: FlaskClient) -> None:
    whole = client.get("/dump/cmpkg.ttl").data
    part = client.get("/dump/cmpkg.ttl", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.data == whole[100:200]


def test_an_unknown_dump_is_404_and_names_the_dumps(client: FlaskClient) -> None:
    response = client.get("/dump/cmpkg.xml")
    assert response.status_code == 404
    assert all(name in response.text for name in DUMPS)


def test_a_dump_is_streamed_from_a_file(app: Flask) -> None:
    """The response hands the open file to the server, which sends it in chunks: no dump is held in memory."""
    with app.test_request_context("/dump/cmpkg.ttl"):
        response = app.full_dispatch_request()
        try:
            assert response.direct_passthrough
            assert response.is_streamed
            assert isinstance(response.response, FileWrapper)
            assert Path(response.response.file.name).name == "cmpkg.ttl"
        finally:
            response.close()


MEMORY_PROBE = textwrap.dedent(
    """
    import re, sys
    from pathlib import Path
    from publisher.app import create_app
    from publisher.config import load_settings

    root, base, extra, lines = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    with extra.open("w") as out:
        for i in range(lines):
            out.write(f'<{base}big/{i}> <{base}ontology#bigNote> "{i:09d} {"synthetic " * 25}" .\\n')
    settings = load_settings(environ={}, overrides={"site_dir": root, "base_iri": base})
    client = create_app(settings, extra=[extra]).test_client()

    def status(name):
        return int(re.search(name + r":\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))

    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from here
    before = status("VmRSS")
    sizes = {}
    for name in ("cmpkg.ttl", "cmpkg.nt.gz", "cmpkg.jsonld", "cmpkg.trig"):
        response = client.get("/dump/" + name, buffered=False)
        sizes[name] = sum(len(chunk) for chunk in response.response)
        response.close()
    print(before, status("VmHWM"), max(sizes.values()))
    """
)


def test_writing_and_serving_dumps_does_not_grow_memory_with_their_size(tmp_path: Path) -> None:
    require(Path("/proc/self/clear_refs").exists(), "measuring peak memory needs Linux /proc/self/clear_refs")
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(ROOT), BASE, str(tmp_path / "big.nt"), "80000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    before_kb, peak_kb, largest_bytes = map(int, result.stdout.split())
    assert largest_bytes > 20_000_000  # the dumps are large enough to show in the peak if held in memory
    growth = (peak_kb - before_kb) * 1024
    assert growth < largest_bytes / 4, f"peak memory grew by {growth} bytes for a {largest_bytes}-byte dump"


PARTNER = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<partner/thing> a rdfs:Resource ; rdfs:label "{label}" .
"""


@pytest.fixture
def extra_app(tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    extra = tmp_path / "partner.ttl"
    extra.write_text(PARTNER.format(label="zyxfirst"))
    settings = load_settings(
        environ={},
        overrides={"site_dir": str(ROOT), "base_iri": BASE, "reload_token": TOKEN, "query_workers": 1},
    )
    app = create_app(settings, extra=[extra])
    yield app, extra
    app.extensions[STORE_KEY].close()


def test_dumps_are_made_again_after_a_reload(extra_app: tuple[Flask, Path]) -> None:
    app, extra = extra_app
    client = app.test_client()
    first = client.get("/dump/cmpkg.ttl")
    assert (URIRef(BASE + "partner/thing"), None, Literal("zyxfirst")) in dump_graph("cmpkg.ttl", first.data)
    extra.write_text(PARTNER.format(label="zyxsecond"))
    reply = client.post("/-/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.text
    second = client.get("/dump/cmpkg.ttl", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    graph = dump_graph("cmpkg.ttl", second.data)
    assert (URIRef(BASE + "partner/thing"), None, Literal("zyxsecond")) in graph
    assert (URIRef(BASE + "partner/thing"), None, Literal("zyxfirst")) not in graph
    search = client.get("/search.json?q=zyx").get_json()
    assert [hit["iri"] for hit in search["results"]] == [BASE + "partner/thing"]


def test_dumps_are_written_once_under_the_store_path(tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    settings = load_settings(
        environ={},
        overrides={
            "site_dir": str(ROOT),
            "base_iri": BASE,
            "store_path": str(store_path),
            "query_workers": 1,
        },
    )
    etags, files = [], []
    for _ in range(2):  # a second server on the same store path reuses the dump the first one wrote
        app = create_app(settings)
        try:
            response = app.test_client().get("/dump/cmpkg.nt.gz")
            assert response.status_code == 200
            etags.append(response.headers["ETag"])
            (written,) = (store_path / "dumps").glob("*/cmpkg.nt.gz")
            files.append((written, written.stat().st_mtime_ns))
        finally:
            app.extensions[STORE_KEY].close()
    assert etags[0] == etags[1]
    assert files[0] == files[1]


def test_temporary_dumps_of_a_killed_server_are_removed(tmp_path: Path) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    temporary = Path(tempfile.gettempdir())
    orphan = temporary / f"{TEMPORARY_PREFIX}{ended.stdout.strip()}-killed"
    alive = temporary / f"{TEMPORARY_PREFIX}{os.getpid()}-still-serving"
    for directory in (orphan, alive):
        directory.mkdir()
        (directory / "cmpkg.ttl").write_text("")
    try:
        dumps = Dumps(None, {})
        written = dumps.get(EmbeddedStore.open(), DUMPS_BY_NAME["cmpkg.ttl"])
        assert written.path.exists()
        assert not orphan.exists()
        assert alive.exists()
    finally:
        shutil.rmtree(orphan, ignore_errors=True)
        shutil.rmtree(alive, ignore_errors=True)


# VoID ----------------------------------------------------------------------------------------------------

VOID_FORMATS = {
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/n-triples": ("nt", "nt"),
    "application/rdf+xml": ("rdf", "xml"),
}


@pytest.fixture(scope="module")
def void(app: Flask) -> Graph:
    response = app.test_client().get("/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.data, format="turtle")


def the_dataset(void: Graph) -> URIRef:
    (dataset,) = set(void.subjects(RDF.type, VOID.Dataset)) & set(void.subjects(VOID.sparqlEndpoint))
    assert isinstance(dataset, URIRef)
    return dataset


def integer(graph: Graph, subject: Node, predicate: URIRef) -> int:
    value = graph.value(subject, predicate)
    assert isinstance(value, Literal), (subject, predicate)
    assert value.datatype == XSD.integer
    return int(value)


@pytest.mark.parametrize("accept", VOID_FORMATS)
@pytest.mark.parametrize("path", ["/void", "/.well-known/void"])
def test_void_answers_every_rdf_format_and_its_twins_agree(
    client: FlaskClient, void: Graph, path: str, accept: str
) -> None:
    suffix, rdflib_format = VOID_FORMATS[accept]
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"] == f"/void.{suffix}"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    graph = Graph().parse(data=response.data, format=rdflib_format)
    assert isomorphic(graph, void)
    twin = client.get(f"/void.{suffix}")
    assert twin.mimetype == accept
    assert isomorphic(Graph().parse(data=twin.data, format=rdflib_format), void)


def test_void_is_turtle_for_rdf_clients_and_html_for_browsers(client: FlaskClient) -> None:
    assert client.get("/void").mimetype == "text/turtle"
    assert client.get("/void", headers={"Accept": "*/*"}).mimetype == "text/turtle"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/void", headers={"Accept": browser}).mimetype == "text/html"
    refused = client.get("/void", headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert "text/turtle" in refused.text


def test_void_answers_conditional_requests(client: FlaskClient) -> None:
    first = client.get("/void")
    assert not first.headers["ETag"].startswith("W/")
    assert client.get("/void", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    html = client.get("/void", headers={"Accept": "text/html", "If-None-Match": first.headers["ETag"]})
    assert html.status_code == 200  # another representation, another ETag


def test_void_describes_access_licence_and_publisher(void: Graph) -> None:
    dataset = the_dataset(void)
    assert (dataset, RDF.type, DCAT.Dataset) in void
    assert void.value(dataset, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")
    assert (URIRef(BASE + "sparql"), DCAT.endpointURL, URIRef(BASE + "sparql")) in void
    assert void.value(dataset, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert void.value(dataset, DCTERMS.publisher) == URIRef(BASE + "party/iwc")
    modified = void.value(dataset, DCTERMS.modified)
    assert isinstance(modified, Literal)
    assert modified.datatype == XSD.dateTime
    dumps = set(void.objects(dataset, VOID.dataDump))
    assert dumps == {URIRef(BASE + "dump/" + name) for name in DUMPS}
    assert dumps == set(void.objects(dataset, DCAT.distribution))
    gzipped = URIRef(BASE + "dump/cmpkg.nt.gz")
    assert void.value(gzipped, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/application/n-triples"
    )
    assert void.value(gzipped, DCAT.compressFormat) == URIRef(
        "https://www.iana.org/assignments/media-types/application/gzip"
    )


def test_void_advertises_dumps_and_examples_that_answer(client: FlaskClient, void: Graph) -> None:
    dataset = the_dataset(void)
    for dump in void.objects(dataset, VOID.dataDump):
        assert client.head(str(dump)[len(BASE) - 1 :]).status_code == 200
    examples = list(void.objects(dataset, VOID.exampleResource))
    assert URIRef(BASE + "plan/2018-2020") in examples
    for example in examples:
        assert client.get(str(example)[len(BASE) - 1 :]).status_code == 200


def test_void_counts_are_the_data_s(void: Graph, union: Graph) -> None:
    dataset = the_dataset(void)
    assert integer(void, dataset, VOID.triples) == len(union)
    assert integer(void, dataset, VOID.distinctSubjects) == len(set(union.subjects()))
    assert integer(void, dataset, VOID.distinctObjects) == len(set(union.objects()))
    under_base = {s for s in union.subjects() if isinstance(s, URIRef) and str(s).startswith(BASE)}
    assert integer(void, dataset, VOID.entities) == len(under_base)
    partitions = {void.value(p, VOID["class"]): p for p in void.objects(dataset, VOID.classPartition)}
    classes = {c for c in union.objects(None, RDF.type) if isinstance(c, URIRef)}
    assert set(partitions) == classes
    for cls in classes:
        assert integer(void, partitions[cls], VOID.entities) == len(set(union.subjects(RDF.type, cls))), cls
    assert integer(void, partitions[URIRef(BASE + "ontology#ActionPlan")], VOID.entities) == 2
    properties = {void.value(p, VOID.property): p for p in void.objects(dataset, VOID.propertyPartition)}
    assert set(properties) == set(union.predicates())
    for prop, partition in properties.items():
        assert integer(void, partition, VOID.triples) == len(list(union.triples((None, prop, None)))), prop


@pytest.mark.parametrize("prefix", [WIKIDATA, WORMS], ids=["wikidata", "worms"])
def test_void_linksets_count_the_links(void: Graph, union: Graph, prefix: str) -> None:
    expected: dict[Node, int] = {}
    for s, p, o in union:
        if str(s).startswith(BASE) and isinstance(o, URIRef) and str(o).startswith(prefix):
            expected[p] = expected.get(p, 0) + 1
    assert expected.get(SKOS.exactMatch, 0) > 0  # the data links with skos:exactMatch (and schema:url)
    found: dict[URIRef, int] = {}
    for linkset in void.subjects(RDF.type, VOID.Linkset):
        target = void.value(linkset, VOID.objectsTarget)
        if str(void.value(target, VOID.uriSpace)) == prefix:
            assert void.value(linkset, VOID.subjectsTarget) == the_dataset(void)
            predicate = void.value(linkset, VOID.linkPredicate)
            assert isinstance(predicate, URIRef)
            found[predicate] = integer(void, linkset, VOID.triples)
    assert found == expected


def test_the_void_page_shows_the_key_numbers(client: FlaskClient, union: Graph) -> None:
    response = client.get("/void", headers={"Accept": "text/html"})
    assert response.status_code == 200
    page = response.text
    assert f"<dd>{len(union)}</dd>" in page
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in page
    assert 'href="/party/iwc"' in page
    for name in DUMPS:
        assert f'href="/dump/{name}"' in page
    assert 'href="/sparql"' in page
    assert "World Register of Marine Species" in page


# Sitemap and robots.txt ----------------------------------------------------------------------------------


def sitemap_locations(client: FlaskClient, path: str = "/sitemap.xml") -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    if root.tag == SITEMAP + "sitemapindex":
        found = []
        for loc in root.iter(SITEMAP + "loc"):
            assert loc.text is not None
            found += sitemap_locations(client, loc.text.removeprefix("http://localhost"))
        return found
    assert root.tag == SITEMAP + "urlset"
    return [loc.text or "" for loc in root.iter(SITEMAP + "loc")]


def test_the_sitemap_lists_every_entity_page_once(client: FlaskClient, union: Graph) -> None:
    locations = sitemap_locations(client)
    assert len(locations) == len(set(locations))
    assert set(locations) == {"http://localhost/" + path for path in entity_documents(union)}
    assert "http://localhost/ontology" in locations
    assert not any("#" in location for location in locations)


def test_every_sitemap_page_answers(client: FlaskClient) -> None:
    for location in sitemap_locations(client):
        assert client.get(location.removeprefix("http://localhost")).status_code == 200, location


def test_the_sitemap_uses_the_host_it_is_asked_on(client: FlaskClient) -> None:
    response = client.get("/sitemap.xml", base_url="https://mirror.example:8443")
    assert "<loc>https://mirror.example:8443/plan/2018-2020</loc>" in response.text
    assert BASE not in response.text


def test_a_large_sitemap_is_split_by_an_index(
    client: FlaskClient, union: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset_views, "MAX_URLS", 100)
    response = client.get("/sitemap.xml")
    root = ET.fromstring(response.data)
    assert root.tag == SITEMAP + "sitemapindex"
    parts = [loc.text or "" for loc in root.iter(SITEMAP + "loc")]
    assert len(parts) == -(-len(entity_documents(union)) // 100)
    for part in parts:
        urls = ET.fromstring(client.get(part.removeprefix("http://localhost")).data)
        assert 0 < len(list(urls.iter(SITEMAP + "loc"))) <= 100
    assert sorted(sitemap_locations(client)) == sorted(
        "http://localhost/" + p for p in entity_documents(union)
    )
    assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404


def test_robots_txt_points_to_the_sitemap(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.text.splitlines()
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert "User-agent: *" in lines
    assert client.get("/sitemap.xml").status_code == 200


# Search --------------------------------------------------------------------------------------------------

LABELS = (
    URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
    SKOS.prefLabel,
    SKOS.altLabel,
    URIRef("http://rs.tdwg.org/dwc/terms/scientificName"),
    URIRef("http://rs.tdwg.org/dwc/terms/vernacularName"),
    URIRef("http://xmlns.com/foaf/0.1/name"),
)


def named_exactly(graph: Graph, text: str) -> set[str]:
    """The entities with a label that is the text, ignoring case."""
    return {
        str(s)
        for p in LABELS
        for s, o in graph.subject_objects(p)
        if str(o).casefold() == text.casefold() and str(s).startswith(BASE)
    }


def search(client: FlaskClient, query: str, **params: str) -> dict[str, object]:
    response = client.get("/search.json", query_string={"q": query, **params})
    assert response.status_code == 200, response.text
    document: dict[str, object] = response.get_json()
    return document


def iris_of(document: dict[str, object]) -> list[str]:
    results = document["results"]
    assert isinstance(results, list)
    return [hit["iri"] for hit in results]


@pytest.mark.parametrize(
    ("query", "entity"),
    [
        ("Franciscana", "cmp/franciscana"),
        ("SWG-CMP", "party/swg-cmp"),  # an skos:altLabel
        ("gray whale", "taxon/eschrichtius-robustus"),  # a dwc:vernacularName
        ("Eschrichtius robustus", "taxon/eschrichtius-robustus"),  # a dwc:scientificName
        ("Brazil", "country/BR"),  # an skos:prefLabel
    ],
)
def test_search_finds_entities_by_any_label(
    client: FlaskClient, union: Graph, query: str, entity: str
) -> None:
    found = iris_of(search(client, query))
    assert BASE + entity in found
    exact = named_exactly(union, query)
    assert exact, query
    assert set(found[: len(exact)]) == exact  # the entities named exactly that come first


def test_search_ignores_case_and_accents(client: FlaskClient) -> None:
    expected = iris_of(search(client, "franciscana"))
    assert expected
    for variant in ("FRANCISCANA", "Franciscána", "  franciscana "):
        assert iris_of(search(client, variant)) == expected
    assert iris_of(search(client, "GRAY WHALE")) == iris_of(search(client, "gray whale"))


SEARCH_FIXTURE = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<probe/exact> rdfs:label "Zorbleweed"@en .
<probe/prefix> rdfs:label "Zorbleweed meadow"@en .
<probe/word> skos:prefLabel "Northern zorbleweed" .
<probe/substring> rdfs:label "Anti-Gravity Superzorbleweeds"@en .
<probe/words> rdfs:label "Weed of the zorble kind"@en .
<probe/accent> rdfs:label "Península Valdés"@es .
<probe/markup> rdfs:label "<script>alert('label')</script> quux"@en .
"""


@pytest.fixture(scope="module")
def probe_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    extra = tmp_path_factory.mktemp("search") / "probe.ttl"
    extra.write_text(SEARCH_FIXTURE)
    settings = load_settings(
        environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE, "query_workers": 1}
    )
    app = create_app(settings, extra=[extra])
    yield app.test_client()
    app.extensions[STORE_KEY].close()


def test_search_ranks_exact_then_prefix_then_word_then_substring(probe_client: FlaskClient) -> None:
    document = search(probe_client, "zorbleweed")
    assert iris_of(document) == [BASE + f"probe/{name}" for name in ("exact", "prefix", "word", "substring")]
    results = document["results"]
    assert isinstance(results, list)
    assert [hit["match"] for hit in results] == ["exact", "prefix", "word", "substring"]
    every_word = search(probe_client, "kind zorble")  # every word of the query, in any order
    assert iris_of(every_word) == [BASE + "probe/words"]
    assert every_word["results"][0]["match"] == "all-words"  # type: ignore[index]


def test_search_finds_accented_labels_without_accents(probe_client: FlaskClient) -> None:
    assert iris_of(search(probe_client, "peninsula valdes")) == [BASE + "probe/accent"]
    assert iris_of(search(probe_client, "PENÍNSULA")) == [BASE + "probe/accent"]


def test_search_shows_markup_in_labels_and_queries_as_text(probe_client: FlaskClient) -> None:
    page = probe_client.get("/search", query_string={"q": "<script>alert('q')</script> quux"}).text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;q&#39;)&lt;/script&gt;" in page
    page = probe_client.get("/search", query_string={"q": "quux"}).text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;label&#39;)&lt;/script&gt; quux" in page


def test_search_results_link_to_local_entity_pages(client: FlaskClient) -> None:
    response = client.get("/search", query_string={"q": "Franciscana"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert '<a href="/cmp/franciscana">Franciscana CMP</a>' in response.text
    results = search(client, "Franciscana")["results"]
    assert isinstance(results, list)
    for hit in results:
        assert hit["href"] == "/" + hit["iri"][len(BASE) :]
        assert client.get(hit["href"]).status_code == 200


def test_search_answers_json_by_accept(client: FlaskClient) -> None:
    response = client.get("/search?q=SWG-CMP", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert "Accept" in response.headers["Vary"]
    assert response.get_json() == search(client, "SWG-CMP")


def test_search_pages_its_results(client: FlaskClient) -> None:
    first = search(client, "the")
    total = first["total"]
    assert isinstance(total, int)
    assert total > 20
    assert len(iris_of(first)) == 20
    assert first["next"] == "/search.json?q=the&page=2"
    second = search(client, "the", page="2")
    assert not set(iris_of(first)) & set(iris_of(second))
    assert second["prev"] == "/search.json?q=the&page=1"
    html = client.get("/search?q=the").text
    assert 'rel="next" href="/search?q=the&amp;page=2"' in html


def test_a_search_met_by_too_many_names_ranks_only_the_first_and_says_so(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    complete = search(client, "e")
    assert complete["complete"] is True
    total = complete["total"]
    assert isinstance(total, int)
    assert total > 40
    monkeypatch.setattr(search_module, "MAX_CANDIDATES", 40)  # the project's data is small: a low cap
    capped = search(client, "e")
    assert capped["complete"] is False
    capped_total = capped["total"]
    assert isinstance(capped_total, int)
    assert 0 < capped_total <= 40
    assert "More than" in client.get("/search?q=e").text
    assert search(client, "SWG-CMP")["complete"] is True  # a query few names meet is unaffected


def test_an_empty_search_shows_the_form(client: FlaskClient) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    page = response.text
    assert re.search(r'<label for="search-q">', page)
    assert re.search(r'<input type="search" id="search-q" name="q"', page)
    assert search(client, "")["results"] == []


def test_bad_search_requests_are_explained(client: FlaskClient) -> None:
    assert client.get("/search?q=whale&page=zero").status_code == 400
    too_long = client.get("/search.json", query_string={"q": "w" * 201})
    assert too_long.status_code == 400
    assert "200 characters" in too_long.get_json()["error"]


# Home page -----------------------------------------------------------------------------------------------


def test_the_home_page_has_a_search_box_and_links_to_the_data(client: FlaskClient, union: Graph) -> None:
    page = client.get("/").text
    form = re.search(r'<form class="search"[^>]*action="/search"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    field = re.search(r'<input type="search" id="([^"]+)" name="q"', form.group(1))
    assert field is not None
    assert f'<label for="{field.group(1)}">' in form.group(1)
    for href in ["/void", "/sparql", "/queries", *(f"/dump/{name}" for name in DUMPS)]:
        assert f'href="{href}"' in page, href
    plans = union.subjects(RDF.type, URIRef(BASE + "ontology#ActionPlan"))
    cmps = union.subjects(RDF.type, URIRef(BASE + "ontology#ConservationManagementPlan"))
    for entity in [*plans, *cmps]:
        href = "/" + str(entity)[len(BASE) :]
        assert f'href="{href}"' in page, href
        assert client.get(href).status_code == 200


def test_the_search_page_json_is_valid_json(client: FlaskClient) -> None:
    response = client.get("/search.json?q=whale")
    json.loads(response.data)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# Start-up: what is computed once per data version is ready before the first request -----------------------


def test_warm_up_computes_everything_a_first_request_would_wait_for(tmp_path: Path) -> None:
    from publisher.serving import warm_up

    settings = load_settings(
        environ={},
        overrides={"site_dir": str(ROOT), "base_iri": BASE, "store_path": str(tmp_path / "store")},
    )
    app = create_app(settings)
    try:
        seconds = warm_up(app)
        assert {"summary", "VoID statistics", "sitemap", "search index"} <= set(seconds)
        assert {f"dump {name}" for name in DUMPS} <= set(seconds)
        written = {path.name for path in (tmp_path / "store" / "dumps").glob("*/cmpkg.*")} & set(DUMPS)
        assert written == set(DUMPS)  # every dump is on disk before anyone asked for it
        state = app.extensions[dataset_views.STATE_KEY]
        for computed in (state.summary, state.statistics, state.sitemap, state.search):
            assert computed.computed() is not None
        # A worker's app (its own store of the same data) takes the values over instead of computing them.
        worker = create_app(settings)
        try:
            dataset_views.adopt(worker, app)
            client = worker.test_client()
            hits = client.get("/search.json?q=franciscana").get_json()["results"]
            assert BASE + "cmp/franciscana" in [hit["iri"] for hit in hits]
            adopted = worker.extensions[dataset_views.STATE_KEY].search.computed()
            assert adopted is not None
            assert adopted[1] is state.search.computed()[1]
            assert (
                client.get("/dump/cmpkg.ttl").headers["ETag"]
                == app.test_client().get("/dump/cmpkg.ttl").headers["ETag"]
            )
        finally:
            worker.extensions[STORE_KEY].close()
    finally:
        app.extensions[STORE_KEY].close()


@pytest.mark.parametrize("before", [True, False], ids=["warm-up-before-serving", "warm-up-in-background"])
def test_served_workers_answer_with_everything_computed_at_start_up(tmp_path: Path, before: bool) -> None:
    store_path = tmp_path / "store"
    port = _free_port()
    env = {**os.environ, "CMPKG_STORE_PATH": str(store_path), "CMPKG_QUERY_WORKERS": "1"}
    env["CMPKG_WARM_UP_BEFORE_SERVING"] = str(before).lower()
    command = [str(Path(sys.executable).parent / "cmpkg"), "--site", str(ROOT), "--base-iri", BASE]
    command += ["serve", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(server, f"http://127.0.0.1:{port}/robots.txt")

        def dumps() -> set[str]:
            return {path.name for path in (store_path / "dumps").glob("*/cmpkg.*")}

        if before:  # before any dump was asked for, they are written (by the server, before the workers)
            assert dumps() >= set(DUMPS)
        else:  # the workers answer at once and write them meanwhile, without anyone asking
            deadline = time.monotonic() + 120
            while not dumps() >= set(DUMPS) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert dumps() >= set(DUMPS)
        etags = set()
        for _ in range(6):  # both workers, each with what the server computed
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/dump/cmpkg.nt.gz", timeout=30) as reply:
                etags.add(reply.headers["ETag"])
            search = f"http://127.0.0.1:{port}/search.json?q=franciscana"
            with urllib.request.urlopen(search, timeout=30) as reply:
                assert BASE + "cmp/franciscana" in [hit["iri"] for hit in json.load(reply)["results"]]
        assert len(etags) == 1
        # A long query by GET (60 kB: far past the 4-8 kB many HTTP servers allow) reaches the endpoint.
        padding = "#" + "x" * 60_000 + "\n"
        long_query = urllib.parse.urlencode({"query": padding + "ASK { ?s ?p ?o }"})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?{long_query}", timeout=30) as reply:
            assert json.load(reply)["boolean"] is True
    finally:
        server.terminate()
        try:
            _, errors = server.communicate(timeout=20)  # workers of an on-disk store stop at once too
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
            raise
    assert server.returncode == 0, errors
    filled = errors.count("caches filled in")
    assert filled == 1 if before else filled >= 1  # in the background: by each worker that got to finish
    assert "Traceback" not in errors


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(server: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.3)


def test_dumps_can_be_left_to_a_background_thread(tmp_path: Path) -> None:
    from publisher.serving import warm_up

    settings = load_settings(
        environ={},
        overrides={"site_dir": str(ROOT), "base_iri": BASE, "store_path": str(tmp_path / "store")},
    )
    app = create_app(settings)
    try:
        seconds = warm_up(app, dumps=False)  # as for a remote store, whose dumps take minutes at 1M
        assert "search index" in seconds
        assert not [name for name in seconds if name.startswith("dump")]
        assert not set(DUMPS) & {path.name for path in (tmp_path / "store" / "dumps").glob("*/*")}
        dataset_views.write_dumps_in_background(app).join(timeout=120)
        written = {path.name for path in (tmp_path / "store" / "dumps").glob("*/cmpkg.*")} & set(DUMPS)
        assert written == set(DUMPS)
        reply = app.test_client().get("/dump/cmpkg.ttl")
        assert reply.status_code == 200
        assert (URIRef(BASE + "cmp/franciscana"), None, None) in dump_graph("cmpkg.ttl", reply.data)
    finally:
        app.extensions[STORE_KEY].close()
