"""Access, from a view, to what create_app() put on the application."""

from __future__ import annotations

from flask import current_app, request, url_for

from publisher.config import Settings
from publisher.endpoint import EndpointLimits
from publisher.iris import Iris
from publisher.response_cache import ResponseCache
from publisher.store import Store

STORE_KEY = "cmpkg.store"
PAGE_CACHE_KEY = "cmpkg.page_cache"
IRIS_KEY = "cmpkg.iris"
SITE_LINKS_KEY = "cmpkg.site_links"
LIMITS_KEY = "cmpkg.endpoint_limits"
RELOAD_CHANNEL_KEY = "cmpkg.reload_channel"  # set by serving.py in each worker of `cmpkg serve`
SITE_LINKS_ROOTS = 16


def store() -> Store:
    found: Store = current_app.extensions[STORE_KEY]
    return found


def iris() -> Iris:
    found: Iris = current_app.extensions[IRIS_KEY]
    return found


def site_links() -> dict[str, str]:
    """The links every page's header has (stylesheets, home, queries, SPARQL), built once per script root."""
    root = request.script_root
    cache: dict[str, dict[str, str]] = current_app.extensions.setdefault(SITE_LINKS_KEY, {})
    links = cache.get(root)
    if links is None:
        links = {
            "css": url_for("static", filename="cmpkg.css"),
            "views_css": url_for("static", filename="views.css"),
            "home": url_for("home.index"),
            "queries": url_for("queries.index"),
            "sparql": url_for("sparql.endpoint"),
        }
        if len(cache) < SITE_LINKS_ROOTS:  # script roots come from requests: keep a bounded number
            cache[root] = links
    return links


def page_cache() -> ResponseCache:
    found: ResponseCache = current_app.extensions[PAGE_CACHE_KEY]
    return found


def settings() -> Settings:
    found: Settings = current_app.config["CMPKG_SETTINGS"]
    return found


def endpoint_limits() -> EndpointLimits:
    """The query timeout, row limit, request size and SERVICE allow-list, from the settings."""
    limits: EndpointLimits | None = current_app.extensions.get(LIMITS_KEY)
    if limits is None:
        limits = current_app.extensions[LIMITS_KEY] = EndpointLimits.from_settings(settings())
    return limits
