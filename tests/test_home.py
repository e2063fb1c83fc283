"""The service starts on the project and its home page says what the dataset holds."""

from __future__ import annotations

from flask.testing import FlaskClient
from rdflib import Graph
from rdflib.namespace import RDF, RDFS

from publisher.iris import Iris
from publisher.site import Site
from publisher.validation import load_graph


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
