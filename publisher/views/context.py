"""Access, from a view, to what create_app() put on the application."""

from __future__ import annotations

from flask import current_app

from publisher.iris import Iris
from publisher.response_cache import ResponseCache
from publisher.store import Store

STORE_KEY = "cmpkg.store"
PAGE_CACHE_KEY = "cmpkg.page_cache"
IRIS_KEY = "cmpkg.iris"


def store() -> Store:
    found: Store = current_app.extensions[STORE_KEY]
    return found


def iris() -> Iris:
    found: Iris = current_app.extensions[IRIS_KEY]
    return found


def page_cache() -> ResponseCache:
    found: ResponseCache = current_app.extensions[PAGE_CACHE_KEY]
    return found
