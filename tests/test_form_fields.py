"""Form bodies (application/x-www-form-urlencoded) decode as the standard library decodes them: a POSTed
query reaches the endpoint exactly as the client wrote it, and what the fast decoder cannot take is left to
werkzeug's parser."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from flask.testing import FlaskClient

from publisher.app import create_app
from publisher.config import load_settings
from publisher.form_fields import form_fields
from tests.conftest import BASE, ROOT

SAMPLES = [
    "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
    'ASK { ?x <http://example.org/p> "a + b = c & d%e" }',
    "# comment \\ backslash \\x41 \\n\n\tSELECT ?é ?名 WHERE { ?s ?p 'ça' } # 🐋",
    "",
    "100%",
]


def _bodies() -> list[bytes]:
    bodies = [urlencode({"query": text}).encode() for text in SAMPLES]
    bodies += [
        urlencode({"query": path.read_text()}).encode() for path in sorted((ROOT / "queries").glob("*.rq"))
    ]
    bodies += [
        b"query=a+b%2Bc&default-graph-uri=x&default-graph-uri=y",
        b"query&format=json&&=empty-name&x=",
        b"query=%41%42%43%e2%80%94%F0%9F%90%8B",
        "query=raw é and ünicode".encode(),
    ]
    chars = "ab+ %&=\\xé\n<>{}?#/:"
    generator = random.Random(7)
    for _ in range(300):
        text = "".join(generator.choice(chars) for _ in range(generator.randint(0, 30)))
        bodies.append(f"query={quote(text, safe='')}&x={quote(text)}".encode())
    return bodies


@pytest.mark.parametrize("body", _bodies())
def test_fields_are_what_the_standard_library_decodes(body: bytes) -> None:
    assert form_fields(body) == parse_qsl(body.decode(), keep_blank_values=True)


@pytest.mark.parametrize("body", [b"query=%zz", b"query=100%", b"query=%4", b"query=%ff%fe", b"q\xff=1"])
def test_a_malformed_escape_or_bytes_not_utf8_are_left_to_the_caller(body: bytes) -> None:
    assert form_fields(body) is None


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    return create_app(
        load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE})
    ).test_client()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_form_the_fast_decoder_cannot_take_is_still_answered(client: FlaskClient, method: str) -> None:
    fields = "query=ASK%20%7B%7D&note=100%25+sure%zz"
    accept = {"Accept": "application/sparql-results+json"}
    if method == "GET":
        response = client.get(f"/sparql?{fields}", headers=accept)
    else:
        form = "application/x-www-form-urlencoded"
        response = client.post("/sparql", data=fields.encode(), content_type=form, headers=accept)
    assert response.status_code == 200
    assert response.get_json() == {"head": {}, "boolean": True}


def test_a_query_sent_as_a_form_or_in_the_url_runs_as_written(client: FlaskClient) -> None:
    query = 'SELECT ?text WHERE { BIND("a + b = 100% \\\\ ça & <x>" AS ?text) }'
    accept = {"Accept": "application/sparql-results+json"}
    for response in (
        client.post("/sparql", data={"query": query}, headers=accept),
        client.get("/sparql?" + urlencode({"query": query}), headers=accept),
    ):
        assert response.status_code == 200
        assert response.get_json()["results"]["bindings"][0]["text"]["value"] == "a + b = 100% \\ ça & <x>"
