"""`cmpkg serve --workers N --threads T`: the app in N worker processes of granian (a Rust HTTP server with a
WSGI interface), each with its own store connection and T threads running the app (4 by default: a request
waiting on the store holds one thread, not the worker).

The HTTP work (parsing, keep-alive, writing answers) is granian's, outside the GIL; Python runs only the
app. Workers are forked from this process after the app is built, so nothing is shared but what the store
shares: a remote store (store_url) is one store behind any number of workers and hosts; an on-disk store
(store_path) is built once here and opened read-only by every worker; an in-memory store is built once here
and reaches the workers by fork (copy-on-write), each worker then growing by what it writes.

What is computed once per data version (the home page's summary, VoID numbers, sitemap, search index, the
dumps, the index of hash IRIs) is filled by each worker in a background thread as soon as it starts, so the
server answers at once (a request needing a value not filled yet waits for it, as on first use); the dumps
are files in one directory, written once for all workers. With the setting warm_up_before_serving, it is
computed here instead, before any worker accepts a request (`warm_up`): the workers inherit it by fork, or
adopt it (handed over for the same version), and no request ever waits on a cold cache; a remote store's
dumps, which take minutes to read at 1M triples, are still written by the workers in the background. A
stopped worker closes its store and ends at once (`_exit_at_once`).

A reload (`POST /-/reload` to any worker, or SIGHUP to this process) rebuilds and validates the store here,
once, then replaces the workers one by one with workers of the new data (publisher/reload_channel.py); a
reload that fails replaces none.
"""

from __future__ import annotations

import errno
import gc
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.server import MPServer

from publisher.config import Settings
from publisher.heap import give_back_freed_memory
from publisher.reload_channel import ReloadChannel, ReloadOutcome, Request, reload_in_this_process
from publisher.store import ServedStore, remove_unused_generations
from publisher.views import dataset, entity
from publisher.views.context import RELOAD_CHANNEL_KEY, STORE_KEY

ASK_AGAIN = ReloadOutcome(
    503,
    "another reload was under way when this one was asked, and has just ended; ask again to load the files",
)
STOPPING = ReloadOutcome(503, "the server is stopping; it stops with the graph it served")
RESPAWN_SECONDS = 2.0  # on a reload, a new worker has this long to start before the old one it replaces stops
HEADER_BYTES = 64 * 1024  # room for a request's headers beside the longest query string cmpkg accepts

_served: list[Flask] = []  # the app this worker process serves (set in the worker, after the fork)


def ensure_can_listen(host: str, port: int) -> int:
    """Fail now, with a message, if host:port cannot be listened on (granian would fail after the build).
    The port to listen on: `port`, or for 0 the free port the system gave here (granian, given 0, prints
    "Listening at: ...:0" and never the port it got)."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:  # create_server would report it as "Unknown error -2"
        raise OSError(f"cannot resolve host {host!r} ({error.strerror}); check --host") from None
    try:
        with socket.create_server((host, port)) as probe:
            return int(probe.getsockname()[1])
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise OSError(f"cannot listen on {host}:{port}: {reason} ({_listen_hint(error, port)})") from None


def _listen_hint(error: OSError, port: int) -> str:
    """What to do when the address cannot be listened on."""
    if error.errno in {errno.EACCES, errno.EPERM} and 0 < port < 1024:
        return "ports below 1024 need root or CAP_NET_BIND_SERVICE; use --port 1024 or above"
    if error.errno == errno.EADDRNOTAVAIL:
        return "it is not an address of this machine; check --host"
    return "is another server there? use --port"


def serve_with_workers(
    settings: Settings,
    extra: list[Path],
    host: str,
    port: int,
    workers: int,
    checked: Flask,
    threads: int = 4,
) -> None:
    """Run the app in `workers` processes of `threads` threads on host:port until stopped (SIGINT/SIGTERM).

    `checked` is the app already built here (which proved the project loads): with an in-memory store the
    workers inherit it by fork; otherwise it is closed and each worker opens the store itself.
    """
    from publisher.app import create_app

    in_memory = not settings["store_url"] and not settings["store_path"]
    if settings["store_path"] and not settings["store_url"]:
        _prepare_disk_store(settings, extra)
    remote = bool(settings["store_url"])
    before = bool(settings["warm_up_before_serving"])
    if before:
        warm_up(checked, dumps=not remote)  # a remote store's dumps take minutes at 1M: workers write them
    dataset.prepare_dumps(checked)  # before the fork: the workers share one directory of dumps

    channel = ReloadChannel.create()

    def worker_app() -> Flask:
        """Run in each worker after the fork: the app it serves, its caches being filled."""
        if in_memory:
            app = checked
        else:
            app = create_app(settings, extra=extra)
            dataset.adopt(app, checked)
            if before:
                entity.warm_up(app)  # this worker's own store connection
        app.extensions[RELOAD_CHANNEL_KEY] = channel
        if not before:
            threading.Thread(target=warm_up, args=(app,), name="cmpkg-warm-up", daemon=True).start()
        elif remote:
            dataset.write_dumps_in_background(app)
        _served.append(app)
        return app

    if not in_memory:  # each worker opens the store itself: this process needs neither it nor its caches
        served = checked.extensions[STORE_KEY]
        if isinstance(served, ServedStore):
            served.release()
        else:
            served.close()

    def reload_data() -> ReloadOutcome:
        """Rebuild and check the store here, as the next workers will serve it."""
        served = checked.extensions[STORE_KEY]
        if not isinstance(served, ServedStore):
            return ReloadOutcome(
                200, "workers restarted; the data is the remote store's (cmpkg push loads it)"
            )
        outcome = reload_in_this_process(served)
        if outcome.status != 200:
            return outcome
        if before:
            warm_up(checked)
        dataset.prepare_dumps(checked)
        if not in_memory:
            served.release()
        _keep_out_of_collections()
        return ReloadOutcome(200, f"{outcome.message}; every worker serves it")

    def after_switch() -> None:
        """Once the workers of the old data have stopped: its on-disk generation is no longer needed."""
        if settings["store_path"] and not remote:
            remove_unused_generations(Path(settings["store_path"]))

    _keep_out_of_collections()  # what the workers inherit: the app, the store's caches
    server = _ReloadingServer(
        reload_data,
        after_switch,
        channel,
        "cmpkg",  # a name only: the app comes from worker_app
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        # Room for headers as large as a request may be (max_request_bytes); the URI itself is limited to
        # 64 kB by the HTTP layer (414), so longer queries are sent by POST.
        http1_settings=HTTP1Settings(max_buffer_size=int(settings["max_request_bytes"]) + HEADER_BYTES),
        respawn_failed_workers=True,
        respawn_interval=RESPAWN_SECONDS,
        websockets=False,
    )
    try:
        server.serve(spawn_target=_serve_then_exit, target_loader=worker_app, wrap_loader=False)
    finally:
        channel.remove()


class _ReloadingServer(MPServer):
    """granian's multi-process server, whose reload (SIGHUP) first rebuilds the data in this process, then
    replaces the workers only if the new data is good: those waiting for the answer last, told to stop just
    before it is given, so that when it arrives no worker accepts requests for the old data."""

    def __init__(
        self,
        reload_data: Callable[[], ReloadOutcome],
        after_switch: Callable[[], None],
        channel: ReloadChannel,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._reload_data = reload_data
        self._after_switch = after_switch
        self._channel = channel

    def _reload(self, spawn_target: Any, target_loader: Any) -> None:
        waiting = self._channel.pending()
        try:
            outcome = self._reload_data()
        except Exception as error:  # a bug, reported; this process must go on running the workers
            logging.getLogger(__name__).exception("reload failed")
            outcome = ReloadOutcome(500, f"reload failed; the previous graph is still served. {error!r}")
        if outcome.status == 200 and not self.interrupt_signal:
            self._switch_workers(waiting, outcome, spawn_target, target_loader)
            print(f"cmpkg: {outcome.message}", file=sys.stderr, flush=True)
            self._after_switch()
        else:
            if outcome.status == 200:  # told to stop during the build: the workers stop with the old graph
                outcome = STOPPING
            print(f"cmpkg: {outcome.message}", file=sys.stderr, flush=True)
            self._channel.answer(waiting, outcome)
            self.reload_signal = False
            self.main_loop_interrupt.clear()
        if self.interrupt_signal:  # a stop asked meanwhile, whose wake-up the clears above undid
            self.main_loop_interrupt.set()
        elif self._channel.has_pending():  # asked again meanwhile (granian's reload forgets such a signal)
            self.signal_handler_reload()  # type: ignore[no-untyped-call]

    def _stop_workers(self) -> None:
        """granian's stop of every worker, once the reloads they wait for are answered (a worker finishes
        its requests before it ends, and those would wait for this process)."""
        self._channel.answer(self._channel.pending(), STOPPING)
        super()._stop_workers()  # type: ignore[no-untyped-call]

    def _switch_workers(
        self, waiting: list[Request], outcome: ReloadOutcome, spawn_target: Any, target_loader: Any
    ) -> None:
        """granian's reload (a new worker, then the old one stopped, one by one), in an order that lets the
        answer mean what it says: the workers no one waits in first, RESPAWN_SECONDS apart; then those
        waiting, which are told to stop before they are answered. A stopping worker accepts no connection
        and finishes the requests it has, so the answer is sent and every later request meets a new worker."""
        asking = {request.pid for request in waiting}
        pids = [self._pid(worker) for worker in self.wrks]
        waiting_workers = [idx for idx, pid in enumerate(pids) if pid in asking]
        others = [idx for idx in range(len(self.wrks)) if idx not in waiting_workers]
        self.reload_signal = False
        self.respawned_wrks.clear()
        self.main_loop_interrupt.clear()
        for idx in others:
            self._join(self._replace_worker(idx, spawn_target, target_loader, self.respawn_interval))
        stopping = [self._replace_worker(idx, spawn_target, target_loader, 0.0) for idx in waiting_workers]
        self._channel.answer(waiting, outcome)
        for worker in stopping:
            self._join(worker)

    def _replace_worker(self, idx: int, spawn_target: Any, target_loader: Any, delay: float) -> Any:
        """granian's respawn of one worker (MPServer._respawn_workers) up to telling the old one to stop: a
        new worker, `delay` for it to start, then the old worker's stop; the old worker, for `_join`."""
        logging.getLogger(__name__).info("replacing worker-%d", idx + 1)
        self.respawned_wrks[idx] = time.monotonic()
        old = self.wrks.pop(idx)
        new = self._spawn_worker(idx=idx, target=spawn_target, callback_loader=target_loader)
        new.start()  # type: ignore[no-untyped-call]
        self.wrks.insert(idx, new)
        time.sleep(delay)
        old.terminate()  # type: ignore[no-untyped-call]
        return old

    def _join(self, old: Any) -> None:
        """Wait for a stopping worker to end, telling the reloads it asked for meanwhile to ask again (it
        finishes its requests before it ends, and those wait for this process; the files may have changed
        since this reload's build)."""
        pid = self._pid(old)
        while old.is_alive():
            self._channel.answer(self._channel.pending(pid), ASK_AGAIN)
            old.join(0.05)

    @staticmethod
    def _pid(worker: Any) -> int:
        return int(worker._id())


def _serve_then_exit(*args: Any, **kwargs: Any) -> None:
    """A worker process: granian's WSGI worker until it is stopped, then `_exit_at_once`."""
    try:
        MPServer._spawn_wsgi_worker(*args, **kwargs)
    finally:
        _exit_at_once()


def warm_up(app: Flask, dumps: bool = True) -> dict[str, float]:
    """Compute what the first requests would otherwise wait for; report it on stderr. Seconds per item."""
    started = time.perf_counter()
    seconds = {**entity.warm_up(app), **dataset.warm_up(app, dumps=dumps)}
    _keep_out_of_collections()
    slowest = sorted(seconds.items(), key=lambda item: -item[1])[:3]
    shown = ", ".join(f"{name} {spent:.1f} s" for name, spent in slowest)
    total = time.perf_counter() - started
    print(
        f"cmpkg: caches filled in {total:.1f} s by process {os.getpid()} (slowest: {shown})",
        file=sys.stderr,
        flush=True,
    )
    return seconds


def _keep_out_of_collections() -> None:
    """Move every object alive now out of the garbage collector's reach (`gc.freeze`): the app and the caches
    live as long as their data version, yet each full collection would walk them all again (6% of a
    rendered page's time at 100k triples, more on a larger heap), and in a forked worker walking them
    writes to pages it otherwise shares with the other workers (at 1M: 25 MB less PSS with 2 workers).
    Frozen objects are still freed by reference counting when a reload drops them; only a reference cycle
    among them would stay."""
    gc.collect()
    gc.freeze()
    give_back_freed_memory()  # e.g. a closed store's caches: the workers would inherit the pages otherwise


def _exit_at_once() -> None:
    """Close the worker's store, then end the process without the interpreter's and C's exit handlers. A
    worker shares what it inherited by fork: freeing it object by object touches every page (at 1M triples
    in memory, 15-20 s per worker at each stop), and RocksDB's exit handler waits for background threads
    that were started in the server before the fork and do not exist in the worker (on disk: a hang)."""
    error = sys.exc_info()[1]
    for app in _served:
        app.extensions[STORE_KEY].close()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1 if error is not None and not isinstance(error, (SystemExit, KeyboardInterrupt)) else 0)


def _prepare_disk_store(settings: Settings, extra: list[Path]) -> None:
    """Build (or check) the on-disk store once, so the workers all open the same generation read-only."""
    from publisher.iris import Iris
    from publisher.site import Site
    from publisher.store import open_store

    store = open_store(Site(settings.site_dir), Iris(settings.base_iri), extra, Path(settings["store_path"]))
    store.close()
