"""Talking to a SPARQL 1.1 store over HTTP: queries (SPARQL 1.1 Protocol), updates (built by SPARQLWrapper)
and graphs (Graph Store Protocol); failures as the errors cmpkg answers with (no web imports).

Queries are the web tier's hot path, so each is one form-encoded POST over a keep-alive connection of the
calling thread (the dataset parameters encoded once per graph list): a new connection and SPARQLWrapper's
request building per query cost more than a small query takes. Updates and graphs go through this client's
own opener, so credentials (Basic or Digest, as the store asks) stay with it instead of being installed
process-wide; once Digest has been asked for, later requests answer the challenge in advance, so a large
body is sent once (Virtuoso closes the connection on an unauthenticated body before reading it all). Every
answer is read in chunks against a deadline: a slow store hits cmpkg's own timeout. Store down or
unreachable is `StoreUnavailableError` (the web tier answers 503 with Retry-After); nothing about a failure
is remembered, so the next request tries the store again. A failure is logged with the request that met it
(at debug level for a command, which reports the failure itself: `quiet`).
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.client
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException, HTTPResponse
from typing import Any
from urllib.parse import urlencode, urlsplit

from SPARQLWrapper import POST, SPARQLWrapper

from publisher.query_execution import QueryFailedError, QueryTimeoutError

log = logging.getLogger(__name__)

UNKNOWN_GRAPH = "urn:cmpkg:no-graph"  # a graph no store holds: what a bodiless first request asks about
RETRY_AFTER = 10  # seconds a client is told to wait when the store is down
CHUNK = 1 << 16
ERROR_BODY_BYTES = 4000  # of an error answer, kept for the message
PAGE_TEXT_CHARS = 200  # of an HTML error page
QUERY_ROLE, UPDATE_ROLE, GSP_ROLE = "query URL", "update URL", "Graph Store Protocol URL"


class StoreUnavailableError(Exception):
    """The store cannot be reached or does not answer; a later request may succeed."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUrlError(ValueError):
    """A store URL cmpkg cannot send a request to (malformed, not http(s), a port out of range)."""


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
    status: int = 200
    url: str = ""  # where it came from (without the query string)


# A function fed the answer's bytes as they come (it may raise to stop reading).
Sink = Callable[[bytes], object]


class SparqlClient:
    """One store's endpoints, with the credentials for them; safe to share between threads."""

    def __init__(self, location: StoreLocation, timeout: float = 30.0, quiet: bool = False) -> None:
        check_urls(("store URL", url) for url in (location.query_url, location.update_url, location.gsp_url))
        self.location = location
        self.timeout = timeout
        self.quiet = quiet  # failures are logged at debug level: the caller reports them
        self.server = ""  # the store's Server header, once it has answered
        handlers: list[urllib.request.BaseHandler] = []
        if location.user:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            for url in {location.query_url, location.updates, location.gsp_url} - {""}:
                passwords.add_password(None, url, location.user, location.password)
            handlers += [urllib.request.HTTPBasicAuthHandler(passwords), _DigestInAdvance(passwords)]
        self._opener = urllib.request.build_opener(*handlers)
        self._kept = threading.local()  # each thread's keep-alive connection to the query URL
        self._query_needs_credentials = False  # the query URL asked for them: queries go through the opener
        self._introduced = False  # a first bodiless request has fetched the store's challenge

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
        dataset = _dataset_parameters(tuple(default_graphs or ()), tuple(named_graphs or ()))
        body = (urlencode({"query": sparql}) + dataset).encode()
        if not self._query_needs_credentials:
            reply = self._post_kept_alive(body, accept, sparql, timeout, sink)
            if reply is not None:
                return reply
        request = urllib.request.Request(self.location.query_url, data=body, method="POST")
        request.add_header("Content-Type", FORM)
        request.add_header("Accept", accept)
        return self._send(request, sparql, timeout, sink)

    def update(self, sparql: str, timeout: float | None = None) -> Reply:
        """POST a SPARQL Update request to the update URL."""
        wrapper = SPARQLWrapper(self.location.updates)
        wrapper.setMethod(POST)
        wrapper.setOnlyConneg(True)  # no format=/output= parameters: some stores let them override Accept
        wrapper.addCustomHttpHeader("Accept", "*/*")
        wrapper.updateEndpoint = self.location.updates
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper guessing the operation
            wrapper.setQuery(sparql)
        if not wrapper.isSparqlUpdateRequest():
            raise ValueError(f"not a SPARQL update: {sparql[:60]!r}")
        self._introduce(self.location.updates)
        return self._send(wrapper._createRequest(), sparql, timeout, role=UPDATE_ROLE)

    # Graph Store Protocol ----------------------------------------------------------------------------------

    def put_graph(
        self, graph: str, body: bytes, content_type: str, timeout: float | None = None, append: bool = False
    ) -> Reply:
        """Replace a graph's content (HTTP PUT to the Graph Store Protocol URL), or add to it (POST)."""
        method = "POST" if append else "PUT"
        self._introduce(_with_query(self.location.gsp_url, UNKNOWN_GRAPH))
        request = urllib.request.Request(_with_query(self.location.gsp_url, graph), data=body, method=method)
        request.add_header("Content-Type", content_type)
        return self._send(request, f"{method} graph <{graph}> ({len(body)} bytes)", timeout, role=GSP_ROLE)

    def get_graph(
        self, graph: str, accept: str, timeout: float | None = None, sink: Sink | None = None
    ) -> Reply:
        """A graph's content (HTTP GET from the Graph Store Protocol URL)."""
        request = urllib.request.Request(_with_query(self.location.gsp_url, graph))
        request.add_header("Accept", accept)
        return self._send(request, f"GET graph <{graph}>", timeout, sink, role=GSP_ROLE)

    def _introduce(self, url: str) -> None:
        """Before the first body sent with credentials, a bodiless request (HEAD) to fetch the store's Digest
        challenge, so that every body goes out once, with its answer (whatever the HEAD is answered)."""
        if not self.location.user or self._introduced:
            return
        self._introduced = True
        request = urllib.request.Request(url, method="HEAD")
        with contextlib.suppress(urllib.error.URLError, HTTPException, OSError):
            self._opener.open(request, timeout=self.timeout).close()

    def close(self) -> None:
        """Close the calling thread's connection to the store (the others close with their threads)."""
        self._drop_connection()

    # Sending -----------------------------------------------------------------------------------------------

    def _post_kept_alive(
        self, body: bytes, accept: str, what: str, timeout: float | None, sink: Sink | None
    ) -> Reply | None:
        """A query over this thread's keep-alive connection; None when the store asks for credentials."""
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        url = self.location.query_url
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        headers = {"Content-Type": FORM, "Accept": accept}
        for attempt in (1, 2):
            connection, reused = self._connection(parts, seconds)
            try:
                connection.request("POST", target, body=body, headers=headers)
                response = connection.getresponse()
            except TimeoutError:
                self._drop_connection()
                raise self._timeout(seconds, what) from None
            except (ConnectionError, HTTPException, OSError) as error:
                self._drop_connection()
                if reused and attempt == 1 and isinstance(error, ConnectionError):
                    continue  # the store closed the idle connection: once more, on a new one
                self._log(logging.ERROR, "store at %s unreachable (%s) for: %s", url, error, what)
                raise StoreUnavailableError(f"the triple store at {url} cannot be reached: {error}") from None
            break
        headers_in = {key.lower(): value for key, value in response.getheaders()}
        self.server = headers_in.get("server", self.server)
        if response.status == 401 and self.location.user:
            self._drop_connection()
            self._query_needs_credentials = True
            return None
        if response.status >= 400:
            try:
                text = response.read(ERROR_BODY_BYTES).decode("utf-8", "replace").strip()
            except (OSError, HTTPException):
                text = ""
            self._drop_connection()
            raise self._refusal(response.status, response.reason, url, headers_in, text, what, seconds)
        if 300 <= response.status < 400:
            self._drop_connection()
            raise _redirected(response.status, response.reason, url, headers_in.get("location", ""))
        try:
            chunks = self._read(response, deadline, seconds, what, sink, url)
        except BaseException:
            self._drop_connection()  # an answer left half-read spoils the connection for the next query
            raise
        if response.will_close:
            self._drop_connection()
        else:
            response.close()  # read to its end: the connection is free for the next query
        content_type = headers_in.get("content-type", "").split(";")[0].strip().lower()
        return Reply(content_type, b"".join(chunks), headers_in, response.status, url)

    def _connection(self, parts: Any, seconds: float) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection to the query URL's host (a new one if there is none), and whether it
        has served a request before."""
        connection: http.client.HTTPConnection | None = getattr(self._kept, "connection", None)
        reused = connection is not None
        if connection is None:
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = kind(parts.hostname or "localhost", parts.port, timeout=max(seconds, 0.001))
            self._kept.connection = connection
        if connection.sock is not None:
            connection.sock.settimeout(max(seconds, 0.001))
        else:
            connection.timeout = max(seconds, 0.001)
        return connection, reused

    def _drop_connection(self) -> None:
        connection: http.client.HTTPConnection | None = getattr(self._kept, "connection", None)
        if connection is not None:
            connection.close()
            self._kept.connection = None

    def _send(
        self,
        request: urllib.request.Request,
        what: str,
        timeout: float | None,
        sink: Sink | None = None,
        role: str = QUERY_ROLE,
    ) -> Reply:
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        url = request.full_url.split("?", 1)[0]
        try:
            response: HTTPResponse = self._opener.open(request, timeout=max(seconds, 0.001))
        except urllib.error.HTTPError as error:
            raise self._http_error(error, what, seconds, role) from None
        except TimeoutError:
            raise self._timeout(seconds, what) from None
        except (urllib.error.URLError, ConnectionError, HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError | socket.timeout):
                raise self._timeout(seconds, what) from None
            self._log(logging.ERROR, "store at %s unreachable (%s) for: %s", url, reason, what)
            raise StoreUnavailableError(f"the triple store at {url} cannot be reached: {reason}") from None
        with response:
            headers = {key.lower(): value for key, value in response.getheaders()}
            self.server = headers.get("server", self.server)
            chunks = self._read(response, deadline, seconds, what, sink, url)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        return Reply(content_type, b"".join(chunks), headers, response.status, url)

    def _read(
        self, response: HTTPResponse, deadline: float, seconds: float, what: str, sink: Sink | None, url: str
    ) -> list[bytes]:
        """The answer's body, chunk by chunk, each read bounded by the time left."""
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
                    return chunks
                if sink is not None:
                    sink(chunk)
                chunks.append(chunk)
        except TimeoutError:
            raise self._timeout(seconds, what) from None
        except (ConnectionError, HTTPException, OSError) as error:
            self._log(logging.ERROR, "store at %s stopped answering (%s) for: %s", url, error, what)
            raise StoreUnavailableError(f"the triple store at {url} stopped answering: {error}") from None

    def _timeout(self, seconds: float, what: str) -> QueryTimeoutError:
        self._log(logging.WARNING, "store query stopped at the %g s limit: %s", seconds, what)
        return QueryTimeoutError(seconds)

    def _log(self, level: int, message: str, *args: object) -> None:
        """Log a failure with the request that met it (at debug level when quiet)."""
        log.log(logging.DEBUG if self.quiet else level, message, *args)

    def _http_error(
        self, error: urllib.error.HTTPError, what: str, seconds: float, role: str = QUERY_ROLE
    ) -> Exception:
        try:
            body = error.read(ERROR_BODY_BYTES).decode("utf-8", "replace").strip()
        except (OSError, HTTPException):
            body = ""
        finally:
            error.close()
        url = error.url.split("?", 1)[0] if error.url else self.location.query_url
        headers = {key.lower(): value for key, value in error.headers.items()} if error.headers else {}
        return self._refusal(error.code, str(error.reason), url, headers, body, what, seconds, role)

    def _refusal(
        self,
        code: int,
        reason: str,
        url: str,
        headers: Mapping[str, str],
        body: str,
        what: str,
        seconds: float,
        role: str = QUERY_ROLE,
    ) -> Exception:
        """The error an HTTP error answer of the store's becomes."""
        self.server = headers.get("server", self.server)
        self._log(
            logging.ERROR, "store at %s answered %s %s for: %s\n%s", url, code, reason, what, _first(body)
        )
        if code in (502, 503, 504):
            return StoreUnavailableError(f"the triple store at {url} is unavailable ({code} {reason})")
        if code == 401 and not self.location.user:
            return StoreRefusedError(
                f"the triple store at {url} needs credentials (401); set store_user and store_password", code
            )
        if code == 403 and not self.location.user:
            return StoreRefusedError(
                f"the triple store at {url} refused the request (403 {reason}); if it needs credentials, set "
                "store_user and store_password",
                code,
            )
        if code in (401, 403):
            return StoreRefusedError(
                f"the triple store at {url} refused cmpkg's credentials ({code}); check the settings "
                "store_user and store_password",
                code,
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
        if code in (405, 501) or (code == 404 and role != GSP_ROLE):  # (a graph the GSP URL has not: 404)
            # Not a SPARQL endpoint: the status says it, the page a web server adds is noise.
            return StoreRefusedError(f"{url} answered {code} {reason}; is it the store's {role}?", code)
        text = _page_text(body) if _is_html(body, headers) else _first(body)
        return StoreRefusedError(f"the triple store answered {code}: {text}", code)


_ESTIMATE_OVER_LIMIT = re.compile(r"estimated execution time .* exceeds the limit", re.IGNORECASE)
_STORE_TIMED_OUT = re.compile(r"SR171: Transaction timed out")  # Virtuoso past MaxQueryExecutionTime


FORM = "application/x-www-form-urlencoded"


def check_urls(named: Iterable[tuple[str, str]]) -> None:
    """StoreUrlError naming the first URL (name, url) cmpkg cannot send a request to; empty ones are unset."""
    for name, url in named:
        problem = _url_problem(url) if url else None
        if problem:
            raise StoreUrlError(f"{name}: {problem}")


def _url_problem(url: str) -> str | None:
    """What keeps url from being a store's http(s) URL, or None."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        return f"{url} is not a URL ({error})"
    if parts.scheme not in ("http", "https"):
        return f"{url} is not an http:// or https:// URL"
    try:
        parts.port  # noqa: B018  (reading it checks it)
    except ValueError:
        port = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        if port.isdigit():
            return f"port {port} is out of range (0-65535)"
        return f"port {port!r} is not a number"
    if not parts.hostname:
        return f"{url} names no host"
    return None


def _redirected(code: int, reason: str, url: str, target: str) -> StoreRefusedError:
    """A query answered with a redirect, which cmpkg does not follow (a POST's redirect is ambiguous)."""
    to = f" to {target}" if target else ""
    return StoreRefusedError(
        f"{url} answered {code} {reason} (a redirect{to}, which cmpkg does not follow), not SPARQL results; "
        "is it the store's query URL?",
        502,
    )


def _is_html(body: str, headers: Mapping[str, str]) -> bool:
    """Whether an error answer is a web page rather than a store's message."""
    start = body.lstrip()[:15].lower()
    return "html" in headers.get("content-type", "") or start.startswith(("<!doctype html", "<html"))


def _page_text(page: str) -> str:
    """A web page's text on one line, shortened: what an error page says, without its markup."""
    page = re.sub(r"(?is)<(script|style|title)\b.*?</\1>", " ", page)
    text = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", page)).split())
    return (text[:PAGE_TEXT_CHARS] + "...") if len(text) > PAGE_TEXT_CHARS else text or "(an empty page)"


@functools.lru_cache(maxsize=32)
def _dataset_parameters(default: tuple[str, ...], named: tuple[str, ...]) -> str:
    """The protocol's dataset parameters, encoded once per graph list (it is the same for every query of a
    data version)."""
    pairs = [("default-graph-uri", iri) for iri in default] + [("named-graph-uri", iri) for iri in named]
    return "&" + urlencode(pairs) if pairs else ""


class _DigestInAdvance(urllib.request.HTTPDigestAuthHandler):
    """Digest authentication that, once a store has challenged, answers the challenge with each later
    request: the body is sent once (a refused body is sent twice otherwise, and Virtuoso may close the
    connection before reading all of it: "Broken pipe"). A stale nonce is challenged again as usual."""

    def __init__(self, passwords: urllib.request.HTTPPasswordMgr) -> None:
        super().__init__(passwords)
        self._challenge: dict[str, str] | None = None
        self._lock = threading.Lock()

    def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
        with self._lock:
            challenge = self._challenge
            if challenge is not None and not request.has_header("Authorization"):
                answer = self.get_authorization(request, challenge)
                if answer:
                    request.add_unredirected_header("Authorization", f"Digest {answer}")
        return request

    https_request = http_request

    def retry_http_digest_auth(self, req: urllib.request.Request, auth: str) -> Any:
        _, challenge = auth.split(" ", 1)
        with self._lock:
            self._challenge = urllib.request.parse_keqv_list(
                [item for item in urllib.request.parse_http_list(challenge) if item]
            )
        return super().retry_http_digest_auth(req, auth)


def _first(body: str) -> str:
    """The store's message without the query it echoes (Virtuoso adds 'SPARQL query: ...')."""
    return body.split("\n\nSPARQL query:", 1)[0].strip() or "(no message)"


def _with_query(url: str, graph: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode({"graph": graph})


def _set_timeout(response: HTTPResponse, seconds: float) -> None:
    """Bound the next read from the socket by the time left."""
    raw = getattr(response.fp, "raw", None)
    sock = getattr(raw, "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))
