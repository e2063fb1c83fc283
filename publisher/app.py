"""The Flask application: create_app() builds the store once and wires the blueprints."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from publisher.config import Settings, load_settings
from publisher.iris import Iris
from publisher.remote_store import open_remote_store
from publisher.response_cache import ResponseCache
from publisher.store import serve_store
from publisher.views import cors, dataset, entity, errors, health, home, queries, sparql
from publisher.views.context import IRIS_KEY, PAGE_CACHE_KEY, STORE_KEY, site_links
from publisher.views.hosts import RefuseBadHosts


def create_app(settings: Settings | None = None, extra: list[Path] | None = None) -> Flask:
    """An app serving the project in settings.site_dir (settings default to the environment's)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["CMPKG_SETTINGS"] = settings
    iris = Iris(settings.base_iri)
    # A remote store (store_url) is not contacted here: the app starts while the store is down.
    store = open_remote_store(settings) if settings["store_url"] else serve_store(settings, iris, extra or [])
    app.extensions[STORE_KEY] = store
    app.extensions[IRIS_KEY] = iris
    app.extensions[PAGE_CACHE_KEY] = ResponseCache(settings["page_cache_mb"] * 1024 * 1024)
    errors.init_app(app)  # store down or failing: 503/502; Flask's own errors alike; never a stack trace
    cors.init_app(app)  # CORS headers and preflights on every route a page elsewhere may read
    app.register_blueprint(home.blueprint)
    app.register_blueprint(queries.blueprint)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(health.blueprint)  # /-/health
    app.register_blueprint(dataset.blueprint)  # /dump/, /void, /sitemap.xml, /robots.txt, /search
    app.register_blueprint(entity.blueprint)  # its catch-all route answers every other IRI under the base
    entity.init_app(app)  # entity answers given before are replayed in front of Flask
    app.wsgi_app = RefuseBadHosts(app.wsgi_app)  # type: ignore[method-assign]  # in front of the replay too
    app.context_processor(lambda: {"site": site_links()})  # the header's links, built once
    return app
