"""The embedded store: building it (in memory, and on disk with Oxigraph's bulk loader), and which queries may
skip the hand-off to a query worker (a fast one asked again) and which never do (slow ones, SERVICE calls)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

import publisher.store as store_module
from bench.servers import process_memory_mb
from publisher.iris import Iris
from publisher.query_execution import Answer, QueryJob, QueryTimeoutError
from publisher.query_workers import IDLE_BEFORE_TRIM_SECONDS, QueryWorkers, WorkerOptions, fork_worker
from publisher.rdf_files import RdfFileError, read_graph
from publisher.site import Site
from publisher.store import CURRENT, HASH_IRIS, EmbeddedStore, build_store, open_generation, open_store
from tests.conftest import BASE

PLANS = """PREFIX cmp: <ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?plan ?label WHERE { ?plan a cmp:ActionPlan ; rdfs:label ?label } ORDER BY ?plan"""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
PARTNER = "http://partner.example/"


def partner_files(directory: Path, items: int = 300) -> list[Path]:
    """An N-Triples file and a Turtle file, as a partner would publish beside the project."""
    triples = directory / "items.nt"
    triples.write_text(
        "".join(f'<{PARTNER}item/{n}> <{PARTNER}label> "item {n}" .\n' for n in range(items))
        + f"<{PARTNER}item/0> <{PARTNER}next> <{PARTNER}item/1> .\n"
    )
    turtle = directory / "about.ttl"
    turtle.write_text(f'<{PARTNER}about> <{PARTNER}label> "about", "à propos"@fr .\n')
    return [triples, turtle]


def graph_in(store: EmbeddedStore, graph: str) -> Graph:
    """One named graph of the store, as rdflib reads it (blank nodes compared by isomorphism)."""
    triples = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return Graph().parse(data=triples.serialize(format=ox.RdfFormat.N_TRIPLES), format="nt")


def project_graph(site: Site) -> Graph:
    graph = Graph()
    for path in site.turtle_files():
        graph += read_graph(path, BASE)
    return graph


@pytest.fixture
def bulk_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file goes through the bulk loader (by default only files from 1 MB do)."""
    monkeypatch.setattr(store_module, "BULK_LOAD_BYTES", 0)


# Building -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("on_disk", [False, True], ids=["in memory", "on disk"])
def test_each_file_is_loaded_into_its_own_graph_and_counted(
    tmp_path: Path, site: Site, iris: Iris, on_disk: bool, bulk_always: None
) -> None:
    extra = tmp_path / "partner"
    extra.mkdir()
    partner_files(extra)
    store, report = build_store(site, iris, [extra], tmp_path / "store" if on_disk else None)
    try:
        counted = {graph: quads for _, graph, quads in report.files}
        assert counted[BASE + "graph/items"] == 301
        assert counted[BASE + "graph/about"] == 2
        assert store.graph_sizes()[BASE + "graph/items"] == 301
        data = project_graph(site)
        assert store.triples() == len(data) + 303
        assert report.quads == sum(store.graph_sizes().values())
        labels = store.query(
            f'SELECT ?o WHERE {{ <{PARTNER}about> <{PARTNER}label> ?o FILTER(lang(?o) = "fr") }}'
        )
        assert [row["o"].value for row in labels] == ["à propos"]
    finally:
        store.close()


def _open_files_under(directory: Path) -> int:
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if str(fd.resolve()).startswith(str(directory)))


def test_a_released_disk_store_closes_its_database_and_keeps_its_version(
    tmp_path: Path, site: Site, iris: Iris
) -> None:
    served = open_store(site, iris, [], tmp_path / "store")
    try:
        version = served.version
        assert served.exists(BASE + "plan/2018-2020")  # reads the database (and fills its caches)
        assert _open_files_under(tmp_path / "store") > 0
        served.release()  # what the server's main process does before it forks its workers
        assert _open_files_under(tmp_path / "store") == 0
        assert served.version == version  # the workers' adoption of its caches still checks it
    finally:
        served.close()


class _NoQueries:
    """A store that answers quad patterns but fails any query (a scan of the whole store)."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def quads_for_pattern(self, *pattern: object) -> object:
        return self.store.quads_for_pattern(*pattern)  # type: ignore[arg-type]

    def query(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("the store was scanned")


def test_a_disk_generation_keeps_its_hash_iris_so_opening_it_needs_no_scan(
    tmp_path: Path, site: Site, iris: Iris
) -> None:
    build_store(site, iris, [], tmp_path / "store")
    generation = tmp_path / "store" / (tmp_path / "store" / CURRENT).read_text().strip()
    kept = json.loads((generation / HASH_IRIS).read_text())
    topic = f"{BASE}ontology#Topic"
    assert topic in kept[f"{BASE}ontology"]
    opened = open_generation(generation, WorkerOptions())
    try:
        opened.store = _NoQueries(opened.store)  # type: ignore[assignment]
        assert opened.exists(topic)
        description = opened.describe(f"{BASE}ontology")
        assert description is not None
        assert ox.NamedNode(topic) in {t.subject for t in description.statements}
    finally:
        opened.close()


def test_the_disk_store_holds_what_the_memory_store_holds(
    tmp_path: Path, site: Site, iris: Iris, bulk_always: None
) -> None:
    partner_files(tmp_path)
    memory, _ = build_store(site, iris, [tmp_path / "items.nt"])
    disk, _ = build_store(site, iris, [tmp_path / "items.nt"], tmp_path / "store")
    try:
        assert disk.graph_sizes() == memory.graph_sizes()
        assert disk.version == memory.version  # the same files: the same ETags on either store
        for graph in memory.graph_sizes():
            assert isomorphic(graph_in(disk, graph), graph_in(memory, graph)), graph
    finally:
        memory.close()
        disk.close()


def test_a_syntax_error_in_a_bulk_loaded_file_names_its_line_and_keeps_the_built_store(
    tmp_path: Path, site: Site, iris: Iris, bulk_always: None
) -> None:
    partner_files(tmp_path)
    store_path = tmp_path / "store"
    first, _ = build_store(site, iris, [tmp_path / "items.nt"], store_path)
    first.close()
    current = (store_path / CURRENT).read_text()
    broken = tmp_path / "items.nt"
    broken.write_text(f'<{PARTNER}a> <{PARTNER}label> "fine" .\n<{PARTNER}b> <{PARTNER}label> "open .\n')
    with pytest.raises(RdfFileError) as raised:
        build_store(site, iris, [broken], store_path)
    assert str(raised.value).startswith(f"{broken}:2:")
    assert (store_path / CURRENT).read_text() == current  # the store built before is still the one served
    assert len(list(store_path.glob("gen-*"))) == 1  # and the half-built one is gone


# Queries run in the request's thread, or not ------------------------------------------------------------


@pytest.fixture
def worker_runs(monkeypatch: pytest.MonkeyPatch) -> list[QueryJob]:
    """The jobs handed to a query worker, in order."""
    runs: list[QueryJob] = []
    hand_off = QueryWorkers.run

    def counted(self: QueryWorkers, job: QueryJob, timeout: float) -> Answer:
        runs.append(job)
        return hand_off(self, job, timeout)

    monkeypatch.setattr(QueryWorkers, "run", counted)
    return runs


def test_a_fast_query_asked_again_gives_the_same_answer_without_a_worker(
    site: Site, iris: Iris, worker_runs: list[QueryJob]
) -> None:
    store = open_store(site, iris, workers=WorkerOptions(size=1, inline_ms=1000))
    job = QueryJob(PLANS, iris.base)
    try:
        first = store.execute(job, 10)
        again = [store.execute(job, 10) for _ in range(3)]
    finally:
        store.close()
    assert worker_runs == [job]  # only the first time
    assert all(answer == first for answer in again)
    plans = {b["plan"]["value"] for b in json.loads(first.body)["results"]["bindings"]}
    assert BASE + "plan/2018-2020" in plans


def test_a_query_slower_than_query_inline_ms_always_runs_in_a_worker(
    site: Site, iris: Iris, worker_runs: list[QueryJob]
) -> None:
    store = open_store(site, iris, workers=WorkerOptions(size=1, inline_ms=0.000001))
    job = QueryJob(PLANS, iris.base)
    try:
        answers = [store.execute(job, 10) for _ in range(3)]
    finally:
        store.close()
    assert worker_runs == [job] * 3
    assert answers[1:] == answers[:1] * 2


def test_a_query_stopped_at_the_timeout_is_stopped_again_every_time(
    site: Site, iris: Iris, worker_runs: list[QueryJob]
) -> None:
    store = open_store(site, iris, workers=WorkerOptions(size=1, inline_ms=1000))
    job = QueryJob(RUNAWAY, iris.base)
    try:
        for _ in range(2):
            with pytest.raises(QueryTimeoutError):
                store.execute(job, 0.5)
    finally:
        store.close()
    assert worker_runs == [job] * 2


def test_a_query_calling_a_service_always_runs_in_a_worker(
    site: Site, iris: Iris, worker_runs: list[QueryJob]
) -> None:
    store = open_store(site, iris, workers=WorkerOptions(size=1, inline_ms=1000))
    # The endpoint marks a job whose query has a SERVICE clause (publisher.endpoint); its time is another
    # server's, so however fast it was once it is never run without the timeout.
    job = QueryJob(PLANS, iris.base, calls_services=True)
    try:
        answers = [store.execute(job, 10) for _ in range(2)]
    finally:
        store.close()
    assert worker_runs == [job] * 2
    assert answers[0] == answers[1]


def test_query_workers_start_one_at_a_time_as_queries_find_them_busy(site: Site, iris: Iris) -> None:
    store = open_store(site, iris, workers=WorkerOptions(size=3, inline_ms=0))
    slow = QueryJob("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . FILTER (?c = ?f) }", iris.base)
    try:
        store.execute(QueryJob(PLANS, iris.base), 30)
        pool = store.current._pool
        assert pool is not None
        assert pool.size == 1  # queries one at a time: one worker
        with ThreadPoolExecutor(2) as clients:
            answers = list(clients.map(lambda job: store.execute(job, 60), [slow, slow]))
        assert answers[0] == answers[1]
        assert pool.size == 2  # the second query found the first worker busy: one more, not three
    finally:
        store.close()


def _resident_mb(pid: int) -> float:
    found = process_memory_mb(pid, "VmRSS")
    assert found is not None, f"no VmRSS for process {pid}"
    return found


def test_a_query_worker_gives_back_a_big_query_s_memory_once_idle_not_between_queries() -> None:
    data = ox.Store()
    data.extend(
        ox.Quad(ox.NamedNode(f"{PARTNER}s{n}"), ox.NamedNode(f"{PARTNER}p{n % 7}"), ox.Literal(f"v{n}"))
        for n in range(150_000)
    )
    workers = QueryWorkers(lambda: fork_worker(data), 1)
    grouping = QueryJob("SELECT ?s (GROUP_CONCAT(?o) AS ?all) { ?s ?p ?o } GROUP BY ?s ORDER BY ?all")
    try:
        (worker,) = workers._all
        before = _resident_mb(worker.pid)
        workers.run(grouping, 60)
        after_query = _resident_mb(worker.pid)
        assert after_query > before + 20  # the grouping's tables, freed but kept by malloc
        workers.run(QueryJob("ASK {}"), 60)  # straight after: the memory is kept for the next query
        assert _resident_mb(worker.pid) > before + 20
        time.sleep(IDLE_BEFORE_TRIM_SECONDS + 1.0)
        assert _resident_mb(worker.pid) < after_query - 15  # idle: given back
    finally:
        workers.close()
