"""Errors answered the same way on every page: a short page for a browser, a line of text otherwise, never a
stack trace.

- Failures of the store: 503 with Retry-After while the store is down or too slow, 502 when it answered
  with an error. Each is logged (with the query) where it happens, in publisher/sparql_client.py.
- Errors Flask and werkzeug raise (405 for a method a route does not take, 404 from abort(), 416, and the
  500 of an unexpected exception, which Flask logs): the same, with the exception's headers (Allow,
  Content-Range). A path no route takes is an IRI that names nothing: the entity 404 answers it.
- Every 406 varies on Accept, whichever view gave it: a shared cache must not give it to another client.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from publisher.formats import HTML, TEXT, negotiate
from publisher.query_execution import QueryError, QueryTimeoutError
from publisher.sparql_client import RETRY_AFTER, StoreUnavailableError
from publisher.views.entity import not_found


def init_app(app: Flask) -> None:
    app.register_error_handler(StoreUnavailableError, _unavailable)
    app.register_error_handler(QueryError, _failed)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_vary_not_acceptable)


def _unavailable(error: StoreUnavailableError) -> Response:
    return _answer(503, "The data is unavailable", str(error), error.retry_after)


def _failed(error: QueryError) -> Response:
    if isinstance(error, QueryTimeoutError):
        return _answer(503, "The data is slow to answer", str(error), RETRY_AFTER)
    return _answer(502, "The data store failed", str(error), None)


def _http_error(error: HTTPException) -> Response:
    if isinstance(error, NotFound) and request.url_rule is None:
        return not_found(request.path.removeprefix("/"))
    response = _answer(error.code or 500, error.name, _message(error), None)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _message(error: HTTPException) -> str:
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        allowed = ", ".join(sorted(error.valid_methods))
        return f"{request.path} does not take {request.method}; it takes {allowed}"
    return error.description or error.name


def _answer(status: int, title: str, message: str, retry_after: int | None) -> Response:
    if negotiate(request.headers.get("Accept"), (TEXT, HTML)) is HTML:
        body = render_template("unavailable.html", title=title, message=message, retry_after=retry_after)
        response = Response(body, status, content_type=HTML.content_type)
    else:
        response = Response(f"{title}: {message}\n", status, content_type="text/plain; charset=utf-8")
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept")
    return response


def _vary_not_acceptable(response: Response) -> Response:
    if response.status_code == 406:
        response.vary.add("Accept")
    return response
