"""A request whose Host header is not a host[:port] is refused, 400, before anything else answers it (the
replay of entity answers included): the URLs made from it (the sitemap's, robots.txt's, the service
description's) would be broken, and cached. RFC 9112 §3.2: a server "MUST respond with a 400 (Bad Request)
status code to any HTTP/1.1 request message that lacks a Host header field and to any request message
that contains [...] a Host header field with an invalid field value." granian passes a missing Host as an
empty one, and several Host lines joined with commas: both are refused. (An HTTP/1.0 request that a server
comes without a Host, or with an empty one, is answered with the server's own name, as WSGI says.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from publisher.request_checks import host_problem

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class RefuseBadHosts:
    """WSGI middleware: a plain-text 400 for a bad Host (no browser sends one), the app for the rest."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if not host and environ.get("SERVER_PROTOCOL") == "HTTP/1.0":
            # HTTP/1.0 needs no Host (load balancers' health checks often send none); granian passes a
            # missing one as empty: without it, WSGI's SERVER_NAME names the server.
            environ.pop("HTTP_HOST", None)
            return self.app(environ, start_response)
        problem = host_problem(host)
        if host is None and environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            problem = "an HTTP/1.1 request must have one"
        if problem is None:
            return self.app(environ, start_response)
        body = f"Bad Request: bad Host header: {problem}\n".encode()
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ]
        start_response("400 BAD REQUEST", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
