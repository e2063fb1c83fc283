"""`cmpkg serve --workers N`: the app in N gunicorn worker processes, each with its own store connection.

Each worker builds the app itself (`create_app`), after the fork, so nothing is shared but what the store
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
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from publisher.config import Settings
from publisher.views import dataset, entity
from publisher.views.context import STORE_KEY

THREADS = 4  # threads per worker: a request waiting on the store does not hold the worker


class _Workers(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    def __init__(self, make_app: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.make_app = make_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.make_app()


def serve_with_workers(
    settings: Settings, extra: list[Path], host: str, port: int, workers: int, checked: Flask
) -> None:
    """Run the app in `workers` gunicorn processes on host:port until stopped (SIGINT/SIGTERM).

    `checked` is the app already built here (which proved the project loads): with an in-memory store the
    workers inherit it by fork; otherwise it is closed and each worker opens the store itself.
    """
    from publisher.app import create_app

    in_memory = not settings["store_url"] and not settings["store_path"]
    if settings["store_path"] and not settings["store_url"]:
        _prepare_disk_store(settings, extra)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": THREADS,
        # A worker silent for this long is restarted; a query may take query_timeout, so allow for it.
        "timeout": max(30, int(3 * float(settings["query_timeout"]))),
        "preload_app": in_memory,  # build the in-memory store once, before the fork
        "accesslog": None,
        "errorlog": "-",
        # A GET /sparql?query=... line may be as long as max_request_bytes allows (cmpkg answers 414 past
        # it, with a message); gunicorn's own limit (4094 bytes) would refuse a long query first.
        "limit_request_line": 0,
        # Gunicorn's control socket is one file per user: two cmpkg servers would fight over it.
        "control_socket_disable": True,
        "worker_exit": _exit_at_once,
    }
    remote = bool(settings["store_url"])
    before = bool(settings["warm_up_before_serving"])
    if before:
        warm_up(checked, dumps=not remote)  # a remote store's dumps take minutes at 1M: workers write them
        if remote:
            options["post_worker_init"] = _write_dumps_in_background
    else:
        options["post_worker_init"] = _fill_caches_in_background
    dataset.prepare_dumps(checked)  # before the fork: the workers share one directory of dumps
    if in_memory:
        _Workers(lambda: checked, options).run()
        return
    checked.extensions[STORE_KEY].close()

    def worker_app() -> Flask:
        app = create_app(settings, extra=extra)
        dataset.adopt(app, checked)
        if before:
            entity.warm_up(app)  # this worker's own store connection
        return app

    _Workers(worker_app, options).run()


def warm_up(app: Flask, dumps: bool = True) -> dict[str, float]:
    """Compute what the first requests would otherwise wait for; report it on stderr. Seconds per item."""
    started = time.perf_counter()
    seconds = {**entity.warm_up(app), **dataset.warm_up(app, dumps=dumps)}
    slowest = sorted(seconds.items(), key=lambda item: -item[1])[:3]
    shown = ", ".join(f"{name} {spent:.1f} s" for name, spent in slowest)
    total = time.perf_counter() - started
    print(
        f"cmpkg: caches filled in {total:.1f} s by process {os.getpid()} (slowest: {shown})",
        file=sys.stderr,
        flush=True,
    )
    return seconds


def _fill_caches_in_background(worker: Any) -> None:
    """Gunicorn's post_worker_init hook: fill this worker's caches in a thread while it already answers."""
    threading.Thread(target=warm_up, args=(worker.wsgi,), name="cmpkg-warm-up", daemon=True).start()


def _write_dumps_in_background(worker: Any) -> None:
    """Gunicorn's post_worker_init hook (remote store, caches filled before serving): write the dumps."""
    dataset.write_dumps_in_background(worker.wsgi)


def _exit_at_once(arbiter: object, worker: Any) -> None:
    """Gunicorn's worker_exit hook: close the worker's store, then end the process without the interpreter's
    and C's exit handlers. A worker shares what it inherited by fork: freeing it object by object touches
    every page (at 1M triples in memory, 15-20 s per worker at each stop), and RocksDB's exit handler waits
    for background threads that were started in the server before the fork and do not exist in the worker
    (on disk: a hang until gunicorn kills it, graceful_timeout, 30 s)."""
    error = sys.exc_info()[1]  # the SystemExit gunicorn is ending the worker with, if any
    code = (error.code or 0) if isinstance(error, SystemExit) else (1 if error else 0)
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        app.extensions[STORE_KEY].close()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)


def _prepare_disk_store(settings: Settings, extra: list[Path]) -> None:
    """Build (or check) the on-disk store once, so the workers all open the same generation read-only."""
    from publisher.iris import Iris
    from publisher.site import Site
    from publisher.store import open_store

    store = open_store(Site(settings.site_dir), Iris(settings.base_iri), extra, Path(settings["store_path"]))
    store.close()
