"""The service starts on the project and its home page says what the dataset holds."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph
from rdflib.namespace import RDF, RDFS

from publisher.app import create_app
from publisher.config import load_settings
from publisher.iris import Iris
from publisher.site import Site
from publisher.validation import load_graph
from publisher.views.context import STORE_KEY
from tests.conftest import BASE, ROOT


def test_home_page_lists_the_plans_and_cmps(client: FlaskClient, site: Site, iris: Iris) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    graph: Graph = load_graph(site.data_files(), iris)
    for cls in (iris.cmp.ActionPlan, iris.cmp.ConservationManagementPlan):
        labels = [str(graph.value(node, RDFS.label)) for node in graph.subjects(RDF.type, cls)]
        assert labels
        for label in labels:
            assert label.replace("'", "&#39;") in page


def test_home_page_assets_are_served_locally(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert client.get("/static/cmpkg.css").status_code == 200


def test_home_page_of_a_large_graph_lists_the_first_fifty_and_says_where_the_rest_are(tmp_path: Path) -> None:
    extra = tmp_path / "many.ttl"
    extra.write_text(
        f"@prefix cmp: <{BASE}ontology#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        + "".join(
            f'<{BASE}cmp/extra-{i:02d}> a cmp:ConservationManagementPlan ; rdfs:label "Extra CMP {i:02d}" .\n'
            for i in range(60)
        )
    )
    settings = load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE})
    page = create_app(settings, extra=[extra]).test_client().get("/").get_data(as_text=True)
    cmps = page.split("<h2>Conservation Management Plans</h2>")[1].split("</ul>")[0]
    listed = re.findall(r'<li><a href="/cmp/[^"]+">', cmps)
    assert len(listed) == 50
    total = int(re.search(r"<dt>Conservation Management Plans</dt><dd>([\d,]+)</dd>", page).group(1))  # type: ignore[union-attr]
    assert f"and {total - 50} more, all listed by the saved query" in cmps
    assert 'href="/queries/list_cmps"' in cmps
    plans = page.split("<h2>Action plans</h2>")[1].split("</ul>")[0]
    assert "more" not in plans  # the real data's plans are all listed


def test_health_says_what_is_served_and_is_never_cached(client: FlaskClient, app: Flask) -> None:
    served = app.extensions[STORE_KEY]
    answer = client.get("/-/health")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {
        "status": "ok",
        "store": "memory",
        "version": served.version,
        "modified": served.modified.isoformat(),
        "triples": served.triples(),
    }
    assert client.head("/-/health").status_code == 200
