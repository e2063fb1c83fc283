"""Remote stores: cmpkg (`cmpkg serve --store URL`, granian) in front of an Oxigraph server and Virtuoso.

For each size and store: the store is started on 127.0.0.1 with a temporary directory (tests/servers.py),
the project and the synthetic file are pushed into it (publisher.push, validation off: `make validate` and
the validation section check the data), then

- the saved queries and the bench's probes are timed through cmpkg's /sparql and sent to the store directly
  (the same text, with the dataset cmpkg names: the pushed graphs as default-graph-uri and named-graph-uri),
  runs interleaved;
- entity pages (HTML and Turtle of a sub-task, a CMP and an action plan) are timed through cmpkg, each run a
  page cmpkg has not rendered before (so nothing is answered from its caches), next to the SPARQL requests
  cmpkg sends for that page (recorded from an app in this process) sent to the store directly, one after
  the other over one keep-alive connection;
- page throughput with 1, 2 and 4 cmpkg workers is loaded by wrk (bench/load.py, 8 connections): one page
  again and again (served from cmpkg's page cache), and distinct pages (each URL once while they last).

`python -m bench.remote_bench push LOCATION_JSON BASE FILE` is the push, run in a child process so that a
slow one can be stopped at the cap.
"""

from __future__ import annotations

import contextlib
import http.client
import inspect
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.common import ROOT, Options, fmt_ms, fmt_s, json_from_child, label, ratio, yes
from bench.load import SOCKET_ERRORS, LoadGeneratorMissing, LoadResult, parse_wrk, run_wrk, wrk_available
from bench.queries import Query, load_queries
from bench.report import Section, Table
from bench.servers import BIN, Connection, Server, ServerError

STORES = ("oxigraph", "virtuoso")
STORE_NAMES = {"oxigraph": "Oxigraph server", "virtuoso": "Virtuoso"}
WORKERS = (1, 2, 4)
CONNECTIONS = 8
PAGE_FORMATS = (("HTML", "text/html"), ("Turtle", "text/turtle"))
ONTOLOGY = "ontology#"
PAGE_KINDS = (  # (name, class in the cmp ontology, IRI prefix under the base)
    ("sub-task", "SubTask", "plan/synthetic-"),
    ("CMP", "ConservationManagementPlan", "cmp/synthetic-"),
    ("action plan", "ActionPlan", "plan/synthetic-"),
)
DISTINCT_PAGES = 20000  # at most this many URLs for the distinct-pages load
TARGET_RATIO = 1.2  # issue 5: cmpkg adds at most 20% to the store's own median latency
VIRTUOSO_BUFFERS = 170000  # 8 kB pages: about 1.3 GB, what Virtuoso's own notes give for 1-2M triples
# Above this size the section is not run: at 1M, `cmpkg push` into the Oxigraph server took 490 s and each
# `cmpkg serve` start 420 s (its start-up computes every dump from the store), past the ~10 minutes the
# section may take; Virtuoso's slowest saved query takes 12-14 s already at 100k (docs/performance.md).
MAX_SIZE = 100_000
STORE_TIMEOUT_S = 600  # the store's own query time limit: a benchmark must not be cut short


class BenchFailed(RuntimeError):
    pass


# The store and cmpkg in front of it -------------------------------------------------------------------


@contextlib.contextmanager
def running_store(kind: str) -> Iterator[tuple[Any, float]]:
    """A store server (tests/servers.py) in a temporary directory, and the seconds it took to start;
    stopped and removed on leaving."""
    from tests.servers import oxigraph_binary, oxigraph_server, virtuoso_binary, virtuoso_server

    if kind == "virtuoso" and virtuoso_binary() is None:
        raise ServerError("no `virtuoso-t` (Debian package virtuoso-opensource)")
    if kind == "oxigraph" and oxigraph_binary() is None:
        raise ServerError("no `oxigraph` command (PyPI package oxigraph, in the test extra)")
    directory = Path(tempfile.mkdtemp(prefix=f"cmpkg-bench-{kind}-"))
    if kind == "virtuoso":
        server = virtuoso_server(
            directory, VIRTUOSO_BUFFERS, query_limit_s=STORE_TIMEOUT_S, cost_limit_s=STORE_TIMEOUT_S * 10
        )
    else:
        # No --timeout-s: Oxigraph keeps a thread per query for that long (docs/deploy.md), and at page rates
        # a long timeout runs the server out of threads; the benchmark's queries all end.
        server = oxigraph_server(directory, timeout_s=None)
    try:
        started = time.perf_counter()
        try:
            server.start()
        except RuntimeError as error:
            raise ServerError(str(error)[-300:]) from None
        yield server, time.perf_counter() - started
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def push_in_child(server: Any, base: str, file: Path, cap: float) -> dict[str, Any]:
    """Push the project and `file` into the store from a fresh process; its report, or why not."""
    location = {
        "query_url": server.query_url,
        "update_url": server.update_url,
        "gsp_url": server.gsp_url,
        "user": server.user,
    }
    command = [sys.executable, "-m", "bench.remote_bench", "push", json.dumps(location), base, str(file)]
    environment = {**os.environ, "BENCH_STORE_PASSWORD": server.password}
    return json_from_child(command, cap, environment)


def push_main(location_json: str, base: str, file: str) -> None:
    from publisher.iris import Iris
    from publisher.push import push
    from publisher.site import Site
    from publisher.sparql_client import SparqlClient, StoreLocation

    location = StoreLocation(**json.loads(location_json), password=os.environ.get("BENCH_STORE_PASSWORD", ""))
    started = time.perf_counter()
    try:
        report = push(Site(ROOT), Iris(base), SparqlClient(location, 600), [Path(file)], validate=False)
    except Exception as error:  # reported to the parent as this cell's value
        print(json.dumps({"error": f"{type(error).__name__}: {error}"[:300]}))
        return
    print(json.dumps({"seconds": time.perf_counter() - started, "triples": report.triples}))


class CmpkgRemote(Server):
    """`cmpkg serve --store URL --workers N` (granian), with query_timeout raised for the benchmark."""

    path = "/sparql"
    ready_path = "/robots.txt"
    ready_only_on_200 = True

    def __init__(self, store_url: str, base: str, workers: int) -> None:
        super().__init__()
        self.store_url, self.base, self.workers = store_url, base, workers
        self.name = f"cmpkg --workers {workers}"

    def command(self) -> list[str]:
        serve = ["serve", "--store", self.store_url, "--workers", str(self.workers)]
        serve += ["--host", "127.0.0.1", "--port", str(self.port)]
        return [str(BIN / "cmpkg"), "--site", str(ROOT), "--base-iri", self.base, *serve]

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "CMPKG_QUERY_TIMEOUT": str(STORE_TIMEOUT_S),
            "CMPKG_WARM_UP_BEFORE_SERVING": "true",
        }


@dataclass(frozen=True)
class StoreRequest:
    """One SPARQL query as cmpkg sent it (or would send it): the form body and the Accept header."""

    body: bytes
    accept: str


def query_body(sparql: str, default: tuple[str, ...] = (), named: tuple[str, ...] = ()) -> bytes:
    params = {"query": sparql, "default-graph-uri": list(default), "named-graph-uri": list(named)}
    return urlencode(params, doseq=True).encode()


def checked(status: int, body: bytes, what: str) -> bytes:
    if status != 200:
        raise BenchFailed(f"{what}: HTTP {status}: {body[:160].decode('utf-8', 'replace')}")
    return body


def count_rows(body: bytes, query: Query) -> int:
    if query.form in {"CONSTRUCT", "DESCRIBE"}:
        return sum(1 for line in body.splitlines() if line.strip())
    answer = json.loads(body)
    return 1 if "boolean" in answer else len(answer["results"]["bindings"])


@dataclass
class Pair:
    """Interleaved timings of cmpkg and the store directly (milliseconds)."""

    cmpkg: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    describe: list[float] = field(default_factory=list)  # pages: the store's own DESCRIBE of the entity
    rows: tuple[int, int] | None = None
    queries: int = 0  # SPARQL requests per page
    error: str = ""

    def median(self, which: str) -> float | None:
        samples = {"cmpkg": self.cmpkg, "direct": self.direct, "describe": self.describe}[which]
        return statistics.median(samples) if samples else None

    def cells(self) -> list[str]:
        if self.error:
            return [self.error[:90], "–", "–", "–"]
        cmpkg, direct = self.median("cmpkg"), self.median("direct")
        if cmpkg is None or direct is None:
            return ["no run", "–", "–", "–"]
        return [fmt_ms(direct), fmt_ms(cmpkg), ratio(cmpkg, direct), f"{cmpkg - direct:+.2f}"]

    def met(self) -> bool | None:
        cmpkg, direct = self.median("cmpkg"), self.median("direct")
        if self.error or cmpkg is None or direct is None:
            return None
        return cmpkg <= TARGET_RATIO * direct


def interleave(
    rounds: int,
    warmup: int,
    budget: float,
    cmpkg: Callable[[int], float],
    direct: Callable[[int], float],
    describe: Callable[[int], float] | None = None,
) -> Pair:
    """`rounds` runs of each (the order alternating), the first `warmup` not counted, within `budget` s.
    A slow query is warm after one round: once warming has taken a quarter of the budget, the next round
    counts (so a query of several seconds at 1M is run two or three times, not seven)."""
    pair = Pair()
    started = time.monotonic()
    runs = [(pair.cmpkg, cmpkg), (pair.direct, direct)]
    if describe is not None:
        runs.append((pair.describe, describe))
    for number in range(rounds):
        spent = time.monotonic() - started
        if pair.cmpkg and spent > budget:
            break
        if number < warmup and number > 0 and spent > budget / 4:
            warmup = number
        for samples, run in runs if number % 2 == 0 else reversed(runs):
            seconds = run(number)
            if number >= warmup:
                samples.append(seconds * 1000)
    return pair


# Saved queries -----------------------------------------------------------------------------------------


def time_queries(
    cmpkg: Connection, store: Connection, store_path: str, graphs: tuple[str, ...], options: Options
) -> dict[str, Pair]:
    pairs: dict[str, Pair] = {}
    # The floor: the cheapest query there is, so all of its time is the round trip and cmpkg's handling.
    floor = Query("floor/ask_empty", "ASK {}", form="ASK")
    for query in [floor, *load_queries(options.base)]:
        if query.skip:
            continue
        via_cmpkg = query_body(query.text)
        direct = query_body(query.text, graphs, graphs)
        answers: dict[str, int] = {}

        def run_cmpkg(
            _: int, query: Query = query, body: bytes = via_cmpkg, answers: dict[str, int] = answers
        ) -> float:
            started = time.perf_counter()
            answer = checked(*cmpkg.send("POST", "/sparql", query.accept, body), "cmpkg")
            seconds = time.perf_counter() - started
            answers["cmpkg"] = count_rows(answer, query)
            return seconds

        def run_direct(
            _: int, query: Query = query, body: bytes = direct, answers: dict[str, int] = answers
        ) -> float:
            started = time.perf_counter()
            answer = checked(*store.send("POST", store_path, query.accept, body), "the store")
            seconds = time.perf_counter() - started
            answers["direct"] = count_rows(answer, query)
            return seconds

        try:
            pair = interleave(
                options.warmup + options.reps, options.warmup, 2 * options.query_budget, run_cmpkg, run_direct
            )
            pair.rows = (answers["direct"], answers["cmpkg"])
        except (BenchFailed, OSError, http.client.HTTPException, ValueError) as error:
            pair = Pair(error=f"error: {error}")
        pairs[query.name] = pair
        print(f"    {query.name}: {' '.join(pair.cells())}", file=sys.stderr)
    return pairs


# Entity pages -----------------------------------------------------------------------------------------


def entities(store: Connection, store_path: str, graphs: tuple[str, ...], base: str) -> dict[str, list[str]]:
    """IRIs of each kind of page, in a fixed shuffled order (the same every run)."""
    found: dict[str, list[str]] = {}
    for name, cls, prefix in PAGE_KINDS:
        sparql = (
            f"SELECT ?s WHERE {{ ?s a <{base}{ONTOLOGY}{cls}> "
            f'FILTER (STRSTARTS(STR(?s), "{base}{prefix}")) }}'
        )
        body = checked(
            *store.send("POST", store_path, "application/sparql-results+json", query_body(sparql, graphs)),
            f"listing {name} pages",
        )
        iris = sorted(row["s"]["value"] for row in json.loads(body)["results"]["bindings"])
        random.Random(1).shuffle(iris)
        found[name] = iris
    return found


class PageRecorder:
    """cmpkg's app in this process, recording the SPARQL requests each page sends to the store."""

    def __init__(self, store_url: str, base: str) -> None:
        from publisher.app import create_app
        from publisher.config import load_settings
        from publisher.views.context import STORE_KEY

        settings = load_settings(
            overrides={
                "store_url": store_url,
                "site_dir": str(ROOT),
                "base_iri": base,
                "query_timeout": STORE_TIMEOUT_S,
                "store_check_interval": 1e9,  # no version check inside a recorded page
                "page_cache_mb": 0,
            }
        )
        self.app = create_app(settings)
        self.base = base
        self.recorded: list[StoreRequest] = []
        client = self.app.extensions[STORE_KEY].client
        sent = client.query

        signature = inspect.signature(sent)

        def recording(*args: Any, **kwargs: Any) -> Any:
            given = signature.bind(*args, **kwargs).arguments
            default = tuple(given.get("default_graphs") or ())
            named = tuple(given.get("named_graphs") or ())
            self.recorded.append(StoreRequest(query_body(given["sparql"], default, named), given["accept"]))
            return sent(*args, **kwargs)

        client.query = recording
        self.client = self.app.test_client()

    def record(self, iri: str, accept: str) -> list[StoreRequest]:
        self.recorded = []
        response = self.client.get("/" + iri[len(self.base) :], headers={"Accept": accept})
        if response.status_code != 200:
            raise BenchFailed(f"<{iri}> answered {response.status_code} in process")
        return self.recorded


def time_pages(
    cmpkg: Connection,
    store: Connection,
    store_url: str,
    graphs: tuple[str, ...],
    kinds: dict[str, list[str]],
    options: Options,
) -> dict[tuple[str, str], Pair]:
    """Each page kind and format: cmpkg's page vs the requests it sends, each run a page not seen before."""
    recorder = PageRecorder(store_url, options.base)
    store_path = urlsplit(store_url).path
    pairs: dict[tuple[str, str], Pair] = {}
    warm = next(iter(kinds.values()))[-1]
    recorder.record(warm, "text/turtle")  # the app's first page also reads what it keeps per data version
    cmpkg.send("GET", "/" + warm[len(options.base) :], "text/turtle")
    for kind, iris in kinds.items():
        for index, (fmt, accept) in enumerate(PAGE_FORMATS):
            # HTML and Turtle of one entity share cmpkg's cached description: each format its own entities
            chosen = iris[index : len(iris) - 1 : len(PAGE_FORMATS)][: options.warmup + options.reps]
            if len(chosen) <= options.warmup:
                pairs[(kind, fmt)] = Pair(error=f"only {len(chosen)} such pages")
                continue
            try:
                requests = [recorder.record(iri, accept) for iri in chosen]
            except BenchFailed as error:
                pairs[(kind, fmt)] = Pair(error=f"error: {error}")
                continue

            def run_cmpkg(number: int, chosen: list[str] = chosen, accept: str = accept) -> float:
                started = time.perf_counter()
                path = "/" + chosen[number][len(options.base) :]
                checked(*cmpkg.send("GET", path, accept), f"cmpkg {path}")
                return time.perf_counter() - started

            def run_direct(number: int, requests: list[list[StoreRequest]] = requests) -> float:
                started = time.perf_counter()
                for request in requests[number]:
                    checked(*store.send("POST", store_path, request.accept, request.body), "the store")
                return time.perf_counter() - started

            def run_describe(number: int, chosen: list[str] = chosen) -> float:
                body = query_body(f"DESCRIBE <{chosen[number]}>", graphs, graphs)
                started = time.perf_counter()
                checked(*store.send("POST", store_path, "text/turtle", body), "the store's DESCRIBE")
                return time.perf_counter() - started

            try:
                pair = interleave(
                    len(chosen), options.warmup, 2 * options.query_budget, run_cmpkg, run_direct, run_describe
                )
            except (BenchFailed, OSError, http.client.HTTPException) as error:
                pair = Pair(error=f"error: {error}")
            pair.queries = round(statistics.median(len(r) for r in requests))
            pairs[(kind, fmt)] = pair
            print(f"    {kind} {fmt} ({pair.queries} queries): {' '.join(pair.cells())}", file=sys.stderr)
    return pairs


# Throughput -------------------------------------------------------------------------------------------

WRK_SCRIPT = """\
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  step = tonumber(args[2])
  n = id
  statuses = {}
end
function request()
  local path = paths[(n % #paths) + 1]
  n = n + step
  return wrk.format("GET", path, {["Accept"] = "text/html"})
end
function response(status, headers, body)
  if status >= 400 then statuses[status] = (statuses[status] or 0) + 1 end
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
  end
  for status, count in pairs(total) do io.write(string.format("status %d: %d\\n", status, count)) end
end
"""
_STATUS = re.compile(r"^status (\d+): (\d+)$", re.MULTILINE)
SOCKET_KINDS = ("connect", "read", "write", "timeout")


def run_wrk_distinct(
    base_url: str, paths: list[str], seconds: float, threads: int = 2
) -> tuple[LoadResult, str]:
    """wrk over distinct paths (each thread walks its share of the list in turn); error statuses seen."""
    with tempfile.TemporaryDirectory(prefix="cmpkg-bench-wrk-") as directory:
        script, listing = Path(directory) / "paths.lua", Path(directory) / "paths.txt"
        script.write_text(WRK_SCRIPT)
        listing.write_text("\n".join(paths) + "\n")
        command = ["wrk", "--latency", "-t", str(threads), "-c", str(CONNECTIONS), "-d", f"{round(seconds)}s"]
        command += ["-s", str(script), base_url, "--", str(listing), str(threads)]
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    errors = [f"{count} x {status}" for status, count in sorted(_STATUS.findall(out))]
    socket = SOCKET_ERRORS.search(out)  # wrk's "timeout": no answer within its 2 s
    if socket:
        counts = zip(SOCKET_KINDS, socket.groups(), strict=True)
        errors += [f"{count} x socket {kind}" for kind, count in counts if count != "0"]
    return parse_wrk(out, base_url, CONNECTIONS, seconds), ", ".join(errors)


@dataclass
class Throughput:
    store: str
    load: str
    workers: int
    result: LoadResult | None = None
    note: str = ""


def load_seconds(options: Options) -> float:
    return 5.0 if options.reps <= 5 else 10.0


def store_state(server: Any) -> str:
    """Whether the store server still runs, and if not its exit status and last output."""
    exited = server.process.poll() if server.process else None
    return "store running" if exited is None else f"store exited with {exited}: {server.log_tail()[-300:]}"


def time_throughput(
    store_kind: str, server: Any, page: str, distinct: list[str], options: Options
) -> list[Throughput]:
    results: list[Throughput] = []
    seconds = load_seconds(options)
    for workers in WORKERS:
        try:
            with CmpkgRemote(server.query_url, options.base, workers) as cmpkg:
                url = f"http://127.0.0.1:{cmpkg.port}"
                run_wrk(url + page, CONNECTIONS, 2, {"Accept": "text/html"})  # every worker renders it once
                one = Throughput(store_kind, "one page", workers)
                one.result = run_wrk(url + page, CONNECTIONS, seconds, {"Accept": "text/html"})
                many = Throughput(store_kind, "distinct pages", workers)
                many.result, statuses = run_wrk_distinct(url, distinct, seconds)
                if statuses:
                    many.note = f"errors: {statuses}; {store_state(server)}; cmpkg: {cmpkg.output_tail(3)}"
                    print(f"    {many.note}", file=sys.stderr)
                results += [one, many]
        except (ServerError, subprocess.SubprocessError, ValueError, LoadGeneratorMissing) as error:
            results.append(Throughput(store_kind, "–", workers, note=f"error: {str(error)[:120]}"))
        for row in results[-2:]:
            if row.result is not None:
                r = row.result
                print(
                    f"    {store_kind} {row.load} workers {workers}: {r.requests_per_s:.0f} req/s, "
                    f"p99 {r.p99_ms:.1f} ms, {r.requests} requests, non-2xx {r.non_2xx_3xx}",
                    file=sys.stderr,
                )
    return results


# The section ------------------------------------------------------------------------------------------


@dataclass
class StoreRun:
    store: str
    size: int
    start_s: float | None = None
    cmpkg_start_s: float | None = None
    push: dict[str, Any] = field(default_factory=dict)
    queries: dict[str, Pair] = field(default_factory=dict)
    pages: dict[tuple[str, str], Pair] = field(default_factory=dict)
    throughput: list[Throughput] = field(default_factory=list)
    distinct_urls: int = 0
    note: str = ""


def run_store(kind: str, size: int, file: Path, options: Options) -> StoreRun:
    from publisher.remote_store import read_state
    from publisher.sparql_client import SparqlClient, StoreLocation

    run = StoreRun(kind, size)
    print(f"  {label(size)} {STORE_NAMES[kind]}: starting, pushing {file.name} ...", file=sys.stderr)
    try:
        with running_store(kind) as (server, run.start_s):
            run.push = push_in_child(server, options.base, file, options.build_cap)
            print(f"    push: {run.push}", file=sys.stderr)
            if "seconds" not in run.push:
                why = f">{options.build_cap:.0f} s cap" if run.push.get("timeout") else run.push.get("error")
                run.note = f"push did not finish: {why}"
                return run
            graphs = read_state(SparqlClient(StoreLocation(server.query_url), 60), options.base).graphs
            store_url, store_path = server.query_url, urlsplit(server.query_url).path
            store = Connection(int(urlsplit(store_url).port or 80), STORE_TIMEOUT_S)
            kinds = entities(store, store_path, graphs, options.base)
            with CmpkgRemote(store_url, options.base, 1) as cmpkg:
                run.cmpkg_start_s = cmpkg.startup_seconds
                front = Connection(cmpkg.port, STORE_TIMEOUT_S)
                run.queries = time_queries(front, store, store_path, graphs, options)
                run.pages = time_pages(front, store, store_url, graphs, kinds, options)
                front.close()
            pages = [iri for iris in kinds.values() for iri in iris]
            everything = all_pages(store, store_path, graphs, options.base)
            distinct = ["/" + iri[len(options.base) :] for iri in everything[:DISTINCT_PAGES]]
            run.distinct_urls = len(distinct)
            store.close()
            if not wrk_available():
                run.note = "throughput not measured: wrk is not installed (apt-get install wrk)"
            else:
                page = "/" + pages[0][len(options.base) :]
                run.throughput = time_throughput(kind, server, page, distinct, options)
    except (ServerError, BenchFailed, OSError) as error:
        run.note = f"{type(error).__name__}: {str(error)[:200]}"
    return run


def all_pages(store: Connection, store_path: str, graphs: tuple[str, ...], base: str) -> list[str]:
    """Every typed entity under the base (its HTML page exists), in a fixed shuffled order."""
    sparql = f'SELECT DISTINCT ?s WHERE {{ ?s a ?type FILTER (STRSTARTS(STR(?s), "{base}")) }}'
    body = query_body(sparql, graphs)
    answer = checked(*store.send("POST", store_path, "application/sparql-results+json", body), "pages")
    iris = sorted(
        row["s"]["value"] for row in json.loads(answer)["results"]["bindings"] if "#" not in row["s"]["value"]
    )
    random.Random(2).shuffle(iris)
    return iris


def remote_section(options: Options, files: dict[int, Path]) -> Section:
    section = Section("remote", "Remote stores: cmpkg in front of the Oxigraph server and Virtuoso")
    seconds = load_seconds(options)
    section.intro = (
        "cmpkg is `cmpkg serve --store URL` (granian, 1 worker of 4 threads for the latencies) in front of "
        "an Oxigraph server (PyPI `oxigraph`, on disk in a temporary directory, no `--timeout-s`: see "
        "docs/deploy.md) and Virtuoso "
        f"7 (Debian `virtuoso-opensource`, {VIRTUOSO_BUFFERS * 8 // 1024} MB of buffers), both on 127.0.0.1; "
        "each store is loaded by `cmpkg push` (publisher.push through the Graph Store Protocol, validation "
        "off). Latencies: medians in ms over up to "
        f"{options.reps} runs after {options.warmup} warm-up runs, cmpkg's and the store's runs "
        "interleaved, each client on one keep-alive connection. **Queries**: the saved queries (bound with "
        "their defaults, as `/queries/<name>` binds them) and the bench's probes (and `floor/ask_empty`, "
        "`ASK {}`: the round trip alone, not counted in the targets), POSTed to cmpkg's /sparql "
        "and to the store's query URL with the dataset cmpkg names (the pushed graphs as "
        "default-graph-uri and named-graph-uri), SELECT as SPARQL JSON, CONSTRUCT as N-Triples. "
        "**Pages**: an entity URL with Accept HTML or Turtle, each run an entity cmpkg has not rendered "
        "before (so no cache answers it); the direct baseline is the SPARQL requests cmpkg sends for that "
        "page (recorded from cmpkg's app in the benchmark's process), sent to the store one after the "
        "other; next to it, the store's own `DESCRIBE <entity>` as Turtle (less than cmpkg's page says: no "
        "neighbours' labels, no links to it). A query of several seconds gets one warm-up run, not "
        f"{options.warmup}. `added ms` is cmpkg's median minus the store's. **Throughput**: wrk "
        f"(bench/load.py), {CONNECTIONS} connections for {seconds:.0f} s per row, on the HTML page of a "
        "sub-task requested again and again (after the first time it comes from cmpkg's page cache), "
        "and on distinct pages (every typed entity, each URL once while they last; `URLs` says how many "
        "there are). Target (issue 5): cmpkg adds at most 20% to the store's own median latency."
    )
    loads = Table(
        ["size", "store", "start-up s", "cmpkg start-up s", "push s", "triples pushed", "note"],
        title="Stores and loading",
    )
    throughput = Table(
        [
            *("size", "store", "load", "URLs", "workers", "req/s", "p50 ms", "p99 ms"),
            *("requests", "errors"),
        ],
        title=f"Page throughput ({CONNECTIONS} connections)",
    )
    targets = Table(["size", "store", "what", f"≤ {TARGET_RATIO}x the store", "worst"], title="Targets")
    runs: list[StoreRun] = []
    for size, file in files.items():
        if size > MAX_SIZE:
            continue
        size_runs = [run_store(kind, size, file, options) for kind in STORES]
        runs += size_runs
        for run in size_runs:
            push = run.push
            loads.add(
                label(size),
                STORE_NAMES[run.store],
                fmt_s(run.start_s) if run.start_s is not None else "–",
                fmt_s(run.cmpkg_start_s) if run.cmpkg_start_s is not None else "–",
                fmt_s(push["seconds"]) if "seconds" in push else "–",
                f"{push['triples']:,}" if "triples" in push else "–",
                run.note or "",
            )
        section.tables.append(query_table(size, size_runs))
        section.tables.append(page_table(size, size_runs))
        for run in size_runs:
            for row in run.throughput:
                if row.result is None:
                    throughput.add(label(size), STORE_NAMES[run.store], row.load, "–", row.workers, row.note)
                    throughput.rows[-1] += ["–"] * 5
                    continue
                r = row.result
                urls = str(run.distinct_urls) if row.load == "distinct pages" else "1"
                throughput.add(
                    *(label(size), STORE_NAMES[run.store], row.load, urls, row.workers),
                    *(f"{r.requests_per_s:,.0f}", fmt_ms(r.p50_ms), fmt_ms(r.p99_ms), f"{r.requests:,}"),
                    r.non_2xx_3xx + r.socket_errors,
                )
                if row.note:
                    where = f"{label(size)} {STORE_NAMES[run.store]}, {row.load}, {row.workers} workers"
                    section.notes.append(f"{where}: {row.note}")
    section.tables.insert(0, loads)
    if throughput.rows:
        section.tables.append(throughput)
    section.tables = [table for table in section.tables if table.rows]
    largest = max(files)
    if not runs:
        section.skip(f"no size at or below {label(MAX_SIZE)} triples was asked for")
    for run in runs:
        if run.size != max(other.size for other in runs if other.store == run.store):
            continue  # each store at the largest size it was run at
        queries = [pair for name, pair in run.queries.items() if not name.startswith("floor/")]
        for what, pairs in (("queries", queries), ("pages", list(run.pages.values()))):
            measured = [pair for pair in pairs if pair.met() is not None]
            if not measured:
                targets.add(label(run.size), STORE_NAMES[run.store], what, "not measured", "–")
                continue
            met = sum(1 for pair in measured if pair.met())
            worst = max(measured, key=lambda p: (p.median("cmpkg") or 0) / (p.median("direct") or 1))
            targets.add(
                label(run.size),
                STORE_NAMES[run.store],
                what,
                f"{met} of {len(measured)}" + ("" if met == len(measured) else " (**no**)"),
                ratio(worst.median("cmpkg"), worst.median("direct")),
            )
    section.targets = targets
    if largest > MAX_SIZE:
        section.notes.append(
            f"Run at {label(MAX_SIZE)} triples at most: at 1M, `cmpkg push` into the Oxigraph server took "
            "490 s and each `cmpkg serve` start 420 s (its start-up computes every dump), past "
            "this section's 10-minute budget on this machine (see docs/performance.md, Findings)."
        )
    return section


def query_table(size: int, runs: list[StoreRun]) -> Table:
    headers = ["query", "rows"]
    for run in runs:
        name = STORE_NAMES[run.store]
        headers += [f"{name} ms", f"cmpkg on {name} ms", "ratio", "added ms"]
    headers.append(f"≤ {TARGET_RATIO}x")
    table = Table(headers, title=f"{label(size)} triples: saved queries, cmpkg /sparql vs the store directly")
    names = [name for run in runs for name in run.queries]
    for name in dict.fromkeys(names):
        counted = [run.queries[name].rows for run in runs if name in run.queries]
        rows = {pair for pair in counted if pair is not None}
        shown = " / ".join(f"{a}" if a == b else f"{a} (cmpkg {b})" for a, b in sorted(rows)) or "–"
        cells = [name, shown]
        verdicts = []
        for run in runs:
            pair = run.queries.get(name, Pair(error="not run"))
            cells += pair.cells()
            verdicts.append(pair.met())
        cells.append(" / ".join("–" if v is None else yes(v) for v in verdicts))
        table.add(*cells)
    return table


def page_table(size: int, runs: list[StoreRun]) -> Table:
    headers = ["store", "page", "format", "queries", "cmpkg's queries sent directly ms", "cmpkg ms", "ratio"]
    headers += ["added ms", f"≤ {TARGET_RATIO}x", "store's DESCRIBE ms", "cmpkg / DESCRIBE"]
    table = Table(headers, title=f"{label(size)} triples: entity pages, cmpkg vs its SPARQL sent directly")
    for run in runs:
        for (kind, fmt), pair in run.pages.items():
            verdict = pair.met()
            describe = pair.median("describe")
            cells = [STORE_NAMES[run.store], kind, fmt, str(pair.queries) if pair.queries else "–"]
            cells += [*pair.cells(), "–" if verdict is None else yes(verdict)]
            shown = fmt_ms(describe) if describe is not None else "–"
            cells += [shown, ratio(pair.median("cmpkg"), describe)]
            table.add(*cells)
    return table


if __name__ == "__main__":
    if sys.argv[1:2] == ["push"]:
        push_main(*sys.argv[2:5])
    else:
        sys.exit("usage: python -m bench.remote_bench push LOCATION_JSON BASE FILE")
