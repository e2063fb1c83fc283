"""Every IRI under the public base, dereferenced: an HTML page or RDF, by content negotiation.

`/plan/2018-2020/1.1` answers for `{base}plan/2018-2020/1.1`; its suffix twins (`.ttl`, `.jsonld`, `.nt`,
`.rdf`, `.trig`, `.html`) force a format. RDF keeps the public IRIs; HTML links point at this server.

A body is rendered once per data version and kept in the page cache; an answer given before is replayed in
front of Flask (entity_replay.py); a conditional request is answered 304 or 412 before the entity is read
(publisher/preconditions.py).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass
from email.utils import format_datetime
from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup, escape

from publisher.describe import Description
from publisher.entity_page import entity_page
from publisher.formats import GRAPH_FORMATS, HTML, TRIG, Format, by_suffix, negotiate
from publisher.iris import is_iri
from publisher.namespaces import EXTERNAL_PREFIXES
from publisher.ontology_doc import ontology_doc
from publisher.pages import special_view
from publisher.preconditions import evaluate
from publisher.request_checks import page_number
from publisher.response_cache import CachedAnswer
from publisher.store import Store
from publisher.value_html import rows_html, value_html
from publisher.views.conditional import conditions, settle
from publisher.views.context import IRIS_KEY, PAGE_CACHE_KEY, STORE_KEY, iris, page_cache, site_links, store
from publisher.views.entity_replay import MARK_KEY, Mark, ReplayAnswers

blueprint = Blueprint("entity", __name__)
log = logging.getLogger(__name__)

ENTITY_FORMATS: tuple[Format, ...] = (HTML, *GRAPH_FORMATS, TRIG)
CACHE_CONTROL = "public, max-age=300"
PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 pchar and "/" beside unreserved: kept as they are in a URL
SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


@blueprint.route("/<path:path>", methods=["GET", "HEAD"])
def dereference(path: str) -> Response:
    base = iris().base
    iri, forced = base + path, None
    if not is_iri(iri):
        return not_found(path)  # a path no IRI has (a space, "<", a control character) names nothing
    served = store()
    negotiated = negotiate(request.headers.get("Accept"), ENTITY_FORMATS)
    if negotiated is HTML:
        served.prepare_parent(iri)  # a remote store reads the breadcrumbs while it describes the entity
    if not served.exists(iri):
        stem, dot, suffix = path.rpartition(".")
        forced = by_suffix("." + suffix) if dot else None
        if forced is None or forced not in ENTITY_FORMATS or not served.exists(base + stem):
            return not_found(path)
        iri, path = base + stem, stem
    if "#" in path:
        return _to_document(path, forced)
    fmt = forced or negotiated
    if fmt is None:
        return not_acceptable(path)
    page = _page()
    version = served.version
    etag = _etag(version, iri, page, fmt)
    root = url_for("home.index")
    headers = _headers(root, path, page, fmt, etag, served.modified, negotiated=forced is None)
    key = (version, root, iri, page, fmt.name)
    request.environ[MARK_KEY] = Mark(version, key, etag, served.modified)  # the same request is replayed
    cache = page_cache()
    answer = cache.get(key)
    outcome = evaluate(conditions(), etag, served.modified)  # entities do not offer ranges
    if outcome.status == 412:
        return settle(Response(headers=headers), outcome)
    if outcome.status == 304:
        # The 200's paging links too: a cache replaces the stored response's headers with the 304's.
        if isinstance(answer, CachedAnswer):
            paging = answer.headers
        else:
            description = served.describe(iri, page)
            paging = _paging_links(root, path, description) if description is not None else {}
        return Response(status=304, headers=_with_paging(headers, paging))
    if not isinstance(answer, CachedAnswer):
        description = served.describe(iri, page)
        if description is None:
            return not_found(path)
        body = _html(description, root, path).encode() if fmt == HTML else _rdf(description, fmt)
        answer = CachedAnswer(body, _paging_links(root, path, description))
        cache.put(key, answer)
    headers = _with_paging(headers, answer.headers)
    return Response(answer.body, status=200, headers=headers, content_type=fmt.content_type)


def _with_paging(headers: dict[str, str], paging: dict[str, str]) -> dict[str, str]:
    """The answer's headers with its paging links (rel="next"/"prev") after its other links."""
    if paging.get("Link"):
        headers["Link"] = ", ".join([headers["Link"], paging["Link"]])
    return headers


def _page() -> int:
    """The page of inbound links asked for (`?page=`, 1 without one); 400 for a bad one, as /search."""
    text = request.args.get("page")
    try:
        return 1 if text is None else page_number(text)
    except ValueError as error:
        abort(400, description=str(error))


def _to_document(path: str, forced: Format | None) -> Response:
    """`/ontology%23Topic` names the hash IRI `{base}ontology#Topic`, which its document serves: a 301 to
    `/ontology#Topic` (or `/ontology.ttl#Topic` for `/ontology%23Topic.ttl`), where a client that had not
    escaped the "#" would have gone."""
    document, _, fragment = path.partition("#")
    suffix = forced.suffix if forced is not None else ""
    location = url_for("home.index") + quote(document + suffix, safe=PATH_SAFE) + "#"
    return Response(status=301, headers={"Location": location + quote(fragment, safe=PATH_SAFE + "?")})


def init_app(app: Flask) -> None:
    """Put the replay of entity answers (publisher/views/entity_replay.py) in front of the app, and give the
    templates the `value_html` and `rows_html` filters."""
    app.add_template_filter(value_html, "value_html")
    app.add_template_filter(rows_html, "rows_html")
    served: Store = app.extensions[STORE_KEY]
    app.wsgi_app = ReplayAnswers(  # type: ignore[method-assign]
        app.wsgi_app, app.extensions[PAGE_CACHE_KEY], lambda: served.version
    )


def warm_up(app: Flask) -> dict[str, float]:
    """Load now what the first entity request would: the store's index of hash IRIs (a scan of the whole
    store) and the compiled templates. Seconds per item; a store that is down is left for later."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    try:
        app.extensions[STORE_KEY].exists(app.extensions[IRIS_KEY].base)
        seconds["entity lookup"] = time.perf_counter() - started
    except Exception as error:  # the server still starts; the first request tries again
        log.warning("start-up: could not read the store: %s", error)
    started = time.perf_counter()
    for name in app.jinja_env.list_templates(filter_func=lambda name: name.endswith(".html")):
        app.jinja_env.get_template(name)
    seconds["templates"] = time.perf_counter() - started
    return seconds


def _html(description: Description, link_root: str, path: str) -> str:
    names, served = iris(), store()
    base = names.base
    alternates = _alternates(link_root, path, description.page)
    if description.iri == str(names.ontology):
        doc = ontology_doc(served, base, link_root=link_root)
        return render_template("ontology.html", doc=doc, alternates=alternates)
    page = entity_page(description, base, link_root=link_root, parent=served.parent)
    types = {t.iri for t in page.types if t.iri}
    special = special_view(
        served,
        names,
        description.iri,
        types,
        link_root,
        page=description.page,
        page_size=description.page_size,
    )
    json_ld = _serialize(description.triples, ox.RdfFormat.JSON_LD).decode()
    # Inside <script>, "</script" or "<!--" from the data would change the page: escape every "<" (and the
    # characters JSON allows but JavaScript did not) so the block holds data only. In JSON these can only
    # occur inside strings, where the \u escapes mean the same characters.
    embedded = json_ld
    for character, escaped in SCRIPT_ESCAPES:
        if character in embedded:  # finding is far cheaper than replace() scanning a string with none
            embedded = embedded.replace(character, escaped)
    # Rendered without render_template's signals and context processors (the page needs only `site`): the
    # entity page is the one rendered thousands of times a second.
    return current_app.jinja_env.get_template("entity.html").render(
        page=page, json_ld=embedded, alternates=alternates, base=base, special=special, site=site_links()
    )


@dataclass(frozen=True)
class Alternates:
    """An entity's other formats as HTML: `<link rel="alternate">` elements and a list of links."""

    head: Markup
    links: Markup


def _alternates(root: str, path: str, page: int) -> Alternates:
    twins = [(fmt, escape(_twin(root, path, fmt, page))) for fmt in ENTITY_FORMATS if fmt != HTML]
    head = "\n  ".join(
        f'<link rel="alternate" type="{fmt.media_type}" href="{href}" title="{fmt.label}">'
        for fmt, href in twins
    )
    links = " · ".join(f'<a href="{href}" type="{fmt.media_type}">{fmt.label}</a>' for fmt, href in twins)
    return Alternates(Markup(head), Markup(links))


def _rdf(description: Description, fmt: Format) -> bytes:
    known = _known_prefixes(str(iris().cmp))
    triples = description.triples  # assembled on each read
    if fmt == TRIG:
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
        return _without_unused_prefixes(_serialize(quads, ox.RdfFormat.TRIG, known))
    assert fmt.rdf_format is not None
    if fmt.rdf_format == ox.RdfFormat.TURTLE:
        return _without_unused_prefixes(_serialize(triples, ox.RdfFormat.TURTLE, known))
    return _serialize(triples, fmt.rdf_format, _used_prefixes(triples, known))


@functools.lru_cache(maxsize=4)
def _known_prefixes(cmp: str) -> dict[str, str]:
    """cmp: and the external prefixes (read-only: shared by every answer)."""
    return {"cmp": cmp, **EXTERNAL_PREFIXES}


def _without_unused_prefixes(written: bytes) -> bytes:
    """Turtle or TriG written with every known prefix declared, without the declarations its statements do
    not use (finding them in the text is a tenth of the time of looking at every term's IRI first)."""
    lines = written.split(b"\n")
    head = 0
    while head < len(lines) and lines[head].startswith(b"@prefix "):
        head += 1
    body = b"\n".join(lines[head:])
    used = [line for line in lines[:head] if line.split(b" ", 2)[1] in body]  # b"dct:" used as dct:title
    return b"\n".join([*used, body]) if used else body


def _used_prefixes(triples: list[ox.Triple], prefixes: dict[str, str]) -> dict[str, str]:
    """Only the prefixes the triples use, so every document declares what it needs and no more."""
    iris_used = {
        term.value
        for triple in triples
        for term in (triple.subject, triple.predicate, triple.object)
        if isinstance(term, ox.NamedNode)
    } | {triple.object.datatype.value for triple in triples if isinstance(triple.object, ox.Literal)}
    return {p: ns for p, ns in prefixes.items() if any(iri.startswith(ns) for iri in iris_used)}


def _serialize(
    items: list[ox.Triple] | list[ox.Quad], rdf_format: ox.RdfFormat, prefixes: dict[str, str] | None = None
) -> bytes:
    written = ox.serialize(items, format=rdf_format, prefixes=prefixes)
    assert written is not None  # serialize() returns the bytes when given no output
    return written


def _twin(root: str, path: str, fmt: Format, page: int = 1) -> str:
    """Where the entity (its page of inbound links) is served in one format."""
    return root + path + fmt.suffix + ("" if page == 1 else f"?page={page}")


def _etag(version: str, iri: str, page: int, fmt: Format) -> str:
    digest = hashlib.sha256(f"{version}\n{iri}\n{page}\n{fmt.name}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _headers(
    root: str, path: str, page: int, fmt: Format, etag: str, modified: object, negotiated: bool
) -> dict[str, str]:
    """The answer's headers (CORS ones come from publisher/views/cors.py)."""
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Content-Location": _twin(root, path, fmt, page),
        "Link": ", ".join(
            f'<{_twin(root, path, other, page)}>; rel="alternate"; type="{other.media_type}"'
            for other in ENTITY_FORMATS
            if other != fmt
        ),
    }
    if negotiated:
        headers["Vary"] = "Accept"
    if modified is not None:
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)  # type: ignore[arg-type]
    return headers


def _paging_links(root: str, path: str, description: Description) -> dict[str, str]:
    """Link headers to the neighbouring pages of inbound links."""
    links = []
    if description.page < description.pages:
        links.append(f'<{root}{path}?page={description.page + 1}>; rel="next"')
    if description.page > 1:
        links.append(f'<{root}{path}?page={description.page - 1}>; rel="prev"')
    return {"Link": ", ".join(links)} if links else {}


def not_found(path: str) -> Response:
    """The 404 of an IRI that names nothing: a page, or an empty RDF document, as the Accept header asks."""
    fmt = negotiate(request.headers.get("Accept"), ENTITY_FORMATS) or HTML
    if fmt == HTML:
        body = render_template("not_found.html", path=path, iri=iris().base + path)
        response = Response(body, status=404, content_type=HTML.content_type)
    else:
        assert fmt.rdf_format is not None
        empty = _serialize([], fmt.rdf_format)  # a valid, empty document: harvesters parse it
        response = Response(empty, status=404, content_type=fmt.content_type)
    response.vary.add("Accept")
    return response


def not_acceptable(path: str) -> Response:
    offered = ", ".join(fmt.media_type for fmt in ENTITY_FORMATS)
    abort(
        Response(
            f"Not acceptable: {path} is available as {offered}\n",
            status=406,
            content_type="text/plain; charset=utf-8",
        )
    )
    raise AssertionError  # abort() raised
