"""Saved queries on the web: /queries lists them, /queries/<name>[.html|.json|.csv] runs one, /openapi.json
describes them. The queries are read and checked once, when the blueprint is registered."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState

from publisher.endpoint import answer_query
from publisher.formats import HTML, JSON, negotiate
from publisher.openapi import openapi_document
from publisher.query_execution import QueryError, http_status
from publisher.result_table import result_table
from publisher.saved_queries import (
    QUERY_FORMATS,
    ParameterError,
    SavedQueries,
    SavedQuery,
    load_saved_queries,
)
from publisher.site import Site
from publisher.views.context import endpoint_limits, iris, store

blueprint = Blueprint("queries", __name__)
QUERIES_KEY = "cmpkg.saved_queries"


@blueprint.record_once
def load_queries(state: BlueprintSetupState) -> None:
    settings = state.app.config["CMPKG_SETTINGS"]
    queries_dir = Site(settings.site_dir).queries_dir
    state.app.extensions[QUERIES_KEY] = load_saved_queries(queries_dir, settings.base_iri)


def saved_queries() -> SavedQueries:
    found: SavedQueries = current_app.extensions[QUERIES_KEY]
    return found


@blueprint.get("/queries")
def index() -> str:
    return render_template("queries.html", queries=list(saved_queries().values()))


@blueprint.get("/queries/<name>")
def run(name: str) -> Any:
    name, dot, suffix = name.partition(".")
    query = saved_queries().get(name)
    if query is None or (dot and suffix not in QUERY_FORMATS):
        abort(404, description=f"There is no saved query {name + dot + suffix!r}; /queries lists them.")
    offered = list(QUERY_FORMATS.values())
    fmt = QUERY_FORMATS[suffix] if dot else negotiate(request.headers.get("Accept"), offered)
    if fmt is None:
        types = ", ".join(t for f in offered for t in f.media_types)
        return _plain(406, f"Not acceptable; this page is available as: {types}.\n")
    given = {key: request.args.getlist(key) for key in request.args}
    base = iris().base
    try:
        sparql = query.bind(given, base)
    except ParameterError as error:
        if fmt is HTML:
            return _page(query, given, error=str(error)), 400
        return _plain(400, f"{error}\n")
    # Bounded as /sparql is: run by a query worker within the timeout and the row limit.
    try:
        answer = answer_query(
            store(),
            sparql,
            base,
            endpoint_limits(),
            results_format=JSON if fmt is HTML else fmt,
            graph_format=None,
        )
    except QueryError as error:
        if fmt is HTML:
            return _page(query, given, error=str(error)), http_status(error)
        return _plain(http_status(error), f"{error}\n")
    if fmt is HTML:
        results = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
        table = result_table(results, store(), base, link_root=request.script_root + "/")
        response = Response(_page(query, given, table=table), content_type=HTML.content_type)
    else:
        response = Response(answer.body, content_type=fmt.content_type)
    if not dot:
        response.vary.add("Accept")
    return response


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(saved_queries().values(), server_url=request.script_root or "/"))


def _page(query: SavedQuery, given: dict[str, list[str]], **context: Any) -> str:
    values = {key: items[0] for key, items in given.items() if items and items[0]}
    return render_template("query.html", query=query, values=values, **context)


def _plain(status: int, message: str) -> Response:
    return Response(message, status=status, content_type="text/plain; charset=utf-8")
