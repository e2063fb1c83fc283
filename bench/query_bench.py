"""Saved queries timed through cmpkg's /sparql, two Oxigraph servers and rdflib's engine, in one run."""

from __future__ import annotations

import http.client
import json
import select
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from bench.common import DATA, ROOT, Options, Timing, fmt_mb, fmt_s, label, ratio, yes
from bench.queries import Query, load_queries
from bench.report import Section, Table
from bench.servers import CmpkgServer, Connection, OxigraphServer, Server, ServerError, write_dataset
from publisher.query_workers import IDLE_BEFORE_TRIM_SECONDS


class QueryFailed(RuntimeError):
    pass


class HttpClient:
    """One keep-alive connection to a SPARQL endpoint on loopback."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.connection = Connection(server.port, timeout=900)

    def run(self, query: Query) -> tuple[float, int]:
        """Seconds to the last byte of the answer, and its rows; up to 3 tries on a dropped connection."""
        target = f"{self.server.path}?{urlencode({'query': query.text})}"
        status, body = self.connection.send("GET", target, query.accept)
        if status != 200:
            raise QueryFailed(f"HTTP {status}: {body[:160].decode('utf-8', 'replace')}")
        return self.connection.seconds, count_rows(body, query)

    def close(self) -> None:
        self.connection.close()


def count_rows(body: bytes, query: Query) -> int:
    if query.form in {"CONSTRUCT", "DESCRIBE"}:
        return sum(1 for line in body.splitlines() if line.strip())
    answer = json.loads(body)
    if "boolean" in answer:
        return 1
    return len(answer["results"]["bindings"])


class RdflibWorker:
    """bench.measure's rdflib worker: loads the data once, then times queries with a cap each."""

    def __init__(self, base: str, file: Path) -> None:
        self.base, self.file = base, file
        self.process: subprocess.Popen[str] | None = None
        self.load_seconds = 0.0
        self.peak_mb = 0.0

    def __enter__(self) -> RdflibWorker:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.measure", "rdflib-worker", self.base, str(self.file)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            loaded = self.read(1800)
        except BaseException:
            self.stop()
            raise
        self.load_seconds, self.peak_mb = loaded["seconds"], loaded["peak_mb"]
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def read(self, timeout: float) -> dict[str, Any]:
        assert self.process is not None
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise ServerError("the rdflib worker stopped answering")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, query: Query, cap: float) -> dict[str, Any]:
        assert self.process is not None
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"query": query.text, "cap": cap}) + "\n")
        self.process.stdin.flush()
        return self.read(cap + 60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


def time_http(clients: dict[str, HttpClient], query: Query, options: Options) -> dict[str, Timing]:
    """Medians of the HTTP engines, their runs interleaved (A B C A B C ...) so that whatever else the
    machine is doing slows them alike; `warmup` rounds first, then up to `reps` within the time budget."""
    samples: dict[str, list[float]] = {name: [] for name in clients}
    rows: dict[str, int] = {}
    failed: dict[str, str] = {}
    deadline = time.monotonic() + options.query_budget * max(1, len(clients))
    for round_number in range(options.warmup + options.reps):
        if round_number > options.warmup and time.monotonic() > deadline:
            break
        for name, client in clients.items():
            if name in failed:
                continue
            try:
                seconds, rows[name] = client.run(query)
            except (QueryFailed, OSError, http.client.HTTPException) as error:
                failed[name] = f"error: {error}"[:80]
                continue
            if round_number >= options.warmup:
                samples[name].append(seconds)
    timings = {}
    for name in clients:
        if name in failed:
            timings[name] = Timing(note=failed[name])
        elif samples[name]:
            timings[name] = Timing(statistics.median(samples[name]) * 1000, rows[name], len(samples[name]))
        else:
            timings[name] = Timing(note="no run within the budget")
    return timings


def time_rdflib(worker: RdflibWorker, query: Query, options: Options) -> Timing:
    """rdflib is slow: the first run doubles as warm-up and as the check against the cap."""
    samples: list[float] = []
    rows = None
    deadline = time.monotonic() + options.query_budget
    for _ in range(max(1, min(options.reps, 5))):
        answer = worker.run(query, options.rdflib_cap)
        if answer.get("timeout"):
            return Timing(note=f">{options.rdflib_cap:.0f} s cap")
        if "error" in answer:
            return Timing(note=f"error: {answer['error']}"[:80])
        samples.append(answer["seconds"])
        rows = answer["rows"]
        if time.monotonic() > deadline:
            break
    return Timing(statistics.median(samples) * 1000, rows, len(samples))


def query_target(cmpkg: Timing, oxigraph: Timing) -> str:
    """Issue 3: at most 1.2x the Oxigraph server's median, or +0.5 ms where it answers under 2 ms."""
    if cmpkg.median_ms is None or oxigraph.median_ms is None:
        return "–"
    if oxigraph.median_ms < 2:
        return yes(cmpkg.median_ms <= oxigraph.median_ms + 0.5)
    return yes(cmpkg.median_ms <= 1.2 * oxigraph.median_ms)


HEAVY_MS = 10.0  # a join-heavy query keeps the Oxigraph server busy at least this long
SETTLE_SECONDS = IDLE_BEFORE_TRIM_SECONDS + 1.0  # before reading memory: idle query workers have trimmed


def join_heavy(query: Query, oxigraph: Timing) -> bool:
    """At least 4 triple patterns and real join work (10 ms or more on the in-memory Oxigraph server).

    Below that, the answer is dominated by the HTTP round trip, which rdflib, called in-process, does not pay.
    """
    return query.join_heavy and oxigraph.median_ms is not None and oxigraph.median_ms >= HEAVY_MS


def speedup_target(query: Query, rdflib: Timing, cmpkg: Timing, oxigraph: Timing) -> str:
    """Issue 3: at least 30x faster than rdflib's engine on the join-heavy queries."""
    if not join_heavy(query, oxigraph):
        return "(not join-heavy)"
    if cmpkg.median_ms is None:
        return "–"
    if rdflib.median_ms is None:
        return "yes (rdflib over the cap)" if rdflib.note.startswith(">") else "–"
    return yes(rdflib.median_ms >= 30 * cmpkg.median_ms)


ENGINES = ("oxigraph in memory", "oxigraph on disk", "cmpkg", "cmpkg on disk", "rdflib")


def start_engines(
    stack: ExitStack, section: Section, size: int, file: Path, options: Options
) -> dict[str, HttpClient | RdflibWorker]:
    """Start what can be started; an engine that cannot is noted as skipped, with the reason."""
    engines: dict[str, HttpClient | RdflibWorker] = {}
    dataset = DATA / f"{file.stem}.nq"
    write_dataset(file, options.base, dataset)
    stack.callback(dataset.unlink, missing_ok=True)
    for on_disk in (False, True):
        try:
            server = stack.enter_context(OxigraphServer(dataset, on_disk))
            engines[server.name] = HttpClient(server)
        except (ServerError, subprocess.CalledProcessError) as error:
            section.skip(f"{label(size)}: Oxigraph server: {error}")
    for on_disk in (False, True):
        try:
            cmpkg = stack.enter_context(CmpkgServer(file, options.base, on_disk))
        except ServerError as error:
            section.skip(f"{label(size)}: cmpkg serve: {error}")
            continue
        available, why = cmpkg.has_sparql()
        if not available:
            section.skip(f"{label(size)}: {cmpkg.name}: /sparql is not there yet ({why})")
            continue
        engines[cmpkg.name] = HttpClient(cmpkg)
    try:
        engines["rdflib"] = stack.enter_context(RdflibWorker(options.base, file))
    except ServerError as error:
        section.skip(f"{label(size)}: rdflib worker: {error}")
    return engines


def time_query(
    engines: dict[str, HttpClient | RdflibWorker], query: Query, options: Options
) -> dict[str, Timing]:
    clients = {name: e for name, e in engines.items() if isinstance(e, HttpClient)}
    times = time_http(clients, query, options)
    worker = engines.get("rdflib")
    if isinstance(worker, RdflibWorker):
        times["rdflib"] = time_rdflib(worker, query, options)
    return {name: times.get(name, Timing(note="skipped")) for name in ENGINES}


def engine_rows(engines: dict[str, HttpClient | RdflibWorker], size: int) -> list[list[str]]:
    """Load (or build) time, start-up time and memory of each engine, read while it still runs."""
    rows = []
    for name, engine in engines.items():
        if isinstance(engine, RdflibWorker):
            loaded = fmt_s(engine.load_seconds)
            rows.append([label(size), "rdflib Dataset (worker)", loaded, "–", "–", fmt_mb(engine.peak_mb)])
            continue
        server = engine.server
        load = float(getattr(server, "load_seconds", 0.0))
        rows.append(
            [
                *(label(size), name, fmt_s(load) if load else "–", fmt_s(server.startup_seconds)),
                *(fmt_mb(server.memory_mb()), fmt_mb(server.tree_memory_mb())),
            ]
        )
    return rows


def queries_section(options: Options, files: dict[int, Path]) -> Section:
    section = Section("queries", "Saved queries: cmpkg /sparql vs Oxigraph server vs rdflib")
    section.intro = (
        f"Median milliseconds over up to {options.reps} runs after {options.warmup} warm-up runs, the HTTP "
        "engines' runs interleaved (so that other load on the machine slows them alike), within "
        f"{options.query_budget:.0f} s per query and engine, each through one keep-alive connection on "
        "127.0.0.1 (SELECT as SPARQL JSON, CONSTRUCT as N-Triples). cmpkg is `cmpkg serve FILE`, in memory "
        "and on disk (`cmpkg build --store-path DIR FILE`, then served with store_path=DIR), with "
        "query_timeout raised so that the limit does not cut a measurement; the Oxigraph "
        "server (PyPI `oxigraph`) holds the same named graphs with their union as default graph, in memory "
        "(`oxigraph serve`, loaded through /store) and on disk (`oxigraph load` + `serve-read-only`). "
        f"rdflib's in-memory engine: up to 5 runs, each stopped at {options.rdflib_cap:.0f} s. "
        f"Join-heavy: at least 4 triple patterns and at least {HEAVY_MS:.0f} ms on the in-memory Oxigraph "
        "server (below that the HTTP round trip, which rdflib called in-process does not pay, dominates). "
        "Targets (issue 3), at 1M: cmpkg ≤ 1.2x the Oxigraph server with the same storage (or +0.5 ms "
        "where it answers under 2 ms); rdflib ≥ 30x slower than cmpkg on the join-heavy queries; "
        "served in under 300 MB (PSS of cmpkg's process tree after the queries, once idle for 1.5 s)."
    )
    queries = load_queries(options.base)
    for query in queries:
        if query.skip:
            section.notes.append(f"{query.name}: skipped: {query.skip}")
    runnable = [q for q in queries if not q.skip]
    if not any(q.name.startswith("queries/") for q in queries):
        section.skip("queries/ has no saved queries (*.rq) yet; only the bench's own probes are timed")
    if not runnable:
        section.skip("no query to run")
        return section
    servers = Table(
        [
            *("size", "engine", "load or build s", "start-up s"),
            *("peak MB (main process)", "PSS MB (process tree)"),
        ],
        title="Engines, memory read after the queries (idle for 1.5 s)",
    )
    targets = Table(
        [
            *("size", "query", "cmpkg ≤ 1.2x oxigraph (memory)"),
            *("cmpkg on disk ≤ 1.2x oxigraph on disk", "≥ 30x faster than rdflib"),
        ],
        title="Targets",
    )
    memory = Table(["size", "engine", "PSS MB", "served in < 300 MB"], title="Memory target")
    for size, file in files.items():
        table = Table(
            [
                *("query", "form", "patterns", "rows"),
                *(f"{e} ms" for e in ENGINES),
                *("cmpkg ÷ oxigraph in memory", "cmpkg on disk ÷ oxigraph on disk"),
                *("rdflib ÷ cmpkg", "rdflib ÷ oxigraph in memory"),
            ],
            title=f"{label(size)} triples",
        )
        with ExitStack() as stack:
            engines = start_engines(stack, section, size, file, options)
            for query in runnable:
                times = time_query(engines, query, options)
                rows = next((t.rows for t in times.values() if t.rows is not None), None)
                differ = "".join(
                    f" ≠{name.split()[0]} {t.rows}"
                    for name, t in times.items()
                    if t.rows is not None and rows is not None and t.rows != rows
                )
                cmpkg, oxigraph, rdflib = times["cmpkg"], times["oxigraph in memory"], times["rdflib"]
                cmpkg_disk, oxigraph_disk = times["cmpkg on disk"], times["oxigraph on disk"]
                table.add(
                    query.name,
                    query.form,
                    query.patterns,
                    f"{rows if rows is not None else '–'}{differ}",
                    *(t.cell() for t in times.values()),
                    ratio(cmpkg.median_ms, oxigraph.median_ms),
                    ratio(cmpkg_disk.median_ms, oxigraph_disk.median_ms),
                    ratio(rdflib.median_ms, cmpkg.median_ms),
                    ratio(rdflib.median_ms, oxigraph.median_ms),
                )
                if size == max(files) and "cmpkg" in engines:
                    targets.add(
                        label(size),
                        query.name,
                        query_target(cmpkg, oxigraph),
                        query_target(cmpkg_disk, oxigraph_disk),
                        speedup_target(query, rdflib, cmpkg, oxigraph),
                    )
                cells = ", ".join(f"{name} {t.cell()}" for name, t in times.items())
                print(f"  {label(size)} {query.name}: {cells}", file=sys.stderr)
            time.sleep(SETTLE_SECONDS)  # query workers give back what a big query freed once idle
            for row in engine_rows(engines, size):
                servers.add(*row)
                if size == max(files) and row[1].startswith("cmpkg"):
                    pss = engines[row[1]]
                    assert isinstance(pss, HttpClient)
                    measured = pss.server.tree_memory_mb()
                    memory.add(
                        label(size), row[1], fmt_mb(measured), yes(measured is not None and measured < 300)
                    )
            for engine in engines.values():
                if isinstance(engine, HttpClient):
                    engine.close()
        section.tables.append(table)
    section.tables.insert(0, servers)
    if memory.rows:
        section.tables.append(memory)
    if targets.rows:
        section.targets = targets
    else:
        section.skip("no targets: cmpkg's /sparql was not measured at the largest size")
    return section
