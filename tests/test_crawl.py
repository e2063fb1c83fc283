"""A harvester that starts at the home page and follows only links and Link headers reaches every entity,
and gets RDF for each."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from flask.testing import FlaskClient
from rdflib import Graph, URIRef

from tests.conftest import BASE
from tests.test_linked_data import DOCUMENTS

LINK_HEADER = re.compile(r'<([^>]+)>\s*;\s*rel="([^"]+)"(?:\s*;\s*type="([^"]+)")?')
# Pages a crawler should not walk into: every search result and query form is a new URL.
NOT_FOLLOWED = ("/search", "/sparql", "/queries/", "/dump/", "/static/", "/-/")
TWIN = re.compile(r"\.(ttl|nt|jsonld|rdf|trig|html)$")  # the same entity again, in another format


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "link"):
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def crawl(client: FlaskClient) -> tuple[set[str], dict[str, str]]:
    """Every local page reached from "/", and the Turtle URL each advertised in its Link header."""
    pending, seen, turtle = ["/"], set(), {}
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, headers={"Accept": "text/html"})
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        found = []
        for target, rel, media_type in LINK_HEADER.findall(response.headers.get("Link", "")):
            if rel == "alternate" and media_type == "text/turtle":
                turtle[url] = urljoin(url, target)
            elif rel in ("next", "prev"):
                found.append(target)
        parser = Links()
        parser.feed(response.get_data(as_text=True))
        found += parser.hrefs
        for href in found:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc or not parts.path.startswith("/"):
                continue  # another host: a harvester of this dataset does not leave it
            if parts.path.startswith(NOT_FOLLOWED) or re.search(
                r"\.(ttl|nt|jsonld|rdf|trig|html)$", parts.path
            ):
                continue
            page = parts.path + (f"?{parts.query}" if parts.query.startswith("page=") else "")
            if page not in seen:
                pending.append(page)
    return seen, turtle


def test_a_crawler_reaches_every_entity_and_its_rdf(client: FlaskClient) -> None:
    pages, turtle = crawl(client)
    reached = {BASE + page.lstrip("/") for page in pages if "?" not in page}
    missing = sorted(set(DOCUMENTS) - reached)
    assert missing == [], f"{len(missing)} entities cannot be reached by following links: {missing[:10]}"
    for document in DOCUMENTS:
        url = "/" + document[len(BASE) :]
        assert url in turtle, f"{url} advertises no Turtle alternate"
        graph = Graph().parse(data=client.get(turtle[url]).data, format="turtle")
        node = URIRef(document)
        assert (
            (node, None, None) in graph
            or (None, None, node) in graph
            or any(str(s).startswith(document + "#") for s in graph.subjects())
        )
