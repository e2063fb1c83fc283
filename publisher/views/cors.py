"""CORS on every route a page on another site may read, with the preflight requests that ask first.

The published data (entities, dumps, VoID, sitemap, search) may be read from any origin. The query services
(/sparql, the saved queries, their OpenAPI description) follow the setting `cors_origin`. A preflight
(OPTIONS) is answered with the methods and the request headers these routes take: the conditional and range
ones too, which browsers do not send unasked, and POST with its Content-Type where a query may be posted.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, NotFound

from publisher.views.context import settings

OPEN_DATA = frozenset(
    {
        "entity.dereference",
        "dataset.dump",
        "dataset.void",
        "dataset.well_known_void",
        "dataset.void_twin",
        "dataset.sitemap",
        "dataset.sitemap_part",
        "dataset.search",
        "dataset.search_json",
    }
)
QUERY_SERVICES = frozenset({"queries.run", "queries.openapi", "sparql.endpoint"})
TAKES_POST = frozenset({"sparql.endpoint"})  # a query may be POSTed (a form, or application/sparql-query)
EXPOSED_HEADERS = "ETag, Link, Content-Location, Content-Range"
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
ALLOWED_HEADERS = "Accept, If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since, If-Range, Range"
MAX_AGE = "86400"


def init_app(app: Flask) -> None:
    app.after_request(add_cors_headers)


def add_cors_headers(response: Response) -> Response:
    """The CORS headers of the route the request is for (none for routes not listed above)."""
    endpoint = _endpoint()
    if endpoint in OPEN_DATA:
        origin: str | None = "*"
    elif endpoint in QUERY_SERVICES:
        origin = _allowed_origin(response)
    else:
        return response
    if origin is None:
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        methods, headers = ALLOWED_METHODS, ALLOWED_HEADERS
        if endpoint in TAKES_POST:
            methods, headers = f"{methods}, POST", f"{headers}, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = methods
        response.headers["Access-Control-Allow-Headers"] = headers
        response.headers["Access-Control-Max-Age"] = MAX_AGE
    return response


def _endpoint() -> str | None:
    """The request's route; for a request Flask refused before any view (a 405, a path no route takes),
    the route a GET of its path reaches, whose CORS headers its error carries."""
    if request.url_rule is not None:
        return request.endpoint
    adapter = current_app.create_url_adapter(request)
    if adapter is None:
        return None
    try:
        endpoint, _ = adapter.match(method="GET")
    except NotFound:
        return "entity.dereference"  # every path no route takes is an IRI that names nothing: its 404
    except HTTPException:
        return None
    return str(endpoint)


def _allowed_origin(response: Response) -> str | None:
    """The Access-Control-Allow-Origin the setting cors_origin gives this request (None: no CORS)."""
    allowed = settings()["cors_origin"].split()
    if "*" in allowed or not allowed:
        return "*" if allowed else None
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    return origin if origin in allowed else None
