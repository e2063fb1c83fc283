"""The triple store behind cmpkg: the project's files in named graphs, their union as the default graph.

`Store` is what the rest of cmpkg needs; `EmbeddedStore` is pyoxigraph, in memory or on disk. `ServedStore`
holds the store being served and swaps in a fully built new one on reload. On disk, `store_path` holds
generations (see docs/sparql.md): `current` names the one in use, each has the store and a manifest of the
files it was built from, so `cmpkg serve` reuses a store `cmpkg build --store-path` made from the same files.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

import pyoxigraph as ox

from publisher.config import Settings
from publisher.describe import Description, DescriptionSource, parent_finder
from publisher.iris import Iris
from publisher.query_execution import Answer, QueryJob, execute_on
from publisher.query_workers import (
    InlineQueries,
    PoolClosedError,
    QueryWorkers,
    WorkerOptions,
    fork_worker,
    spawn_worker,
)
from publisher.rdf_files import TRIPLE_FORMATS, RdfFile, load_into, load_triples, may_hold_blank_nodes
from publisher.rdf_inputs import project_files as project_files  # push.py and the benchmarks import it here
from publisher.site import Site


class Store(Protocol):
    """What the rest of cmpkg needs from a store: EmbeddedStore here, RemoteStore (remote_store.py) for any
    SPARQL 1.1 store."""

    def query(self, sparql: str, base_iri: str | None = None) -> Any:
        """pyoxigraph results (solutions, triples or a boolean) over the union default graph; no timeout."""
        ...

    def execute(self, job: QueryJob, timeout: float) -> Answer:
        """The job's answer written in the format it asks for, or a QueryError (including the timeout)."""
        ...

    def graph_sizes(self) -> dict[str, int]:
        """Triples per named graph ("" for the store's own default graph, when it has any)."""
        ...

    def triples(self) -> int:
        """Triples in the default graph as queries see it (the union of the named graphs)."""
        ...

    @property
    def version(self) -> str:
        """A hash of the data's content: equal on every host serving the same files (strong ETags)."""
        ...

    @property
    def modified(self) -> datetime | None:
        """When the newest of the files the data was loaded from last changed."""
        ...

    def describe(self, iri: str, page: int = 1) -> Description | None:
        """What cmpkg publishes about one entity (None: the IRI names nothing)."""
        ...

    def exists(self, iri: str) -> bool:
        """Whether the IRI is a subject or an object of any triple."""
        ...

    def parent(self, iri: str) -> tuple[str, str] | None:
        """The entity's parent in the plan hierarchy, with its label (for breadcrumbs)."""
        ...

    def prepare_parent(self, iri: str) -> None:
        """A hint that parent(iri) will be asked soon: a store that reads it over the network starts now."""
        ...

    def check(self) -> None:
        """Raise StoreUnavailableError unless the store answers now (for a health check)."""
        ...


BULK_LOAD_BYTES = 1 << 20  # files from this size are bulk-loaded into an on-disk store


class ReloadError(ValueError):
    """A new store that must not be served (it fails validation); the previous store is still served."""


@dataclass
class LoadReport:
    """What a build loaded: each file and the graph it went into, with its quads. Files of triples are
    counted when first asked for: a count takes about 0.3 s at 1M triples, which a starting server (and the
    build itself) need not wait for."""

    loaded: list[tuple[RdfFile, str]] = field(default_factory=list)  # file, graph IRI
    known: dict[int, int] = field(default_factory=dict)  # index in loaded -> quads counted while reading
    graph_sizes: Callable[[], dict[str, int]] = dict  # graph IRI -> quads, from the store

    @functools.cached_property
    def files(self) -> list[tuple[RdfFile, str, int]]:
        """Each file, its graph IRI and its quads."""
        sizes = self.graph_sizes() if len(self.known) < len(self.loaded) else {}
        self.graph_sizes = dict  # no reference to the store is kept: an on-disk one must close after this
        return [
            (file, graph, self.known.get(index, sizes.get(graph, 0)))
            for index, (file, graph) in enumerate(self.loaded)
        ]

    @property
    def quads(self) -> int:
        return sum(count for _, _, count in self.files)

    def count(self) -> int:
        """Count the quads now (while the store is open) and return their number."""
        return self.quads


@dataclass(eq=False)
class EmbeddedStore:
    """A pyoxigraph store, in memory or on disk; endpoint queries run in worker processes (query_workers),
    or in the caller's thread once a worker has answered them fast (InlineQueries)."""

    store: ox.Store
    path: Path | None = None  # the on-disk store directory, which workers open read-only
    workers: WorkerOptions = field(default_factory=WorkerOptions)
    version: str = ""
    modified: datetime | None = None
    base: str = ""
    _pool: QueryWorkers | None = field(default=None, init=False, repr=False)
    _inline: InlineQueries | None = field(default=None, init=False, repr=False)
    _sizes: tuple[dict[str, int], int] | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _lease: int | None = field(default=None, init=False, repr=False)  # lock file keeping a generation
    _parents: Callable[[str], tuple[str, str] | None] | None = field(default=None, init=False, repr=False)
    _description_source: DescriptionSource | None = field(default=None, init=False, repr=False)
    _hash_iris: dict[str, list[ox.NamedNode]] | None = field(default=None, init=False, repr=False)

    @classmethod
    def open(cls, path: Path | None = None) -> EmbeddedStore:
        return cls(ox.Store(str(path)) if path else ox.Store(), path)

    @classmethod
    def open_read_only(cls, path: Path, workers: WorkerOptions | None = None) -> EmbeddedStore:
        return cls(ox.Store.read_only(str(path)), path, workers or WorkerOptions())

    def load_files(self, files: Iterable[RdfFile], iris: Iris, bulk: bool = False) -> LoadReport:
        """Each file into its own named graph (graph/<path>); quads keep the graphs they name.

        Oxigraph parses and inserts each file of triples itself (`bulk`: large files with its bulk loader,
        which writes an on-disk store's files directly rather than in transactions, but costs most of a
        second per call); the content hash is computed meanwhile in a thread (both release the GIL). Quads
        are counted per graph when the report is first read.
        """
        files = list(files)
        graphs: list[ox.NamedNode] = []
        counted: dict[int, int] = {}  # file index -> quads, for files of quads (counted as they are read)
        with ThreadPoolExecutor(1) as hashing:
            version = hashing.submit(data_version, files)
            for index, file in enumerate(files):
                graph = ox.NamedNode(iris.graph(file.name))
                graphs.append(graph)
                if file.format in TRIPLE_FORMATS and not may_hold_blank_nodes(file):
                    big = bulk and file.path.stat().st_size >= BULK_LOAD_BYTES
                    load_triples(self.store, file, iris.base, graph, big)
                else:
                    counted[index] = load_into(self.store, file, iris.base, graph)
            self.version, self.modified = version.result()
        self.base = iris.base
        if not bulk:  # the bulk loader writes sorted files already; compacting them again takes seconds
            self.store.optimize()
        self._sizes = None
        loaded = [(file, graph.value) for file, graph in zip(files, graphs, strict=True)]
        return LoadReport(loaded, counted, self.graph_sizes)

    def query(self, sparql: str, base_iri: str | None = None) -> Any:
        return self.store.query(sparql, base_iri=base_iri, use_default_graph_as_union=True)

    def execute(self, job: QueryJob, timeout: float) -> Answer:
        inline = self._inline_queries()
        if inline.allows(job, timeout):
            return execute_on(self.store, job)
        started = time.perf_counter()
        answer = self._workers().run(job, timeout)
        inline.record(job, time.perf_counter() - started)
        return answer

    def _inline_queries(self) -> InlineQueries:
        if self._inline is None:
            self._inline = InlineQueries(self.workers.inline_ms)
        return self._inline

    def graph_sizes(self) -> dict[str, int]:
        return dict(self._counts()[0])

    def describe(self, iri: str, page: int = 1) -> Description | None:
        return self._descriptions().describe(iri, page)

    def exists(self, iri: str) -> bool:
        return self._descriptions().exists(iri)

    def _descriptions(self) -> DescriptionSource:
        if self._description_source is None:
            self._description_source = DescriptionSource(self.store, self._hash_iris)
        return self._description_source

    def hash_iris(self) -> dict[str, list[ox.NamedNode]]:
        """Document IRI -> the hash IRIs under it that are subjects (`{base}ontology` -> its terms): found
        with a scan of the whole store on first use, unless adopted."""
        return self._descriptions().hash_iris()

    def adopt_hash_iris(self, hash_iris: dict[str, list[ox.NamedNode]]) -> None:
        """Hash IRIs found before for this same data (an on-disk generation keeps them: a process opening it
        is spared the scan, and the tens of MB of database caches the scan leaves behind)."""
        self._hash_iris = hash_iris
        self._description_source = None

    def parent(self, iri: str) -> tuple[str, str] | None:
        return self._parent_finder()(iri)

    def prepare_parent(self, iri: str) -> None:
        """Nothing to do: the parent is read from memory or disk in microseconds."""

    def check(self) -> None:
        """Nothing to check: the store is in this process."""

    def _parent_finder(self) -> Callable[[str], tuple[str, str] | None]:
        if self._parents is None:
            self._parents = parent_finder(self.store, self.base)
        return self._parents

    def triples(self) -> int:
        return self._counts()[1]

    def close(self) -> None:
        """Stop the query workers (busy ones when they answer) and give up the on-disk generation."""
        with self._lock:
            pool, self._pool = self._pool, None
            lease, self._lease = self._lease, None
        if pool is not None:
            pool.close()
        if lease is not None:
            os.close(lease)

    def release(self) -> None:
        """Close, and let go of the data itself (an on-disk database and its caches close when freed), for a
        process that will not read this store again: the server's main process once it has filled the
        caches its workers adopt and before it forks them. The version and counts stay readable."""
        self.close()
        self.store = ox.Store()  # empty: the old one, its last reference gone, is freed now
        self._description_source = None
        self._parents = None

    def __len__(self) -> int:
        return len(self.store)

    def _workers(self) -> QueryWorkers:
        with self._lock:
            if self._pool is None:
                path, options, store = self.path, self.workers, self.store
                if path is not None:
                    self._pool = QueryWorkers(lambda: spawn_worker(path, options.memory_mb), options.size)
                else:
                    self._pool = QueryWorkers(lambda: fork_worker(store, options.memory_mb), options.size)
            return self._pool

    def _counts(self) -> tuple[dict[str, int], int]:
        if self._sizes is None:
            per_graph = self.store.query("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
            sizes = {row["g"].value: int(row["n"].value) for row in cast(ox.QuerySolutions, per_graph)}
            own = _count(self.store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"))
            if own:
                sizes[""] = own
            self._sizes = (sizes, _count(self.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))
        return self._sizes


def _count(result: Any) -> int:
    return int(next(iter(cast(ox.QuerySolutions, result)))["n"].value)


class ServedStore:
    """The store being served. A reload builds a complete new store, checks it, then swaps it in at once:
    a request sees the old store or the new one, never a half-loaded one, and a failed reload changes nothing.
    """

    def __init__(
        self,
        current: EmbeddedStore,
        rebuild: Callable[[], tuple[EmbeddedStore, LoadReport | None]],
        report: LoadReport | None = None,
    ) -> None:
        self._current = current
        self._rebuild = rebuild
        self._reload_lock = threading.Lock()
        self.report = report  # what the store in use was loaded from (None: reused as built before)

    @property
    def current(self) -> EmbeddedStore:
        return self._current

    def query(self, sparql: str, base_iri: str | None = None) -> Any:
        return self._current.query(sparql, base_iri)

    def execute(self, job: QueryJob, timeout: float) -> Answer:
        for _ in range(3):
            try:
                return self._current.execute(job, timeout)
            except PoolClosedError:
                continue  # a reload swapped the store while the query waited: run it on the new one
        return self._current.execute(job, timeout)

    def graph_sizes(self) -> dict[str, int]:
        return self._current.graph_sizes()

    def triples(self) -> int:
        return self._current.triples()

    @property
    def version(self) -> str:
        return self._current.version

    @property
    def modified(self) -> datetime | None:
        return self._current.modified

    def describe(self, iri: str, page: int = 1) -> Description | None:
        return self._current.describe(iri, page)

    def exists(self, iri: str) -> bool:
        return self._current.exists(iri)

    def parent(self, iri: str) -> tuple[str, str] | None:
        return self._current.parent(iri)

    def prepare_parent(self, iri: str) -> None:
        self._current.prepare_parent(iri)

    def check(self) -> None:
        self._current.check()

    def reload(self) -> LoadReport | None:
        """Build, check and swap in a new store; on any error raise it and keep serving the old one."""
        with self._reload_lock:
            new, report = self._rebuild()
            old, self._current = self._current, new
            self.report = report
        old.close()
        return report

    def close(self) -> None:
        self._current.close()

    def release(self) -> None:
        """Close and let go of the data (see EmbeddedStore.release); for a process that will not serve."""
        self._current.release()


def data_version(files: list[RdfFile]) -> tuple[str, datetime | None]:
    """A content hash of the files (with the names they are loaded under), and their newest mtime."""
    digest = hashlib.sha256()
    newest = 0.0
    for file in sorted(files, key=lambda f: f.name):
        digest.update(file.name.encode("utf-8", "surrogateescape") + b"\0")  # a name may be any bytes
        with file.path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        newest = max(newest, file.path.stat().st_mtime)
    modified = datetime.fromtimestamp(int(newest), UTC) if files else None
    return digest.hexdigest()[:32], modified


def build_store(
    site: Site, iris: Iris, extra: Iterable[Path] = (), path: Path | None = None
) -> tuple[EmbeddedStore, LoadReport]:
    """Load the project (and extra files) into a new store: in memory, or the current generation at path."""
    files = project_files(site, extra, iris)
    if path is None:
        store = EmbeddedStore.open()
        return store, store.load_files(files, iris)
    generation, report = build_generation(path, files, iris)
    publish_generation(path, generation)
    return open_generation(generation, WorkerOptions()), report


def open_store(
    site: Site,
    iris: Iris,
    extra: Iterable[Path] = (),
    store_path: Path | None = None,
    workers: WorkerOptions | None = None,
    check: Callable[[list[RdfFile]], None] | None = None,
) -> ServedStore:
    """The store to serve: built in memory, or on disk at store_path (reusing the current generation when it
    was built from the same files). Reloads rebuild it from the same sources and `check` it before the swap.
    """
    extra = list(extra)
    options = workers or WorkerOptions()

    def build(reuse: bool) -> tuple[EmbeddedStore, LoadReport | None]:
        files = project_files(site, extra, iris)
        if store_path is None:
            memory = EmbeddedStore(ox.Store(), None, options)
            report = memory.load_files(files, iris)
            if check is not None and not reuse:
                check(files)
            return memory, report
        generation = fresh_generation(store_path, files, iris) if reuse else None
        if generation is not None:
            return open_generation(generation, options), None
        generation, report = build_generation(store_path, files, iris)
        try:
            if check is not None and not reuse:
                check(files)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        publish_generation(store_path, generation)
        return open_generation(generation, options), report

    store, report = build(reuse=True)
    return ServedStore(store, lambda: build(reuse=False), report)


def serve_store(settings: Settings, iris: Iris, extra: Iterable[Path] = ()) -> ServedStore:
    """The store `cmpkg serve` serves, as the settings say: in memory or at store_path, reloads validated."""
    site, extra = Site(settings.site_dir), list(extra)
    return open_store(
        site,
        iris,
        extra,
        Path(settings["store_path"]) if settings["store_path"] else None,
        WorkerOptions(settings["query_workers"], settings["query_memory_mb"], settings["query_inline_ms"]),
        check=shacl_check(site, iris, extra),
    )


def shacl_check(site: Site, iris: Iris, extra: list[Path]) -> Callable[[list[RdfFile]], None]:
    """A check for reloads: SHACL validation as `cmpkg validate` does it, of the project and the extra files
    or directories the store is loaded from, as given (each file of a directory named as in the store);
    violations stop the reload."""

    def check(_loaded: list[RdfFile]) -> None:
        from publisher.validation import validate_site  # pySHACL is loaded only when a reload validates

        report = validate_site(site, iris, extra)
        if report.violations:
            shown = "; ".join(f"<{r.focus}>: {r.message}" for r in report.violations[:3])
            raise ReloadError(f"validation found {len(report.violations)} violation(s): {shown}")

    return check


# On-disk generations --------------------------------------------------------------------------------------

CURRENT = "current"  # file naming the generation in use
STORE_DIR = "store"
MANIFEST = "manifest.json"
HASH_IRIS = "hash-iris.json"  # document IRI -> the hash IRIs under it, found at build time
LEASE = "in-use.lock"


def manifest(files: list[RdfFile], iris: Iris) -> dict[str, Any]:
    """What a store was built from: the base IRI and each file's name, path, size and modification time."""
    entries = []
    for file in files:
        stat = file.path.stat()
        entries.append([file.name, str(file.path.resolve()), stat.st_size, stat.st_mtime_ns])
    return {"base_iri": iris.base, "files": entries}


def build_generation(root: Path, files: list[RdfFile], iris: Iris) -> tuple[Path, LoadReport]:
    """A new, complete on-disk store under root (not yet current); removed again if loading fails."""
    root.mkdir(parents=True, exist_ok=True)
    generation = root / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"
    try:
        generation.mkdir()
        store = EmbeddedStore.open(generation / STORE_DIR)
        report = store.load_files(files, iris, bulk=True)
        report.count()  # the store is closed below
        store.store.flush()
        version, modified = store.version, store.modified.isoformat() if store.modified else None
        hash_iris = {doc: [n.value for n in nodes] for doc, nodes in store.hash_iris().items()}
        del store  # closes the read-write database before anyone opens it read-only
        built = {**manifest(files, iris), "version": version, "modified": modified}
        (generation / MANIFEST).write_text(json.dumps(built, indent=1) + "\n")
        (generation / HASH_IRIS).write_text(json.dumps(hash_iris, indent=1, sort_keys=True) + "\n")
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    return generation, report


def publish_generation(root: Path, generation: Path) -> None:
    """Make a generation current (an atomic rename) and remove older ones no server is using."""
    pending = root / f".{CURRENT}.{os.getpid()}"
    pending.write_text(generation.name + "\n")
    pending.replace(root / CURRENT)
    remove_unused_generations(root)


def remove_unused_generations(root: Path) -> None:
    """Remove the generations other than the current one that no server is using."""
    current = current_generation(root)
    for old in root.glob("gen-*"):
        if old != current and old.is_dir() and not _in_use(old):
            shutil.rmtree(old, ignore_errors=True)


def current_generation(root: Path) -> Path | None:
    try:
        name = (root / CURRENT).read_text().strip()
    except OSError:
        return None
    generation = root / name
    return generation if name and (generation / STORE_DIR).is_dir() else None


def fresh_generation(root: Path, files: list[RdfFile], iris: Iris) -> Path | None:
    """The current generation, if it was built from exactly these files as they are now."""
    generation = current_generation(root)
    if generation is None:
        return None
    try:
        built_from = json.loads((generation / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    wanted = json.loads(json.dumps(manifest(files, iris)))
    return generation if {key: built_from.get(key) for key in wanted} == wanted else None


def open_generation(generation: Path, workers: WorkerOptions) -> EmbeddedStore:
    """A generation opened read-only, with a shared lock that keeps other builds from removing it."""
    store = EmbeddedStore.open_read_only(generation / STORE_DIR, workers)
    lease = os.open(generation / LEASE, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lease, fcntl.LOCK_SH)
    store._lease = lease
    try:
        built = json.loads((generation / MANIFEST).read_text())
        store.version = str(built.get("version", ""))
        store.base = str(built.get("base_iri", ""))
        store.modified = datetime.fromisoformat(built["modified"]) if built.get("modified") else None
    except (OSError, ValueError):
        pass  # an older generation without a version: ETags fall back to the empty version
    try:
        found = json.loads((generation / HASH_IRIS).read_text())
        store.adopt_hash_iris({doc: [ox.NamedNode(iri) for iri in iris] for doc, iris in found.items()})
    except (OSError, ValueError, TypeError, AttributeError):
        pass  # an older generation: the first entity request finds them with a scan of the store
    return store


def _in_use(generation: Path) -> bool:
    try:
        lease = os.open(generation / LEASE, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        with contextlib.suppress(OSError):
            os.close(lease)
    return False
