"""Talking to a SPARQL 1.1 store over HTTP: queries and updates with SPARQLWrapper, graphs with the Graph
Store Protocol; failures as the errors cmpkg answers with (no web imports).

SPARQLWrapper builds each request (parameters, body, Content-Type); this module sends it through its own
opener, so credentials (Basic or Digest, as the store asks) stay with this client instead of being installed
process-wide, and reads the answer in chunks against a deadline: a slow store hits cmpkg's own timeout.
Store down or unreachable is `StoreUnavailableError` (the web tier answers 503 with Retry-After); nothing
about a failure is remembered, so the next request tries the store again.
"""

from __future__ import annotations

import logging
import re
import socket
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.client import HTTPException, HTTPResponse
from typing import Any

from SPARQLWrapper import POST, SELECT, SPARQLWrapper

from publisher.query_execution import QueryFailedError, QueryTimeoutError

log = logging.getLogger(__name__)

RETRY_AFTER = 10  # seconds a client is told to wait when the store is down
CHUNK = 1 << 16
ERROR_BODY_BYTES = 4000  # of an error answer, kept for the message


class StoreUnavailableError(Exception):
    """The store cannot be reached or does not answer; a later request may succeed."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreRefusedError(QueryFailedError):
    """The store answered the request with an error (the message is the store's)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class StoreLocation:
    """Where a store answers: the query URL, and optionally its update and Graph Store Protocol URLs."""

    query_url: str
    update_url: str = ""
    gsp_url: str = ""
    user: str = ""
    password: str = field(default="", repr=False)

    @property
    def updates(self) -> str:
        return self.update_url or self.query_url


@dataclass(frozen=True)
class Reply:
    """A successful answer from the store."""

    content_type: str  # the media type, without parameters
    body: bytes
    headers: dict[str, str]


# A function fed the answer's bytes as they come (it may raise to stop reading).
Sink = Callable[[bytes], object]


class SparqlClient:
    """One store's endpoints, with the credentials for them; safe to share between threads."""

    def __init__(self, location: StoreLocation, timeout: float = 30.0) -> None:
        self.location = location
        self.timeout = timeout
        self.server = ""  # the store's Server header, once it has answered
        handlers: list[urllib.request.BaseHandler] = []
        if location.user:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            for url in {location.query_url, location.updates, location.gsp_url} - {""}:
                passwords.add_password(None, url, location.user, location.password)
            handlers += [
                urllib.request.HTTPBasicAuthHandler(passwords),
                urllib.request.HTTPDigestAuthHandler(passwords),
            ]
        self._opener = urllib.request.build_opener(*handlers)

    # Queries and updates (SPARQL 1.1 Protocol) -----------------------------------------------------------

    def query(
        self,
        sparql: str,
        accept: str,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        timeout: float | None = None,
        sink: Sink | None = None,
    ) -> Reply:
        """POST a query (form-encoded) with the dataset given, and read its answer within the timeout."""
        wrapper = self._wrapper(self.location.query_url, sparql, accept)
        for iri in default_graphs or ():
            wrapper.addDefaultGraph(iri)
        for iri in named_graphs or ():
            wrapper.addNamedGraph(iri)
        wrapper.queryType = SELECT  # the form was checked before; this only makes it a query, not an update
        return self._send(wrapper._createRequest(), sparql, timeout, sink)

    def update(self, sparql: str, timeout: float | None = None) -> Reply:
        """POST a SPARQL Update request to the update URL."""
        wrapper = self._wrapper(self.location.updates, "", "*/*")
        wrapper.updateEndpoint = self.location.updates
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper guessing the operation
            wrapper.setQuery(sparql)
        if not wrapper.isSparqlUpdateRequest():
            raise ValueError(f"not a SPARQL update: {sparql[:60]!r}")
        return self._send(wrapper._createRequest(), sparql, timeout)

    def _wrapper(self, url: str, sparql: str, accept: str) -> Any:
        wrapper = SPARQLWrapper(url)
        wrapper.setMethod(POST)
        wrapper.setOnlyConneg(True)  # no format=/output= parameters: some stores let them override Accept
        wrapper.addCustomHttpHeader("Accept", accept)
        if sparql:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                wrapper.setQuery(sparql)
        return wrapper

    # Graph Store Protocol ----------------------------------------------------------------------------------

    def put_graph(
        self, graph: str, body: bytes, content_type: str, timeout: float | None = None, append: bool = False
    ) -> None:
        """Replace a graph's content (HTTP PUT to the Graph Store Protocol URL), or add to it (POST)."""
        method = "POST" if append else "PUT"
        request = urllib.request.Request(_with_query(self.location.gsp_url, graph), data=body, method=method)
        request.add_header("Content-Type", content_type)
        self._send(request, f"{method} graph <{graph}> ({len(body)} bytes)", timeout)

    def get_graph(
        self, graph: str, accept: str, timeout: float | None = None, sink: Sink | None = None
    ) -> Reply:
        """A graph's content (HTTP GET from the Graph Store Protocol URL)."""
        request = urllib.request.Request(_with_query(self.location.gsp_url, graph))
        request.add_header("Accept", accept)
        return self._send(request, f"GET graph <{graph}>", timeout, sink)

    # Sending -----------------------------------------------------------------------------------------------

    def _send(
        self, request: urllib.request.Request, what: str, timeout: float | None, sink: Sink | None = None
    ) -> Reply:
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        url = request.full_url.split("?", 1)[0]
        try:
            response: HTTPResponse = self._opener.open(request, timeout=max(seconds, 0.001))
        except urllib.error.HTTPError as error:
            raise self._http_error(error, what, seconds) from None
        except TimeoutError:
            raise self._timeout(seconds, what) from None
        except (urllib.error.URLError, ConnectionError, HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError | socket.timeout):
                raise self._timeout(seconds, what) from None
            log.error("store at %s unreachable (%s) for: %s", url, reason, what)
            raise StoreUnavailableError(f"the triple store at {url} cannot be reached: {reason}") from None
        with response:
            headers = {key.lower(): value for key, value in response.getheaders()}
            self.server = headers.get("server", self.server)
            chunks: list[bytes] = []
            try:
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._timeout(seconds, what)
                    if response.fp is not None and hasattr(response.fp, "raw"):
                        _set_timeout(response, left)
                    chunk = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
                    if not chunk:
                        break
                    if sink is not None:
                        sink(chunk)
                    chunks.append(chunk)
            except TimeoutError:
                raise self._timeout(seconds, what) from None
            except (ConnectionError, HTTPException, OSError) as error:
                log.error("store at %s stopped answering (%s) for: %s", url, error, what)
                raise StoreUnavailableError(f"the triple store at {url} stopped answering: {error}") from None
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        return Reply(content_type, b"".join(chunks), headers)

    def _timeout(self, seconds: float, what: str) -> QueryTimeoutError:
        log.warning("store query stopped at the %g s limit: %s", seconds, what)
        return QueryTimeoutError(seconds)

    def _http_error(self, error: urllib.error.HTTPError, what: str, seconds: float) -> Exception:
        try:
            body = error.read(ERROR_BODY_BYTES).decode("utf-8", "replace").strip()
        except (OSError, HTTPException):
            body = ""
        finally:
            error.close()
        url = error.url.split("?", 1)[0] if error.url else self.location.query_url
        self.server = error.headers.get("Server", self.server) if error.headers else self.server
        log.error("store at %s answered %s %s for: %s\n%s", url, error.code, error.reason, what, _first(body))
        if error.code in (502, 503, 504):
            return StoreUnavailableError(
                f"the triple store at {url} is unavailable ({error.code} {error.reason})"
            )
        if error.code in (401, 403):
            return StoreRefusedError(
                f"the triple store at {url} refused cmpkg's credentials ({error.code}); check the settings "
                "store_user and store_password",
                error.code,
            )
        if _ESTIMATE_OVER_LIMIT.search(body):
            # Virtuoso refuses a query whose estimated cost is over its limit before running it.
            return QueryTimeoutError(
                seconds,
                f"the query would run past the time limit (the setting query_timeout is cmpkg's), so the "
                f"triple store refused it before it ran: {_first(body)}",
            )
        if _STORE_TIMED_OUT.search(body):
            return QueryTimeoutError(
                seconds, f"the triple store stopped the query at its own time limit: {_first(body)}"
            )
        return StoreRefusedError(f"the triple store answered {error.code}: {_first(body)}", error.code)


_ESTIMATE_OVER_LIMIT = re.compile(r"estimated execution time .* exceeds the limit", re.IGNORECASE)
_STORE_TIMED_OUT = re.compile(r"SR171: Transaction timed out")  # Virtuoso past MaxQueryExecutionTime


def _first(body: str) -> str:
    """The store's message without the query it echoes (Virtuoso adds 'SPARQL query: ...')."""
    return body.split("\n\nSPARQL query:", 1)[0].strip() or "(no message)"


def _with_query(url: str, graph: str) -> str:
    from urllib.parse import urlencode

    return url + ("&" if "?" in url else "?") + urlencode({"graph": graph})


def _set_timeout(response: HTTPResponse, seconds: float) -> None:
    """Bound the next read from the socket by the time left."""
    raw = getattr(response.fp, "raw", None)
    sock = getattr(raw, "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))
