"""Entity answers replayed without Flask: a WSGI middleware in front of the app.

The entity view marks each answer it gives (a page or RDF, 200 or 304) with a `Mark`: the data version it
used, the key of the body in the page cache and the ETag. The middleware records what was sent (status and
headers, exactly as Flask sent them) under the request that asked for it: the data's version, the script
root, path, query string and Accept header, which are all the answer depends on (links in pages are made
from the script root; the Host header is never used). The same request again is answered from the record,
byte for byte what the view would give, without routing, negotiation, store lookups or header building;
preconditions are evaluated as the view does (publisher/preconditions.py, with the ETag and date the view
gave), so a 304 is replayed the same way, and HEAD gets the headers alone. Anything else (another method, a
failed precondition, a body the cache has let go) goes to Flask, which records it again.

Records live in the page cache next to the bodies, so together they stay within page_cache_mb (a record
counts its key, headers included). When the data's version changes (a reload, a push to a remote store) the
whole cache is cleared: nothing rendered from the old data is kept or replayed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.http import remove_entity_headers

from publisher.preconditions import Conditions, evaluate
from publisher.response_cache import CachedAnswer, ResponseCache

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

MARK_KEY = "cmpkg.replay"  # environ key where the entity view leaves its Mark
Headers = tuple[tuple[str, str], ...]
RECORD_OVERHEAD = 200  # bytes of a record beyond its strings (objects, the cache's own bookkeeping)


@dataclass(frozen=True)
class Mark:
    """What the entity view says of its answer: the data version it read, its body's key, its ETag and
    the data's date (its Last-Modified)."""

    version: str
    body_key: Hashable
    etag: str
    modified: datetime | None = None


@dataclass(frozen=True)
class Recorded:
    """An answer as sent: the 200's status and headers (None when only a 304 was seen) and the 304's."""

    body_key: Hashable  # where the body is in the page cache
    etag: str
    modified: datetime | None
    ok: tuple[str, Headers] | None
    not_modified: Headers
    key_size: int  # bytes of the request's key (path, query, Accept)

    @property
    def size(self) -> int:
        headers = (self.ok[1] if self.ok else ()) + self.not_modified
        strings = self.key_size + len(self.etag) + sum(len(name) + len(value) for name, value in headers)
        return RECORD_OVERHEAD + strings


class ReplayAnswers:
    """The WSGI middleware (see the module's docstring); `version` reads the served data's version."""

    def __init__(self, app: WSGIApplication, cache: ResponseCache, version: Callable[[], str]) -> None:
        self.app = app
        self.cache = cache
        self.version = version
        self._seen: str | None = None  # the data version of what the cache holds

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method != "GET" and method != "HEAD":
            return self.app(environ, start_response)
        try:
            version = self.version()
        except Exception:  # a remote store that is down: the app answers 503 as it does for every page
            return self.app(environ, start_response)
        if version != self._seen:
            if self._seen is not None:
                self.cache.clear()  # answers rendered from the old data must go, bodies and records
            self._seen = version
        root, path = environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")
        query, accept = environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT")
        key = (MARK_KEY, version, root, path, query, accept)
        recorded = self.cache.get(key)
        if isinstance(recorded, Recorded):
            replayed = self._replay(recorded, environ, start_response)
            if replayed is not None:
                return replayed
        return self._record(key, version, environ, start_response)

    def _replay(
        self, recorded: Recorded, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes] | None:
        outcome = evaluate(Conditions.from_environ(environ), recorded.etag, recorded.modified)
        if outcome.status == 304:
            start_response("304 NOT MODIFIED", list(recorded.not_modified))
            return []
        if outcome.status != 200 or recorded.ok is None:
            return None
        body = self.cache.get(recorded.body_key)
        if not isinstance(body, CachedAnswer):
            return None
        status, headers = recorded.ok
        start_response(status, list(headers))
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body.body]

    def _record(
        self, key: tuple[Any, ...], version: str, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        sent: list[Any] = []

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        answer = self.app(environ, recording)
        mark = environ.get(MARK_KEY)
        # A reload between reading the version here and the view reading it: the answer is of other data.
        if not isinstance(mark, Mark) or mark.version != version or not sent:
            return answer
        status, headers = sent
        key_size = sum(len(part) for part in key[2:] if part)
        if status.startswith("200 "):
            not_modified = list(headers)
            remove_entity_headers(not_modified)  # what werkzeug sends with a 304
            ok = (status, tuple(headers))
            recorded = Recorded(mark.body_key, mark.etag, mark.modified, ok, tuple(not_modified), key_size)
            self.cache.put(key, recorded)
        elif status.startswith("304 ") and self.cache.get(key) is None:
            recorded = Recorded(mark.body_key, mark.etag, mark.modified, None, tuple(headers), key_size)
            self.cache.put(key, recorded)
        return answer
