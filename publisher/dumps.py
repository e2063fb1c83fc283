"""Dumps of the whole graph as files: written once per data version, streamed, never held in memory.

Four dumps (DUMPS): the union of every graph as Turtle, gzip-compressed N-Triples and JSON-LD, and the
dataset with one named graph per source file as TriG. IRIs are the public ones, as in the store. Each dump
is written the first time it is asked for, into a directory for the data version (a hash of the files and
the base IRI), through a temporary file renamed into place, so a reader sees a complete file or none, and a
reload (a new version) gets new files. The serialisers read the store quad by quad and write to the file as
they go; only triples stated in more than one graph are remembered, to write them once. No web imports.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox

from publisher.formats import JSON_LD, N_TRIPLES, TRIG, TURTLE, Format
from publisher.processes import is_alive
from publisher.remote_store import RemoteSnapshot, Snapshot
from publisher.store import EmbeddedStore

GZIP_MEDIA_TYPE = "application/gzip"
KEEP_VERSIONS = 3  # dump directories kept beside the current one's (other processes may still serve them)
TEMPORARY_PREFIX = "cmpkg-dumps-"  # then the process id, so a killed server's directory can be found


@dataclass(frozen=True)
class DumpKind:
    """One of the dumps: its file name (the last segment of /dump/<name>) and the format it is written in."""

    name: str
    format: Format
    title: str
    compressed: bool = False

    @property
    def content_type(self) -> str:
        """The HTTP Content-Type: a .gz file is application/gzip (the format inside is in the VoID)."""
        return GZIP_MEDIA_TYPE if self.compressed else self.format.content_type


DUMPS: tuple[DumpKind, ...] = (
    DumpKind("cmpkg.ttl", TURTLE, "The whole graph (the union of every graph) as Turtle"),
    DumpKind("cmpkg.nt.gz", N_TRIPLES, "The whole graph as gzip-compressed N-Triples", compressed=True),
    DumpKind("cmpkg.jsonld", JSON_LD, "The whole graph as JSON-LD"),
    DumpKind("cmpkg.trig", TRIG, "Every named graph (one per source file) as TriG"),
)
DUMPS_BY_NAME = {kind.name: kind for kind in DUMPS}


@dataclass(frozen=True)
class DumpFile:
    """A dump written to disk, with the SHA-256 of its bytes (its strong ETag)."""

    kind: DumpKind
    path: Path
    sha256: str
    size: int


def union_triples(store: ox.Store) -> Iterator[ox.Triple]:
    """Every triple of every graph, each once (the union graph is a set), in the store's order, streamed."""
    shared = _triples_in_several_graphs(store)
    written: set[ox.Triple] = set()
    for quad in store.quads_for_pattern(None, None, None, None):
        triple = quad.triple
        if triple in shared:
            if triple in written:
                continue
            written.add(triple)
        yield triple


def _triples_in_several_graphs(store: ox.Store) -> set[ox.Triple]:
    """The triples stated in more than one graph (the store's default graph counts as one): usually few."""
    queries = (
        "SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } GRAPH ?h { ?s ?p ?o } FILTER (?g != ?h) }",
        "SELECT DISTINCT ?s ?p ?o { ?s ?p ?o GRAPH ?h { ?s ?p ?o } }",  # the default graph, not the union
    )
    shared: set[ox.Triple] = set()
    for query in queries:
        for row in cast(ox.QuerySolutions, store.query(query)):
            shared.add(ox.Triple(row["s"], row["p"], row["o"]))
    return shared


def dataset_quads(store: ox.Store) -> Iterator[ox.Quad]:
    """Every quad, graph by graph (the default graph first, then named graphs by IRI), streamed."""
    yield from store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    graphs = sorted(store.named_graphs(), key=lambda g: (isinstance(g, ox.BlankNode), g.value))
    for graph in graphs:
        yield from store.quads_for_pattern(None, None, None, graph)


def write_dump(
    store: ox.Store | RemoteSnapshot, kind: DumpKind, target: Path, prefixes: dict[str, str]
) -> DumpFile:
    """Write one dump to target (atomically: a temporary file renamed into place) and hash it."""
    assert kind.format.rdf_format is not None
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with temporary.open("wb") as raw:
            hashed = _HashingWriter(raw)
            if kind.compressed:
                # mtime=0: the same triples give the same bytes, hence the same ETag.
                with gzip.GzipFile(fileobj=hashed, mode="wb", compresslevel=6, mtime=0) as packed:
                    _serialize(store, kind, packed, prefixes)
            else:
                _serialize(store, kind, hashed, prefixes)
            raw.flush()
            os.fsync(raw.fileno())
        digest, size = hashed.digest.hexdigest(), hashed.size
        _sidecar(target).write_text(json.dumps({"sha256": digest, "size": size}) + "\n")
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return DumpFile(kind, target, digest, size)


def _serialize(
    store: ox.Store | RemoteSnapshot, kind: DumpKind, output: IO[bytes] | Any, prefixes: dict[str, str]
) -> None:
    fmt = kind.format.rdf_format
    if kind.format is TRIG:
        quads = store.dataset_quads() if isinstance(store, RemoteSnapshot) else dataset_quads(store)
        ox.serialize(quads, output, fmt, prefixes=prefixes)
    else:
        triples = store.union_triples() if isinstance(store, RemoteSnapshot) else union_triples(store)
        ox.serialize(triples, output, fmt, prefixes=prefixes)


class _HashingWriter:
    """A binary file that hashes and counts what goes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def _read_written(kind: DumpKind, target: Path) -> DumpFile | None:
    """A dump written earlier (by this process or another), if it and its hash are both there."""
    try:
        meta = json.loads(_sidecar(target).read_text())
        size = target.stat().st_size
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("size") != size or not isinstance(meta.get("sha256"), str):
        return None
    return DumpFile(kind, target, meta["sha256"], size)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


class Dumps:
    """The dumps of the store being served, in a directory per data version, so a reload gets new dumps.

    The directories live in `root` (`dumps/` under the store path) or, without one, in a temporary directory
    removed when the process exits. Only a weak reference to the store is kept: a store a reload replaced
    is freed as soon as no request uses it.
    """

    def __init__(self, root: Path | None, prefixes: dict[str, str]) -> None:
        self._root = root
        self._temporary: Path | None = None
        self.prefixes = prefixes
        self._current: tuple[weakref.ref[Snapshot], Path] | None = None
        self._written: dict[Path, DumpFile] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    def get(self, store: Snapshot, kind: DumpKind) -> DumpFile:
        """The store's dump of this kind, written now if it was not yet (by this process or another)."""
        directory = self.directory(store)
        target = directory / kind.name
        found = self._written.get(target)
        if found is not None and target.exists():
            return found
        with self._write_lock:  # one writer per process; the lock file keeps other processes waiting
            directory.mkdir(parents=True, exist_ok=True)
            with _file_lock(directory / f".{kind.name}.lock"):
                found = _read_written(kind, target) or write_dump(_source(store), kind, target, self.prefixes)
            self._written[target] = found
            return found

    def directory(self, store: Snapshot) -> Path:
        """The directory of the store's data version; a new store makes older versions' directories go."""
        with self._lock:
            if self._current is not None and self._current[0]() is store:
                return self._current[1]
            root = self._root_directory()
            directory = root / version_key(store)
            self._current = (weakref.ref(store), directory)
            self._written = {}
            _remove_old_versions(root, keep=directory)
            return directory

    def prepare(self) -> Path:
        """Create the root directory now: done before a fork, every worker then writes and finds the dumps
        there (each dump once, the lock files keeping the others waiting)."""
        with self._lock:
            return self._root_directory()

    def share(self, other: Dumps) -> None:
        """Use other's directories (another app of this server, maybe in the parent process): dumps it wrote
        for a data version are found there instead of written again."""
        with self._lock:
            if self._root is None:
                self._root = other._root_directory()
            self._current = None

    def _root_directory(self) -> Path:
        if self._root is not None:
            return self._root
        if self._temporary is None:
            _remove_orphans(Path(tempfile.gettempdir()))
            self._temporary = Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-"))
            # At exit, or when dropped; only by this process: forked web workers inherit the finalizer, and
            # one of them exiting must not take the dumps away from the others.
            weakref.finalize(self, _remove_own, self._temporary, os.getpid())
        return self._temporary


def _remove_own(directory: Path, owner: int) -> None:
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


def _source(store: Snapshot) -> ox.Store | RemoteSnapshot:
    """What a dump is read from: the pyoxigraph store itself, or the remote store's graphs."""
    return store.store if isinstance(store, EmbeddedStore) else store


def version_key(store: Snapshot) -> str:
    """A directory name for the store's data: its version and base; unversioned stores get a unique one."""
    if not store.version:
        return f"unversioned-{os.getpid()}-{id(store):x}-{time.time_ns()}"
    return hashlib.sha256(f"{store.version}\n{store.base}".encode()).hexdigest()[:32]


def _remove_old_versions(root: Path, keep: Path) -> None:
    """Keep the newest few version directories besides `keep`; files being streamed stay readable."""
    if not root.is_dir():
        return
    others = [d for d in root.iterdir() if d.is_dir() and d != keep]
    others.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    for old in others[KEEP_VERSIONS:]:
        shutil.rmtree(old, ignore_errors=True)


def _remove_orphans(parent: Path) -> None:
    """Remove temporary dump directories left by servers that were killed (their process is gone)."""
    for candidate in parent.glob(TEMPORARY_PREFIX + "*"):
        pid = candidate.name[len(TEMPORARY_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not is_alive(int(pid)):
            shutil.rmtree(candidate, ignore_errors=True)
