"""The dataset as a whole: /dump/<file> (the whole graph as files), /void and /.well-known/void (VoID and
DCAT), /sitemap.xml, /robots.txt and /search (entities by label).

What is computed from the store (dumps, VoID numbers, the sitemap's paths, the search index, the home page's
summary) is computed once per store. `cmpkg serve` computes it at start-up (`warm_up`), before any worker
accepts a request; otherwise, and again after a reload swaps in a new store, on first use.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode, urljoin

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState

from publisher.config import Settings
from publisher.dumps import DUMPS, DUMPS_BY_NAME, Dumps
from publisher.formats import HTML, JSON_LD, N_TRIPLES, RDF_XML, TURTLE, Format, Kind, by_suffix, negotiate
from publisher.heap import give_back_freed_memory
from publisher.iris import Iris
from publisher.links import href_for
from publisher.namespaces import EXTERNAL_PREFIXES
from publisher.packed import PackedStrings
from publisher.preconditions import evaluate
from publisher.query_execution import QueryError, serialize_triples
from publisher.remote_store import RemoteSnapshot, RemoteStore, Snapshot
from publisher.request_checks import page_number
from publisher.search import SearchIndex, SearchQueryError
from publisher.sitemap import MAX_URLS, chunks, entity_paths, sitemap_index, url_for_path, urlset
from publisher.sparql_client import StoreUnavailableError
from publisher.store import EmbeddedStore, ServedStore
from publisher.summary import Summary, summarise
from publisher.views.conditional import conditions, file_part, settle
from publisher.views.context import STORE_KEY, iris, store
from publisher.void import PREFIXES, DatasetInfo, DatasetStatistics, dataset_statistics, describe_dataset
from publisher.void import prefixed_name as void_prefixed_name

blueprint = Blueprint("dataset", __name__)
STATE_KEY = "cmpkg.dataset"
CACHE_CONTROL = "public, max-age=300"
VOID_FORMATS: tuple[Format, ...] = (TURTLE, HTML, JSON_LD, N_TRIPLES, RDF_XML)
SEARCH_JSON = Format("search-json", "JSON", Kind.PAGE, ".json", ("application/json",), ("json",))
SEARCH_FORMATS: tuple[Format, ...] = (HTML, SEARCH_JSON)
SEARCH_PAGE_SIZE = 20
T = TypeVar("T")
log = logging.getLogger(__name__)


class PerStore(Generic[T]):
    """A value computed from the store being served, once per store (so again after a reload).

    The store is held weakly: a store a reload replaced is freed once no request uses it. A value computed
    elsewhere from the same data (another process's store of the same version) can be handed over with
    `adopt`, so that it is not computed again.
    """

    def __init__(self, make: Callable[[Snapshot], T]) -> None:
        self._make = make
        self._value: tuple[weakref.ref[Snapshot], T] | None = None
        self._adopted: tuple[str, T] | None = None  # (data version, value)
        self._lock = threading.Lock()

    def get(self, current: Snapshot) -> T:
        value = self._value
        if value is not None and value[0]() is current:
            return value[1]
        with self._lock:  # computed once; other requests for it wait rather than compute it again
            if self._value is None or self._value[0]() is not current:
                adopted, self._adopted = self._adopted, None  # used once: a reload's data is computed anew
                if adopted is not None and current.version and adopted[0] == current.version:
                    self._value = (weakref.ref(current), adopted[1])
                else:
                    self._value = (weakref.ref(current), self._make(current))
            return self._value[1]

    def computed(self) -> tuple[str, T] | None:
        """The value computed for the store in use, with its data version (None: not computed yet)."""
        value = self._value
        current = value[0]() if value is not None else None
        if value is None or current is None or not current.version:
            return None
        return current.version, value[1]

    def adopt(self, other: PerStore[T]) -> None:
        """Use other's value for a store of the same data version, instead of computing it again."""
        self._adopted = other.computed()


@dataclass
class DatasetState:
    """What the blueprint keeps per application."""

    dumps: Dumps
    statistics: PerStore[DatasetStatistics]
    sitemap: PerStore[PackedStrings]
    search: PerStore[SearchIndex]
    summary: PerStore[Summary]


@blueprint.record_once
def set_up(state: BlueprintSetupState) -> None:
    app = state.app
    settings: Settings = app.config["CMPKG_SETTINGS"]
    base = settings.base_iri
    names = Iris(base)
    dumps_root = Path(settings["store_path"]) / "dumps" if settings["store_path"] else None
    app.extensions[STATE_KEY] = DatasetState(
        dumps=Dumps(dumps_root, {"cmp": str(names.cmp), **EXTERNAL_PREFIXES}),
        statistics=PerStore(lambda current: dataset_statistics(current, names)),
        sitemap=PerStore(lambda current: entity_paths(current, base)),
        search=PerStore(lambda current: SearchIndex.from_store(current, base)),
        summary=PerStore(lambda current: summarise(current, base)),
    )
    app.add_template_filter(_entity_href, "entity_href")


def _state() -> DatasetState:
    found: DatasetState = current_app.extensions[STATE_KEY]
    return found


def _current() -> Snapshot:
    """The store serving this request (read once: a reload may swap it meanwhile)."""
    current = _snapshot(store())
    if current is None:
        abort(_plain(501, "this store does not offer dumps, VoID, sitemap or search"))
    return current


def _snapshot(served: object) -> Snapshot | None:
    current = served.current if isinstance(served, ServedStore | RemoteStore) else served
    return current if isinstance(current, EmbeddedStore | RemoteSnapshot) else None


def summary() -> Summary:
    """What the home page says the dataset holds, for the store serving this request."""
    current = _snapshot(store())
    return summarise(store(), iris().base) if current is None else _state().summary.get(current)


# Start-up --------------------------------------------------------------------------------------------------


def warm_up(app: Flask, dumps: bool = True) -> dict[str, float]:
    """Compute what is computed once per store (summary, VoID numbers, sitemap, search index and, with
    `dumps`, every dump) now, so that no request waits for it: seconds per item. A failure (a remote store
    that is down) is logged and left for the first request to meet."""
    current = _snapshot_at_start(app)
    state: DatasetState = app.extensions[STATE_KEY]
    if current is None:
        return {}
    steps: list[tuple[str, Callable[[], object]]] = [
        ("summary", lambda: state.summary.get(current)),
        ("VoID statistics", lambda: state.statistics.get(current)),
        ("sitemap", lambda: state.sitemap.get(current)),
        ("search index", lambda: state.search.get(current)),
    ]
    if dumps:
        steps += [(f"dump {kind.name}", functools.partial(state.dumps.get, current, kind)) for kind in DUMPS]
    return _timed(steps)


def write_dumps_in_background(app: Flask) -> threading.Thread:
    """Write every dump in a thread of this process, for a store whose dumps take minutes to read (a remote
    one at 1M triples): the server starts at once, and a request for a dump being written waits for it (the
    dumps' lock file), as on first use. Workers sharing the dumps' directory write each dump once."""

    def write() -> None:
        current = _snapshot_at_start(app)
        state: DatasetState = app.extensions[STATE_KEY]
        if current is not None:
            _timed(
                [(f"dump {kind.name}", functools.partial(state.dumps.get, current, kind)) for kind in DUMPS]
            )

    thread = threading.Thread(target=write, name="cmpkg-dumps", daemon=True)
    thread.start()
    return thread


def _snapshot_at_start(app: Flask) -> Snapshot | None:
    """The store's current version, or None when it cannot be read now (a remote store that is down: the
    first request meets that, and answers 503)."""
    try:
        return _snapshot(app.extensions[STORE_KEY])
    except (StoreUnavailableError, QueryError) as error:
        log.warning("start-up: could not read the store: %s", error)
        return None


def _timed(steps: list[tuple[str, Callable[[], object]]]) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for name, step in steps:
        started = time.perf_counter()
        try:
            step()
        except Exception as error:  # the server still starts; the first request tries again
            log.warning("start-up: could not compute the %s: %s", name, error)
            continue
        seconds[name] = time.perf_counter() - started
        give_back_freed_memory()  # what the step's queries and temporary objects took is not kept
    return seconds


def prepare_dumps(app: Flask) -> None:
    """Create the dumps' directory in this process (before the workers are forked, so they share it)."""
    state: DatasetState = app.extensions[STATE_KEY]
    state.dumps.prepare()


def adopt(app: Flask, warmed: Flask) -> None:
    """Give app (a worker's) what warm_up computed in warmed (the server's) for the same data version."""
    state: DatasetState = app.extensions[STATE_KEY]
    done: DatasetState = warmed.extensions[STATE_KEY]
    state.statistics.adopt(done.statistics)
    state.sitemap.adopt(done.sitemap)
    state.search.adopt(done.search)
    state.summary.adopt(done.summary)
    state.dumps.share(done.dumps)


def _entity_href(iri: str) -> str | None:
    """Where a link to an IRI points on this server (a template filter: `iri|entity_href`)."""
    return href_for(iri, iris().base, url_for("home.index"))


# Dumps -----------------------------------------------------------------------------------------------------


@blueprint.get("/dump/<name>")
def dump(name: str) -> Response:
    kind = DUMPS_BY_NAME.get(name)
    if kind is None:
        known = ", ".join(d.name for d in DUMPS)
        return _plain(404, f"there is no dump {name!r}; the dumps are {known} (all described at /void)")
    current = _current()
    written = _state().dumps.get(current, kind)
    outcome = evaluate(conditions(), f'"{written.sha256}"', current.modified, written.size)
    response = send_file(
        written.path,
        mimetype=kind.content_type.split(";")[0],
        etag=written.sha256,
        last_modified=current.modified,
        conditional=False,  # publisher/preconditions.py decides, in RFC 9110's order
        max_age=300,
    )
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Link"] = f'<{url_for("dataset.void")}>; rel="describedby"'
    return settle(response, outcome, functools.partial(file_part, written.path))


# VoID ------------------------------------------------------------------------------------------------------


@blueprint.get("/void")
def void() -> Response:
    return _void(negotiate(request.headers.get("Accept"), VOID_FORMATS), negotiated=True)


@blueprint.get("/.well-known/void")
def well_known_void() -> Response:
    """Where VoID says a site's description is found (https://www.w3.org/TR/void/#well-known)."""
    return void()


@blueprint.get("/void.<suffix>")
def void_twin(suffix: str) -> Response:
    fmt = by_suffix("." + suffix)
    if fmt is None or fmt not in VOID_FORMATS:
        offered = ", ".join(f"/void{f.suffix}" for f in VOID_FORMATS)
        return _plain(404, f"there is no /void.{suffix}; the description is at {offered}")
    return _void(fmt, negotiated=False)


def _void(fmt: Format | None, negotiated: bool) -> Response:
    if fmt is None:
        offered = ", ".join(f.media_type for f in VOID_FORMATS)
        response = _plain(406, f"Not acceptable: the VoID description is available as {offered}")
        response.vary.add("Accept")
        return response
    current, names = _current(), iris()
    stats = _state().statistics.get(current)
    info = dataset_info(current.modified)
    if fmt is HTML:
        body = render_template("void.html", **_void_page(stats, info, names)).encode()
    else:
        prefixes = {**PREFIXES, "cmp": str(names.cmp)}
        body = serialize_triples(describe_dataset(stats, names, info), fmt, prefixes)
    response = Response(body, content_type=fmt.content_type)
    response.headers["Content-Location"] = _void_twin(fmt)
    response.headers["Link"] = ", ".join(
        f'<{_void_twin(other)}>; rel="alternate"; type="{other.media_type}"'
        for other in VOID_FORMATS
        if other is not fmt
    )
    if negotiated:
        response.vary.add("Accept")
    return _conditional(response, current.modified)


def _void_twin(fmt: Format) -> str:
    return url_for("dataset.void_twin", suffix=fmt.suffix[1:])


def dataset_info(modified: datetime | None) -> DatasetInfo:
    settings: Settings = current_app.config["CMPKG_SETTINGS"]
    return DatasetInfo(
        title=settings["dataset_title"],
        description=settings["dataset_description"],
        license=urljoin(settings.base_iri, settings["dataset_license"]),
        publisher=urljoin(settings.base_iri, settings["dataset_publisher"]),
        modified=modified,
    )


def _void_page(stats: DatasetStatistics, info: DatasetInfo, names: Iris) -> dict[str, Any]:
    def named(iri: str) -> str:
        return void_prefixed_name(iri, names) or iri

    return {
        "stats": stats,
        "info": info,
        "classes": [(named(c.iri), c.iri, c.entities) for c in stats.classes],
        "properties": [(named(p.iri), p.iri, p.entities) for p in stats.properties],
        "links": [(link.target, named(link.predicate), link.triples) for link in stats.links],
        "dumps": [(kind, url_for("dataset.dump", name=kind.name)) for kind in DUMPS],
        "formats": [(f, _void_twin(f)) for f in VOID_FORMATS if f is not HTML],
    }


# Sitemap and robots.txt ------------------------------------------------------------------------------------


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    current = _current()
    parts = chunks(_state().sitemap.get(current), MAX_URLS)
    if len(parts) == 1:
        return _xml(urlset(_urls(parts[0])), current.modified)
    locations = [url_for("dataset.sitemap_part", number=n, _external=True) for n in range(1, len(parts) + 1)]
    return _xml(sitemap_index(locations), current.modified)


@blueprint.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int) -> Response:
    current = _current()
    parts = chunks(_state().sitemap.get(current), MAX_URLS)
    if not 1 <= number <= len(parts):
        return _plain(404, f"there is no sitemap {number}; /sitemap.xml lists them")
    return _xml(urlset(_urls(parts[number - 1])), current.modified)


def _urls(paths: list[str] | Any) -> list[str]:
    root = url_for("home.index", _external=True)
    return [url_for_path(root, path) for path in paths]


def _xml(text: str, modified: datetime | None) -> Response:
    response = Response(text, content_type="application/xml; charset=utf-8")
    return _conditional(response, modified)


@blueprint.get("/robots.txt")
def robots() -> Response:
    lines = [
        "# Every entity page is listed in the sitemap; the query services are for people and programs asking",
        "# their own questions, not for crawling.",
        "User-agent: *",
        f"Disallow: {url_for('sparql.endpoint')}",
        f"Disallow: {url_for('dataset.search')}",
        f"Disallow: {url_for('home.index')}-/",
        "",
        f"Sitemap: {url_for('dataset.sitemap', _external=True)}",
        "",
    ]
    return Response("\n".join(lines), content_type="text/plain; charset=utf-8")


# Search ----------------------------------------------------------------------------------------------------


@blueprint.get("/search")
def search() -> Response:
    fmt = negotiate(request.headers.get("Accept"), SEARCH_FORMATS)
    if fmt is None:
        return _plain(406, "Not acceptable: search results are available as text/html and application/json")
    response = _search(fmt)
    response.vary.add("Accept")
    return response


@blueprint.get("/search.json")
def search_json() -> Response:
    return _search(SEARCH_JSON)


def _search(fmt: Format) -> Response:
    query = request.args.get("q", "")
    error, number = None, 1
    try:
        number = page_number(request.args.get("page", "1"))
    except ValueError as problem:
        error = str(problem)
    results = None
    if error is None and query.strip():
        try:
            results = _state().search.get(_current()).search(query, number, SEARCH_PAGE_SIZE)
        except SearchQueryError as problem:
            error = str(problem)
    status = 400 if error else 200
    if fmt is SEARCH_JSON:
        if error:
            return _json(status, {"error": error})
        return _json(200, _search_document(query, results))
    body = render_template(
        "search.html", query=query, results=results, error=error, pages=_pages(query, results)
    )
    return Response(body, status=status, content_type=HTML.content_type)


def _search_document(query: str, results: Any) -> dict[str, Any]:
    base, root = iris().base, url_for("home.index")
    document: dict[str, Any] = {
        "query": query,
        "total": 0,
        "page": 1,
        "pages": 1,
        "complete": True,
        "results": [],
    }
    if results is None:
        return document
    document.update(total=results.total, page=results.page, pages=results.pages, complete=results.complete)
    document["results"] = [
        {
            "iri": hit.iri,
            "label": hit.entity.label,
            "matched": hit.matched.text,
            "match": hit.rank.name.lower().replace("_", "-"),
            "types": list(hit.entity.types),
            "href": href_for(hit.iri, base, root),
        }
        for hit in results.hits
    ]
    for name, number in _pages(query, results).items():
        document[name] = url_for("dataset.search_json") + "?" + urlencode({"q": query, "page": number})
    return document


def _pages(query: str, results: Any) -> dict[str, int]:
    if results is None:
        return {}
    pages = {}
    if results.page > 1:
        pages["prev"] = min(results.page - 1, results.pages)
    if results.page < results.pages:
        pages["next"] = results.page + 1
    return pages


# Responses -------------------------------------------------------------------------------------------------


def _conditional(response: Response, modified: datetime | None) -> Response:
    """A strong ETag from the body's bytes, Last-Modified from the data; 304 when the client has it, 412 when
    its If-Match or If-Unmodified-Since fails (Range is not offered for these small documents)."""
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    return settle(response, evaluate(conditions(), response.headers["ETag"], modified))


def _json(status: int, document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.status_code = status
    return response


def _plain(status: int, message: str) -> Response:
    return Response(message.rstrip("\n") + "\n", status, content_type="text/plain; charset=utf-8")
