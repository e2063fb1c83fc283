"""`cmpkg serve --workers N --threads T`, a real server on 127.0.0.1.

A reload reaches every worker: each worker holds its own copy of the store (in memory by fork, on disk by its
own connection), so the main process rebuilds the data once and replaces the workers, answering once no
worker serves the old data
(publisher/reload_channel.py, publisher/serving.py). Each worker runs at most T requests at once."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from publisher.reload_channel import ReloadChannel
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/iwc-cmp/"
TOKEN = "reload-secret"
PARTNER = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<partner/thing> a rdfs:Resource ; rdfs:label "{label}" .
"""
LABEL = f"SELECT ?label WHERE {{ <{BASE}partner/thing> <http://www.w3.org/2000/01/rdf-schema#label> ?label }}"
WORKERS = 2
SWITCH_SECONDS = 60.0  # the workers are replaced one by one, 2 s apart; generous for a loaded machine


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    partner: Path
    log: Path
    store_path: Path | None

    def label(self) -> str:
        """The partner's label, as a worker answers it (a new connection each time, so any worker may).

        A connection a worker had just accepted when it was told to stop may be reset (granian's doing,
        docs/deploy.md): that one request is sent again, as a client would."""
        query = urllib.parse.urlencode({"query": LABEL})
        request = urllib.request.Request(
            f"{self.url}/sparql?{query}", headers={"Accept": "application/sparql-results+json"}
        )
        for attempt in (1, 2):
            try:
                with urllib.request.urlopen(request, timeout=30) as reply:
                    rows = json.load(reply)["results"]["bindings"]
                return ",".join(row["label"]["value"] for row in rows)
            except (OSError, http.client.HTTPException) as error:
                if attempt == 2 or not _reset(error):
                    raise
        raise AssertionError("unreachable")

    def labels(self, times: int) -> set[str]:
        return {self.label() for _ in range(times)}

    def reload(self) -> tuple[int, str]:
        request = urllib.request.Request(
            self.url + "/-/reload", data=b"", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def workers(self) -> set[int]:
        """The worker processes (the main process's children)."""
        pid = self.process.pid
        return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}

    def until_every_worker_says(self, label: str) -> None:
        """Wait until 30 answers in a row give the label (with 2 workers, a stale one would show)."""
        deadline = time.monotonic() + SWITCH_SECONDS
        in_a_row = 0
        while in_a_row < 30:
            in_a_row = in_a_row + 1 if self.label() == label else 0
            assert time.monotonic() < deadline, f"workers still answer otherwise: {self.log.read_text()}"


def _reset(error: BaseException) -> bool:
    """The connection was reset or closed before an answer (urllib may wrap that in a URLError)."""
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        error = error.reason
    return isinstance(error, ConnectionResetError | http.client.RemoteDisconnected)


@contextlib.contextmanager
def cmpkg_serve(
    tmp_path: Path, options: list[str], env: dict[str, str], store_path: Path | None = None
) -> Iterator[Server]:
    """`cmpkg serve` of the project and a partner's file, answering on a free port; stopped cleanly after."""
    partner = tmp_path / "partner"
    partner.mkdir()
    (partner / "partner.ttl").write_text(PARTNER.format(label="first"))
    port = free_port()
    env = {**os.environ, **env}
    if store_path is not None:
        env["CMPKG_STORE_PATH"] = str(store_path)
    command = [str(Path(sys.executable).parent / "cmpkg"), "--site", str(ROOT), "--base-iri", BASE]
    command += ["serve", str(partner), *options, "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    served = Server(process, f"http://127.0.0.1:{port}", partner / "partner.ttl", log, store_path)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                served.label()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()


@pytest.fixture(params=["memory", "disk"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    env = {"CMPKG_RELOAD_TOKEN": TOKEN, "CMPKG_QUERY_WORKERS": "1"}
    store_path = tmp_path / "store" if request.param == "disk" else None
    with cmpkg_serve(tmp_path, ["--workers", str(WORKERS)], env, store_path) as served:
        yield served


def test_a_reload_reaches_every_worker(server: Server) -> None:
    assert server.labels(10) == {"first"}
    before = server.workers()
    assert len(before) == WORKERS
    server.partner.write_text(PARTNER.format(label="second"))
    status, text = server.reload()
    assert status == 200, text
    assert text.startswith("reloaded:")
    assert text.rstrip().endswith("every worker serves it")
    # Answered once no worker serves the old data: the next requests, on new connections, meet the new.
    assert server.labels(30) == {"second"}
    deadline = time.monotonic() + SWITCH_SECONDS
    while server.workers() & before and time.monotonic() < deadline:  # the one that answered is stopping
        time.sleep(0.1)
    assert not server.workers() & before  # every worker was replaced by one of the new data
    if server.store_path is not None:  # the old generation is removed once its workers have stopped
        deadline = time.monotonic() + SWITCH_SECONDS
        while len(list(server.store_path.glob("gen-*"))) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(list(server.store_path.glob("gen-*"))) == 1


def test_reloads_asked_while_one_runs_are_all_answered(server: Server) -> None:
    """A request reaching a worker that is about to be replaced is answered before the worker stops (it
    used to be stopped while it waited, and its client hung): reloaded, or asked to ask again."""
    server.partner.write_text(PARTNER.format(label="fourth"))
    answers: dict[int, tuple[int, str]] = {}

    def ask(n: int) -> None:
        answers[n] = server.reload()

    askers = []
    for n in range(3):
        asker = threading.Thread(target=ask, args=(n,))
        asker.start()
        askers.append(asker)
        time.sleep(0.7)  # the later ones arrive while the first reload replaces the workers
    for asker in askers:
        asker.join(SWITCH_SECONDS)
    assert sorted(answers) == [0, 1, 2], f"unanswered: {server.log.read_text()}"
    for status, text in answers.values():
        assert (status, text.startswith("reloaded:")) == (200, True) or (
            status == 503 and "ask again" in text
        ), text
    assert answers[0][0] == 200
    assert server.labels(20) == {"fourth"}


def test_a_failed_reload_keeps_every_worker_serving_the_old_graph(server: Server) -> None:
    before = server.workers()
    server.partner.write_text('<partner/thing> <http://www.w3.org/2000/01/rdf-schema#label> "broken .\n')
    status, text = server.reload()
    assert status == 500
    assert "partner.ttl:1:" in text
    assert "previous graph is still served" in text
    assert server.labels(20) == {"first"}
    assert server.workers() == before  # none replaced


def test_sighup_to_the_main_process_reloads_every_worker(server: Server) -> None:
    server.partner.write_text(PARTNER.format(label="third"))
    os.kill(server.process.pid, signal.SIGHUP)
    server.until_every_worker_says("third")
    # Logged once the last old worker has ended, which may be after the new ones answer.
    deadline = time.monotonic() + SWITCH_SECONDS
    while "cmpkg: reloaded:" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "cmpkg: reloaded:" in server.log.read_text()


def test_a_server_told_to_stop_while_it_reloads_stops(tmp_path: Path) -> None:
    """SIGTERM during a reload's build (it used to be lost: the reload cleared granian's wake-up, and the
    server never stopped); the reload's client is answered."""
    env = {"CMPKG_RELOAD_TOKEN": TOKEN, "CMPKG_QUERY_WORKERS": "1"}
    with cmpkg_serve(tmp_path, ["--workers", str(WORKERS)], env) as server:
        lines = [PARTNER.format(label="big")]  # enough to take the build a second or more
        lines += [f'<partner/t{i}> a rdfs:Resource ; rdfs:label "t{i}" .\n' for i in range(40_000)]
        server.partner.write_text("".join(lines))
        answers: list[tuple[int, str]] = []
        asker = threading.Thread(target=lambda: answers.append(server.reload()))
        asker.start()
        time.sleep(0.3)  # the main process is building the new store
        server.process.terminate()
        server.process.wait(timeout=SWITCH_SECONDS)
        asker.join(SWITCH_SECONDS)
        assert len(answers) == 1, server.log.read_text()
        status, text = answers[0]
        assert (status, text.startswith("reloaded:")) == (200, True) or (status, "stopping" in text) == (
            503,
            True,
        ), text


def test_a_reload_asked_of_a_main_process_that_is_gone_says_so(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    outcome = ReloadChannel(tmp_path, gone.pid).request(wait_seconds=5)
    assert outcome.status == 503
    assert "main process is gone" in outcome.message


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


@pytest.mark.parametrize("threads", [1, 2])
def test_a_worker_runs_as_many_requests_at_once_as_it_has_threads(tmp_path: Path, threads: int) -> None:
    """With one thread a request waits for the one before it (here a query running to its 3 s timeout), so
    it is answered just after that one; with two, it is answered meanwhile, seconds before."""
    env = {"CMPKG_QUERY_TIMEOUT": "3", "CMPKG_QUERY_WORKERS": "1"}
    with cmpkg_serve(tmp_path, ["--workers", "1", "--threads", str(threads)], env) as served:
        answered: dict[str, float] = {}
        statuses: list[int] = []
        started = threading.Event()

        def slow() -> None:
            body = urllib.parse.urlencode({"query": RUNAWAY}).encode()
            request = urllib.request.Request(served.url + "/sparql", data=body)
            started.set()
            try:
                urllib.request.urlopen(request, timeout=60).close()
                statuses.append(200)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
            answered["runaway query"] = time.monotonic()

        runaway = threading.Thread(target=slow)
        runaway.start()
        started.wait()
        time.sleep(1.0)  # the query is now running
        with urllib.request.urlopen(served.url + "/robots.txt", timeout=60) as reply:
            assert reply.status == 200
        answered["robots.txt"] = time.monotonic()
        runaway.join()
    assert statuses == [503]  # stopped at the timeout
    # The two answers arrive on two client threads: which one records first is a race when they come
    # together (one thread), so compare how far apart they came, with a second of slack either way.
    lead = answered["runaway query"] - answered["robots.txt"]
    if threads == 1:
        assert lead < 1.0  # robots.txt waited for the query's thread
    else:
        assert lead > 1.0  # answered while the query ran (it had 2 s left)
