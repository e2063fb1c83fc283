"""The SPARQL servers the benchmark compares, each in a subprocess on a free 127.0.0.1 port.

Servers are context managers: leaving the `with` block (normally, on an error or on Ctrl-C) stops the
process the block started, by its id.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlencode

import pyoxigraph as ox

from publisher.iris import Iris
from publisher.site import Site
from publisher.store import project_files

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


class ServerError(RuntimeError):
    """A server did not start; the message says why (its last lines of output)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_memory_mb(pid: int, field: str = "VmHWM") -> float | None:
    """Peak (VmHWM) or current (VmRSS) resident memory of a running process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def process_tree(pid: int) -> list[int]:
    """The process and its descendants, from the parent ids in /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += parents.get(current, [])
    return tree


def tree_pss_mb(pid: int) -> float | None:
    """Proportional set size of a process and its descendants (forked workers share pages), in MB."""
    total = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024 if total else None


class Server:
    """A subprocess serving SPARQL at http://127.0.0.1:{port}{path}."""

    name = "server"
    path = "/sparql"
    ready_path = "/"  # answered once the server is ready
    ready_only_on_200 = False  # any answer means ready

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.startup_seconds = 0.0

    def command(self) -> Sequence[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Work before the server starts (loading a database)."""

    def environment(self) -> dict[str, str] | None:
        """The server's environment; None inherits the benchmark's."""
        return None

    def __enter__(self) -> Self:
        try:
            self.prepare()
            started = time.perf_counter()
            self.process = subprocess.Popen(
                list(self.command()),
                stdout=self.log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment(),
                start_new_session=True,  # Ctrl-C in the terminal reaches the benchmark, which stops us
            )
            self.wait_ready(timeout=900)
            self.startup_seconds = time.perf_counter() - started
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def wait_ready(self, timeout: float) -> None:
        """Until GET ready_path answers (with 200, when ready_only_on_200), or the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.process.returncode}: {self.output_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", self.ready_path)
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status == 200 or not self.ready_only_on_200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise ServerError(f"{self.name} did not answer within {timeout:.0f} s: {self.output_tail()}")

    def output_tail(self, lines: int = 5) -> str:
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(no output)"

    def memory_mb(self, field: str = "VmHWM") -> float | None:
        return process_memory_mb(self.process.pid, field) if self.process else None

    def tree_memory_mb(self) -> float | None:
        return tree_pss_mb(self.process.pid) if self.process else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.log.close()

    def get(self, path: str, params: dict[str, str], accept: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("GET", f"{path}?{urlencode(params)}", headers={"Accept": accept})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


class CmpkgServer(Server):
    """`cmpkg serve EXTRA`: the project's own files and the generated data, in cmpkg's embedded store.

    In memory (the default), or on disk: built first by `cmpkg build --store-path DIR EXTRA` and then
    served from that store (the store_path setting), which `cmpkg serve` reuses without reloading.
    """

    path = "/sparql"

    def __init__(self, data: Path, base: str, on_disk: bool = False) -> None:
        super().__init__()
        self.data, self.base = data, base
        self.name = "cmpkg on disk" if on_disk else "cmpkg"
        self.location = Path(tempfile.mkdtemp(prefix="cmpkg-bench-store-")) if on_disk else None
        self.load_seconds = 0.0

    def global_options(self) -> list[str]:
        return [str(BIN / "cmpkg"), "--site", str(ROOT), "--base-iri", self.base]

    def prepare(self) -> None:
        if self.location is None:
            return
        started = time.perf_counter()
        build = [*self.global_options(), "build", "--store-path", str(self.location), str(self.data)]
        done = subprocess.run(build, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise ServerError(f"cmpkg build --store-path failed: {done.stderr.strip()[-300:]}")
        self.load_seconds = time.perf_counter() - started

    def command(self) -> Sequence[str]:
        serve = ["serve", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)]
        return [*self.global_options(), *serve]

    def environment(self) -> dict[str, str]:
        # A benchmark measures speed: the query time limit must not cut a measurement short.
        environment = {**os.environ, "CMPKG_QUERY_TIMEOUT": "600"}
        # Measured warm: caches filled before serving, not in a thread competing with the measurements.
        environment["CMPKG_WARM_UP_BEFORE_SERVING"] = "true"
        if self.location is not None:
            environment["CMPKG_STORE_PATH"] = str(self.location)
        return environment

    def stop(self) -> None:
        super().stop()
        if self.location is not None:
            shutil.rmtree(self.location, ignore_errors=True)

    def has_sparql(self) -> tuple[bool, str]:
        """Whether /sparql answers a query, and if not what it said."""
        try:
            status, _ = self.get(self.path, {"query": "ASK {}"}, "application/sparql-results+json")
        except OSError as error:
            return False, f"GET /sparql failed: {error}"
        if status == 200:
            return True, ""
        return False, f"GET /sparql?query=ASK{{}} answered {status}"


def write_dataset(data: Path, base: str, out: Path) -> int:
    """The project's files and `data` as one N-Quads file, a graph per file named as cmpkg names it."""
    iris = Iris(base)
    count = 0
    with out.open("wb") as handle:
        for file in project_files(Site(ROOT), [data], iris):
            graph = ox.NamedNode(iris.graph(file.name))
            quads = (
                ox.Quad(q.subject, q.predicate, q.object, graph)
                for q in ox.parse(path=str(file.path), format=file.format, base_iri=base)
            )
            ox.serialize(quads, handle, format=ox.RdfFormat.N_QUADS)
            count += 1
    return count


class OxigraphServer(Server):
    """The Oxigraph server (PyPI `oxigraph`) with the same graphs as cmpkg, default graph their union.

    In memory (`oxigraph serve`, the dataset POSTed to /store), like cmpkg's default store, or on disk
    (`oxigraph load` then `oxigraph serve-read-only`), like cmpkg with the store_path setting.
    """

    path = "/query"

    def __init__(self, dataset: Path, on_disk: bool) -> None:
        super().__init__()
        self.dataset, self.on_disk = dataset, on_disk
        self.name = "oxigraph " + ("on disk" if on_disk else "in memory")
        self.location = Path(tempfile.mkdtemp(prefix="cmpkg-bench-oxigraph-")) if on_disk else None
        self.load_seconds = 0.0

    @staticmethod
    def executable() -> str:
        candidate = BIN / "oxigraph"
        found = str(candidate) if candidate.exists() else shutil.which("oxigraph")
        if found is None:
            raise ServerError(
                "the oxigraph CLI is not installed (pip install oxigraph; it is in the test extra)"
            )
        return found

    def prepare(self) -> None:
        if self.location is None:
            return
        started = time.perf_counter()
        load = [self.executable(), "load", "--location", str(self.location), "--file", str(self.dataset)]
        subprocess.run(load, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.load_seconds = time.perf_counter() - started

    def command(self) -> Sequence[str]:
        bind = ("--bind", f"127.0.0.1:{self.port}", "--union-default-graph")
        if self.location is None:
            return [self.executable(), "serve", *bind]
        return [self.executable(), "serve-read-only", "--location", str(self.location), *bind]

    def __enter__(self) -> Self:
        super().__enter__()
        if self.location is None:
            try:
                self.post_dataset()
            except BaseException:
                self.stop()
                raise
        return self

    def post_dataset(self) -> None:
        """Load the dataset into the in-memory server through the Graph Store Protocol."""
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        try:
            with self.dataset.open("rb") as body:
                connection.request(
                    "POST",
                    "/store",
                    body=body,
                    headers={
                        "Content-Type": "application/n-quads",
                        "Content-Length": str(self.dataset.stat().st_size),
                    },
                )
                response = connection.getresponse()
                answer = response.read()
        finally:
            connection.close()
        if response.status >= 300:
            raise ServerError(f"{self.name}: POST /store answered {response.status}: {answer[:200]!r}")
        self.load_seconds = time.perf_counter() - started

    def stop(self) -> None:
        super().stop()
        if self.location is not None:
            shutil.rmtree(self.location, ignore_errors=True)


class Connection:
    """One keep-alive HTTP connection to 127.0.0.1:port; a dropped connection is opened again, and the
    Oxigraph server's transient "could not start a thread" 500 is retried. `seconds` is how long the last
    answered attempt took, to the last byte."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.connection: http.client.HTTPConnection | None = None
        self.seconds = 0.0

    def send(self, method: str, target: str, accept: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(1, 4):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                started = time.perf_counter()
                self.connection.request(method, target, body=body, headers=headers)
                response = self.connection.getresponse()
                answer = response.read()
                self.seconds = time.perf_counter() - started
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 3:
                    raise
                continue
            if response.will_close:
                self.close()
            if response.status == 500 and b"temporarily unavailable" in answer and attempt < 3:
                time.sleep(0.5)  # the Oxigraph server could not start a thread (EAGAIN): transient
                continue
            return response.status, answer
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
