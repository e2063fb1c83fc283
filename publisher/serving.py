"""`cmpkg serve --workers N`: the app in N gunicorn worker processes, each with its own store connection.

Each worker builds the app itself (`create_app`), after the fork, so nothing is shared but what the store
shares: a remote store (store_url) is one store behind any number of workers and hosts; an on-disk store
(store_path) is built once here and opened read-only by every worker; an in-memory store is built once here
and reaches the workers by fork (copy-on-write), each worker then growing by what it writes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from publisher.config import Settings
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
        # Gunicorn's control socket is one file per user: two cmpkg servers would fight over it.
        "control_socket_disable": True,
    }
    if in_memory:
        _Workers(lambda: checked, options).run()
        return
    checked.extensions[STORE_KEY].close()
    _Workers(lambda: create_app(settings, extra=extra), options).run()


def _prepare_disk_store(settings: Settings, extra: list[Path]) -> None:
    """Build (or check) the on-disk store once, so the workers all open the same generation read-only."""
    from publisher.iris import Iris
    from publisher.site import Site
    from publisher.store import open_store

    store = open_store(Site(settings.site_dir), Iris(settings.base_iri), extra, Path(settings["store_path"]))
    store.close()
