"""The stores the SPARQL, saved-query and linked-data suites run on: the embedded store, and an Oxigraph
server and Virtuoso holding the project as `cmpkg push` puts it there. Each server starts once per session, on
first use, and stops at the end. (A pytest plugin: tests/conftest.py loads it.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from publisher.iris import Iris
from publisher.push import push
from publisher.site import Site
from publisher.sparql_client import SparqlClient, StoreLocation
from tests.servers import StoreServer, oxigraph_binary, oxigraph_server, virtuoso_binary, virtuoso_server
from tests.support import require

BACKENDS = ("embedded", "oxigraph-server", "virtuoso")
BASE = "https://w3id.org/iwc-cmp/"


def client_for(server: StoreServer, gsp: bool = True) -> SparqlClient:
    settings = server.settings
    location = StoreLocation(
        settings["store_url"],
        settings["store_update_url"],
        settings["store_gsp_url"] if gsp else "",
        settings["store_user"],
        settings["store_password"],
    )
    return SparqlClient(location, 60)


def _started(server: StoreServer, site: Site) -> Iterator[StoreServer]:
    server.start()
    try:
        push(site, Iris(BASE), client_for(server), validate=False)  # validation has tests of its own
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def oxigraph_store(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[StoreServer]:
    """An Oxigraph server holding the project."""
    require(oxigraph_binary() is not None, "no `oxigraph` command (PyPI package oxigraph, in the test extra)")
    yield from _started(oxigraph_server(tmp_path_factory.mktemp("oxigraph")), site)


@pytest.fixture(scope="session")
def virtuoso_store(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[StoreServer]:
    """Virtuoso holding the project."""
    require(
        virtuoso_binary() is not None,
        "no `virtuoso-t` (Debian package virtuoso-opensource; .ci/run installs it)",
    )
    yield from _started(virtuoso_server(tmp_path_factory.mktemp("virtuoso")), site)


def backend_settings(request: pytest.FixtureRequest, backend: str) -> dict[str, Any]:
    """The settings overrides that serve from a backend (starting its server if need be)."""
    if backend == "embedded":
        return {}
    fixture = {"oxigraph-server": "oxigraph_store", "virtuoso": "virtuoso_store"}[backend]
    server: StoreServer = request.getfixturevalue(fixture)
    return server.settings
