"""/sparql: the SPARQL 1.1 Protocol query operation (read-only), its service description and a no-JavaScript
form; and POST /-/reload, which swaps in a freshly built store.

Statuses follow the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/): §2.1.7 gives 400 for a
query that is not legal SPARQL and 500 for a query the service fails or refuses to run, and lets a service
"use other 4XX or 5XX HTTP response codes for other failure conditions, as per HTTP". So: 400 for requests
the protocol does not allow (no query, two queries, an update, a SERVICE not allowed), 406 when no format
is acceptable, 413/414 for a request too large, 415 for a body type the query operation does not take
(application/sparql-update belongs to the update operation, §2.2, which this endpoint does not offer), 500
for an answer over the row limit, and 503 for a query stopped at the timeout (as Fuseki does).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from publisher.endpoint import EndpointLimits, answer_query
from publisher.form_fields import form_fields
from publisher.formats import (
    CSV,
    HTML,
    JSON,
    N_TRIPLES,
    RDF_FORMATS,
    RESULTS_FORMATS,
    TEXT,
    TURTLE,
    Format,
    UnknownFormatError,
    by_name,
    negotiate,
)
from publisher.namespaces import EXTERNAL_PREFIXES
from publisher.query_execution import (
    Answer,
    Dataset,
    QueryError,
    QuerySyntaxError,
    http_status,
)
from publisher.reload_channel import ReloadChannel, reload_in_this_process
from publisher.result_table import Table, result_table
from publisher.saved_queries import ParameterError, SavedQuery
from publisher.service_description import service_description, write_description
from publisher.store import ServedStore
from publisher.views.context import RELOAD_CHANNEL_KEY, endpoint_limits, iris, settings, store
from publisher.views.queries import saved_queries

blueprint = Blueprint("sparql", __name__)

RESULTS_CHOICES = (*RESULTS_FORMATS, HTML)
GRAPH_CHOICES = (*RDF_FORMATS, HTML)
DESCRIPTION_CHOICES = (*RDF_FORMATS, HTML)
EXAMPLE_QUERY = """PREFIX cmp: <ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

SELECT ?plan ?label WHERE {
  ?plan a cmp:ActionPlan ; rdfs:label ?label .
}
ORDER BY ?plan"""
# The query page's editor (YASGUI): installed by `make assets` (frontend/package.json), served from static/.
YASGUI_SCRIPT = "vendor/yasgui/yasgui.min.js"
YASGUI_STYLE = "vendor/yasgui/yasgui.min.css"
# A new editor tab declares cmp: and the external prefixes but these (all are offered for completion).
NOT_DECLARED_IN_NEW_TABS = frozenset({"sh", "vann"})
EDITOR_QUERY = """SELECT ?cmp ?label WHERE {
  ?cmp a cmp:ConservationManagementPlan ;
    rdfs:label ?label .
}
ORDER BY ?label"""


class ProtocolError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass(frozen=True)
class ProtocolRequest:
    """What a query request asks, read from any of the protocol's three ways of sending it."""

    query: str | None  # None: a bare GET, which asks for the service description
    fields: MultiDict[str, str]  # the other parameters (dataset, format=)

    @property
    def dataset(self) -> Dataset:
        base = iris().base
        graphs = (
            tuple(_absolute(name, iri, base) for iri in self.fields.getlist(name))
            for name in ("default-graph-uri", "named-graph-uri")
        )
        return Dataset(*graphs)

    def choose(self, candidates: tuple[Format, ...]) -> Format | None:
        """The format= (or output=) value's format, or else the Accept header's, among the candidates."""
        # An empty value is no choice: what an HTML form's empty select sends.
        names = [
            name for name in self.fields.getlist("format") + self.fields.getlist("output") if name.strip()
        ]
        return by_name(names, candidates) if names else negotiate(request.headers.get("Accept"), candidates)


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Any:
    limits = endpoint_limits()
    try:
        protocol = read_protocol_request(limits.max_request_bytes)
        if protocol.query is None:
            return describe(protocol, limits)
        dataset = protocol.dataset
        results, graph = protocol.choose(RESULTS_CHOICES), protocol.choose(GRAPH_CHOICES)
    except ProtocolError as error:
        response = _error(error.status, str(error))
        response.headers.update(error.headers)
        return response
    except UnknownFormatError as error:
        return _error(400, str(error))
    try:
        answer = answer_query(
            store(),
            protocol.query,
            iris().base,
            limits,
            dataset,
            JSON if results is HTML else results,
            N_TRIPLES if graph is HTML else graph,
        )
    except QueryError as error:
        return _error(http_status(error), _explained(error, protocol.query), protocol.query)
    if (results is HTML and answer.format is JSON) or (graph is HTML and answer.format is N_TRIPLES):
        response = Response(_page(protocol.query, answer=answer), content_type=HTML.content_type)
    else:
        response = Response(answer.body, content_type=answer.format.content_type)
    response.vary.add("Accept")
    return response


def read_protocol_request(max_bytes: int) -> ProtocolRequest:
    """The query and parameters of a GET (or HEAD), a form POST or a direct POST (SPARQL 1.1 Protocol
    §2.1)."""
    if request.method in ("GET", "HEAD"):
        if len(request.query_string) > max_bytes:
            raise ProtocolError(
                414, f"the query string is longer than {max_bytes} bytes (setting max_request_bytes)"
            )
        fields = _fields(request.query_string, "the query string")
        queries = fields.getlist("query")
    else:
        fields, queries = _post_fields(_fields(request.query_string, "the query string"), max_bytes)
    if "update" in fields:
        raise ProtocolError(400, "this endpoint is read-only: it runs queries, never updates (update=)")
    if not queries:
        if request.method == "POST" or "default-graph-uri" in fields or "named-graph-uri" in fields:
            raise ProtocolError(400, "no query: send one with query= or as an application/sparql-query body")
        return ProtocolRequest(None, fields)
    if len(queries) > 1:
        raise ProtocolError(400, f"{len(queries)} queries in one request; send exactly one")
    return ProtocolRequest(queries[0], fields)


def _post_fields(args: MultiDict[str, str], max_bytes: int) -> tuple[MultiDict[str, str], list[str]]:
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        form = _fields(_body(max_bytes), "the form body")
        fields = MultiDict(list(args.items(multi=True)) + list(form.items(multi=True)))
        return fields, fields.getlist("query")
    if mimetype == "application/sparql-query":
        body = _body(max_bytes)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the query is not UTF-8 (byte {error.start})") from None
        return args, [text, *args.getlist("query")]
    if mimetype == "application/sparql-update":
        raise ProtocolError(
            415, "this endpoint is read-only: it takes queries, not updates (application/sparql-update)"
        )
    raise ProtocolError(
        415,
        f"a query is POSTed as application/x-www-form-urlencoded or application/sparql-query, "
        f"not {mimetype or 'a body without Content-Type'}",
    )


def _body(max_bytes: int) -> bytes:
    """The request body, as sent (no content coding); 413 past max_bytes, with or without Content-Length."""
    codings = [c.strip() for c in request.headers.get("Content-Encoding", "").split(",") if c.strip()]
    unsupported = [c for c in codings if c.lower() != "identity"]
    if unsupported:
        raise ProtocolError(
            415,
            f"the request body is {', '.join(unsupported)}-encoded (Content-Encoding); this endpoint takes "
            "bodies without a content coding: send it unencoded",
            {"Accept-Encoding": "identity"},
        )
    if request.content_length is not None and request.content_length > max_bytes:
        raise ProtocolError(413, _too_large(max_bytes))
    # One byte over: werkzeug stops reading a body sent without Content-Length at the limit without a word,
    # so only the byte past max_bytes tells a body that is too long.
    request.max_content_length = max_bytes + 1
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise ProtocolError(413, _too_large(max_bytes)) from None
    if len(body) > max_bytes:
        raise ProtocolError(413, _too_large(max_bytes))
    return body


def _fields(encoded: bytes, where: str) -> MultiDict[str, str]:
    """A query string's or form body's fields, decoded in C (publisher/form_fields.py) or, when one has a
    malformed escape (kept as it is, as browsers do), by the standard library; 400 if not UTF-8."""
    fields = form_fields(encoded)
    if fields is None:
        try:
            fields = parse_qsl(encoded.decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise ProtocolError(
                400,
                f"{where} is not UTF-8: percent-encode the UTF-8 bytes of each character "
                "(é as %C3%A9), as encodeURIComponent and curl --data-urlencode do",
            ) from None
    return MultiDict(fields)


def describe(protocol: ProtocolRequest, limits: EndpointLimits) -> Any:
    """A bare GET: the service description in an RDF format, or the query form for a browser."""
    fmt = protocol.choose(DESCRIPTION_CHOICES)
    if fmt is None:
        offered = ", ".join(f.media_type for f in DESCRIPTION_CHOICES)
        return _error(406, f"the service description is available as {offered}; none of these is acceptable")
    if fmt is HTML:
        response = Response(_query_page(), content_type=HTML.content_type)
    else:
        description = service_description(request.base_url, store(), limits, RESULTS_FORMATS + RDF_FORMATS)
        response = Response(write_description(description, fmt), content_type=fmt.content_type)
    response.vary.add("Accept")
    return response


@blueprint.post("/-/reload")
def reload() -> Response:
    """Rebuild the store from the files, validate it and swap it in; a failure leaves the old one serving.
    Under `cmpkg serve` the main process does it for every worker (publisher/reload_channel.py)."""
    token = settings()["reload_token"]
    if not token:
        return _plain(403, "reloading over HTTP is off; set the setting reload_token to turn it on")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = _plain(401, "send the reload token as 'Authorization: Bearer TOKEN'")
        response.headers["WWW-Authenticate"] = 'Bearer realm="cmpkg"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _plain(403, "wrong reload token")
    served = store()
    if not isinstance(served, ServedStore):
        return _plain(501, "this store cannot be reloaded")
    channel: ReloadChannel | None = current_app.extensions.get(RELOAD_CHANNEL_KEY)
    # Under `cmpkg serve` (one of several worker processes) the main process reloads them all.
    outcome = channel.request() if channel is not None else reload_in_this_process(served)
    return _plain(outcome.status, outcome.message)


def _absolute(parameter: str, iri: str, base: str) -> str:
    try:
        return urljoin(base, iri)
    except ValueError as error:  # "[" or "]" outside an IPv6 host
        raise ProtocolError(400, f"{parameter} {iri!r} is not an IRI: {error}") from None


def _too_large(max_bytes: int) -> str:
    return f"the request body is larger than {max_bytes} bytes (setting max_request_bytes)"


def _explained(error: QueryError, query: str) -> str:
    """The error's message; for a syntax error, with the line it is on and a caret under the column."""
    if not isinstance(error, QuerySyntaxError) or error.line is None or error.column is None:
        return str(error)
    lines = query.splitlines() or [""]
    line = lines[min(error.line, len(lines)) - 1]
    return f"{error}\n{line}\n{' ' * (error.column - 1)}^"


def _error(status: int, message: str, query: str | None = None) -> Response:
    """An error as text, or as the form page with the message when a browser asked."""
    if negotiate(request.headers.get("Accept"), (TEXT, HTML)) is HTML:
        return Response(_page(query or EXAMPLE_QUERY, error=message), status, content_type=HTML.content_type)
    return _plain(status, message)


def _plain(status: int, message: str) -> Response:
    return Response(message.rstrip("\n") + "\n", status, content_type="text/plain; charset=utf-8")


def _query_page() -> str:
    """The page a browser gets on a bare GET: YASGUI on this endpoint when JavaScript runs, the plain form
    otherwise, and the saved queries as examples."""
    queries = list(saved_queries().values())
    return render_template(
        "sparql.html",
        query=EXAMPLE_QUERY,
        table=None,
        boolean=None,
        examples=queries,
        editor=_editor_config(queries) if _has_yasgui() else None,
    )


def _has_yasgui() -> bool:
    """Whether `make assets` installed YASGUI; without it the page is the plain form alone."""
    static = current_app.static_folder
    return static is not None and (Path(static) / YASGUI_SCRIPT).is_file()


def _editor_config(queries: list[SavedQuery]) -> dict[str, Any]:
    """What static/sparql-page.js needs: the endpoint (relative), the base, the prefixes and the examples."""
    base = iris().base
    prefixes = {"cmp": str(iris().cmp), **EXTERNAL_PREFIXES}
    header = "".join(
        f"PREFIX {name}: <{namespace}>\n"
        for name, namespace in prefixes.items()
        if name not in NOT_DECLARED_IN_NEW_TABS
    )
    examples = []
    for query in queries:
        try:
            text = query.bind({}, base)  # parameters at their defaults, so the example runs as it is
        except ParameterError:  # a required parameter: left for the user to fill in
            text = query.text
        examples.append({"name": query.name, "title": query.title, "query": text})
    return {
        "endpoint": url_for("sparql.endpoint"),
        "base": base,
        "linkRoot": request.script_root + "/",
        "prefixes": prefixes,
        "query": f"{header}\n{EDITOR_QUERY}\n",
        "examples": examples,
    }


def _page(query: str, answer: Answer | None = None, error: str | None = None) -> str:
    table: Table | None = None
    boolean: bool | None = None
    link_root = request.script_root + "/"
    downloads: list[tuple[str, str]] = []  # the whole answer, when the table shows part of it
    if answer is not None and answer.format is JSON:
        parsed = ox.parse_query_results(answer.body, format=JSON.results_format)
        if isinstance(parsed, ox.QueryBoolean):
            boolean = bool(parsed)
        else:
            table = result_table(parsed, store(), iris().base, link_root=link_root)
            downloads = [
                (f.label, url_for("sparql.endpoint", query=query, format=f.name)) for f in (CSV, JSON)
            ]
    elif answer is not None:
        table = result_table(_TriplesAsSolutions(answer.body), store(), iris().base, link_root=link_root)
        downloads = [
            (f.label, url_for("sparql.endpoint", query=query, format=f.name)) for f in (TURTLE, N_TRIPLES)
        ]
    return render_template(
        "sparql.html", query=query, table=table, boolean=boolean, error=error, downloads=downloads
    )


class _TriplesAsSolutions:
    """N-Triples read as SELECT results with the variables subject, predicate, object, for result_table."""

    def __init__(self, body: bytes) -> None:
        self.variables = [ox.Variable(name) for name in ("subject", "predicate", "object")]
        self._triples = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))

    def __iter__(self) -> Any:
        for triple in self._triples:
            yield {"subject": triple.subject, "predicate": triple.predicate, "object": triple.object}
