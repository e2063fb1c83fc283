"""Query worker processes: a query that runs too long is stopped by killing the process running it.

pyoxigraph's `Store.query` cannot be cancelled or given a deadline, and a thread cannot be stopped, so each
query runs in one of a few worker processes holding the store. The request thread waits for the answer up to
the timeout; past it, the worker is killed (SIGKILL: its work stops at once, its memory is freed) and a fresh
worker takes its place while the other workers go on serving. An in-memory store reaches its workers by
fork (copy-on-write, nothing is reloaded); an on-disk store is opened read-only by each worker.

A query a worker has already answered quickly is run in the caller's thread the next time (`InlineQueries`):
the store never changes, so the same query does the same work again, far from the timeout, and the hand-off
to a worker would be most of its time.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from publisher.formats import FORMATS_BY_NAME
from publisher.heap import give_back_freed_memory
from publisher.query_execution import (
    Answer,
    QueryError,
    QueryFailedError,
    QueryJob,
    QueryTimeoutError,
    execute_on,
)

READY = "ready"
START_TIMEOUT = 60.0  # seconds a new worker may take to open the store
TRIM_AFTER_SECONDS = 0.05  # a query that ran this long may have left much freed memory behind
IDLE_BEFORE_TRIM_SECONDS = 0.5  # ... which is given back once no query has come for this long
INLINE_SHARE_OF_TIMEOUT = 0.01  # a query runs inline only if it took at most this share of the timeout
INLINE_ENTRIES = 1024  # fast queries remembered per store
INLINE_MAX_CHARS = 16384  # longer query texts are not remembered (the memory stays under 20 MB)


@dataclass(frozen=True)
class WorkerOptions:
    size: int = 4  # worker processes per store
    memory_mb: int = 0  # memory a worker may take beyond what it starts with; 0: no limit
    inline_ms: float = 20.0  # a query a worker answered this fast runs in the caller's thread after; 0: never


class PoolClosedError(QueryError):
    """The workers were stopped (the store was replaced by a reload); run the query on the new store."""


class Worker:
    """One worker process and the connection to it."""

    def __init__(self, pid: int, conn: Connection, process: subprocess.Popen[bytes] | None = None) -> None:
        self.pid, self.conn, self.process = pid, conn, process

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        self.conn.close()

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise QueryFailedError(f"a query worker did not start within {timeout:g} s")
        message = self.conn.recv()
        if message != READY:
            self.kill()
            raise QueryFailedError(f"a query worker could not start: {message}")


def fork_worker(store: ox.Store, memory_mb: int = 0) -> Worker:
    """A worker sharing an in-memory store with this process (copy-on-write)."""
    parent_end, child_end = Pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that fork() in a threaded process may deadlock the child. The child here only
        # runs pyoxigraph on a store no thread writes to, and locks CPython resets at fork; it never logs.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            parent_end.close()
            faulthandler.disable()  # a worker aborting on its memory limit is expected, not a crash to dump
            _limit_memory(memory_mb)
            child_end.send(READY)
            _serve(store, child_end)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    child_end.close()
    worker = Worker(pid, parent_end)
    worker.wait_ready(START_TIMEOUT)
    return worker


def spawn_worker(path: Path, memory_mb: int = 0) -> Worker:
    """A worker in a new interpreter that opens the on-disk store at `path` read-only."""
    parent_end, child_end = Pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "publisher.query_workers", str(path), str(child_end.fileno()), str(memory_mb)],
        pass_fds=[child_end.fileno()],
        stdin=subprocess.DEVNULL,
    )
    child_end.close()
    worker = Worker(process.pid, parent_end, process)
    worker.wait_ready(START_TIMEOUT)
    return worker


def _serve(store: ox.Store, conn: Connection) -> None:
    """A worker's loop: run each job it is sent and send back the answer or the error."""
    parent = os.getppid()
    trim_when_idle = False
    while True:
        if not conn.poll(IDLE_BEFORE_TRIM_SECONDS if trim_when_idle else 1.0):
            if trim_when_idle:
                # Not after each query: the next one would fault the same pages in again (+10-15% on a
                # 200 ms aggregate at 1M). Once idle, the worker holds little more than the store.
                give_back_freed_memory()
                trim_when_idle = False
            if os.getppid() != parent:  # the server is gone; so should we be
                return
            continue
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        reply: tuple[Any, ...]
        started = time.monotonic()
        try:
            answer = execute_on(store, job)
            reply = ("ok", answer.format.name, answer.body)
        except QueryError as error:
            reply = ("error", error)
        except Exception as error:  # a bug or an engine error: say what, keep serving
            reply = ("error", QueryFailedError(f"the query failed: {type(error).__name__}: {error}"))
        conn.send(reply)
        trim_when_idle |= time.monotonic() - started >= TRIM_AFTER_SECONDS


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what the process has now plus memory_mb, so a greedy query fails alone."""
    if memory_mb <= 0:
        return
    with Path("/proc/self/statm").open() as statm:
        current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = current + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class QueryWorkers:
    """Up to `size` worker processes; `run()` gives a job to an idle one and waits up to a timeout.

    One worker starts with the pool; another starts only when a query finds them all busy, so a server that
    answers one query at a time keeps one worker (each one that opens an on-disk store holds its own
    database caches, tens of MB at 1M triples)."""

    def __init__(self, start: Callable[[], Worker], size: int) -> None:
        self._start = start
        self._size = max(1, size)
        self._idle: list[Worker] = []  # a stack: the worker used last is the one whose pages are warm
        self._all: set[Worker] = set()
        self._starting = 1  # workers being started: the first one, now
        self._changed = threading.Condition()
        self._closed = False
        self._add()  # a store its workers cannot open fails here
        if not self._all:
            raise QueryFailedError("no query worker could start")
        weakref.finalize(self, _kill_all, self._all)  # also at interpreter exit

    @property
    def size(self) -> int:
        return len(self._all)

    def run(self, job: QueryJob, timeout: float) -> Answer:
        """The job's answer; QueryTimeoutError when it is not ready within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        worker = self._take(deadline, timeout)
        try:
            worker.conn.send(job)
            if not worker.conn.poll(max(deadline - time.monotonic(), 0)):
                self._replace(worker)
                raise QueryTimeoutError(timeout)
            reply = worker.conn.recv()
        except (EOFError, OSError):
            self._replace(worker)
            raise QueryFailedError(
                "the query's worker process ended before answering; the query probably needed more memory "
                "than a worker may use (setting query_memory_mb)"
            ) from None
        self._release(worker)
        if reply[0] == "error":
            raise reply[1]
        _, name, body = reply
        return Answer(FORMATS_BY_NAME[name], body)

    def close(self) -> None:
        """Stop the idle workers now and the busy ones as soon as they answer."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._changed.notify_all()
        for worker in idle:
            self._discard(worker)

    def _take(self, deadline: float, timeout: float) -> Worker:
        with self._changed:
            while not self._idle and not self._closed:
                if len(self._all) + self._starting < self._size:  # all busy: one more
                    self._starting += 1
                    threading.Thread(target=self._add, daemon=True).start()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueryTimeoutError(
                        timeout,
                        f"all {self._size} query workers stayed busy for {timeout:g} s "
                        "(setting query_timeout); try again later",
                    )
                self._changed.wait(remaining)
            if self._closed:
                raise PoolClosedError("the store was replaced while the query waited")
            return self._idle.pop()

    def _add(self) -> None:
        """Start a worker (counted in `_starting` by the caller) and make it idle."""
        try:
            worker = self._start()
        except (QueryError, OSError) as error:
            print(f"cmpkg: a query worker could not start: {error}", file=sys.stderr)
            with self._changed:
                self._starting -= 1
            return
        with self._changed:
            self._starting -= 1
            self._all.add(worker)
        self._release(worker)

    def _release(self, worker: Worker) -> None:
        with self._changed:
            if not self._closed:
                self._idle.append(worker)
                self._changed.notify()
                return
        self._discard(worker)

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self._changed:
            self._all.discard(worker)

    def _replace(self, worker: Worker) -> None:
        """Kill a worker (this is what stops a runaway query) and start another in the background."""
        self._discard(worker)
        with self._changed:
            if self._closed:
                return
            self._starting += 1
        threading.Thread(target=self._add, daemon=True).start()


class InlineQueries:
    """The jobs a worker answered within `inline_ms` (and 1% of the timeout), which then run in the caller's
    thread instead of a worker's: the store is read-only, so a job does the same work every time and cannot
    come near the timeout, while a hand-off (two process wake-ups) would cost more than the query itself.

    Jobs calling a SERVICE never run inline: their time is another server's. The memory is bounded (an LRU of
    jobs with texts of at most INLINE_MAX_CHARS).
    """

    def __init__(self, inline_ms: float, entries: int = INLINE_ENTRIES) -> None:
        self._limit = inline_ms / 1000
        self._entries = entries
        self._seconds: OrderedDict[QueryJob, float] = OrderedDict()
        self._lock = threading.Lock()

    def allows(self, job: QueryJob, timeout: float) -> bool:
        """Whether the job is known to answer fast enough to run without a worker."""
        with self._lock:
            seconds = self._seconds.get(job)
            if seconds is None:
                return False
            self._seconds.move_to_end(job)
        return seconds <= min(self._limit, timeout * INLINE_SHARE_OF_TIMEOUT)

    def record(self, job: QueryJob, seconds: float) -> None:
        """A worker's answer to the job took `seconds` (hand-off included)."""
        if seconds > self._limit or job.calls_services or len(job.sparql) > INLINE_MAX_CHARS:
            return
        with self._lock:
            self._seconds[job] = seconds
            self._seconds.move_to_end(job)
            while len(self._seconds) > self._entries:
                self._seconds.popitem(last=False)


def _kill_all(workers: set[Worker]) -> None:
    for worker in list(workers):
        worker.kill()


def _worker_main(argv: list[str]) -> None:
    """Entry point of a spawned worker: `python -m publisher.query_workers STORE_DIR FD MEMORY_MB`."""
    path, fd, memory_mb = argv[0], int(argv[1]), int(argv[2])
    conn = Connection(fd)
    try:
        store = ox.Store.read_only(path)
    except OSError as error:
        conn.send(f"cannot open the store {path}: {error}")
        return
    _limit_memory(memory_mb)
    conn.send(READY)
    _serve(store, conn)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group: stop quietly
        _worker_main(sys.argv[1:])
