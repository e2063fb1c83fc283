"""A store that is any SPARQL 1.1 endpoint (Oxigraph server, Virtuoso, ...), behind the same `Store` protocol
as the embedded one, so the views do not know which they have. No web imports.

- **The dataset.** Every query names its dataset: the graphs `cmpkg push` wrote (listed in the metadata
  graph), as both `default-graph-uri` and `named-graph-uri`. So the default graph is the union of the
  project's graphs on any store, whatever its own default graph is (Oxigraph's is empty unless started with
  `--union-default-graph`; Virtuoso's also holds its system graphs), and `GRAPH ?g` sees the project's
  graphs only. A query naming its own dataset (FROM, or the protocol's parameters) keeps it, as embedded.
- **Versions.** `cmpkg push` writes a small metadata graph (`{base}graph/cmpkg-meta`: the content hash of the
  files, their newest modification time, the graphs). `RemoteStore` reads it at most every
  `store_check_interval` seconds; a new version is a new `RemoteSnapshot`, so what is computed per store (the
  search index, VoID numbers) is computed again, and ETags are equal on every worker and host.
- **Quirks** of the store are handled here (`Dialect`), never in the views.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import pyoxigraph as ox

from publisher.config import Settings
from publisher.describe import Description
from publisher.formats import CSV, FORMATS_BY_NAME, JSON, N_TRIPLES, TSV, XML, Format, Kind
from publisher.kept import Kept
from publisher.query_execution import (
    Answer,
    NotAcceptableError,
    QueryJob,
    QueryTimeoutError,
    ResultLimitError,
    serialize_triples,
    syntax_error,
)
from publisher.remote_describe import SparqlDescriptions, background
from publisher.row_counting import RowCounter, TooManyRows
from publisher.sparql_client import (
    Reply,
    SparqlClient,
    StoreLocation,
    StoreRefusedError,
    StoreUnavailableError,
    StoreUrlError,
    check_urls,
)
from publisher.sparql_text import query_form, read_query_text, with_base, without_from
from publisher.store import EmbeddedStore
from publisher.store_dialects import Dialect, dialect_for

log = logging.getLogger(__name__)

META_GRAPH = "graph/cmpkg-meta"  # relative to the base
STAGING_PREFIX = "urn:cmpkg:staging:"  # graphs a push loads before it swaps them in
OWL_VERSION_INFO = "http://www.w3.org/2002/07/owl#versionInfo"
DCT_MODIFIED = "http://purl.org/dc/terms/modified"
DCT_HAS_PART = "http://purl.org/dc/terms/hasPart"
XSD_DATE_TIME = "http://www.w3.org/2001/XMLSchema#dateTime"
EMPTY_GRAPH = "urn:cmpkg:no-graph"  # names an empty dataset when the store holds no graph of the project
DESCRIPTIONS_KEPT = 256  # per snapshot: the data of a version never changes, so they never go stale
CHECK_SECONDS = 5.0  # a health check's ASK {} waits at most this long (or the query timeout, if shorter)
EXISTING_KEPT = 8192  # IRIs known to exist (or not) per snapshot, so a cached page asks the store nothing
KINDS_KEPT = 256  # /sparql query texts whose form (results or graph) is known


# The state a push leaves -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreState:
    """What the metadata graph says (or, in a store cmpkg did not push to, what its graphs are)."""

    version: str
    modified: datetime | None
    graphs: tuple[str, ...]
    pushed: bool = True


def read_state(client: SparqlClient, base: str, timeout: float | None = None) -> StoreState:
    """The data version and graphs the last push recorded; without one, every graph but the store's own."""
    meta = base + META_GRAPH
    rows = select_rows(
        client,
        f"SELECT ?version ?modified ?graph WHERE {{ GRAPH <{meta}> {{ <{meta}> <{OWL_VERSION_INFO}> ?version "
        f"OPTIONAL {{ <{meta}> <{DCT_MODIFIED}> ?modified }} "
        f"OPTIONAL {{ <{meta}> <{DCT_HAS_PART}> ?graph }} }} }}",
        timeout,
    )
    if rows:
        graphs = sorted({row["graph"].value for row in rows if row["graph"] is not None})
        stamp = rows[0]["modified"]
        modified = datetime.fromisoformat(stamp.value) if stamp is not None else None
        return StoreState(rows[0]["version"].value, modified, tuple(graphs))
    rows = select_rows(
        client, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", timeout
    )
    dialect = dialect_for(client.server)
    sizes = {
        row["g"].value: row["n"].value
        for row in rows
        if row["g"].value not in dialect.system_graphs and not row["g"].value.startswith(STAGING_PREFIX)
    }
    # Not pushed by cmpkg: the version is a hash of the graphs and their sizes, so it changes with them.
    digest = hashlib.sha256("".join(f"{g}\n{n}\n" for g, n in sorted(sizes.items())).encode())
    return StoreState(digest.hexdigest()[:32], None, tuple(sorted(sizes)), pushed=False)


def meta_triples(base: str, version: str, modified: datetime | None, graphs: list[str]) -> list[ox.Triple]:
    """The metadata graph's content for a push."""
    meta = ox.NamedNode(base + META_GRAPH)
    triples = [ox.Triple(meta, ox.NamedNode(OWL_VERSION_INFO), ox.Literal(version))]
    if modified is not None:
        stamp = ox.Literal(modified.isoformat(), datatype=ox.NamedNode(XSD_DATE_TIME))
        triples.append(ox.Triple(meta, ox.NamedNode(DCT_MODIFIED), stamp))
    triples += [ox.Triple(meta, ox.NamedNode(DCT_HAS_PART), ox.NamedNode(g)) for g in sorted(graphs)]
    return triples


def select_rows(client: SparqlClient, sparql: str, timeout: float | None = None) -> list[Any]:
    """The rows of one of cmpkg's own SELECT queries over the store's whole dataset (no dataset given);
    StoreRefusedError when the answer is not SPARQL results."""
    reply = client.query(sparql, XML.media_type, timeout=timeout)
    dialect = dialect_for(client.server)
    try:
        return list(_solutions(reply, dialect))
    except SyntaxError as error:  # results cut short: they break off while being read
        raise not_results(reply, error) from None


def _solutions(reply: Reply, dialect: Dialect) -> Any:
    """The reply's results (read as they are iterated); StoreRefusedError when they are not results."""
    fmt = _results_format(reply.content_type)
    read_as = fmt or dialect.results  # a store may say text/plain: read it as the store's usual format
    assert read_as.results_format is not None
    try:
        return ox.parse_query_results(dialect.fix(reply.body, read_as), format=read_as.results_format)
    except SyntaxError as error:
        raise not_results(reply, error if fmt else None) from None


def not_results(reply: Reply, error: SyntaxError | None = None) -> StoreRefusedError:
    """The error for an answer that is not SPARQL results (a web page, broken JSON): a wrong URL."""
    what = f"{reply.status} {reply.content_type or '(no Content-Type)'}"
    why = f" ({error.msg})" if error is not None else ""
    return StoreRefusedError(
        f"{reply.url or 'the triple store'} answered {what}, not SPARQL results{why}; "
        "is it the store's query URL?",
        502,
    )


def _results_format(media_type: str) -> Format | None:
    for fmt in (JSON, XML, CSV, TSV):
        if media_type in fmt.media_types:
            return fmt
    return None


_MAY_SAY_FROM = re.compile(r"(?i)from|\\")  # FROM, or an escape that could spell it (\u0046)


class RemoteSnapshot:
    """One version of the data in a remote store: answers queries over the graphs that version has."""

    def __init__(self, client: SparqlClient, state: StoreState, base: str, timeout: float) -> None:
        self.client = client
        self.state = state
        self.base = base
        self.timeout = timeout
        self._parser = ox.Store()  # empty: parses queries for their syntax errors, never answers them
        self._sizes: tuple[dict[str, int], int] | None = None
        self._describer: SparqlDescriptions | None = None
        self._described: Kept[tuple[str, int], Description | None] = Kept(DESCRIPTIONS_KEPT)
        self._existing: Kept[str, bool] = Kept(EXISTING_KEPT)
        self._parents: Kept[str, tuple[str, str] | None] = Kept(EXISTING_KEPT)
        self._reading_parents: dict[str, Future[tuple[str, str] | None]] = {}  # prepare_parent's
        self._reading_lock = threading.Lock()
        self._kinds: Kept[tuple[str, str | None], Kind] = Kept(KINDS_KEPT)

    @property
    def version(self) -> str:
        return self.state.version

    @property
    def modified(self) -> datetime | None:
        return self.state.modified

    @property
    def dialect(self) -> Dialect:
        return dialect_for(self.client.server)

    @property
    def graphs(self) -> tuple[str, ...]:
        return self.state.graphs or (EMPTY_GRAPH,)

    # The Store protocol -------------------------------------------------------------------------------

    def query(self, sparql: str, base_iri: str | None = None) -> Any:
        """pyoxigraph results: QuerySolutions or QueryBoolean, or a list of triples for a graph."""
        # Most of the pages' queries never say FROM: they skip reading the text with read_query_text.
        uses_from = _MAY_SAY_FROM.search(sparql) is not None and read_query_text(sparql, base_iri).has_from
        graphs = () if uses_from else self.graphs
        text = with_base(sparql, base_iri, self.dialect.several_bases)
        if query_form(sparql) in ("CONSTRUCT", "DESCRIBE"):
            reply = self.client.query(text, N_TRIPLES.media_type, graphs, graphs, self.timeout)
            return list(ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES))
        reply = self.client.query(text, self.dialect.results.media_type, graphs, graphs, self.timeout)
        return _solutions(reply, self.dialect)

    def _select(self, sparql: str) -> Any:
        """One of cmpkg's own SELECT or ASK queries (absolute IRIs, no FROM) over the project's graphs."""
        dialect = self.dialect
        reply = self.client.query(sparql, dialect.results.media_type, self.graphs, self.graphs, self.timeout)
        return _solutions(reply, dialect)

    def execute(self, job: QueryJob, timeout: float) -> Answer:
        kind = self._kind(job)
        fmt = _chosen(job.results_format if kind is Kind.RESULTS else job.graph_format, kind)
        if job.dataset:
            default, named = job.dataset.default_graphs, job.dataset.named_graphs
        elif job.uses_from:
            default, named = (), ()
        else:
            default = named = self.graphs
        sparql = job.sparql
        if job.dataset and job.uses_from and not self.dialect.protocol_overrides_from:
            sparql = without_from(sparql)
        text = with_base(sparql, job.base_iri, self.dialect.several_bases)
        try:
            if kind is Kind.RESULTS:
                return self._results(text, fmt, default, named, job.row_limit, timeout)
            return self._graph(text, fmt, default, named, job.row_limit, timeout)
        except StoreRefusedError as error:
            log.error("the store failed on a /sparql query (%s):\n%s", error, job.sparql)
            raise

    def _kind(self, job: QueryJob) -> Kind:
        """Results or a graph; a query the store need not see (bad syntax) is refused here, as embedded."""
        _, kind = self._kinds.get((job.sparql, job.base_iri))
        if kind is None:
            kind = self._read_kind(job)
            self._kinds.put((job.sparql, job.base_iri), kind)
        return kind

    def _read_kind(self, job: QueryJob) -> Kind:
        if not read_query_text(job.sparql, job.base_iri).services:
            try:
                parsed = self._parser.query(job.sparql, base_iri=job.base_iri)
            except SyntaxError as error:
                raise syntax_error(error) from None
            return Kind.GRAPH if isinstance(parsed, ox.QueryTriples) else Kind.RESULTS
        # With SERVICE, parsing here could call the service (ASK is evaluated at once): read the form only.
        return Kind.GRAPH if query_form(job.sparql) in ("CONSTRUCT", "DESCRIBE") else Kind.RESULTS

    def _results(
        self,
        text: str,
        fmt: Format,
        default: tuple[str, ...],
        named: tuple[str, ...],
        limit: int,
        timeout: float,
    ) -> Answer:
        dialect = self.dialect
        fetched = fmt if fmt.name in dialect.passthrough else dialect.results
        try:
            reply = self._fetch(text, fetched, default, named, limit, timeout)
        except TooManyRows:
            if RowCounter.for_answer_of(fetched, limit).exact:
                raise ResultLimitError(limit) from None
            # The count over this format may over-count (a literal holding a row separator): count over
            # XML results, where it is exact, and convert if the answer is within the limit after all.
            fetched = XML
            try:
                reply = self._fetch(text, XML, default, named, limit, timeout)
            except TooManyRows:
                raise ResultLimitError(limit) from None
        body = dialect.fix(reply.body, fetched)
        if fetched is fmt:
            return Answer(fmt, body)
        assert fetched.results_format is not None
        assert fmt.results_format is not None
        parsed = ox.parse_query_results(body, format=fetched.results_format)
        written = parsed.serialize(format=fmt.results_format)
        assert written is not None
        return Answer(fmt, written)

    def _graph(
        self,
        text: str,
        fmt: Format,
        default: tuple[str, ...],
        named: tuple[str, ...],
        limit: int,
        timeout: float,
    ) -> Answer:
        try:
            reply = self._fetch(text, N_TRIPLES, default, named, limit, timeout)
        except TooManyRows:
            raise ResultLimitError(limit) from None
        if fmt is N_TRIPLES and "ntriples" in self.dialect.passthrough:
            return Answer(fmt, reply.body)
        triples = list(ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES))
        return Answer(fmt, serialize_triples(triples, fmt))

    def _fetch(
        self,
        text: str,
        fmt: Format,
        default: tuple[str, ...],
        named: tuple[str, ...],
        limit: int,
        timeout: float,
    ) -> Reply:
        """The store's answer in one format, read only as far as the row limit allows."""
        counter = RowCounter.for_answer_of(fmt, limit) if limit > 0 else None
        sink = counter.write if counter is not None else None
        reply = self.client.query(text, fmt.media_type, default, named, timeout, sink)
        _check_complete(reply)
        if reply.content_type not in fmt.media_types:
            raise StoreRefusedError(
                f"the triple store answered {reply.content_type or 'without a Content-Type'} when asked for "
                f"{fmt.media_type}",
                502,
            )
        return reply

    def graph_sizes(self) -> dict[str, int]:
        return dict(self._counts()[0])

    def triples(self) -> int:
        return self._counts()[1]

    def _counts(self) -> tuple[dict[str, int], int]:
        if self._sizes is None:
            sizes = {
                row["g"].value: int(row["n"].value)
                for row in self._select(
                    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
                )
            }
            total = next(iter(self._select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))
            self._sizes = (sizes, int(total["n"].value))
        return self._sizes

    def describe(self, iri: str, page: int = 1) -> Description | None:
        """The entity's description; the last few are kept (a page and its RDF twins ask for the same)."""
        known, found = self._described.get((iri, page))
        if known:
            return found
        found = self._descriptions().describe(iri, page)
        self._described.put((iri, page), found)
        if found is not None:
            self._existing.put(iri, True)
        return found

    def exists(self, iri: str) -> bool:
        """Whether the IRI is a subject or object here (kept: a page asks on every request). Answered by
        describing it, which the page does next anyway: one round trip fewer than an ASK first."""
        known, found = self._existing.get(iri)
        if known:
            return bool(found)
        exists = self.describe(iri) is not None
        self._existing.put(iri, exists)
        return exists

    def parent(self, iri: str) -> tuple[str, str] | None:
        """The breadcrumb parent (kept: a page asks for it more than once)."""
        known, found = self._parents.get(iri)
        if known:
            return found
        with self._reading_lock:
            reading = self._reading_parents.pop(iri, None)
        return reading.result() if reading is not None else self._read_parents(iri)

    def check(self) -> None:
        check_store(self.client, self.timeout)

    def prepare_parent(self, iri: str) -> None:
        """Read the parents on another connection meanwhile, unless they are kept. Not before the first
        description: the store's dialect, which the describer needs, is known from the answers."""
        known, _ = self._parents.get(iri)
        if known or self._describer is None:
            return
        with self._reading_lock:
            if iri in self._reading_parents:
                return
            reading = background().submit(self._read_parents, iri)
            self._reading_parents[iri] = reading
        reading.add_done_callback(lambda _: self._forget_reading(iri, reading))

    def _read_parents(self, iri: str) -> tuple[str, str] | None:
        parents = self._descriptions().parents(iri)  # its ancestors' too, in one query
        for node, parent in parents.items():
            self._parents.put(node, parent)
        return parents[iri]

    def _forget_reading(self, iri: str, reading: Future[tuple[str, str] | None]) -> None:
        """Once read, the parents are kept (or, on an error, read again when asked for)."""
        with self._reading_lock:
            if self._reading_parents.get(iri) is reading:
                del self._reading_parents[iri]

    def _descriptions(self) -> SparqlDescriptions:
        if self._describer is None:  # after the first answer: the dialect is known from it
            self._describer = SparqlDescriptions(self._select, self.base, self.dialect.name_blank())
        return self._describer

    # Whole graphs, for dumps and remote validation -----------------------------------------------------

    def graph_triples(self, graph: str) -> Iterator[ox.Triple]:
        """Every triple of one named graph, read from a temporary file as the store sends it."""
        import tempfile

        with tempfile.TemporaryFile() as spool:
            self.write_graph(graph, spool)
            spool.seek(0)
            yield from ox.parse(spool, format=ox.RdfFormat.N_TRIPLES)

    def write_graph(self, graph: str, output: IO[bytes]) -> None:
        """One named graph as N-Triples into a binary file (Graph Store Protocol GET when there is a URL)."""
        if self.client.location.gsp_url:
            reply = self.client.get_graph(graph, N_TRIPLES.media_type, None, output.write)
        else:
            query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            reply = self.client.query(query, N_TRIPLES.media_type, None, None, None, output.write)
        _check_complete(reply)

    def dataset_quads(self) -> Iterator[ox.Quad]:
        """Every quad of the project's graphs, graph by graph (by IRI), streamed."""
        for graph in sorted(self.state.graphs):
            name = ox.NamedNode(graph)
            for triple in self.graph_triples(graph):
                yield ox.Quad(triple.subject, triple.predicate, triple.object, name)

    def union_triples(self) -> Iterator[ox.Triple]:
        """Every triple of the union of the project's graphs, each once, streamed."""
        shared = {
            ox.Triple(row["s"], row["p"], row["o"])
            for row in self._select(
                "SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } GRAPH ?h { ?s ?p ?o } FILTER (?g != ?h) }"
            )
        }
        written: set[ox.Triple] = set()
        for quad in self.dataset_quads():
            triple = quad.triple
            if triple in shared:
                if triple in written:
                    continue
                written.add(triple)
            yield triple

    def close(self) -> None:
        pass


def _check_complete(reply: Reply) -> None:
    """Refuse an answer the store cut short while saying it succeeded."""
    if "x-sql-state" in reply.headers:  # Virtuoso's "anytime" answers: partial results at its own timeout
        raise StoreRefusedError(
            f"the triple store sent a partial answer ({reply.headers['x-sql-state']}: "
            f"{reply.headers.get('x-sql-message', '')}); raise its time limit "
            "(Virtuoso: MaxQueryExecutionTime)",
            502,
        )
    if "x-sparql-maxrows" in reply.headers:  # Virtuoso's ResultSetMaxRows cut the answer
        raise StoreRefusedError(
            f"the triple store cut the answer at {reply.headers['x-sparql-maxrows']} rows (Virtuoso: raise "
            "ResultSetMaxRows in its [SPARQL] settings)",
            502,
        )


def _chosen(name: str | None, kind: Kind) -> Format:
    fmt = FORMATS_BY_NAME.get(name) if name else None
    if fmt is None:
        kinds = (Kind.RESULTS,) if kind is Kind.RESULTS else (Kind.GRAPH, Kind.DATASET)
        raise NotAcceptableError(kind, [f for f in FORMATS_BY_NAME.values() if f.kind in kinds])
    return fmt


# The served store ----------------------------------------------------------------------------------------


@dataclass(eq=False)
class RemoteStore:
    """The remote store being served: the snapshot of its current version, checked every `interval` seconds.

    Nothing is cached about a failure: while the store is down every request fails (503) and tries it again.
    """

    client: SparqlClient
    base: str
    timeout: float
    interval: float = 5.0
    _snapshot: RemoteSnapshot | None = field(default=None, init=False, repr=False)
    _checked: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def current(self) -> RemoteSnapshot:
        """The snapshot of the store's data version now (a new one when a push changed it)."""
        snapshot = self._snapshot
        if snapshot is not None and time.monotonic() - self._checked < self.interval:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and time.monotonic() - self._checked < self.interval:
                return snapshot
            state = read_state(self.client, self.base, self.timeout)
            if snapshot is None or snapshot.state != state:
                if not state.pushed:
                    log.warning("no cmpkg-meta graph in the store: serving its graphs as they are")
                snapshot = self._snapshot = RemoteSnapshot(self.client, state, self.base, self.timeout)
            self._checked = time.monotonic()
            return snapshot

    def query(self, sparql: str, base_iri: str | None = None) -> Any:
        return self.current.query(sparql, base_iri)

    def execute(self, job: QueryJob, timeout: float) -> Answer:
        return self.current.execute(job, timeout)

    def graph_sizes(self) -> dict[str, int]:
        return self.current.graph_sizes()

    def triples(self) -> int:
        return self.current.triples()

    @property
    def version(self) -> str:
        return self.current.version

    @property
    def modified(self) -> datetime | None:
        return self.current.modified

    def describe(self, iri: str, page: int = 1) -> Description | None:
        return self.current.describe(iri, page)

    def exists(self, iri: str) -> bool:
        return self.current.exists(iri)

    def parent(self, iri: str) -> tuple[str, str] | None:
        return self.current.parent(iri)

    def prepare_parent(self, iri: str) -> None:
        self.current.prepare_parent(iri)

    def check(self) -> None:
        """Ask the store now, whatever the version check's interval (StoreUnavailableError: down)."""
        check_store(self.client, self.timeout)

    def close(self) -> None:
        self.client.close()


def check_store(client: SparqlClient, timeout: float) -> None:
    """`ASK {}` within CHECK_SECONDS (or the timeout): StoreUnavailableError when the store is down."""
    contact_store(client, min(timeout, CHECK_SECONDS))


def contact_store(client: SparqlClient, timeout: float) -> None:
    """`ASK {}` within timeout (short: a first contact), its answer read: StoreUnavailableError when nothing
    answers, StoreRefusedError when the URL answers something other than SPARQL results."""
    try:
        reply = client.query("ASK {}", XML.media_type, timeout=timeout)
    except QueryTimeoutError:
        raise StoreUnavailableError(
            f"no answer from {client.location.query_url} within {timeout:g} s "
            "(store down, or wrong scheme/port?)"
        ) from None
    if not isinstance(_solutions(reply, dialect_for(client.server)), ox.QueryBoolean):
        raise not_results(reply)


Snapshot = EmbeddedStore | RemoteSnapshot  # one version of the data being served, embedded or remote


def store_location(settings: Settings, url: str | None = None) -> StoreLocation:
    """The store the settings name (or the URL given instead of store_url), with its credentials."""
    return StoreLocation(
        query_url=url or settings["store_url"],
        update_url=settings["store_update_url"],
        gsp_url=settings["store_gsp_url"],
        user=settings["store_user"],
        password=settings["store_password"],
    )


def open_remote_store(settings: Settings, url: str | None = None, quiet: bool = False) -> RemoteStore:
    """The remote store `cmpkg serve --store URL` serves; it is not contacted until a request needs it.
    Quiet: failures are logged at debug level only (a command reports them itself)."""
    timeout = float(settings["query_timeout"])
    client = SparqlClient(store_location(settings, url), timeout, quiet)
    return RemoteStore(client, settings.base_iri, timeout, float(settings["store_check_interval"]))


def reach_remote_store(settings: Settings, url: str | None = None, name: str = "store_url") -> RemoteStore:
    """The remote store a command reads (`validate --endpoint URL`: name is where the URL came from), its
    URLs checked and the store contacted within query_timeout: one clear error when it cannot be used."""
    query_url = url or settings["store_url"]
    if not query_url:
        raise StoreUrlError(f"{name}: no URL given; give the store's query URL")
    check_urls([(name, query_url), ("store_gsp_url", settings["store_gsp_url"])])
    store = open_remote_store(settings, url, quiet=True)
    contact_store(store.client, store.timeout)
    return store


def check_served_store(settings: Settings, name: str = "store_url") -> str | None:
    """`cmpkg serve`'s start-up check of its remote store: an error for a URL that is malformed or answers
    something other than SPARQL results (a wrong URL: every page would fail); the notice to print, and serve
    anyway, when the store does not answer now (its pages answer 503 until it does)."""
    check_urls([(name, settings["store_url"]), ("store_gsp_url", settings["store_gsp_url"])])
    store = open_remote_store(settings, quiet=True)
    try:
        check_store(store.client, store.timeout)
    except StoreUnavailableError as error:
        return f"{error}; serving anyway: pages answer 503 until the store answers"
    finally:
        store.close()
    return None
