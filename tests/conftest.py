"""Shared fixtures: the project as it is checked in, its default base IRI, and the Flask app on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from publisher.app import create_app
from publisher.config import load_settings
from publisher.iris import Iris
from publisher.site import Site

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/iwc-cmp/"
pytest_plugins = [
    "tests.backends"
]  # the embedded store, an Oxigraph server and Virtuoso, for parametrized suites


@pytest.fixture(scope="session")
def site() -> Site:
    return Site(ROOT)


@pytest.fixture(scope="session")
def iris() -> Iris:
    return Iris(BASE)


@pytest.fixture(scope="session")
def app() -> Flask:
    settings = load_settings(environ={}, overrides={"site_dir": str(ROOT), "base_iri": BASE})
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
