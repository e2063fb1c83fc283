"""cmpkg on a real triple store (an Oxigraph server, Virtuoso): the same descriptions and ETags as the
embedded store, pushes that replace the data atomically (a push killed half-way, failing between graphs, or
refused by validation leaves the previous data served), the store going down and coming back (503 with
Retry-After, then answers again without restarting cmpkg), a slow store stopped at cmpkg's own timeout,
`cmpkg validate --endpoint`, dumps and search over the store, and several web workers sharing it."""

from __future__ import annotations

import gzip
import http.server
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from pyoxigraph import BlankNode
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS

from publisher.app import create_app
from publisher.cli import main
from publisher.config import load_settings
from publisher.describe import Description
from publisher.formats import JSON
from publisher.iris import Iris
from publisher.pages import special_view
from publisher.push import PushError, PushRefusedError, push
from publisher.query_execution import QueryJob
from publisher.rdf_files import to_rdflib
from publisher.remote_store import STAGING_PREFIX, RemoteSnapshot, RemoteStore, StoreState
from publisher.site import Site
from publisher.sparql_client import SparqlClient, StoreLocation, StoreRefusedError
from publisher.store import EmbeddedStore, build_store
from publisher.validation import load_graph
from tests.backends import client_for
from tests.conftest import BASE, ROOT
from tests.servers import StoreServer, oxigraph_binary, oxigraph_server, virtuoso_binary, virtuoso_server
from tests.support import free_port, require

REMOTE = ("oxigraph-server", "virtuoso")
XSD = "http://www.w3.org/2001/XMLSchema#"
PROGRAMME_LABEL = "IWC Conservation Management Plan programme"


def start(kind: str, directory: Path) -> StoreServer:
    if kind == "virtuoso":
        require(virtuoso_binary() is not None, "no `virtuoso-t` (Debian virtuoso-opensource)")
        server = virtuoso_server(directory)
    else:
        require(oxigraph_binary() is not None, "no `oxigraph` command (PyPI oxigraph)")
        server = oxigraph_server(directory)
    server.start()
    return server


@pytest.fixture(scope="module")
def embedded(site: Site, iris: Iris) -> EmbeddedStore:
    return build_store(site, iris)[0]


@pytest.fixture(scope="module", params=REMOTE)
def shared(request: pytest.FixtureRequest) -> StoreServer:
    """The session's store holding the project (read only here)."""
    fixture = {"oxigraph-server": "oxigraph_store", "virtuoso": "virtuoso_store"}[request.param]
    server: StoreServer = request.getfixturevalue(fixture)
    return server


def remote(server: StoreServer, interval: float = 0.0) -> RemoteStore:
    return RemoteStore(client_for(server), BASE, 30.0, interval)


def graph_of(triples: list[object]) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))  # type: ignore[attr-defined]
    return graph


def same_description(a: Description | None, b: Description | None) -> bool:
    """Equal but for blank node labels, which each store chooses."""
    if a is None or b is None:
        return a is b
    blank_free = {link for link in a.inbound if not link.subject.value.startswith("_")}
    return (
        isomorphic(graph_of(list(a.statements)), graph_of(list(b.statements)))
        and set(a.context) == set(b.context)
        and a.graphs == b.graphs
        and a.inbound_total == b.inbound_total
        and blank_free <= set(b.inbound)
        and (a.page, a.pages) == (b.page, b.pages)
    )


# The same answers as the embedded store ----------------------------------------------------------------


def documents(embedded: EmbeddedStore) -> list[str]:
    rows = embedded.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER (isIRI(?s)) }")
    return sorted({row["s"].value.split("#", 1)[0] for row in rows if row["s"].value.startswith(BASE)})


def test_every_entity_is_described_as_the_embedded_store_does(
    shared: StoreServer, embedded: EmbeddedStore
) -> None:
    store = remote(shared, interval=60)
    found = documents(embedded)
    assert BASE + "plan/2018-2020/3.1.2" in found
    assert BASE + "shapes" in found  # blank nodes several levels deep (property shapes, sh:in lists)
    differing = [iri for iri in found if not same_description(embedded.describe(iri), store.describe(iri))]
    assert differing == []
    for iri in [*found[::7], BASE + "nothing/here"]:
        assert store.exists(iri) == embedded.exists(iri), iri
    # Every breadcrumb parent (read with the entity's ancestors' in one query, and kept)
    assert [store.parent(iri) for iri in found] == [embedded.parent(iri) for iri in found]
    assert store.parent(BASE + "nothing/here") is None
    assert store.describe(BASE + "nothing/here") is None


def test_a_party_page_of_items_is_the_embedded_stores(shared: StoreServer, embedded: EmbeddedStore) -> None:
    """A party's items a page at a time (a subquery with OFFSET and LIMIT over the plans in order)."""
    store, iris = remote(shared), Iris(BASE)
    party, types = BASE + "party/swg-cmp", {BASE + "ontology#Body"}
    for page in (1, 2, 3, 9):
        here = special_view(store, iris, party, types, page=page, page_size=4)
        there = special_view(embedded, iris, party, types, page=page, page_size=4)
        assert here is not None
        assert there is not None
        assert here.context == there.context, page
        if page == 2:
            assert here.context["view"].plans  # a page of items, not only the empty ones past the end


def test_version_modified_and_counts_are_the_embedded_stores(
    shared: StoreServer, embedded: EmbeddedStore
) -> None:
    store = remote(shared)
    assert store.version == embedded.version  # a content hash of the files: the same on every host
    assert store.modified == embedded.modified
    assert store.triples() == embedded.triples()
    assert store.graph_sizes() == embedded.graph_sizes()  # the metadata graph is not part of the dataset


def test_etags_are_the_same_on_every_store(shared: StoreServer) -> None:
    embedded_app = create_app(load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE}))
    remote_app = create_app(
        load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE, **shared.settings})
    )
    for path in ("/cmp/franciscana", "/plan/2018-2020/3.1.2"):
        ours = embedded_app.test_client().get(path, headers={"Accept": "text/turtle"})
        theirs = remote_app.test_client().get(path, headers={"Accept": "text/turtle"})
        assert theirs.status_code == 200
        assert theirs.headers["ETag"] == ours.headers["ETag"]
        assert theirs.headers["Last-Modified"] == ours.headers["Last-Modified"]
        assert isomorphic(Graph().parse(data=ours.data), Graph().parse(data=theirs.data))


def test_a_query_declaring_its_own_base_is_answered(shared: StoreServer) -> None:
    # Virtuoso refuses a second BASE, and cmpkg declares one for the query's relative IRIs.
    app = create_app(
        load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE, **shared.settings})
    )
    client = app.test_client()

    def answer(query: str) -> object:
        response = client.post(
            "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    label = answer(f"BASE <{BASE}>\nSELECT ?l WHERE {{ <programme> <{RDFS.label}> ?l }}")
    assert [row["l"]["value"] for row in label["results"]["bindings"]] == [PROGRAMME_LABEL]  # type: ignore[index]
    # A relative BASE resolves against cmpkg's base; a prefix declared before it, too; a BASE in a comment
    # or a string is no declaration.
    relative = answer(
        "PREFIX cmp: <ontology#> # BASE <elsewhere/>\n"
        'BASE <cmp/> ASK { <franciscana> a cmp:ConservationManagementPlan FILTER ("BASE <x>" != "") }'
    )
    assert relative["boolean"] is True  # type: ignore[index]
    assert set(relative["head"]) <= {"link"}  # type: ignore[index]  # an ASK has no variables (Virtuoso: link)


def record_queries(store: Any) -> list[str]:
    """The list every SPARQL query the remote store's client sends from now on is appended to."""
    sent: list[str] = []
    query = store.client.query

    def counted(sparql: str, *args: object, **kwargs: object) -> object:
        sent.append(sparql)
        return query(sparql, *args, **kwargs)

    store.client.query = counted
    return sent


def test_a_page_served_again_asks_the_store_nothing(shared: StoreServer) -> None:
    app = create_app(
        load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE, **shared.settings})
    )
    client = app.test_client()
    store = app.extensions["cmpkg.store"]
    sent = record_queries(store)
    first = client.get("/cmp/franciscana", headers={"Accept": "text/html"})
    assert first.status_code == 200
    assert sent  # the first time, the page is read from the store
    sent.clear()
    again = client.get("/cmp/franciscana", headers={"Accept": "text/html"})
    assert again.status_code == 200
    assert again.data == first.data
    assert sent == []  # within store_check_interval, the data version cannot have changed


def test_labels_of_nodes_described_before_are_not_asked_again(
    shared: StoreServer, embedded: EmbeddedStore
) -> None:
    store = remote(shared, interval=60)
    sent = record_queries(store)

    def labelled(sparql: str) -> set[str]:  # the IRIs whose labels and types a query asks for
        if "FILTER (?p IN (" not in sparql:
            return set()
        return set(re.findall(r"<([^>]+)>", sparql.split("}", 1)[0]))

    first = store.describe(BASE + "plan/2018-2020/1.1.1")
    asked_first = set().union(*map(labelled, sent))
    sent.clear()
    second = store.describe(BASE + "plan/2018-2020/1.1.2")  # a sibling: same predicates, plan, action
    asked_second = set().union(*map(labelled, sent))
    assert "http://purl.org/net/p-plan#isStepOfPlan" in asked_first
    assert not asked_first & asked_second
    assert same_description(first, embedded.describe(BASE + "plan/2018-2020/1.1.1"))
    assert same_description(second, embedded.describe(BASE + "plan/2018-2020/1.1.2"))


def test_results_in_json_say_literal_for_a_typed_literal(shared: StoreServer) -> None:
    """Virtuoso writes "typed-literal" (the name before SPARQL 1.1); its JSON passes through rewritten."""
    store = remote(shared)
    answer = store.execute(
        QueryJob('SELECT ?n ?s WHERE { BIND (42 AS ?n) BIND ("say \\"typed-literal\\"" AS ?s) }', BASE), 30
    )
    assert answer.format is JSON
    row = json.loads(answer.body)["results"]["bindings"][0]
    assert row["n"] == {"type": "literal", "datatype": XSD + "integer", "value": "42"}
    assert row["s"]["value"] == 'say "typed-literal"'


def test_parents_asked_for_in_advance_are_read_meanwhile_and_once(
    shared: StoreServer, embedded: EmbeddedStore
) -> None:
    store = remote(shared, interval=60)
    assert store.describe(BASE + "plan/2018-2020") is not None  # the store's dialect is known
    readers: list[str] = []
    query = store.client.query

    def counted(sparql: str, *args: Any, **kwargs: Any) -> Any:
        if "?node ?link ?parent" in sparql:
            readers.append(threading.current_thread().name)
        return query(sparql, *args, **kwargs)

    store.client.query = counted  # type: ignore[method-assign]
    iri = BASE + "plan/2018-2020/3.1.2"
    store.prepare_parent(iri)
    assert store.parent(iri) == embedded.parent(iri)
    assert store.parent(BASE + "plan/2018-2020/3.1") == embedded.parent(BASE + "plan/2018-2020/3.1")
    assert len(readers) == 1  # the whole chain, once
    assert readers[0].startswith("cmpkg-describe")  # not the caller's thread


def test_dumps_void_search_and_sitemap_read_the_store(shared: StoreServer, site: Site, iris: Iris) -> None:
    app = create_app(
        load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE, **shared.settings})
    )
    client = app.test_client()
    dump = client.get("/dump/cmpkg.nt.gz")
    assert dump.status_code == 200
    assert isomorphic(
        Graph().parse(data=gzip.decompress(dump.data), format="nt"), load_graph(site.turtle_files(), iris)
    )
    trig = client.get("/dump/cmpkg.trig")
    assert trig.status_code == 200
    assert client.get("/void", headers={"Accept": "text/turtle"}).status_code == 200
    hits = client.get("/search.json?q=franciscana").get_json()
    assert BASE + "cmp/franciscana" in [hit["iri"] for hit in hits["results"]]
    assert "/cmp/franciscana</loc>" in client.get("/sitemap.xml").get_data(as_text=True)


# Pushes --------------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Site:
    """A copy of the project that tests may change."""
    for name in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / name, tmp_path / "project" / name)
    return Site(tmp_path / "project")


@pytest.fixture(scope="module", params=REMOTE)
def own_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StoreServer]:
    """A store of the module's own, which its tests push to."""
    server = start(request.param, tmp_path_factory.mktemp(request.param))
    yield server
    server.stop()


def relabel(site: Site, label: str) -> None:
    path = site.data_dir / "programme.ttl"
    path.write_text(path.read_text().replace(f'"{PROGRAMME_LABEL}"@en', f'"{label}"@en'))


def programme_label(store: RemoteStore) -> str:
    rows = list(store.query(f"SELECT ?l WHERE {{ <{BASE}programme> <{RDFS.label}> ?l }}"))
    assert len(rows) == 1
    return str(rows[0]["l"].value)


def staging_graphs(server: StoreServer) -> list[str]:
    """The staging graphs in the store (asked of the store itself: cmpkg's own queries never see them)."""
    reply = client_for(server).query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER (STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}',
        "application/sparql-results+xml",
    )
    return re.findall(r"<uri>([^<]+)</uri>", reply.body.decode())


@pytest.mark.parametrize("load", ["graph-store-protocol", "sparql-update"])
def test_a_push_replaces_every_graph_and_is_served(
    own_server: StoreServer, project: Site, iris: Iris, load: str
) -> None:
    client = client_for(own_server, gsp=load == "graph-store-protocol")
    report = push(project, iris, client, validate=False)
    expected = load_graph(project.turtle_files(), iris)
    assert report.triples == len(expected)
    assert {graph for _, graph, _ in report.graphs} == {
        str(iris.graph(project.relative(path))) for path in project.turtle_files()
    }
    store = remote(own_server)
    assert store.triples() == len(expected)
    assert programme_label(store) == PROGRAMME_LABEL
    relabel(project, "Renamed programme")
    push(project, iris, client, validate=False)
    assert programme_label(store) == "Renamed programme"  # replaced, not added to
    assert store.triples() == len(expected)
    assert staging_graphs(own_server) == []


CHILD = """
import sys, time
from pathlib import Path
from publisher.iris import Iris
from publisher.push import push
from publisher.site import Site
from publisher.sparql_client import SparqlClient, StoreLocation

def checkpoint(step):
    if step == "swap":
        print("staged", flush=True)
        time.sleep(600)

client = SparqlClient(StoreLocation(*sys.argv[2:7]), 60)
push(Site(Path(sys.argv[1])), Iris(sys.argv[7]), client, validate=False, checkpoint=checkpoint)
"""


def test_a_push_killed_half_way_leaves_the_previous_graph_served(
    own_server: StoreServer, project: Site, iris: Iris
) -> None:
    client = client_for(own_server)
    push(project, iris, client, validate=False)
    store = remote(own_server)
    before = store.version
    relabel(project, "Half-pushed programme")
    settings = own_server.settings
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(project.root),
            settings["store_url"],
            settings["store_update_url"],
            settings["store_gsp_url"],
            settings["store_user"],
            settings["store_password"],
            BASE,
        ],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == b"staged"  # every graph is loaded, none swapped in yet
        assert staging_graphs(own_server)  # the new data is in the store, beside the served data
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert programme_label(store) == PROGRAMME_LABEL
    assert store.version == before
    push(project, iris, client, validate=False)  # the next push drops what the killed one left
    assert programme_label(store) == "Half-pushed programme"
    assert staging_graphs(own_server) == []


def test_a_push_failing_between_graphs_says_what_failed(
    own_server: StoreServer, project: Site, iris: Iris
) -> None:
    client = client_for(own_server, gsp=False)
    push(project, iris, client, validate=False)
    relabel(project, "Never served")
    steps: list[str] = []

    def fail_on_the_third_graph(step: str) -> None:
        steps.append(step)
        if len(steps) == 3:
            raise ConnectionResetError("the connection dropped")

    with pytest.raises(
        PushError, match=r"while loading \S+\.ttl: the connection dropped; the store still serves"
    ):
        push(project, iris, client, validate=False, checkpoint=fail_on_the_third_graph)
    store = remote(own_server)
    assert programme_label(store) == PROGRAMME_LABEL
    assert staging_graphs(own_server) == []


def test_a_push_whose_data_fails_validation_sends_nothing(
    own_server: StoreServer, project: Site, iris: Iris
) -> None:
    client = client_for(own_server)
    push(project, iris, client, validate=False)
    store = remote(own_server)
    before = store.version
    relabel(project, "Invalid programme")
    bad = ROOT / "tests" / "examples" / "Body_XFAIL.ttl"
    with pytest.raises(PushRefusedError, match=r"validation found \d+ violation\(s\), so nothing was pushed"):
        push(project, iris, client, [bad])
    assert store.version == before
    assert programme_label(store) == PROGRAMME_LABEL
    settings = own_server.settings
    result = CliRunner().invoke(
        main,
        [
            "--site",
            str(project.root),
            "--base-iri",
            BASE,
            "push",
            "--endpoint",
            settings["store_url"],
            str(bad),
        ],
        env={
            "CMPKG_STORE_UPDATE_URL": settings["store_update_url"],
            "CMPKG_STORE_USER": settings["store_user"],
            "CMPKG_STORE_PASSWORD": settings["store_password"],
        },
    )
    assert result.exit_code == 1
    assert "nothing was pushed" in result.output
    assert programme_label(store) == PROGRAMME_LABEL


def test_a_large_graph_is_pushed_with_credentials_every_time(
    own_server: StoreServer, project: Site, iris: Iris, tmp_path: Path
) -> None:
    # Virtuoso used to close the connection on a large body sent before the Digest challenge was answered
    # ("Broken pipe"), failing about three pushes in four.
    extra = tmp_path / "large.nt"
    with extra.open("w") as out:
        for n in range(40000):
            out.write(f'<{BASE}bulk/{n}> <{RDFS.label}> "bulk item number {n} with some words"@en .\n')
    expected = len(load_graph(project.turtle_files(), iris)) + 40000
    store = remote(own_server)
    for _ in range(3):
        report = push(project, iris, client_for(own_server), [extra], validate=False)
        assert report.triples == expected
        assert store.triples() == expected


def test_push_command_reports_triples_and_time(own_server: StoreServer, project: Site) -> None:
    settings = own_server.settings
    result = CliRunner().invoke(
        main,
        ["--site", str(project.root), "--base-iri", BASE, "push", "--endpoint", settings["store_url"]],
        env={
            "CMPKG_STORE_UPDATE_URL": settings["store_update_url"],
            "CMPKG_STORE_GSP_URL": settings["store_gsp_url"],
            "CMPKG_STORE_USER": settings["store_user"],
            "CMPKG_STORE_PASSWORD": settings["store_password"],
        },
    )
    assert result.exit_code == 0, result.output
    total = len(load_graph(project.turtle_files(), Iris(BASE)))
    assert re.search(
        rf"pushed {total} triples in \d+ graphs to {re.escape(settings['store_url'])} in [\d.]+ s",
        result.output,
    )
    assert "data/cmps.ttl -> <https://w3id.org/iwc-cmp/graph/data/cmps>" in result.output


def test_push_to_a_store_that_is_not_there_is_a_clear_error(project: Site) -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    result = CliRunner().invoke(main, ["--site", str(project.root), "push", "--endpoint", url])
    assert result.exit_code == 2
    assert f"cmpkg: error: the triple store at {url} cannot be reached" in result.output
    assert "Traceback" not in result.output


def test_the_store_password_is_never_shown() -> None:
    result = CliRunner().invoke(main, ["settings"], env={"CMPKG_STORE_PASSWORD": "s3cret"})
    assert "s3cret" not in result.output
    assert "store_password = '***'  (environment; CMPKG_STORE_PASSWORD)" in result.output


# Validating a live store ---------------------------------------------------------------------------------


def test_validate_endpoint_checks_what_the_store_holds(
    own_server: StoreServer, project: Site, iris: Iris
) -> None:
    client = client_for(own_server)
    push(project, iris, client, validate=False)
    settings = own_server.settings
    clean = CliRunner().invoke(
        main,
        ["--site", str(project.root), "--base-iri", BASE, "validate", "--endpoint", settings["store_url"]],
    )
    assert clean.exit_code == 0, clean.output
    assert "2 warnings" in clean.output  # the two defects of the source document, as in the files
    push(project, iris, client, [ROOT / "tests" / "examples" / "Body_XFAIL.ttl"], validate=False)
    found = CliRunner().invoke(
        main,
        [
            "--site",
            str(project.root),
            "--base-iri",
            BASE,
            "validate",
            "--endpoint",
            settings["store_url"],
            "--format",
            "json",
        ],
    )
    assert found.exit_code == 1
    assert "<graph/Body_XFAIL>" in found.output  # results name the graph the focus node is in


# The store going away ------------------------------------------------------------------------------------


@pytest.fixture
def lonely_server(tmp_path: Path, site: Site, iris: Iris) -> Iterator[StoreServer]:
    """An Oxigraph server holding the project, which the test stops and starts."""
    server = start("oxigraph-server", tmp_path)
    push(site, iris, client_for(server), validate=False)
    yield server
    server.stop()


def test_a_store_that_goes_down_gives_503_and_answers_again_when_it_is_back(
    lonely_server: StoreServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(
        load_settings(
            environ={},
            overrides={
                "site_dir": str(ROOT),
                "base_iri": BASE,
                **lonely_server.settings,
                "store_check_interval": 0.0,
            },
        )
    )
    client = app.test_client()
    assert client.get("/programme").status_code == 200
    healthy = client.get("/-/health")
    assert healthy.status_code == 200
    assert healthy.get_json()["status"] == "ok"
    assert healthy.get_json()["store"] == "remote"
    lonely_server.stop()
    sick = client.get("/-/health")
    assert sick.status_code == 503
    assert int(sick.headers["Retry-After"]) > 0
    assert sick.get_json()["status"] == "unavailable"
    page = client.get("/plan/2018-2020", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert int(page.headers["Retry-After"]) > 0
    assert "The data is unavailable" in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
    text = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "text/plain"})
    assert text.status_code == 503
    assert text.mimetype == "text/plain"
    assert "cannot be reached" in text.get_data(as_text=True)
    assert client.get("/queries/list_cmps.json").status_code == 503
    assert any("unreachable" in record.getMessage() for record in caplog.records)
    lonely_server.start()  # the same port and data
    assert client.get("/-/health").status_code == 200
    assert client.get("/plan/2018-2020").status_code == 200
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200


class SlowStore(http.server.BaseHTTPRequestHandler):
    """A SPARQL endpoint that takes 10 s to begin answering."""

    def do_POST(self) -> None:
        time.sleep(10)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_store() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowStore)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sparql"
    server.shutdown()
    server.server_close()


def test_a_slow_store_hits_cmpkgs_own_timeout(slow_store: str, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(
        load_settings(
            environ={},
            overrides={
                "site_dir": str(ROOT),
                "base_iri": BASE,
                "store_url": slow_store,
                "query_timeout": 0.5,
            },
        )
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        reply = app.test_client().get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert reply.status_code == 503
    assert "0.5 s limit" in reply.get_data(as_text=True)
    assert time.monotonic() - started < 5
    # logged with the query that timed out (here the first: cmpkg's check of the data version)
    assert any(re.search(r"stopped at the 0.5 s limit: (SELECT|ASK)", r.getMessage()) for r in caplog.records)


def test_a_store_error_is_logged_with_the_query(
    shared: StoreServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = remote(shared)
    with caplog.at_level(logging.ERROR), pytest.raises(StoreRefusedError, match="answered 400"):
        store.query("SELECT * WHERE { ?s ?p } # marker-7f3a")
    assert any("marker-7f3a" in record.getMessage() for record in caplog.records)


# Workers -------------------------------------------------------------------------------------------------


def test_serve_with_workers_shares_one_store(shared: StoreServer) -> None:
    port = free_port()
    env = {**os.environ, "CMPKG_STORE_PASSWORD": shared.password, "CMPKG_STORE_USER": shared.user}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "cmpkg"),
            "--site",
            str(ROOT),
            "serve",
            "--store",
            shared.query_url,
            "--workers",
            "2",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/cmp/franciscana"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as first:
                    etag = first.headers["ETag"]
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        etags = set()
        for _ in range(8):
            with urllib.request.urlopen(url, timeout=10) as response:
                etags.add(response.headers["ETag"])
        assert etags == {etag}  # every worker gives the same ETag: the version is the store's
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def test_serve_refuses_extra_files_with_a_store() -> None:
    result = CliRunner().invoke(
        main,
        [
            "--site",
            str(ROOT),
            "serve",
            "--store",
            "http://127.0.0.1:1/sparql",
            str(ROOT / "data" / "cmps.ttl"),
        ],
    )
    assert result.exit_code == 2
    assert "push them to the store" in result.output


class CuttingStore(http.server.BaseHTTPRequestHandler):
    """Virtuoso cutting an answer at its ResultSetMaxRows: 200, and a header saying so."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = (
            b'<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="s"/></head>'
            b'<results><result><binding name="s"><bnode>nodeID://b1</bnode></binding></result></results></sparql>'
        )
        self.send_response(200)
        self.send_header("Server", "Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu")
        self.send_header("Content-Type", "application/sparql-results+xml; charset=UTF-8")
        self.send_header("X-SPARQL-MaxRows", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_answer_the_store_cut_short_is_refused_not_served() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CuttingStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = SparqlClient(StoreLocation(f"http://127.0.0.1:{server.server_port}/sparql"), 5)
        snapshot = RemoteSnapshot(client, StoreState("v1", None, (BASE + "graph/data/cmps",)), BASE, 5)
        with pytest.raises(
            StoreRefusedError, match=r"cut the answer at 1 rows \(Virtuoso: raise ResultSetMaxRows"
        ):
            snapshot.execute(QueryJob("SELECT ?s WHERE { ?s ?p ?o }", BASE), 5)
        # Its blank node labels ("nodeID://b1") are rewritten into valid ones when read.
        rows = list(snapshot.query("SELECT ?s WHERE { ?s ?p ?o }"))
        assert rows[0]["s"] == BlankNode("b1")
    finally:
        server.shutdown()
        server.server_close()


# Connections to the store -----------------------------------------------------------------------------------

ASK_TRUE = b'{"head":{},"boolean":true}'


class KeepAliveStore(http.server.BaseHTTPRequestHandler):
    """A SPARQL endpoint on HTTP/1.1 keep-alive that records which connection each query came on; with
    `drop_after` set, it closes a connection after that many answers without saying so (as a store's idle
    timeout does), so the client's next query on it finds it gone."""

    protocol_version = "HTTP/1.1"
    connections: ClassVar[list[tuple[str, int]]] = []
    drop_after = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).connections.append(self.client_address)
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(ASK_TRUE)))
        self.end_headers()
        self.wfile.write(ASK_TRUE)
        served = sum(1 for address in type(self).connections if address == self.client_address)
        if self.drop_after and served >= self.drop_after:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def keep_alive_store() -> Iterator[tuple[str, type[KeepAliveStore]]]:
    handler = type("Recording", (KeepAliveStore,), {"connections": [], "drop_after": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sparql", handler
    server.shutdown()
    server.server_close()


def test_queries_reuse_one_connection_per_thread(keep_alive_store: tuple[str, type[KeepAliveStore]]) -> None:
    url, handler = keep_alive_store
    client = SparqlClient(StoreLocation(url), 5)
    for _ in range(5):
        assert client.query("ASK {}", "application/sparql-results+json").body == ASK_TRUE
    assert len(handler.connections) == 5
    assert len(set(handler.connections)) == 1  # one TCP connection for the five queries

    def three_queries() -> None:
        for _ in range(3):
            client.query("ASK {}", "application/sparql-results+json")

    others = [threading.Thread(target=three_queries) for _ in range(2)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join()
    assert len(handler.connections) == 11
    assert len(set(handler.connections)) == 3  # each thread its own connection, never shared
    client.close()


def test_a_connection_the_store_closed_while_idle_is_opened_again(
    keep_alive_store: tuple[str, type[KeepAliveStore]],
) -> None:
    url, handler = keep_alive_store
    handler.drop_after = 2
    client = SparqlClient(StoreLocation(url), 5)
    for _ in range(6):
        assert client.query("ASK {}", "application/sparql-results+json").body == ASK_TRUE
    # Every query answered once (none sent twice), two per connection, on three connections.
    assert len(handler.connections) == 6
    assert len(set(handler.connections)) == 3


def test_an_entity_page_reads_each_thing_once(shared: StoreServer) -> None:
    app = create_app(
        load_settings(
            environ={},
            overrides={"site_dir": str(ROOT), "base_iri": BASE, **shared.settings, "page_cache_mb": 0},
        )
    )
    client = app.test_client()
    assert client.get("/programme").status_code == 200  # the per-version reads are done
    store = app.extensions["cmpkg.store"]
    sent = record_queries(store)
    pages = (
        ("/cmp/franciscana", "text/html"),
        ("/cmp/south-american-river-dolphins", "text/html"),  # two claimed taxa besides its own
        ("/plan/2018-2020", "text/turtle"),
    )
    for path, accept in pages:
        sent.clear()
        page = client.get(path, headers={"Accept": accept})
        assert page.status_code == 200
        assert sent  # rendered for the first time: read from the store
        # The backend's reads (description, existence, breadcrumbs) and the view's: none sent twice.
        assert [query for query in sent if not query.startswith("BASE")]
        assert len(sent) == len(set(sent)), [query for query in sent if sent.count(query) > 1]
    assert (URIRef(BASE + "plan/2018-2020"), None, None) in Graph().parse(data=page.data, format="turtle")
