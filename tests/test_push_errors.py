"""`cmpkg push`, `validate --endpoint` and `serve --store` given a URL that is not the store's: one clear line
and exit 2, never a traceback, and a push that fails leaves the store serving what it served before.

The stores pushed to are real (an Oxigraph server); what stands in for a wrong URL is a small HTTP server
that answers every request the same way (a web page, broken JSON, a redirect, 401, or nothing at all)."""

from __future__ import annotations

import http.server
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner, Result

from publisher.cli import main
from publisher.iris import Iris
from publisher.push import PushError, push
from publisher.remote_store import RemoteStore
from publisher.site import Site
from publisher.sparql_client import Reply, SparqlClient
from tests.backends import client_for
from tests.conftest import BASE, ROOT
from tests.servers import StoreServer, oxigraph_binary, oxigraph_server
from tests.support import free_port, require
from tests.test_remote_store import PROGRAMME_LABEL, programme_label, relabel, staging_graphs

ANSWERS = {  # mode -> (status, media type, body)
    "html": (200, "text/html", b"<html><body>hello</body></html>"),
    "broken-json": (200, "application/sparql-results+json", b'{"head": {"vars": ['),
    "json-without-results": (200, "application/sparql-results+json", b'{"foo": 1}'),
    "401": (401, "text/plain", b"auth needed"),
}


class FakeStore(http.server.BaseHTTPRequestHandler):
    """Not a store: answers every request by its mode (ANSWERS, a redirect, or never)."""

    mode: ClassVar[str] = "html"
    release: ClassVar[threading.Event] = threading.Event()

    def answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.mode == "hang":
            self.release.wait(120)
            return
        if self.mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/x")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, media_type, body = ANSWERS[self.mode]
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="store"')
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = answer

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def fake_store(mode: str) -> Iterator[str]:
    """A FakeStore in this mode on 127.0.0.1; yields its base URL."""
    release = threading.Event()
    with serving(type("Fake", (FakeStore,), {"mode": mode, "release": release})) as url:
        try:
            yield url
        finally:
            release.set()


@contextmanager
def serving(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server of these request handlers on 127.0.0.1; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def cmpkg(*args: str, site: Path = ROOT, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, ["--site", str(site), "--base-iri", BASE, *args], env=env)


def cmpkg_process(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own: what a terminal shows (log lines too), and a limit on waiting."""
    command = [str(Path(sys.executable).parent / "cmpkg"), "--site", str(ROOT), "--base-iri", BASE, *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **env}, check=False
    )


def one_error_line(result: Result) -> str:
    """The error a command stopped with, asserting it is one line, exit 2, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# A URL answering something other than SPARQL results ------------------------------------------------------

NOT_SPARQL = {
    "html": "answered 200 text/html, not SPARQL results; is it the store's query URL?",
    "broken-json": "answered 200 application/sparql-results+json, not SPARQL results (Parser error at line 1",
    "json-without-results": "answered 200 application/sparql-results+json, not SPARQL results (SPARQL JSON "
    "results must contain a 'boolean' or a 'results' key); is it the store's query URL?",
    "redirect": "answered 302 Found (a redirect to http://127.0.0.1:9/x, which cmpkg does not follow), not "
    "SPARQL results; is it the store's query URL?",
}


@pytest.mark.parametrize("command", ["push", "validate"])
@pytest.mark.parametrize("mode", NOT_SPARQL)
def test_a_store_url_answering_no_sparql_results_is_one_clear_error(command: str, mode: str) -> None:
    with fake_store(mode) as url:
        line = one_error_line(cmpkg(command, "--endpoint", f"{url}/sparql"))
    assert line.startswith(f"cmpkg: error: {url}/sparql {NOT_SPARQL[mode]}")


@pytest.mark.parametrize("command", ["push", "validate"])
@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:99999/sparql", "--endpoint: port 99999 is out of range (0-65535)"),
        ("http://[::1/sparql", "--endpoint: http://[::1/sparql is not a URL (Invalid IPv6 URL)"),
        ("notaurl", "--endpoint: notaurl is not an http:// or https:// URL"),
    ],
)
def test_a_malformed_store_url_is_one_clear_error(command: str, url: str, error: str) -> None:
    assert one_error_line(cmpkg(command, "--endpoint", url)) == f"cmpkg: error: {error}"


def test_a_malformed_update_url_is_named() -> None:
    result = cmpkg("push", "--endpoint", "http://127.0.0.1:1/sparql", "--update-url", "http://h:70000/u")
    assert one_error_line(result) == "cmpkg: error: --update-url: port 70000 is out of range (0-65535)"


def test_serve_with_a_store_url_answering_no_sparql_results_stops_at_start() -> None:
    with fake_store("html") as url:
        served = cmpkg_process("serve", "--port", str(free_port()), "--store", f"{url}/sparql")
    assert served.returncode == 2, served.stderr
    assert served.stderr.splitlines() == [f"cmpkg: error: {url}/sparql {NOT_SPARQL['html']}"]


def test_serve_with_a_malformed_store_url_stops_at_start() -> None:
    served = cmpkg("serve", "--port", str(free_port()), "--store", "http://127.0.0.1:99999/sparql")
    assert one_error_line(served) == "cmpkg: error: --store: port 99999 is out of range (0-65535)"


# What a terminal shows: one line, the query only in the debug log ----------------------------------------


@pytest.mark.parametrize("command", ["push", "validate"])
def test_a_web_server_that_is_no_store_gives_one_line_on_the_terminal(command: str, tmp_path: Path) -> None:
    """Python's own web server answers a POST with a 501 page: neither the page nor cmpkg's query is shown."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with serving(handler) as url:
        done = cmpkg_process(command, "--endpoint", f"{url}/")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"cmpkg: error: {url}/ answered 501 Unsupported method ('POST'); is it the store's query URL?"
    ]


def test_a_failing_request_is_logged_with_its_query_at_debug_level_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with caplog.at_level(logging.DEBUG, logger="publisher.sparql_client"):
        line = one_error_line(cmpkg("push", "--endpoint", url))
    assert (
        line == f"cmpkg: error: the triple store at {url} cannot be reached: [Errno 111] Connection refused"
    )
    logged = [r for r in caplog.records if r.name == "publisher.sparql_client"]
    assert logged
    assert all(record.levelno == logging.DEBUG for record in logged)
    assert any("ASK {}" in record.getMessage() for record in logged)


# A store that never answers --------------------------------------------------------------------------------

NO_ANSWER = "no answer from {url} within 1 s (store down, or wrong scheme/port?)"


def test_push_to_a_store_that_never_answers_says_so_at_once() -> None:
    with fake_store("hang") as url:
        started = time.monotonic()
        done = cmpkg_process("push", "--endpoint", f"{url}/sparql", CMPKG_QUERY_TIMEOUT="1")
    assert time.monotonic() - started < 30  # not push's 600 s per request
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"cmpkg: error: {NO_ANSWER.format(url=f'{url}/sparql')}"]


def test_validate_endpoint_of_a_store_that_never_answers_says_the_store_did_not_answer() -> None:
    with fake_store("hang") as url:
        line = one_error_line(
            cmpkg("validate", "--endpoint", f"{url}/sparql", env={"CMPKG_QUERY_TIMEOUT": "1"})
        )
    assert line == f"cmpkg: error: {NO_ANSWER.format(url=f'{url}/sparql')}"  # not "query_timeout"


# Credentials -------------------------------------------------------------------------------------------


def test_a_store_asking_for_credentials_says_to_set_them_or_to_check_them() -> None:
    with fake_store("401") as url:
        unset: dict[str, str | None] = {"CMPKG_STORE_USER": None, "CMPKG_STORE_PASSWORD": None}
        without = one_error_line(cmpkg("push", "--endpoint", f"{url}/sparql", env=unset))
        given: dict[str, str | None] = {"CMPKG_STORE_USER": "someone", "CMPKG_STORE_PASSWORD": "wrong"}
        wrong = one_error_line(cmpkg("push", "--endpoint", f"{url}/sparql", env=given))
    assert without == (
        f"cmpkg: error: the triple store at {url}/sparql needs credentials (401); set store_user and "
        "store_password"
    )
    assert "refused cmpkg's credentials (401)" in wrong


# A push to a real store through a URL that is not the store's ---------------------------------------------


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    require(oxigraph_binary() is not None, "no `oxigraph` command (PyPI oxigraph)")
    server = oxigraph_server(tmp_path_factory.mktemp("oxigraph"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def project(tmp_path: Path) -> Site:
    """A copy of the project, relabelled: a push of it that went through would show."""
    for name in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / name, tmp_path / "project" / name)
    site = Site(tmp_path / "project")
    relabel(site, "Never served")
    return site


@pytest.fixture
def served(oxigraph: StoreServer, site: Site, iris: Iris) -> RemoteStore:
    """The store holding the project as an earlier push left it: what a failed push must leave served."""
    push(site, iris, client_for(oxigraph), validate=False)
    return RemoteStore(client_for(oxigraph), BASE, 30.0, 0.0)


def assert_unchanged(store: RemoteStore, before: tuple[str, int]) -> None:
    assert (store.version, store.triples()) == before
    assert programme_label(store) == PROGRAMME_LABEL


def test_a_graph_store_url_that_is_no_graph_store_leaves_the_store_as_it_was(
    oxigraph: StoreServer, project: Site, served: RemoteStore
) -> None:
    before = (served.version, served.triples())
    with fake_store("html") as fake:
        result = cmpkg(
            "push",
            *(
                "--endpoint",
                oxigraph.query_url,
                "--update-url",
                oxigraph.update_url,
                "--gsp-url",
                f"{fake}/store",
            ),
            site=project.root,
        )
    line = one_error_line(result)
    assert f"the Graph Store URL {fake}/store did not store graph <{BASE}graph/" in line
    assert "it holds 0 of the" in line
    assert "(the URL answered 200 text/html: is it the store's Graph Store Protocol URL?)" in line
    assert line.endswith("; the store still serves the previous data")
    assert_unchanged(served, before)
    assert staging_graphs(oxigraph) == []  # dropped: the update URL is the store's


def test_an_update_url_that_is_no_sparql_update_endpoint_leaves_the_store_as_it_was(
    oxigraph: StoreServer, project: Site, served: RemoteStore
) -> None:
    before = (served.version, served.triples())
    with fake_store("html") as fake:
        alone = cmpkg(
            "push", "--endpoint", oxigraph.query_url, "--update-url", f"{fake}/update", site=project.root
        )
        with_gsp = cmpkg(
            "push",
            *(
                "--endpoint",
                oxigraph.query_url,
                "--update-url",
                f"{fake}/update",
                "--gsp-url",
                oxigraph.gsp_url,
            ),
            site=project.root,
        )
    line = one_error_line(alone)  # every graph goes by SPARQL Update
    assert f"the update URL {fake}/update did not write graph <{BASE}graph/" in line
    assert "(the URL answered 200 text/html: is it the store's update URL?)" in line
    assert line.endswith("; the store still serves the previous data")
    line = one_error_line(with_gsp)  # the graphs go by the Graph Store Protocol, the metadata by Update
    assert f"the update URL {fake}/update did not write graph <{BASE}graph/cmpkg-meta>" in line
    assert_unchanged(served, before)


class SwapGoesNowhere(SparqlClient):
    """A client whose swap reaches an update URL that answers 200 and does nothing; the rest is real."""

    def update(self, sparql: str, timeout: float | None = None) -> Reply:
        if sparql.startswith("DELETE {"):
            return Reply("text/html", b"<html></html>", {}, 200, self.location.updates)
        return super().update(sparql, timeout)


def test_a_swap_the_store_did_not_apply_is_a_failed_push(
    oxigraph: StoreServer, project: Site, iris: Iris, served: RemoteStore
) -> None:
    before = (served.version, served.triples())
    client = SwapGoesNowhere(client_for(oxigraph).location, 60)
    with pytest.raises(PushError) as failed:
        push(project, iris, client, validate=False)
    found = re.fullmatch(
        rf"push failed while checking the swap: the update URL {re.escape(oxigraph.update_url)} did not "
        rf"apply the update: the store has version {before[0]}, not version (\w+) \(the URL answered 200 "
        r"text/html: is it the store's update URL\?\); the store still serves the previous data",
        str(failed.value),
    )
    assert found is not None, failed.value
    assert found[1] != before[0]
    assert_unchanged(served, before)
    assert staging_graphs(oxigraph) == []


def test_serve_with_a_store_that_is_down_starts_without_a_traceback() -> None:
    """A store merely down is not a wrong URL: the server starts, answers 503 until the store is back, and
    its start-up (which reads the store's version in a thread) logs one line instead of a traceback."""
    port, closed = free_port(), free_port()
    command = [str(Path(sys.executable).parent / "cmpkg"), "--site", str(ROOT), "--base-iri", BASE]
    command += ["serve", "--port", str(port), "--store", f"http://127.0.0.1:{closed}/sparql"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        status = None
        while status is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health", timeout=5):
                    status = 200
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                time.sleep(0.3)
        assert status == 503
        time.sleep(1)  # the start-up thread has met the store by now
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "Traceback" not in output, output
    assert "start-up: could not read the store" in output
