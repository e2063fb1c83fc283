"""Failures of the store, answered the same way on every page: 503 with Retry-After while the store is down
or too slow, 502 when it answered with an error; a short page for a browser, a line of text otherwise, never
a stack trace. Each is logged (with the query) where it happens, in publisher/sparql_client.py."""

from __future__ import annotations

from flask import Flask, Response, render_template, request

from publisher.formats import HTML, TEXT, negotiate
from publisher.query_execution import QueryError, QueryTimeoutError
from publisher.sparql_client import RETRY_AFTER, StoreUnavailableError


def init_app(app: Flask) -> None:
    app.register_error_handler(StoreUnavailableError, _unavailable)
    app.register_error_handler(QueryError, _failed)


def _unavailable(error: StoreUnavailableError) -> Response:
    return _answer(503, "The data is unavailable", str(error), error.retry_after)


def _failed(error: QueryError) -> Response:
    if isinstance(error, QueryTimeoutError):
        return _answer(503, "The data is slow to answer", str(error), RETRY_AFTER)
    return _answer(502, "The data store failed", str(error), None)


def _answer(status: int, title: str, message: str, retry_after: int | None) -> Response:
    if negotiate(request.headers.get("Accept"), (TEXT, HTML)) is HTML:
        body = render_template("unavailable.html", title=title, message=message, retry_after=retry_after)
        response = Response(body, status, content_type=HTML.content_type)
    else:
        response = Response(f"{title}: {message}\n", status, content_type="text/plain; charset=utf-8")
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response
